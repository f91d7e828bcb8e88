// The lecture's worked examples (docs/figures.md, "The lecture's worked examples,
// decoded"), checked exactly: the numbers below are copied from the figures, not computed by
// p2plab. Where a test covers more than the figure shows (every node, every key), the extra
// expectations come from the brute-force oracle in test_util.hpp.
#include <doctest/doctest.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "p2plab/scenario.hpp"
#include "register_all.hpp"
#include "test_util.hpp"

using namespace p2plab;
using p2plab::test::Big;
using p2plab::test::make_chord_run;
using p2plab::test::RingOracle;

namespace {

constexpr std::uint64_t kNone = 999999;  // "no peer" in the number lists below

std::uint64_t number(const chord::ChordRun& run, PeerIndex p) {
  return p == kNoPeer ? kNone : run.simulator().peer_id(p).low64();
}

std::vector<std::uint64_t> numbers(const chord::ChordRun& run, const std::vector<PeerIndex>& peers) {
  std::vector<std::uint64_t> out;
  for (PeerIndex p : peers) out.push_back(number(run, p));
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
    row.nodes.push_back(number(run, f.node));
  }
  return row;
}

/// Keys node holds as primary owner (in (predecessor, node]).
std::vector<std::uint64_t> primary_keys(const chord::ChordRun& run, std::uint64_t node) {
  std::vector<std::uint64_t> out;
  for (const Id& k : run.protocol().snapshot(run.peer_by_id(Id(node))).keys) out.push_back(k.low64());
  return out;
}

nlohmann::json ring(int m, const std::vector<int>& ids, const nlohmann::json& events, const char* lookup = "iterative",
                    double run_ms = 5000) {
  return {{"protocol", "chord"},
          {"seed", 5},
          {"params", {{"m", m}, {"successors", 3}, {"lookup", lookup}}},
          {"network", {{"latency", {{"model", "uniform"}, {"min_ms", 5}, {"max_ms", 50}}}}},
          {"peers", {{"ids", ids}}},
          {"bootstrap", "oracle"},
          {"events", events},
          {"run_ms", run_ms}};
}

/// Lookups of every key from every node, 20 ms apart, starting at `at` ms.
nlohmann::json every_key_from_every_node(int m, const std::vector<int>& nodes, int at) {
  nlohmann::json events = nlohmann::json::array();
  for (int from : nodes) {
    for (int key = 0; key < (1 << m); ++key) {
      events.push_back({{"at_ms", at}, {"op", "lookup"}, {"from", from}, {"key", key}});
      at += 20;
    }
  }
  return events;
}

/// Checks every recorded user lookup against the brute-force successor, and that it took at most
/// m hops (each step at least halves the distance to the key). Returns how many were checked.
std::size_t check_lookups(const chord::ChordRun& run, const std::vector<int>& nodes, int m) {
  std::vector<Id> ids;
  for (int n : nodes) ids.push_back(Id(static_cast<std::uint64_t>(n)));
  const RingOracle oracle(ids, m);
  std::size_t checked = 0;
  for (const chord::LookupRecord& r : run.protocol().records()) {
    if (r.purpose != chord::Purpose::User) continue;
    CAPTURE(number(run, r.from));
    CAPTURE(r.key.low64());
    REQUIRE(r.owner != kNoPeer);
    CHECK(Big::from(run.simulator().peer_id(r.owner)) == oracle.successor_of(Big::from(r.key)));
    CHECK(r.ok);
    CHECK(r.completed);
    CHECK(r.hops <= static_cast<std::uint32_t>(m));
    CHECK(r.path.front() == r.from);
    ++checked;
  }
  return checked;
}

const std::vector<int> kFigure4 = {0, 1, 3};
const std::vector<int> kFigure5 = {4, 7, 13, 14, 16, 19, 23, 26, 30, 33, 37, 39, 42, 45, 49, 52, 54, 56, 60, 63};
const std::vector<int> kFigure3 = {611, 709, 1008, 1622, 2011, 2207, 2906, 3485};

}  // namespace

// ---- figure 4: the 3-bit ring ----------------------------------------------------------------------

