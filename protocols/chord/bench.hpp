#pragma once
// `p2plab bench chord`: the workload the established simulators were measured on. Chord offers
// it to the command line as its registered bench command (register.cpp).
#include <cstdint>
#include <string>

#include "p2plab/protocol_command.hpp"

namespace p2plab::chord {

struct BenchOptions {
  std::uint64_t peers = 100'000;
  double seconds = 100;       // simulated time
  double rate = 0.1;          // lookups per peer per simulated second (Poisson)
  double min_ms = 10, max_ms = 100;  // per-hop latency, uniform
  int bits = 160;             // m
  int successors = 8;         // r
  bool recursive = true;  // as PeerSim's and SimGrid's Chord examples route
  double maintenance_ms = 0;  // 0: a frozen converged ring; else stabilize/fix_fingers period
  std::uint64_t seed = 1;
  std::string json_out;       // also write the figures as JSON here
};

/// Runs the benchmark, prints its figures; returns the process exit code.
int run_bench(const BenchOptions& options);

/// The command `p2plab bench chord`: its options (as the command line lists them) and a run
/// that checks them (a bad one: a message naming it and exit status 2) and calls run_bench.
ProtocolCommand bench_command();

/// Peak resident memory of this process so far, in bytes (Linux VmHWM).
std::uint64_t peak_rss_bytes();

}  // namespace p2plab::chord
