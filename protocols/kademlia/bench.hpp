#pragma once
// `p2plab bench kademlia`: Chord's benchmark workload (protocols/chord/bench.cpp) on a frozen
// Kademlia network whose buckets are filled from the true network: rounds and RPCs per lookup.
#include <cstdint>
#include <string>

#include "common/dht_bench.hpp"
#include "kademlia.hpp"
#include "p2plab/protocol_command.hpp"

namespace p2plab::kademlia {

struct BenchOptions : dht::BenchWorkload {
  int k = 20;
  int alpha = 3;
};

/// The benchmark's network, as run_bench builds it (a test runs the same one): options.peers
/// nodes whose buckets are filled from the true network, every lookup's k closest checked by
/// brute force, records not kept, on the parallel simulator with options.threads partitions
/// (one: sequentially).
struct BenchNetwork : dht::ParallelBench<Message, Protocol> {
  explicit BenchNetwork(const BenchOptions& options);
  /// Runs the window, then on until every started lookup has finished (counting only those done
  /// by the window's end would leave out the slowest: at 10^6 and one simulated second two thirds
  /// of them, and the means would be too small).
  void run();

  const BenchOptions options;
};

/// Runs the benchmark, prints its figures; returns the process exit code (3 if a lookup was
/// wrong: a benchmark that gives wrong answers measures nothing).
int run_bench(const BenchOptions& options);

/// The command `p2plab bench kademlia`.
ProtocolCommand bench_command();

}  // namespace p2plab::kademlia
