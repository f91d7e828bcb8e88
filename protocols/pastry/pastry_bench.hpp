#pragma once
// `p2plab bench pastry`: Chord's bench workload (Poisson lookups, uniform keys, uniform per-hop
// latency) on a converged Pastry network, with the mean hops next to log_{2^b} N.
#include <cstdint>
#include <string>

#include "common/dht_bench.hpp"
#include "p2plab/protocol_command.hpp"

namespace p2plab::pastry {

struct BenchOptions : dht::BenchWorkload {
  BenchOptions() {
    seconds = 20;
    bits = 128;
  }
  int digit_bits = 4, leaf_set = 16;
};

int run_bench(const BenchOptions& options);
ProtocolCommand bench_command();

}  // namespace p2plab::pastry
