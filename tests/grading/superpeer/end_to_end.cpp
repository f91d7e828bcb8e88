// Graded test of exercise superpeer: the real protocol (Gnutella 0.6) running on your code.
#include <map>
#include <set>
#include <string>

#include "grading.hpp"
#include "search_support.hpp"
#include "superpeer/superpeer.hpp"

using namespace p2plab;

GRADED_TEST("superpeer", 2, "a real run: superpeers elected by capacity and every provider within TTL found through its superpeer") {
  nlohmann::json events = nlohmann::json::array();
  for (int k = 0; k < 30; ++k) {
    events.push_back(
        {{"at_ms", 100 + 300 * k}, {"op", "query"}, {"from", 7 * k + 1}, {"name", "item-" + std::to_string(k)}});
  }
  auto run = grading::make_run<superpeer::Protocol>(
      {{"protocol", "superpeer"},
       {"seed", 5},
       {"params",
        {{"superpeer_ratio", 0.1},
         {"ttl", 3},
         {"superpeers_per_leaf", 2},
         {"leaves_per_superpeer", 60},
         {"keepalive_ms", 1000},
         {"timeout_ms", 400}}},
       {"network", {{"latency", {{"model", "constant"}, {"ms", 20}}}}},
       {"peers", {{"count", 400}, {"capacities", {{"random", true}, {"nat_fraction", 0.3}}}}},
       {"items", {{"count", 40}, {"replicas", 2}}},
       {"events", events},
       {"run_ms", 30000}});
  run->start();
  const auto& protocol = run->protocol();
  // The election, checked from the capacities themselves (min 256 kbit/s, no NAT).
  int superpeers = 0, wrong = 0;
  double weakest = 1e300, best_left_out = 0;
  for (PeerIndex p = 0; p < 400; ++p) {
    const search::Capacity& c = run->capacities()[p];
    const bool capable = !c.behind_nat && c.bandwidth_kbps >= 256;
    const double score = c.bandwidth_kbps * std::max(c.uptime_h, 0.01);
    if (protocol.is_superpeer(p)) {
      ++superpeers;
      wrong += capable ? 0 : 1;
      weakest = std::min(weakest, score);
    } else if (capable) {
      best_left_out = std::max(best_left_out, score);
    }
  }
  REQUIRE_MESSAGE(superpeers == 40,
                  "400 peers with superpeer_ratio 0.1: 40 superpeers expected, your election made " << superpeers);
  REQUIRE_MESSAGE(wrong == 0, wrong << " superpeers are not capable (behind NAT or too little bandwidth)");
  REQUIRE_MESSAGE(best_left_out <= weakest, "a capable leaf scores " << best_left_out
                                                                     << ", more than the weakest superpeer (" << weakest
                                                                     << "): the best must be elected");
  run->run_to_end();
  // Oracle: the superpeers a query reaches are the BFS ball (radius TTL) around the requester's
  // superpeers; the providers are those superpeers and their leaves that share the name.
  auto sp_neighbors = [&](PeerIndex p) {
    std::vector<PeerIndex> out;
    for (PeerIndex n : protocol.neighbors(p)) {
      if (protocol.is_superpeer(n)) out.push_back(n);
    }
    return out;
  };
  int missed = 0, found = 0;
  for (const search::QueryRecord& q : run->log().records()) {
    const std::set<PeerIndex> sharing = grading::sharers(*run, q.name);
    std::set<PeerIndex> reached;
    const bool from_superpeer = protocol.is_superpeer(q.from);
    const auto entry = from_superpeer ? std::vector<PeerIndex>{q.from} : protocol.superpeers_of(q.from);
    for (PeerIndex s : entry) {
      for (const auto& [p, d] : grading::bfs(sp_neighbors, s)) {
        if (d < 3 + (from_superpeer ? 1 : 0)) reached.insert(p);
      }
    }
    std::set<PeerIndex> expected;
    for (PeerIndex s : reached) {
      if (sharing.count(s) && s != q.from) expected.insert(s);
      for (const auto& [leaf, table] : protocol.leaf_tables(s)) {
        if (sharing.count(leaf) && leaf != q.from) expected.insert(leaf);
      }
    }
    found += static_cast<int>(q.hits.size());
    CHECK_MESSAGE(q.hits == expected, "QUERY \"" << run->catalogue().name(q.name)
                                                 << "\": the providers among the superpeers "
                                                 << "within TTL 3 and their leaves are " << grading::set_text(expected)
                                                 << "; the requester got QUERYHITs from " << grading::set_text(q.hits));
    missed += q.hits == expected ? 0 : 1;
  }
  CHECK_MESSAGE(found > 20, "the 30 queries found " << found
                                                    << " providers in all: leaves must announce their files and "
                                                       "superpeers answer for them");
}
