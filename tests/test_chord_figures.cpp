// The lecture's worked examples (../shared/lecture/figures.md), checked exactly.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "test_util.hpp"

using namespace p2plab;
using p2plab::test::make_chord_run;

namespace {

std::vector<std::uint64_t> as_numbers(const chord::ChordRun& run, const std::vector<PeerIndex>& peers) {
  std::vector<std::uint64_t> out;
  for (PeerIndex p : peers) out.push_back(p == kNoPeer ? 999999 : run.simulator().peer_id(p).low64());
  return out;
}

struct FingerRow {
  std::vector<std::uint64_t> starts, nodes;
};

FingerRow finger_row(const chord::ChordRun& run, std::uint64_t node) {
  const PeerIndex p = run.peer_by_id(Id(node));
  REQUIRE(p != kNoPeer);
  const chord::PeerSnapshot s = run.protocol().snapshot(p);
  FingerRow row;
  for (const auto& f : s.fingers) {
    row.starts.push_back(f.start.low64());
    row.nodes.push_back(f.node == kNoPeer ? 999999 : run.simulator().peer_id(f.node).low64());
  }
  return row;
}

nlohmann::json ring(int m, std::vector<int> ids, nlohmann::json events, const char* lookup = "iterative") {
  return {{"protocol", "chord"},
          {"seed", 5},
          {"params", {{"m", m}, {"successors", 3}, {"lookup", lookup}}},
          {"network", {{"latency", {{"model", "uniform"}, {"min_ms", 5}, {"max_ms", 50}}}}},
          {"peers", {{"ids", ids}}},
          {"bootstrap", "oracle"},
          {"events", events},
          {"run_ms", 5000}};
}

const std::vector<int> kFigure5 = {4, 7, 13, 14, 16, 19, 23, 26, 30, 33, 37, 39, 42, 45, 49, 52, 54, 56, 60, 63};

}  // namespace

TEST_CASE("figure 4: the 3-bit ring with nodes 0, 1, 3 and keys 1, 2, 6") {
  auto run = make_chord_run(ring(3, {0, 1, 3},
                                 {{{"at_ms", 10}, {"op", "put"}, {"from", 0}, {"key", 1}, {"value", "one"}},
                                  {{"at_ms", 20}, {"op", "put"}, {"from", 3}, {"key", 2}, {"value", "two"}},
                                  {{"at_ms", 30}, {"op", "put"}, {"from", 1}, {"key", 6}, {"value", "six"}}}));
  run->run_to_end();
  SUBCASE("finger tables: start i = n + 2^i, node = successor(start)") {
    const std::map<std::uint64_t, FingerRow> expected = {
        {0, {{1, 2, 4}, {1, 3, 0}}}, {1, {{2, 3, 5}, {3, 3, 0}}}, {3, {{4, 5, 7}, {0, 0, 0}}}};
    for (const auto& [node, row] : expected) {
      CAPTURE(node);
      const FingerRow got = finger_row(*run, node);
      CHECK(got.starts == row.starts);
      CHECK(got.nodes == row.nodes);
    }
  }
  SUBCASE("keys: successor(1) = 1, successor(2) = 3, successor(6) = 0") {
    const std::map<std::uint64_t, std::vector<std::uint64_t>> keys = {{0, {6}}, {1, {1}}, {3, {2}}};
    for (const auto& [node, held] : keys) {
      CAPTURE(node);
      std::vector<std::uint64_t> got;
      for (const Id& k : run->protocol().snapshot(run->peer_by_id(Id(node))).keys) got.push_back(k.low64());
      CHECK(got == held);
    }
  }
}

TEST_CASE("figure 5: finger tables of 52, 23, 39, 42 on the 6-bit ring") {
  auto run = make_chord_run(ring(6, kFigure5, nlohmann::json::array()));
  // Right after the oracle bootstrap and again after 5 s of stabilize/fix_fingers: the tables
  // must be the slide's and must stay so.
  for (const bool after_maintenance : {false, true}) {
    CAPTURE(after_maintenance);
    if (after_maintenance) {
      run->run_to_end();
    } else {
      run->start();
    }
    const std::map<std::uint64_t, FingerRow> expected = {
        {52, {{53, 54, 56, 60, 4, 20}, {54, 54, 56, 60, 4, 23}}},
        {23, {{24, 25, 27, 31, 39, 55}, {26, 26, 30, 33, 39, 56}}},
        {39, {{40, 41, 43, 47, 55, 7}, {42, 42, 45, 49, 56, 7}}},
        {42, {{43, 44, 46, 50, 58, 10}, {45, 45, 49, 52, 60, 13}}}};
    for (const auto& [node, row] : expected) {
      CAPTURE(node);
      const FingerRow got = finger_row(*run, node);
      CHECK(got.starts == row.starts);
      CHECK(got.nodes == row.nodes);
    }
  }
}

