// Graded tests of exercise flooding: the real protocol (Gnutella 0.4) running on your code,
// against independent oracles: the BFS ball of radius TTL, and providers reached in it.
#include <map>
#include <set>
#include <string>

#include "flooding/flooding.hpp"
#include "grading.hpp"
#include "search_support.hpp"

using namespace p2plab;
using FloodRun = search::SearchRun<flooding::Protocol>;

namespace {
nlohmann::json flood_doc(int n, int ttl, std::uint64_t seed, int degree = 3) {
  return {{"protocol", "flooding"},
          {"seed", seed},
          {"params", {{"ttl", ttl}, {"degree", degree}, {"keepalive_ms", 0}}},
          {"network", {{"latency", {{"model", "constant"}, {"ms", 20}}}}},
          {"peers", {{"count", n}}},
          {"items", {{"count", 30}, {"replicas", 3}}},
          {"events", {{{"at_ms", 100}, {"op", "query"}, {"from", 5}, {"name", "item-3"}}}},
          {"run_ms", 20000}};
}

struct Flood {
  std::unique_ptr<FloodRun> run;
  PeerIndex requester = kNoPeer;
  std::map<PeerIndex, int> dist;  // BFS distances from the requester
  std::set<PeerIndex> ball;       // peers within TTL hops
};

Flood flood(int ttl, std::uint64_t seed) {
  Flood f;
  f.run = grading::make_run<flooding::Protocol>(flood_doc(300, ttl, seed));
  f.run->run_to_end();
  f.requester = f.run->peer_by_id(5);
  FloodRun* run = f.run.get();
  f.dist = grading::bfs([run](PeerIndex p) { return run->protocol().neighbors(p); }, f.requester);
  for (const auto& [p, d] : f.dist) {
    if (d <= ttl) f.ball.insert(p);
  }
  return f;
}
}  // namespace

GRADED_TEST("flooding", 4, "a QUERY with TTL t reaches exactly the peers within t hops of the requester (BFS)") {
  for (const std::uint64_t seed : {1, 2}) {
    for (const int ttl : {1, 2, 3, 5}) {
      const Flood f = flood(ttl, seed);
      REQUIRE(f.run->log().records().size() == 1);
      const search::QueryRecord& q = f.run->log().records().front();
      std::set<PeerIndex> reached = q.reached;
      reached.insert(f.requester);
      std::set<PeerIndex> missing, extra;
      for (PeerIndex p : f.ball) {
        if (!reached.count(p)) missing.insert(p);
      }
      for (PeerIndex p : reached) {
        if (!f.ball.count(p)) extra.insert(p);
      }
      CAPTURE(seed);
      CHECK_MESSAGE(missing.empty(), "a QUERY with TTL " << ttl << " must reach all " << f.ball.size() - 1
                                                         << " peers within " << ttl << " hops; it missed "
                                                         << missing.size() << " of them, e.g. a peer at distance "
                                                         << (missing.empty() ? 0 : f.dist.at(*missing.begin())));
      CHECK_MESSAGE(extra.empty(), "a QUERY with TTL " << ttl << " must not travel further than " << ttl
                                                       << " hops; it reached " << extra.size()
                                                       << " peers beyond, e.g. one at distance "
                                                       << (extra.empty() ? 0 : f.dist.at(*extra.begin())));
    }
  }
}

GRADED_TEST("flooding", 3, "each peer forwards a QUERY once: message and duplicate counts of a correct flood") {
  for (const int ttl : {2, 4, 6}) {
    const Flood f = flood(ttl, 3);
    const search::QueryRecord& q = f.run->log().records().front();
    auto neighbors = [&](PeerIndex p) { return f.run->protocol().neighbors(p); };
    // The requester sends to all its neighbours; every other peer inside the ball that still has
    // TTL left (distance < t) forwards its first copy to all neighbours but the sender, once.
    std::uint64_t expected_queries = neighbors(f.requester).size();
    for (const auto& [p, d] : f.dist) {
      if (p != f.requester && d < ttl) expected_queries += neighbors(p).size() - 1;
    }
    const auto sent = f.run->simulator().messages().sent[static_cast<std::size_t>(flooding::MsgType::Query)];
    CHECK_MESSAGE(sent == expected_queries, "with TTL " << ttl << " a correct flood sends " << expected_queries
                                                        << " QUERY messages (each peer forwards its first copy "
                                                           "once, to all neighbours but the sender); yours sent "
                                                        << sent);
    const std::uint64_t expected_duplicates = expected_queries - (f.ball.size() - 1);
    CHECK_MESSAGE(q.duplicates == expected_duplicates,
                  "with TTL " << ttl << ", " << expected_duplicates
                              << " copies arrive at peers that already have the QUERY and must be dropped by "
                                 "the GUID cache; yours dropped "
                              << q.duplicates);
  }
}

GRADED_TEST("flooding", 4, "QUERYHITs travel back along the reverse path and reach the requester") {
  for (const std::uint64_t seed : {1, 4}) {
    for (const int ttl : {2, 4, 7}) {
      const Flood f = flood(ttl, seed);
      const search::QueryRecord& q = f.run->log().records().front();
      std::set<PeerIndex> providers;
      std::uint64_t expected_hits = 0;
      for (PeerIndex p : grading::sharers(*f.run, q.name)) {
        if (p == f.requester || !f.ball.count(p)) continue;
        providers.insert(p);
        expected_hits += static_cast<std::uint64_t>(f.dist.at(p));  // d hops back, one message each
      }
      CAPTURE(seed);
      CHECK_MESSAGE(q.hits == providers,
                    "with TTL " << ttl << " the requester must receive a QUERYHIT from each of the " << providers.size()
                                << " providers within " << ttl << " hops " << grading::set_text(providers)
                                << "; it received hits from " << grading::set_text(q.hits));
      const auto sent = f.run->simulator().messages().sent[static_cast<std::size_t>(flooding::MsgType::QueryHit)];
      CHECK_MESSAGE(sent == expected_hits,
                    "a QUERYHIT from a provider d hops away travels d messages back along the "
                    "reverse path: "
                        << expected_hits << " QUERYHIT messages expected with TTL " << ttl << ", yours sent " << sent);
    }
  }
}
