// Central index, flooding and superpeers against independent oracles: BFS over the overlay,
// brute-force provider sets, and the message counts the overlay's degrees predict.
#include <doctest/doctest.h>

#include <map>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "central_index/central_index.hpp"
#include "common/search_run.hpp"
#include "compare.hpp"
#include "flooding/flooding.hpp"
#include "register_all.hpp"
#include "superpeer/superpeer.hpp"
#include "test_util.hpp"

using namespace p2plab;
using FloodRun = search::SearchRun<flooding::Protocol>;
using CentralRun = search::SearchRun<central_index::Protocol>;
using SuperRun = search::SearchRun<superpeer::Protocol>;

namespace {

template <class R>
std::unique_ptr<R> make(const nlohmann::json& doc) {
  return std::make_unique<R>(parse_scenario(doc, "test.json"));
}

/// Distances from `source` over an undirected overlay given as neighbour lists (BFS).
std::map<PeerIndex, int> bfs(const std::function<std::vector<PeerIndex>(PeerIndex)>& neighbors, PeerIndex source) {
  std::map<PeerIndex, int> dist{{source, 0}};
  std::queue<PeerIndex> frontier;
  frontier.push(source);
  while (!frontier.empty()) {
    const PeerIndex p = frontier.front();
    frontier.pop();
    for (PeerIndex n : neighbors(p)) {
      if (dist.count(n)) continue;
      dist[n] = dist[p] + 1;
      frontier.push(n);
    }
  }
  return dist;
}

nlohmann::json flood_doc(int n, int ttl, std::uint64_t seed, nlohmann::json events, int degree = 3) {
  return {{"protocol", "flooding"},
          {"seed", seed},
          {"params", {{"ttl", ttl}, {"degree", degree}, {"keepalive_ms", 0}}},
          {"network", {{"latency", {{"model", "constant"}, {"ms", 20}}}}},
          {"peers", {{"count", n}}},
          {"items", {{"count", 30}, {"replicas", 3}}},
          {"events", events},
          {"run_ms", 20000}};
}

}  // namespace

TEST_CASE("flooding: a query with TTL t reaches exactly the BFS ball of radius t") {
  for (const std::uint64_t seed : {1, 2, 3}) {
    for (const int ttl : {1, 2, 3, 4, 6}) {
      CAPTURE(seed);
      CAPTURE(ttl);
      auto run = make<FloodRun>(
          flood_doc(300, ttl, seed, {{{"at_ms", 100}, {"op", "query"}, {"from", 5}, {"name", "item-3"}}}));
      run->run_to_end();
      const PeerIndex requester = run->peer_by_id(5);
      auto neighbors = [&](PeerIndex p) { return run->protocol().neighbors(p); };
      const auto dist = bfs(neighbors, requester);
      std::set<PeerIndex> ball;
      for (const auto& [p, d] : dist) {
        if (d <= ttl) ball.insert(p);
      }
      REQUIRE(run->log().records().size() == 1);
      const search::QueryRecord& q = run->log().records().front();
      CHECK(q.reached == ball);

      // QUERY messages: the requester sends to all its neighbours; every other peer inside the
      // ball that still has TTL left (distance < t) forwards to all neighbours but the sender.
      std::uint64_t expected_queries = neighbors(requester).size();
      for (const auto& [p, d] : dist) {
        if (p != requester && d < ttl) expected_queries += neighbors(p).size() - 1;
      }
      const auto query_type = static_cast<std::size_t>(flooding::MsgType::Query);
      CHECK(run->simulator().messages().sent[query_type] == expected_queries);
      // Every copy beyond the first is dropped by the GUID cache, never forwarded again.
      CHECK(q.duplicates == expected_queries - (ball.size() - 1));

      // QUERYHITs walk back along the reverse path: a provider at distance d costs d messages.
      std::set<std::uint64_t> sharers;  // from the peers' own file lists in the result
      const nlohmann::json result = run->result();
      for (const auto& peer : result["peers"]) {
        for (const auto& item : peer["items"]) {
          if (item == "item-3") sharers.insert(peer["id"].get<std::uint64_t>());
        }
      }
      std::uint64_t expected_hits = 0;
      std::set<PeerIndex> providers;
      for (const auto& [p, d] : dist) {
        if (p == requester || d > ttl || !sharers.count(run->id_of(p))) continue;
        providers.insert(p);
        expected_hits += static_cast<std::uint64_t>(d);
      }
      const auto hit_type = static_cast<std::size_t>(flooding::MsgType::QueryHit);
      CHECK(run->simulator().messages().sent[hit_type] == expected_hits);
      CHECK(q.hits == providers);
    }
  }
}

