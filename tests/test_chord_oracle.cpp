// Chord against an independent oracle: every successor, predecessor, successor list and finger
// equals the brute-force answer computed from the sorted id list, and every lookup returns the
// true successor.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace p2plab;
using p2plab::test::Big;
using p2plab::test::make_chord_run;
using p2plab::test::RingOracle;

namespace {

RingOracle oracle_of(const chord::ChordRun& run, int m) {
  std::vector<Id> ids;
  for (const auto& [id, p] : run.simulator().live_by_id()) ids.push_back(id);
  return RingOracle(ids, m);
}

Big id_big(const chord::ChordRun& run, PeerIndex p) {
  REQUIRE(p != kNoPeer);
  return Big::from(run.simulator().peer_id(p));
}

/// Checks every pointer of every live peer against the oracle; returns the number of mismatches.
int check_routing_state(const chord::ChordRun& run, int m, int r) {
  const RingOracle oracle = oracle_of(run, m);
  int wrong = 0;
  for (const auto& [id, p] : run.simulator().live_by_id()) {
    const chord::PeerSnapshot s = run.protocol().snapshot(p);
    const Big n = Big::from(id);
    const std::size_t expect_list = std::min<std::size_t>(r, oracle.sorted.size() - 1);
    if (s.successors.size() != expect_list) {
      ++wrong;
      continue;
    }
    for (std::size_t j = 0; j < expect_list; ++j) wrong += !(id_big(run, s.successors[j]) == oracle.next(n, j + 1));
    wrong += s.predecessor == kNoPeer || !(id_big(run, s.predecessor) == oracle.previous(n));
    for (int i = 0; i < m; ++i) {
      wrong += s.fingers[i].node == kNoPeer || !(id_big(run, s.fingers[i].node) == oracle.finger(n, i));
    }
  }
  return wrong;
}

nlohmann::json joined_ring(int n, int m, std::uint64_t seed, double run_ms) {
  return {{"protocol", "chord"},
          {"seed", seed},
          {"params",
           {{"m", m}, {"successors", 4}, {"stabilize_ms", 100}, {"fix_fingers_ms", 100}, {"check_predecessor_ms", 200},
            {"rpc_timeout_ms", 300}}},
          {"network", {{"latency", {{"model", "uniform"}, {"min_ms", 2}, {"max_ms", 20}}}}},
          {"peers", {{"count", n}}},
          {"bootstrap", "join"},
          {"join_interval_ms", 20},
          {"events", {{{"at_ms", run_ms - 2000}, {"op", "lookups"}, {"count", 500}, {"spread_ms", 1000}}}},
          {"run_ms", run_ms}};
}

void check_lookups_against_oracle(const chord::ChordRun& run, int m) {
  const RingOracle oracle = oracle_of(run, m);
  const nlohmann::json result = run.result();
  REQUIRE(result["lookups"].size() == 500);
  int correct = 0;
  for (const auto& l : result["lookups"]) {
    const Id key = l["key"].is_string() ? *Id::from_decimal(l["key"].get<std::string>()) : Id(l["key"].get<std::uint64_t>());
    const Id owner = l["owner"].is_string() ? *Id::from_decimal(l["owner"].get<std::string>())
                                            : Id(l["owner"].get<std::uint64_t>());
    correct += (Big::from(owner) == oracle.successor_of(Big::from(key))) && l["ok"].get<bool>();
  }
  CHECK(correct == 500);
}

}  // namespace

TEST_CASE("oracle bootstrap installs exactly the brute-force routing state") {
  for (const int m : {32, 160}) {
    CAPTURE(m);
    auto run = make_chord_run({{"protocol", "chord"},
                               {"seed", 11},
                               {"params", {{"m", m}, {"successors", 5}, {"maintenance", false}}},
                               {"peers", {{"count", 700}}},
                               {"run_ms", 0}});
    run->start();
    CHECK(check_routing_state(*run, m, 5) == 0);
  }
}

TEST_CASE("rings built by real joins converge to the brute-force answer") {
  for (const int m : {32, 160}) {
    for (const std::uint64_t seed : {1, 2, 3}) {
      for (const int n : {50, 200}) {
        CAPTURE(m);
        CAPTURE(seed);
        CAPTURE(n);
        auto run = make_chord_run(joined_ring(n, m, seed, n * 20.0 + 25000));
        run->run_to_end();
        CHECK(run->simulator().live_count() == static_cast<std::size_t>(n));
        CHECK(check_routing_state(*run, m, 4) == 0);
        check_lookups_against_oracle(*run, m);
      }
    }
  }
}

TEST_CASE("a ring of 2000 joined peers converges (m = 32 and m = 160)" * doctest::skip(false)) {
  for (const int m : {32, 160}) {
    CAPTURE(m);
    auto run = make_chord_run(joined_ring(2000, m, 7, 2000 * 20.0 + 30000));
    run->run_to_end();
    CHECK(check_routing_state(*run, m, 4) == 0);
    check_lookups_against_oracle(*run, m);
  }
}

