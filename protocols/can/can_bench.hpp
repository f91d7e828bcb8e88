#pragma once
// `p2plab bench can`: Chord's bench workload (Poisson lookups, uniform keys, uniform per-hop
// latency) on a CAN of N random joins, with the mean hops next to (d/4) N^(1/d).
#include "can.hpp"
#include "can_run.hpp"
#include "common/dht_bench.hpp"
#include "p2plab/protocol_command.hpp"

namespace p2plab::can {

struct BenchOptions : dht::BenchWorkload {
  BenchOptions() { seconds = 20; }
  int d = 2;
};

/// The benchmark's network, as run_bench builds it (a test runs the same one): a CAN of
/// options.peers random joins, every answer checked against the owner of the key's point
/// (a zone index built once), records not kept, on the parallel simulator with options.threads
/// partitions (one: sequentially).
struct BenchNetwork : dht::ParallelBench<Message, Protocol> {
  explicit BenchNetwork(const BenchOptions& options);
  /// Runs until the last lookup has arrived (a long path at d = 2 takes several seconds), so
  /// that the mean counts every path, not the short ones.
  void run();

  const BenchOptions options;
  ZoneOracle oracle;
};

/// Runs the benchmark, prints its figures; returns the process exit code (3 if a lookup ended
/// anywhere but at the owner of the key's point).
int run_bench(const BenchOptions& options);
ProtocolCommand bench_command();

}  // namespace p2plab::can