TEST_CASE("a parameter changed during the run takes effect (set)") {
  nlohmann::json events = {{{"at_ms", 100}, {"op", "query"}, {"from", 5}, {"name", "item-3"}},
                           {{"at_ms", 5000}, {"op", "set"}, {"param", "ttl"}, {"value", 1}},
                           {{"at_ms", 5100}, {"op", "query"}, {"from", 5}, {"name", "item-3"}},
                           {{"at_ms", 9000}, {"op", "set"}, {"param", "degree"}, {"value", 9}}};
  auto run = make<FloodRun>(flood_doc(300, 6, 1, events));
  run->run_to_end();
  const auto& records = run->log().records();
  REQUIRE(records.size() == 2);
  CHECK(records[1].reached.size() == run->protocol().neighbors(run->peer_by_id(5)).size() + 1);  // TTL 1
  CHECK(records[0].reached.size() > 3 * records[1].reached.size());
  const auto result = run->result();
  CHECK(result["params"]["ttl"] == 1);
  REQUIRE(result["warnings"].size() == 1);  // degree cannot change during a run
  CHECK(result["warnings"][0].get<std::string>().find("events[3].param: cannot be changed") != std::string::npos);
  // The same through act(), as the visualizer does it: a bad name is an error.
  CHECK_THROWS_AS(run->act({{"op", "set"}, {"param", "degree"}, {"value", 3}}), ScenarioError);
  run->act({{"op", "set"}, {"param", "ttl"}, {"value", 3}});
  CHECK(run->result()["params"]["ttl"] == 3);
}

TEST_CASE("flooding: a small TTL gives false negatives that a large TTL does not") {
  auto run =
      make<FloodRun>(flood_doc(400, 7, 4, {{{"at_ms", 0}, {"op", "queries"}, {"count", 60}, {"spread_ms", 5000}}}));
  run->run_to_end();
  auto small =
      make<FloodRun>(flood_doc(400, 1, 4, {{{"at_ms", 0}, {"op", "queries"}, {"count", 60}, {"spread_ms", 5000}}}));
  small->run_to_end();
  CHECK(small->summary().lookups_wrong > 10);  // false negatives
  CHECK(run->summary().lookups_wrong == 0);
  CHECK(small->summary().messages_sent < run->summary().messages_sent / 5);
}

TEST_CASE("bootstrap by real joins builds working overlays for all three protocols") {
  for (const char* protocol : {"central_index", "flooding", "superpeer"}) {
    CAPTURE(protocol);
    nlohmann::json doc = {{"protocol", protocol},
                          {"seed", 4},
                          {"peers", {{"count", 60}}},
                          {"items", {{"count", 20}, {"replicas", 2}}},
                          {"bootstrap", "join"},
                          {"join_interval_ms", 50},
                          {"events", {{{"at_ms", 8000}, {"op", "queries"}, {"count", 40}, {"spread_ms", 10000}}}},
                          {"run_ms", 25000}};
    if (std::string(protocol) == "superpeer") doc["peers"]["capacities"] = {{"random", true}};
    const Scenario scenario = parse_scenario(doc, "join.json");
    auto run = all_protocols().create(scenario);
    run->run_to_end();
    const RunSummary s = run->summary();
    CHECK(s.peers_live == 60);
    CHECK(s.lookups == 40);
    // The index and the superpeers reach (nearly) every provider. A flooding overlay grown by
    // PING/PONG discovery is clustered (newcomers link to their bootstrap peer's neighbourhood),
    // so its diameter is larger and a TTL-7 flood with random latencies misses more.
    CHECK(s.success_rate >= (std::string(protocol) == "flooding" ? 0.75 : 0.95));
    const nlohmann::json result = run->result();
    for (const auto& peer : result["peers"]) {
      CAPTURE(peer["id"]);
      CHECK(!peer["neighbors"].empty());  // nobody is left alone
    }
  }
}

