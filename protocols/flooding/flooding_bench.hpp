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
    // At 10^5 peers a TTL-7 query reaches about 35,000 of them in about 40,000 messages: 10
    // queries per simulated second (10^-4 per peer) for 50 s, about 500 floods and 20 M events,
    // take 10-15 s in Release on one core of this machine (well under a minute even when it is
    // shared), and enough floods that the means are stable to about 1 %.
    seconds = 50;
    rate = 1e-4;
  }
  int ttl = 7, degree = 4;
  int max_degree = 0;  // 0: 2 x degree, as in a scenario
  std::uint64_t items = 100, replicas = 3;
};

int run_bench(const BenchOptions& options);
ProtocolCommand bench_command();

}  // namespace p2plab::flooding
