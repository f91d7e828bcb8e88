#pragma once
// `p2plab bench pastry`: Chord's bench workload (Poisson lookups, uniform keys, uniform per-hop
// latency) on a converged Pastry network, with the mean hops next to log_{2^b} N.
#include <cstdint>
#include <string>

#include "common/dht_bench.hpp"
#include "p2plab/protocol_command.hpp"
#include "pastry.hpp"

namespace p2plab::pastry {

struct BenchOptions : dht::BenchWorkload {
  BenchOptions() {
    seconds = 20;
    bits = 128;
  }
  int digit_bits = 4, leaf_set = 16;
};

/// The benchmark's network, as run_bench builds it (a test runs the same one): a converged
/// network of options.peers peers, every answer checked against the numerically closest live
/// peer, records not kept, on the parallel simulator with options.threads partitions (one:
/// sequentially).
struct BenchNetwork : dht::ParallelBench<Message, Protocol> {
  explicit BenchNetwork(const BenchOptions& options);

  Digits digits;
};

/// Runs the benchmark, prints its figures; returns the process exit code (3 if a lookup ended
/// anywhere but at the closest node).
int run_bench(const BenchOptions& options);
ProtocolCommand bench_command();

}  // namespace p2plab::pastry