TEST_CASE("path length grows like (1/2) log2 N (the paper's scaling)") {
  double previous = 0;
  for (int log_n = 8; log_n <= 12; ++log_n) {
    const int n = 1 << log_n;
    auto run = make_chord_run({{"protocol", "chord"},
                               {"seed", 100 + log_n},
                               {"params", {{"m", 32}, {"successors", 1}, {"maintenance", false}}},
                               {"peers", {{"count", n}}},
                               {"events", {{{"at_ms", 0}, {"op", "lookups"}, {"count", 2000}, {"spread_ms", 10000}}}},
                               {"run_ms", 20000}});
    run->set_brief(true);
    run->run_to_end();
    const RunSummary s = run->summary();
    CAPTURE(n);
    CAPTURE(s.mean_hops);
    CHECK(s.lookups_ok == 2000);
    CHECK(s.mean_hops >= 0.35 * log_n);
    CHECK(s.mean_hops <= 0.65 * log_n);
    CHECK(s.mean_hops > previous);
    previous = s.mean_hops;
  }
}

TEST_CASE("iterative and recursive lookups find the same owners over the same paths") {
  nlohmann::json doc = {{"protocol", "chord"},
                        {"seed", 9},
                        {"params", {{"m", 24}, {"successors", 3}, {"maintenance", false}}},
                        {"peers", {{"count", 300}}},
                        {"events", {{{"at_ms", 0}, {"op", "lookups"}, {"count", 300}, {"spread_ms", 3000}}}},
                        {"run_ms", 10000}};
  auto iterative = make_chord_run(doc);
  doc["params"]["lookup"] = "recursive";
  auto recursive = make_chord_run(doc);
  iterative->run_to_end();
  recursive->run_to_end();
  const nlohmann::json a = iterative->result()["lookups"], b = recursive->result()["lookups"];
  REQUIRE(a.size() == 300);
  REQUIRE(b.size() == 300);
  // Same requests (the scenario's own random stream) ...
  std::multiset<std::string> ka, kb;
  for (std::size_t i = 0; i < 300; ++i) {
    ka.insert(a[i]["from"].dump() + a[i]["key"].dump() + a[i]["owner"].dump() + a[i]["path"].dump());
    kb.insert(b[i]["from"].dump() + b[i]["key"].dump() + b[i]["owner"].dump() + b[i]["path"].dump());
  }
  // ... the same answers and paths; recursive needs about half the messages.
  CHECK(ka == kb);
  CHECK(static_cast<double>(recursive->summary().messages_sent) <
        0.7 * static_cast<double>(iterative->summary().messages_sent));
}

TEST_CASE("a quarter of the peers crash at once: lookups and stored keys survive (r = log2 N)") {
  for (const char* style : {"iterative", "recursive"}) {
    CAPTURE(style);
    nlohmann::json events = nlohmann::json::array();
    for (int k = 0; k < 100; ++k) {
      events.push_back({{"at_ms", 100 + k}, {"op", "put"}, {"name", p2plab::test::numbered("file-", k)}, {"value", p2plab::test::numbered("v", k)}});
    }
    events.push_back({{"at_ms", 5000}, {"op", "fail_fraction"}, {"fraction", 0.25}});
    events.push_back({{"at_ms", 30000}, {"op", "lookups"}, {"count", 500}, {"spread_ms", 3000}});
    for (int k = 0; k < 100; ++k) {
      events.push_back({{"at_ms", 35000 + 10 * k}, {"op", "get"}, {"name", p2plab::test::numbered("file-", k)}});
    }
    auto run = make_chord_run({{"protocol", "chord"},
                               {"seed", 25},
                               {"params",
                                {{"m", 32}, {"successors", 8}, {"lookup", style}, {"stabilize_ms", 200},
                                 {"fix_fingers_ms", 100}, {"check_predecessor_ms", 200}, {"rpc_timeout_ms", 300}}},
                               {"network", {{"latency", {{"model", "uniform"}, {"min_ms", 5}, {"max_ms", 50}}}}},
                               {"peers", {{"count", 256}}},
                               {"events", events},
                               {"run_ms", 40000}});
    run->run_to_end();
    CHECK(run->simulator().live_count() == 192);
    const nlohmann::json result = run->result();
    int lookups_ok = 0, gets_ok = 0, gets = 0;
    for (const auto& l : result["lookups"]) lookups_ok += l["ok"].get<bool>();
    CHECK(lookups_ok == 500);
    std::map<std::string, nlohmann::json> put_values;  // key -> value put under it
    for (const auto& s : result["storage"]) {
      if (s["op"] == "put") put_values[s["key"].dump()] = s["value"];
    }
    CHECK(put_values.size() == 100);
    for (const auto& s : result["storage"]) {
      if (s["op"] != "get") continue;
      ++gets;
      gets_ok += s["ok"].get<bool>() && s["found"].get<bool>() && s["value"] == put_values[s["key"].dump()];
    }
    CHECK(gets == 100);
    CHECK(gets_ok == 100);
    CHECK(check_routing_state(*run, 32, 8) == 0);
  }
}

