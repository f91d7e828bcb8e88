#pragma once
// `p2plab bench kademlia`: Chord's benchmark workload (protocols/chord/bench.cpp) on a frozen
// Kademlia network whose buckets are filled from the true network: rounds and RPCs per lookup.
#include <cstdint>
#include <string>

#include "common/dht_bench.hpp"
#include "p2plab/protocol_command.hpp"

namespace p2plab::kademlia {

struct BenchOptions : dht::BenchWorkload {
  int k = 20;
  int alpha = 3;
};

/// Runs the benchmark, prints its figures; returns the process exit code (3 if a lookup was
/// wrong: a benchmark that gives wrong answers measures nothing).
int run_bench(const BenchOptions& options);

/// The command `p2plab bench kademlia`.
ProtocolCommand bench_command();

}  // namespace p2plab::kademlia
