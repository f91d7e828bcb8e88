#pragma once
// `p2plab bench flooding`: Gnutella 0.4 queries flooded with a TTL through a frozen random overlay
// of N peers (the protocol's own per-message code), every query checked against a BFS over the
// true overlay. Arrivals and latency as in the DHT benches (common/dht_bench.hpp).
#include <cstdint>

#include "common/dht_bench.hpp"
#include "p2plab/protocol_command.hpp"

namespace p2plab::flooding {

struct BenchOptions : dht::BenchWorkload {
  BenchOptions() {
    // A query reaches all 10^5 peers at TTL 7 and costs about 8 x 10^5 messages: 10 queries per
    // simulated second for 10 s (about 100 floods, 80 M events) take well under a minute.
    seconds = 10;
    rate = 1e-4;
  }
  int ttl = 7, degree = 4;
  int max_degree = 0;  // 0: 2 x degree, as in a scenario
  std::uint64_t items = 100, replicas = 3;
};

int run_bench(const BenchOptions& options);
ProtocolCommand bench_command();

}  // namespace p2plab::flooding