TEST_CASE("figure 4: finger tables of nodes 0, 1, 3 (start = n + 2^i, node = successor(start))") {
  auto run = make_chord_run(ring(3, kFigure4, nlohmann::json::array()));
  // | node | starts  | fingers |
  // | 0    | 1, 2, 4 | 1, 3, 0 |
  // | 1    | 2, 3, 5 | 3, 3, 0 |
  // | 3    | 4, 5, 7 | 0, 0, 0 |
  const std::map<std::uint64_t, FingerRow> expected = {
      {0, {{1, 2, 4}, {1, 3, 0}}}, {1, {{2, 3, 5}, {3, 3, 0}}}, {3, {{4, 5, 7}, {0, 0, 0}}}};
  // Right after the oracle bootstrap, and after 5 s of stabilize and fix_fingers.
  for (const bool after_maintenance : {false, true}) {
    CAPTURE(after_maintenance);
    after_maintenance ? run->run_to_end() : run->start();
    for (const auto& [node, row] : expected) {
      CAPTURE(node);
      const FingerRow got = finger_row(*run, node);
      CHECK(got.starts == row.starts);
      CHECK(got.nodes == row.nodes);
    }
  }
}

TEST_CASE("figure 4: keys 1, 2, 6 put into the DHT are held by nodes 1, 3 and 0") {
  for (const char* style : {"iterative", "recursive"}) {
    CAPTURE(style);
    nlohmann::json events = {{{"at_ms", 10}, {"op", "put"}, {"from", 0}, {"key", 1}, {"value", "one"}},
                             {{"at_ms", 20}, {"op", "put"}, {"from", 3}, {"key", 2}, {"value", "two"}},
                             {{"at_ms", 30}, {"op", "put"}, {"from", 1}, {"key", 6}, {"value", "six"}}};
    for (int from : kFigure4) {
      for (int key : {1, 2, 6})
        events.push_back({{"at_ms", 1000 + 10 * key + from}, {"op", "get"}, {"from", from}, {"key", key}});
    }
    for (const auto& e : every_key_from_every_node(3, kFigure4, 2000)) events.push_back(e);
    auto run = make_chord_run(ring(3, kFigure4, events, style));
    run->run_to_end();
    // "keys held": 0 holds 6, 1 holds 1, 3 holds 2 (successor(1) = 1, successor(2) = 3,
    // successor(6) = 0: the wrap-around).
    CHECK(primary_keys(*run, 0) == std::vector<std::uint64_t>{6});
    CHECK(primary_keys(*run, 1) == std::vector<std::uint64_t>{1});
    CHECK(primary_keys(*run, 3) == std::vector<std::uint64_t>{2});
    const std::map<std::uint64_t, std::pair<std::uint64_t, std::string>> owner_and_value = {
        {1, {1, "one"}}, {2, {3, "two"}}, {6, {0, "six"}}};
    const nlohmann::json result = run->result();
    int gets = 0;
    for (const auto& s : result["storage"]) {
      CAPTURE(s.dump());
      const auto& [owner, value] = owner_and_value.at(s["key"].get<std::uint64_t>());
      CHECK(s["owner"] == owner);
      CHECK(s["ok"] == true);
      CHECK(s["found"] == true);
      CHECK(s["value"] == value);
      gets += s["op"] == "get";
    }
    CHECK(gets == 9);
    CHECK(check_lookups(*run, kFigure4, 3) == 3 * 8);
    // The figure's three answers once more, from the result file.
    for (const auto& l : result["lookups"]) {
      const auto key = l["key"].get<std::uint64_t>();
      if (owner_and_value.count(key)) CHECK(l["owner"] == owner_and_value.at(key).first);
    }
  }
}

// ---- figure 5: lookup(44) on the 6-bit ring ------------------------------------------------------