TEST_CASE("flooding under churn: neighbours that vanish are replaced") {
  nlohmann::json doc = flood_doc(300, 7, 11, {{{"at_ms", 1000}, {"op", "fail_fraction"}, {"fraction", 0.2}}}, 4);
  doc["params"]["keepalive_ms"] = 1000;
  doc["params"]["timeout_ms"] = 300;
  auto run = make<FloodRun>(doc);
  run->run_to_end();
  int live = 0, well_connected = 0;
  for (PeerIndex p = 0; p < 300; ++p) {
    if (!run->simulator().is_up(p)) continue;
    ++live;
    for (PeerIndex n : run->protocol().neighbors(p)) {
      CAPTURE(p);
      CHECK(run->simulator().is_up(n));  // no dead neighbour is kept
    }
    well_connected += run->protocol().neighbors(p).size() >= 3;
  }
  CHECK(live == 240);
  CHECK(well_connected > 0.95 * live);  // lost neighbours were replaced through discovery
}

TEST_CASE(
    "central index: results are the brute-force set of live providers, before and after leaves and a server crash") {
  nlohmann::json events = nlohmann::json::array();
  for (int k = 0; k < 20; ++k)
    events.push_back(
        {{"at_ms", 100 + 50 * k}, {"op", "query"}, {"from", 1 + k}, {"name", "item-" + std::to_string(k)}});
  for (int k = 0; k < 10; ++k) events.push_back({{"at_ms", 3000 + k}, {"op", "leave"}, {"peer", 30 + k}});
  for (int k = 0; k < 20; ++k)
    events.push_back(
        {{"at_ms", 5000 + 50 * k}, {"op", "query"}, {"from", 1 + k}, {"name", "item-" + std::to_string(k)}});
  events.push_back({{"at_ms", 8000}, {"op", "fail"}, {"peer", 0}});
  for (int k = 0; k < 20; ++k)
    events.push_back(
        {{"at_ms", 9000 + 50 * k}, {"op", "query"}, {"from", 1 + k}, {"name", "item-" + std::to_string(k)}});
  auto run = make<CentralRun>({{"protocol", "central_index"},
                               {"seed", 8},
                               {"params", {{"server", 0}, {"timeout_ms", 1000}}},
                               {"peers", {{"count", 80}}},
                               {"items", {{"count", 20}, {"replicas", 4}}},
                               {"events", events},
                               {"run_ms", 15000}});
  run->run_to_end();
  const auto result = run->result();
  // Brute force: who shares item-k, from every peer's own file list; the leavers only count
  // before they leave.
  const std::set<std::uint64_t> left = {30, 31, 32, 33, 34, 35, 36, 37, 38, 39};
  std::map<std::string, std::set<std::uint64_t>> sharers, sharers_after_leaves;
  for (PeerIndex p = 0; p < run->shared().size(); ++p) {
    for (search::NameIndex n : run->shared()[p]) {
      sharers[run->catalogue().name(n)].insert(run->id_of(p));
      if (!left.count(run->id_of(p))) sharers_after_leaves[run->catalogue().name(n)].insert(run->id_of(p));
    }
  }
  REQUIRE(result["queries"].size() == 60);
  for (std::size_t i = 0; i < 60; ++i) {
    const auto& q = result["queries"][i];
    CAPTURE(q.dump());
    std::set<std::uint64_t> hits;
    for (const auto& h : q["hits"]) hits.insert(h.get<std::uint64_t>());
    if (i < 40) {
      // Before the crash: exactly the live providers.
      const auto& expected =
          i < 20 ? sharers[q["name"].get<std::string>()] : sharers_after_leaves[q["name"].get<std::string>()];
      CHECK(hits == expected);
      CHECK(q["ok"] == !hits.empty());
      CHECK(q["messages"].get<int>() >= 2);
      if (i >= 20) {
        for (auto id : left) CHECK(hits.count(id) == 0);  // a peer that left is never returned
      }
    } else {
      CHECK(q["ok"] == false);  // the server is down: every search fails
      CHECK(hits.empty());
    }
  }
}

