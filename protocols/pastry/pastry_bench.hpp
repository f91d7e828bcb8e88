#pragma once
// `p2plab bench pastry`: Chord's bench workload (Poisson lookups, uniform keys, uniform per-hop
// latency) on a converged Pastry network, with the mean hops next to log_{2^b} N.
#include <cstdint>
#include <string>

#include "p2plab/protocol_command.hpp"

namespace p2plab::pastry {

struct BenchOptions {
  std::uint64_t peers = 100'000;
  double seconds = 20;               // simulated time
  double rate = 0.1;                 // lookups per peer per simulated second
  double min_ms = 10, max_ms = 100;  // per-hop latency, uniform
  int bits = 128, digit_bits = 4, leaf_set = 16;
  std::uint64_t seed = 1;
  std::string json_out;
};

int run_bench(const BenchOptions& options);
ProtocolCommand bench_command();

}  // namespace p2plab::pastry