TEST_CASE("figure 5: finger tables of 52, 23, 39 and 42 exactly as on the slide") {
  auto run = make_chord_run(ring(6, kFigure5, nlohmann::json::array()));
  // (i, target = n + 2^i mod 64, link = successor(target)), from docs/figures.md section 5.
  const std::map<std::uint64_t, FingerRow> expected = {{52, {{53, 54, 56, 60, 4, 20}, {54, 54, 56, 60, 4, 23}}},
                                                       {23, {{24, 25, 27, 31, 39, 55}, {26, 26, 30, 33, 39, 56}}},
                                                       {39, {{40, 41, 43, 47, 55, 7}, {42, 42, 45, 49, 56, 7}}},
                                                       {42, {{43, 44, 46, 50, 58, 10}, {45, 45, 49, 52, 60, 13}}}};
  for (const bool after_maintenance : {false, true}) {
    CAPTURE(after_maintenance);
    after_maintenance ? run->run_to_end() : run->start();
    for (const auto& [node, row] : expected) {
      CAPTURE(node);
      const FingerRow got = finger_row(*run, node);
      CHECK(got.starts == row.starts);
      CHECK(got.nodes == row.nodes);
    }
    // The other 16 nodes the slide does not show: the brute-force answer.
    const auto errors = test::routing_state_errors(*run);
    CHECK_MESSAGE(errors.empty(), test::first_errors(errors));
  }
}

TEST_CASE("figure 5: lookup(44) from 52 goes 52 -> 23 -> 39 -> 42 and answers 45 (iterative and recursive)") {
  for (const char* style : {"iterative", "recursive"}) {
    CAPTURE(style);
    auto run =
        make_chord_run(ring(6, kFigure5, {{{"at_ms", 100}, {"op", "lookup"}, {"from", 52}, {"key", 44}}}, style));
    run->run_to_end();
    const auto& records = run->protocol().records();
    REQUIRE(records.size() == 1);
    const chord::LookupRecord& r = records.front();
    CHECK(numbers(*run, r.path) == std::vector<std::uint64_t>{52, 23, 39, 42});
    CHECK(r.hops == 3);
    CHECK(number(*run, r.owner) == 45);
    CHECK(r.ok);
    CHECK(r.completed);
    // The result file says the same.
    const nlohmann::json result = run->result();
    REQUIRE(result["lookups"].size() == 1);
    const auto& l = result["lookups"][0];
    CHECK(l["from"] == 52);
    CHECK(l["key"] == 44);
    CHECK(l["path"] == nlohmann::json::array({52, 23, 39, 42}));
    CHECK(l["owner"] == 45);
    CHECK(l["hops"] == 3);
    CHECK(l["ok"] == true);
  }
}

TEST_CASE("figure 5: every key from every node reaches its successor in at most m hops") {
  for (const char* style : {"iterative", "recursive"}) {
    CAPTURE(style);
    auto run = make_chord_run(ring(6, kFigure5, every_key_from_every_node(6, kFigure5, 100), style, 30000));
    run->run_to_end();
    CHECK(check_lookups(*run, kFigure5, 6) == 20 * 64);
  }
}

