#pragma once
// `p2plab bench kademlia`: Chord's benchmark workload (protocols/chord/bench.cpp) on a frozen
// Kademlia network whose buckets are filled from the true network: rounds and RPCs per lookup.
#include <cstdint>
#include <string>

#include "p2plab/protocol_command.hpp"

namespace p2plab::kademlia {

struct BenchOptions {
  std::uint64_t peers = 100'000;
  double seconds = 100;              // simulated time
  double rate = 0.1;                 // lookups per peer per simulated second (Poisson)
  double min_ms = 10, max_ms = 100;  // per-message latency, uniform
  int bits = 160;                    // m
  int k = 20;
  int alpha = 3;
  std::uint64_t seed = 1;
  std::string json_out;  // also write the figures as JSON here
};

/// Runs the benchmark, prints its figures; returns the process exit code (3 if a lookup was
/// wrong: a benchmark that gives wrong answers measures nothing).
int run_bench(const BenchOptions& options);

/// The command `p2plab bench kademlia`.
ProtocolCommand bench_command();

}  // namespace p2plab::kademlia
