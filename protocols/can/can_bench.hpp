#pragma once
// `p2plab bench can`: Chord's bench workload (Poisson lookups, uniform keys, uniform per-hop
// latency) on a CAN of N random joins, with the mean hops next to (d/4) N^(1/d).
#include "common/dht_bench.hpp"
#include "p2plab/protocol_command.hpp"

namespace p2plab::can {

struct BenchOptions : dht::BenchWorkload {
  BenchOptions() { seconds = 20; }
  int d = 2;
};

int run_bench(const BenchOptions& options);
ProtocolCommand bench_command();

}  // namespace p2plab::can