TEST_CASE("trace: the LookupHop events of lookup(44) from 52 go 52 -> 23 -> 39 -> 42, in memory and as JSON Lines") {
  for (const char* style : {"iterative", "recursive"}) {
    CAPTURE(style);
    auto run =
        make_chord_run(ring(6, kFigure5, {{{"at_ms", 100}, {"op", "lookup"}, {"from", 52}, {"key", 44}}}, style));
    std::ostringstream jsonl;
    run->simulator().event_trace().keep_in_memory(true);
    run->simulator().event_trace().write_jsonl(&jsonl, run->vocabulary(), &run->simulator().peer_records(),
                                               run->id_bits());
    run->run_to_end();
    REQUIRE(run->protocol().records().size() == 1);
    const std::uint32_t serial = run->protocol().records().front().serial;

    // In memory: start, three hops in order, done.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> hops;
    std::vector<std::uint16_t> hop_numbers;
    std::vector<TraceKind> kinds;
    for (const TraceEvent& e : run->simulator().event_trace().events()) {
      if (e.lookup != serial) continue;
      if (e.kind != TraceKind::LookupStart && e.kind != TraceKind::LookupHop && e.kind != TraceKind::LookupDone)
        continue;
      kinds.push_back(e.kind);
      if (e.kind == TraceKind::LookupHop) {
        hops.emplace_back(number(*run, e.peer), number(*run, e.other));
        hop_numbers.push_back(e.index);
      }
      if (e.kind == TraceKind::LookupStart) {
        CHECK(number(*run, e.peer) == 52);
        CHECK(e.key == Id(44));
      }
      if (e.kind == TraceKind::LookupDone) {
        CHECK(number(*run, e.other) == 45);
        CHECK(e.detail == 1);
      }
    }
    CHECK(hops == std::vector<std::pair<std::uint64_t, std::uint64_t>>{{52, 23}, {23, 39}, {39, 42}});
    CHECK(hop_numbers == std::vector<std::uint16_t>{1, 2, 3});
    CHECK(kinds == std::vector<TraceKind>{TraceKind::LookupStart, TraceKind::LookupHop, TraceKind::LookupHop,
                                          TraceKind::LookupHop, TraceKind::LookupDone});

    // JSON Lines: one parseable object per line, times never decreasing, the same story.
    std::istringstream lines(jsonl.str());
    std::string line;
    std::size_t count = 0;
    double last_t = 0;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> json_hops;
    nlohmann::json start, done;
    while (std::getline(lines, line)) {
      const nlohmann::json j = nlohmann::json::parse(line);
      ++count;
      CHECK(j["t_ms"].get<double>() >= last_t);
      last_t = j["t_ms"].get<double>();
      if (!j.contains("lookup") || j["lookup"] != serial) continue;
      if (j["kind"] == "lookup_hop")
        json_hops.emplace_back(j["from"].get<std::uint64_t>(), j["to"].get<std::uint64_t>());
      if (j["kind"] == "lookup_start") start = j;
      if (j["kind"] == "lookup_done") done = j;
    }
    CHECK(count == run->simulator().event_trace().events().size());
    CHECK(json_hops == hops);
    CHECK(start["peer"] == 52);
    CHECK(start["key"] == 44);
    CHECK(start["purpose"] == "lookup");
    CHECK(done["owner"] == 45);
    CHECK(done["ok"] == true);
    CHECK(done["hops"] == 3);
  }
}

// ---- figure 3: the address space, m = 12 --------------------------------------------------------

TEST_CASE("figure 3: \"my data\" (key 3107) is stored on 3485, and the responsibility ranges hold") {
  nlohmann::json events = {{{"at_ms", 10}, {"op", "put"}, {"from", 611}, {"key", 3107}, {"value", "my data"}},
                           {{"at_ms", 20}, {"op", "put"}, {"from", 2011}, {"name", "my data"}, {"value", "by name"}},
                           {{"at_ms", 800}, {"op", "get"}, {"from", 1622}, {"key", 3107}}};
  // The figure: 3485 holds 2907..3485, 611 holds 3486..4095 and 0..611 (the wrap), 709 holds
  // 612..709. Both ends of each range, asked from every node.
  const std::map<int, int> owner_of = {{2907, 3485}, {3107, 3485}, {3485, 3485}, {3486, 611}, {4095, 611},
                                       {0, 611},     {611, 611},   {612, 709},   {709, 709}};
  int at = 1000;
  for (int from : kFigure3) {
    for (const auto& [key, owner] : owner_of) {
      (void)owner;
      events.push_back({{"at_ms", at += 20}, {"op", "lookup"}, {"from", from}, {"key", key}});
    }
  }
  auto run = make_chord_run(ring(12, kFigure3, events));
  run->run_to_end();
  // 3107 and SHA-1("my data") mod 2^12 = 3134 both lie in 2907..3485: both are 3485's.
  CHECK(primary_keys(*run, 3485) == std::vector<std::uint64_t>{3107, 3134});
  for (int node : kFigure3) {
    if (node != 3485) CHECK(primary_keys(*run, static_cast<std::uint64_t>(node)).empty());
  }
  const nlohmann::json result = run->result();
  REQUIRE(result["storage"].size() == 3);
  for (const auto& s : result["storage"]) {
    CAPTURE(s.dump());
    CHECK(s["owner"] == 3485);
    CHECK(s["ok"] == true);
  }
  const auto& get = result["storage"][2];
  CHECK(get["op"] == "get");
  CHECK(get["from"] == 1622);
  CHECK(get["found"] == true);
  CHECK(get["value"] == "my data");
  REQUIRE(result["lookups"].size() == kFigure3.size() * owner_of.size());
  for (const auto& l : result["lookups"]) {
    CAPTURE(l.dump());
    CHECK(l["owner"] == owner_of.at(l["key"].get<int>()));
    CHECK(l["ok"] == true);
  }
}