TEST_CASE("gets return the value that was put, also after graceful leaves") {
  nlohmann::json events = nlohmann::json::array();
  for (int k = 0; k < 40; ++k) {
    events.push_back({{"at_ms", 100 + k}, {"op", "put"}, {"name", p2plab::test::numbered("doc-", k)}, {"value", p2plab::test::numbered("value-", k)}});
  }
  auto probe = make_chord_run({{"protocol", "chord"}, {"seed", 3}, {"params", {{"m", 16}}}, {"peers", {{"count", 60}}}, {"run_ms", 0}});
  probe->start();
  std::vector<Id> ids;
  for (const auto& [id, p] : probe->simulator().live_by_id()) ids.push_back(id);
  for (int k = 0; k < 15; ++k) {
    events.push_back({{"at_ms", 3000 + 500 * k}, {"op", "leave"}, {"peer", ids[static_cast<std::size_t>(4 * k)].low64()}});
  }
  for (int k = 0; k < 40; ++k) {
    events.push_back({{"at_ms", 20000 + 10 * k}, {"op", "get"}, {"name", p2plab::test::numbered("doc-", k)}});
  }
  auto run = make_chord_run({{"protocol", "chord"},
                             {"seed", 3},
                             {"params", {{"m", 16}, {"successors", 3}, {"stabilize_ms", 200}, {"fix_fingers_ms", 100}}},
                             {"peers", {{"count", 60}}},
                             {"events", events},
                             {"run_ms", 25000}});
  run->run_to_end();
  CHECK(run->simulator().live_count() == 45);
  const nlohmann::json result = run->result();
  int checked = 0;
  for (const auto& s : result["storage"]) {
    if (s["op"] != "get") continue;
    ++checked;
    CAPTURE(s.dump());
    CHECK(s["found"] == true);
    CHECK(s["ok"] == true);
    // The value is the one put under the same name: doc-k -> value-k.
    const auto key = s["key"];
    for (const auto& put : result["storage"]) {
      if (put["op"] == "put" && put["key"] == key) CHECK(put["value"] == s["value"]);
    }
  }
  CHECK(checked == 40);
  CHECK(check_routing_state(*run, 16, 3) == 0);
}

TEST_CASE("Chord parameters can change during a run") {
  auto run = make_chord_run({{"protocol", "chord"},
                             {"params", {{"m", 16}, {"stabilize_ms", 500}}},
                             {"peers", {{"count", 20}}},
                             {"events", {{{"at_ms", 1000}, {"op", "set"}, {"param", "stabilize_ms"}, {"value", 2000}}}},
                             {"run_ms", 11000}});
  run->run_to_end();
  CHECK(run->result()["params"]["stabilize_ms"] == 2000.0);
  // About 20 peers x (1 s at 500 ms + 10 s at 2000 ms) = 20 x 7 stabilize rounds.
  const auto sent = run->result()["metrics"]["messages_by_type"]["GET_PREDECESSOR"]["sent"].get<int>();
  CHECK(sent >= 20 * 6);
  CHECK(sent <= 20 * 8);
  CHECK_THROWS_AS(run->act({{"op", "set"}, {"param", "m"}, {"value", 8}}), ScenarioError);
}

TEST_CASE("determinism: the same scenario gives a byte-identical result, another seed does not") {
  const nlohmann::json doc = {{"protocol", "chord"},
                              {"seed", 77},
                              {"params", {{"m", 32}, {"successors", 4}, {"stabilize_ms", 300}}},
                              {"network", {{"latency", {{"model", "coordinates"}, {"area", 100}}}, {"loss", 0.01}}},
                              {"peers", {{"count", 120}}},
                              {"bootstrap", "join"},
                              {"join_interval_ms", 30},
                              {"churn", {{"model", "exponential"}, {"mean_ms", 60000}, {"start_ms", 5000}}},
                              {"events", {{{"at_ms", 6000}, {"op", "lookups"}, {"count", 300}, {"spread_ms", 8000}}}},
                              {"run_ms", 15000}};
  auto a = make_chord_run(doc);
  auto b = make_chord_run(doc);
  a->run_to_end();
  b->run_to_end();
  CHECK(a->result().dump() == b->result().dump());
  nlohmann::json other = doc;
  other["seed"] = 78;
  auto c = make_chord_run(other);
  c->run_to_end();
  CHECK(a->result().dump() != c->result().dump());
}
