#pragma once
// `p2plab bench chord`: the workload the established simulators were measured on. Chord offers
// it to the command line as its registered bench command (register.cpp).
#include <cstdint>
#include <string>

#include "chord.hpp"
#include "common/dht_bench.hpp"
#include "p2plab/protocol_command.hpp"

namespace p2plab::chord {

struct BenchOptions : dht::BenchWorkload {
  int successors = 8;         // r
  bool recursive = true;      // as PeerSim's and SimGrid's Chord examples route
  double maintenance_ms = 0;  // 0: a frozen converged ring; else stabilize/fix_fingers period
                              // (more than one thread: the frozen ring only)
};

/// The benchmark's network, as run_bench builds it (a test runs the same one): a converged ring
/// of options.peers peers with ids from SHA-1 of their (generated) addresses, every answer
/// checked against the true successor, records not kept; maintenance started if asked for.
/// It runs on the parallel simulator with options.threads partitions (one: sequentially).
struct BenchRing : dht::ParallelBench<Message, Protocol> {
  explicit BenchRing(const BenchOptions& options);
};

/// Runs the benchmark, prints its figures; returns the process exit code.
int run_bench(const BenchOptions& options);

/// The command `p2plab bench chord`: its options (as the command line lists them) and a run
/// that checks them (a bad one: a message naming it and exit status 2) and calls run_bench.
ProtocolCommand bench_command();

}  // namespace p2plab::chord