namespace {
nlohmann::json super_doc(std::uint64_t seed, nlohmann::json events, const char* protocol = "superpeer") {
  return {
      {"protocol", protocol},
      {"seed", seed},
      {"params", std::string(protocol) == "superpeer" ? nlohmann::json{{"superpeer_ratio", 0.1},
                                                                       {"ttl", 3},
                                                                       {"superpeers_per_leaf", 2},
                                                                       {"leaves_per_superpeer", 60},
                                                                       {"keepalive_ms", 1000},
                                                                       {"timeout_ms", 400}}
                                                      : nlohmann::json{{"ttl", 7}, {"degree", 4}, {"keepalive_ms", 0}}},
      {"network", {{"latency", {{"model", "constant"}, {"ms", 20}}}}},
      {"peers", {{"count", 400}, {"capacities", {{"random", true}, {"nat_fraction", 0.3}}}}},
      {"items", {{"count", 40}, {"replicas", 2}}},
      {"events", events},
      {"run_ms", 30000}};
}
}  // namespace

TEST_CASE("superpeer: election by capacity, queries find every provider within TTL among superpeers") {
  nlohmann::json events = nlohmann::json::array();
  for (int k = 0; k < 30; ++k)
    events.push_back(
        {{"at_ms", 100 + 300 * k}, {"op", "query"}, {"from", 7 * k + 1}, {"name", "item-" + std::to_string(k)}});
  auto run = make<SuperRun>(super_doc(5, events));
  run->start();
  const auto& protocol = run->protocol();
  // The election: superpeers are capable, and every capable non-superpeer scores no higher
  // than the weakest superpeer.
  double weakest = 1e300;
  int superpeers = 0;
  for (PeerIndex p = 0; p < 400; ++p) {
    if (!protocol.is_superpeer(p)) continue;
    ++superpeers;
    CHECK(protocol.capable(p));
    weakest = std::min(weakest, protocol.score(p));
  }
  CHECK(superpeers == 40);
  for (PeerIndex p = 0; p < 400; ++p) {
    if (!protocol.is_superpeer(p) && protocol.capable(p)) CHECK(protocol.score(p) <= weakest);
  }
  run->run_to_end();
  // Oracle: the superpeers a query reaches are the BFS ball (radius TTL) around the requester's
  // superpeers in the superpeer overlay; the providers are those superpeers and their leaves
  // that share the name.
  auto sp_neighbors = [&](PeerIndex p) {
    std::vector<PeerIndex> out;
    for (PeerIndex n : protocol.neighbors(p)) {
      if (protocol.is_superpeer(n)) out.push_back(n);
    }
    return out;
  };
  const auto result = run->result();
  std::map<std::uint64_t, std::set<std::string>> items_of;
  for (const auto& peer : result["peers"]) {
    for (const auto& item : peer["items"]) items_of[peer["id"].get<std::uint64_t>()].insert(item.get<std::string>());
  }
  int checked = 0;
  for (const search::QueryRecord& q : run->log().records()) {
    const std::string name = run->catalogue().name(q.name);
    std::set<PeerIndex> reached_sps;
    const auto& entry_points =
        protocol.is_superpeer(q.from) ? std::vector<PeerIndex>{q.from} : protocol.superpeers_of(q.from);
    for (PeerIndex s : entry_points) {
      for (const auto& [p, d] : bfs(sp_neighbors, s)) {
        if (d < 3 + (protocol.is_superpeer(q.from) ? 1 : 0)) reached_sps.insert(p);
      }
    }
    std::set<PeerIndex> expected;
    for (PeerIndex s : reached_sps) {
      if (items_of[run->id_of(s)].count(name) && s != q.from) expected.insert(s);
      for (const auto& [leaf, table] : protocol.leaf_tables(s)) {
        (void)table;
        if (items_of[run->id_of(leaf)].count(name) && leaf != q.from) expected.insert(leaf);
      }
    }
    CAPTURE(name);
    CHECK(q.hits == expected);
    ++checked;
  }
  CHECK(checked == 30);
}

