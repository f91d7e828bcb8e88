#pragma once
// `p2plab bench chord`: the workload the established simulators were measured on.
#include <cstdint>
#include <string>

namespace p2plab::bench {

struct ChordBenchOptions {
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
int run_chord_bench(const ChordBenchOptions& options);

/// Peak resident memory of this process so far, in bytes (Linux VmHWM).
std::uint64_t peak_rss_bytes();

}  // namespace p2plab::bench