TEST_CASE("figure 5: lookup(44) from 52 goes 52 -> 23 -> 39 -> 42 and answers 45") {
  for (const char* style : {"iterative", "recursive"}) {
    CAPTURE(style);
    auto run = make_chord_run(ring(6, kFigure5, {{{"at_ms", 100}, {"op", "lookup"}, {"from", 52}, {"key", 44}}}, style));
    run->simulator().event_trace().keep_in_memory(true);
    run->run_to_end();
    const auto& records = run->protocol().records();
    REQUIRE(records.size() == 1);
    const chord::LookupRecord& r = records.front();
    CHECK(as_numbers(*run, r.path) == std::vector<std::uint64_t>{52, 23, 39, 42});
    CHECK(r.hops == 3);
    CHECK(run->simulator().peer_id(r.owner).low64() == 45);
    CHECK(r.ok);
    // The trace tells the same story, hop by hop, in order.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> hops;
    for (const TraceEvent& e : run->simulator().event_trace().events()) {
      if (e.kind == TraceKind::LookupHop && e.lookup == r.serial) {
        hops.emplace_back(run->simulator().peer_id(e.peer).low64(), run->simulator().peer_id(e.other).low64());
      }
    }
    CHECK(hops == std::vector<std::pair<std::uint64_t, std::uint64_t>>{{52, 23}, {23, 39}, {39, 42}});
    // And so does the result file.
    const nlohmann::json result = run->result();
    REQUIRE(result["lookups"].size() == 1);
    CHECK(result["lookups"][0]["path"] == nlohmann::json::array({52, 23, 39, 42}));
    CHECK(result["lookups"][0]["owner"] == 45);
    CHECK(result["lookups"][0]["hops"] == 3);
  }
}

TEST_CASE("figure 3: m = 12, \"my data\" = 3107 is stored on 3485, and the responsibility ranges") {
  const std::vector<int> nodes = {611, 709, 1008, 1622, 2011, 2207, 2906, 3485};
  nlohmann::json events = {{{"at_ms", 10}, {"op", "put"}, {"from", 611}, {"key", 3107}, {"value", "my data"}},
                           {{"at_ms", 800}, {"op", "get"}, {"from", 1622}, {"key", 3107}}};
  // Boundaries of the ranges the slide names: 3485 holds 2907..3485, 611 holds 3486..4095 and
  // 0..611, 709 holds 612..709.
  const std::map<int, int> owner_of = {{2907, 3485}, {3107, 3485}, {3485, 3485}, {3486, 611}, {4095, 611},
                                       {0, 611},     {611, 611},   {612, 709},   {709, 709},   {710, 1008}};
  int at = 1000;
  for (const auto& [key, owner] : owner_of) {
    (void)owner;
    events.push_back({{"at_ms", at += 50}, {"op", "lookup"}, {"from", 2011}, {"key", key}});
  }
  auto run = make_chord_run(ring(12, nodes, events));
  run->run_to_end();
  const PeerIndex p3485 = run->peer_by_id(Id(3485));
  std::vector<std::uint64_t> keys;
  for (const Id& k : run->protocol().snapshot(p3485).keys) keys.push_back(k.low64());
  CHECK(keys == std::vector<std::uint64_t>{3107});
  const nlohmann::json result = run->result();
  REQUIRE(result["storage"].size() == 2);
  CHECK(result["storage"][1]["op"] == "get");
  CHECK(result["storage"][1]["found"] == true);
  CHECK(result["storage"][1]["value"] == "my data");
  CHECK(result["storage"][1]["owner"] == 3485);
  REQUIRE(result["lookups"].size() == owner_of.size());
  for (const auto& l : result["lookups"]) {
    CAPTURE(l.dump());
    CHECK(l["owner"] == owner_of.at(l["key"].get<int>()));
    CHECK(l["ok"] == true);
  }
}

TEST_CASE("SHA-1 keys: a name is hashed into the id space like the slide's H(\"my data\")") {
  // figures.md gives 3107 as the slide's value; SHA-1("my data") mod 2^12 is 3134 (computed
  // independently with Python's hashlib), so the lab uses 3107 as an explicit key.
  CHECK(IdSpace(12).hash("my data") == Id(3134));
}