TEST_CASE("superpeer: far fewer messages than flooding on the same network") {
  nlohmann::json events = {{{"at_ms", 100}, {"op", "queries"}, {"count", 40}, {"spread_ms", 10000}}};
  auto sp = make<SuperRun>(super_doc(6, events));
  auto fl = make<FloodRun>(super_doc(6, events, "flooding"));
  sp->run_to_end();
  fl->run_to_end();
  const double sp_messages = sp->result()["metrics"]["mean_messages_per_query"].get<double>();
  const double fl_messages = fl->result()["metrics"]["mean_messages_per_query"].get<double>();
  CAPTURE(sp_messages);
  CAPTURE(fl_messages);
  CHECK(sp_messages < 0.25 * fl_messages);
}

TEST_CASE("superpeer: after superpeers crash, every leaf is attached to a live superpeer again") {
  auto run = make<SuperRun>(super_doc(7, {{{"at_ms", 2000}, {"op", "fail_fraction"}, {"fraction", 0.05}}}));
  run->run_to_end();
  const auto& protocol = run->protocol();
  int leaves = 0;
  for (PeerIndex p = 0; p < 400; ++p) {
    if (!run->simulator().is_up(p) || protocol.is_superpeer(p)) continue;
    ++leaves;
    bool live_superpeer = false;
    for (PeerIndex s : protocol.superpeers_of(p)) live_superpeer = live_superpeer || run->simulator().is_up(s);
    CAPTURE(p);
    CHECK(live_superpeer);
    for (PeerIndex s : protocol.superpeers_of(p)) CHECK(run->simulator().is_up(s));
  }
  CHECK(leaves > 300);
}

TEST_CASE("skype relay: providers behind NAT are reached through their superpeer") {
  auto run = make<SuperRun>({{"protocol", "superpeer"},
                             {"seed", 9},
                             {"params", {{"relay", true}, {"superpeers_per_leaf", 1}, {"keepalive_ms", 0}}},
                             {"peers", {{"count", 200}, {"capacities", {{"random", true}, {"nat_fraction", 0.6}}}}},
                             {"items", {{"count", 40}, {"replicas", 1}}},
                             {"events", {{{"at_ms", 100}, {"op", "queries"}, {"count", 60}, {"spread_ms", 5000}}}},
                             {"run_ms", 20000}});
  run->run_to_end();
  int relayed = 0, direct = 0;
  for (const search::QueryRecord& q : run->log().records()) {
    if (q.downloaded_from == kNoPeer) continue;
    if (q.relayed) {
      ++relayed;
    } else {
      ++direct;
    }
  }
  CHECK(relayed > 0);
  CHECK(direct > 0);
  CHECK(relayed + direct == 60);
}

TEST_CASE("compare: flooding grows linearly, the central index stays flat, Chord in between") {
  bench::CompareOptions o;
  o.min_log2 = 7;
  o.max_log2 = 10;
  o.queries = 20;
  o.quiet = true;
  o.protocols = {"central_index", "flooding", "chord"};
  const auto [rows, fits] = bench::run_compare(o);
  REQUIRE(fits.size() == 3);
  CHECK(fits[0].measured == "O(1)");
  CHECK(fits[0].loglog_slope < 0.05);
  CHECK(fits[1].measured == "O(N)");
  CHECK(fits[1].loglog_slope > 0.75);
  CHECK(fits[2].loglog_slope > 0.05);
  CHECK(fits[2].loglog_slope < 0.4);
  // The central server's state grows with N; its peers' state does not.
  double first_max = 0, last_max = 0;
  for (const auto& r : rows) {
    if (r.protocol != "central_index") continue;
    if (r.peers == 128) first_max = r.max_state;
    if (r.peers == 1024) last_max = r.max_state;
    CHECK(r.mean_state < 4);
    CHECK(r.max_state >= static_cast<double>(r.peers - 1));  // the server knows every peer
  }
  CHECK(last_max > 3 * first_max);
}