// ---- the labs a lecturer opens: the same numbers -------------------------------------------------

namespace {

std::unique_ptr<Run> run_lab(const std::string& name) {
  const Scenario scenario = load_scenario(std::string(P2PLAB_LABS_DIR) + "/" + name);
  std::unique_ptr<Run> run = all_protocols().create(scenario);
  REQUIRE(run != nullptr);
  run->run_to_end();
  return run;
}

const nlohmann::json& peer_entry(const nlohmann::json& result, std::uint64_t id) {
  for (const auto& p : result["peers"]) {
    if (p["id"] == id) return p;
  }
  FAIL("no peer " << id << " in the result");
  return result;  // not reached
}

}  // namespace

TEST_CASE("labs: chord-3bit, chord-lookup-44 and chord-address-space show the figures' numbers") {
  REQUIRE(all_protocols().find("chord") != nullptr);
  SUBCASE("chord-3bit.json: figure 4") {
    const nlohmann::json result = run_lab("chord-3bit.json")->result();
    const std::map<std::uint64_t, std::pair<std::vector<std::uint64_t>, std::vector<std::uint64_t>>> table = {
        {0, {{1, 2, 4}, {1, 3, 0}}}, {1, {{2, 3, 5}, {3, 3, 0}}}, {3, {{4, 5, 7}, {0, 0, 0}}}};
    const std::map<std::uint64_t, std::vector<std::uint64_t>> keys = {{0, {6}}, {1, {1}}, {3, {2}}};
    REQUIRE(result["peers"].size() == 3);
    for (const auto& [node, row] : table) {
      CAPTURE(node);
      const auto& p = peer_entry(result, node);
      std::vector<std::uint64_t> starts, nodes;
      for (const auto& f : p["fingers"]) {
        starts.push_back(f["start"].get<std::uint64_t>());
        nodes.push_back(f["node"].get<std::uint64_t>());
      }
      CHECK(starts == row.first);
      CHECK(nodes == row.second);
      CHECK(p["keys"].get<std::vector<std::uint64_t>>() == keys.at(node));
    }
    for (const auto& l : result["lookups"]) CHECK(l["ok"] == true);
  }
  SUBCASE("chord-lookup-44.json: figure 5") {
    const nlohmann::json result = run_lab("chord-lookup-44.json")->result();
    REQUIRE(result["lookups"].size() >= 1);
    const auto& first = result["lookups"][0];
    CHECK(first["from"] == 52);
    CHECK(first["key"] == 44);
    CHECK(first["path"] == nlohmann::json::array({52, 23, 39, 42}));
    CHECK(first["owner"] == 45);
    CHECK(first["hops"] == 3);
    for (const auto& l : result["lookups"]) {
      CHECK(l["owner"] == 45);
      CHECK(l["ok"] == true);
    }
    std::vector<std::uint64_t> fingers_52;
    for (const auto& f : peer_entry(result, 52)["fingers"]) fingers_52.push_back(f["node"].get<std::uint64_t>());
    CHECK(fingers_52 == std::vector<std::uint64_t>{54, 54, 56, 60, 4, 23});
  }
  SUBCASE("chord-address-space.json: figure 3") {
    const nlohmann::json result = run_lab("chord-address-space.json")->result();
    CHECK(peer_entry(result, 3485)["keys"] == nlohmann::json::array({3107}));
    bool got = false;
    for (const auto& s : result["storage"]) {
      if (s["op"] != "get") continue;
      got = true;
      CHECK(s["found"] == true);
      CHECK(s["value"] == "my data");
      CHECK(s["owner"] == 3485);
    }
    CHECK(got);
    const std::map<int, int> owner_of = {{4000, 611}, {612, 709}, {2907, 3485}};
    for (const auto& l : result["lookups"]) {
      CAPTURE(l.dump());
      CHECK(l["owner"] == owner_of.at(l["key"].get<int>()));
    }
  }
}
