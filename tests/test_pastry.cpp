// Pastry against a brute-force oracle with its own arithmetic (128-bit integers, not the library's
// Id and Digits): every lookup ends at the live node numerically closest to the key, every
// routing-table entry sits in its row (shared prefix length) and column (next digit), every leaf
// set holds the true L/2 neighbours on each side; with the oracle bootstrap and with joins, after
// mass failures and repair; the same seed gives the same result; puts are found by gets; the
// proximity-aware tables pick near peers; the prefix-routing lab shows one more digit per hop.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_figures.hpp"
#include "p2plab/json_util.hpp"
#include "p2plab/scenario.hpp"
#include "pastry/pastry_bench.hpp"
#include "pastry/pastry_run.hpp"
#include "rejoin_scenario.hpp"

using namespace p2plab;

namespace {

__extension__ typedef unsigned __int128 U128;

U128 parse_id(const nlohmann::json& j) {
  if (j.is_number_unsigned()) return j.get<std::uint64_t>();
  U128 v = 0;
  for (char c : j.get<std::string>()) v = v * 10 + static_cast<unsigned>(c - '0');
  return v;
}

/// The oracle's id arithmetic on m <= 128 bits, digits of b bits.
struct Space {
  int m, b;
  U128 mask() const { return m == 128 ? ~U128{0} : (U128{1} << m) - 1; }
  U128 distance(U128 a, U128 c) const {
    const U128 up = (a - c) & mask(), down = (c - a) & mask();
    return up < down ? up : down;
  }
  int digit(U128 x, int i) const { return static_cast<int>((x >> (m - (i + 1) * b)) & ((U128{1} << b) - 1)); }
  int shared(U128 x, U128 y) const {
    int i = 0;
    while (i < m / b && digit(x, i) == digit(y, i)) ++i;
    return i;
  }
  /// First id of the block "x's first i digits, then c".
  U128 block(U128 x, int i, int c) const {
    const int low = m - i * b;
    const U128 prefix = low >= 128 ? U128{0} : (x >> low) << low;
    return prefix | (U128{static_cast<unsigned>(c)} << (low - b));
  }
};

struct Oracle {
  Space space;
  std::vector<U128> ids;  // live, sorted
  U128 closest(U128 key) const {
    U128 best = ids.front();
    for (U128 id : ids) {
      const U128 d = space.distance(id, key), db = space.distance(best, key);
      if (d < db || (d == db && id < best)) best = id;
    }
    return best;
  }
  std::size_t count_in(U128 lo, int i) const {  // ids in the block of i + 1 digits starting at lo
    const int size_bits = space.m - (i + 1) * space.b;
    const U128 hi = lo + (U128{1} << size_bits);
    const auto a = std::lower_bound(ids.begin(), ids.end(), lo);
    const auto e = hi == 0 ? ids.end() : std::lower_bound(ids.begin(), ids.end(), hi);  // 0: the block ends at 2^128
    return static_cast<std::size_t>(e - a);
  }
};

Oracle oracle_of(const nlohmann::json& result) {
  Oracle o{{result["params"]["m"].get<int>(), result["params"]["b"].get<int>()}, {}};
  for (const auto& p : result["peers"]) o.ids.push_back(parse_id(p["id"]));
  std::sort(o.ids.begin(), o.ids.end());
  return o;
}

struct Checked {
  std::size_t lookups = 0, lookups_right = 0, leaf_sets_right = 0, entries = 0, entries_misplaced = 0;
  std::size_t entries_stale = 0;  // pointing at a crashed peer (repaired lazily, when used)
  std::size_t cells_missing = 0;  // empty cells with a live candidate
  double mean_hops = 0;
  std::vector<std::string> errors;
};

/// Checks the result's lookups (those started at or after `from_ms`) and every live peer's state.
Checked check(const nlohmann::json& result, double from_ms, bool complete_tables) {
  const Oracle o = oracle_of(result);
  const Space& s = o.space;
  const int leaf_set = result["params"]["leaf_set"].get<int>();
  Checked c;
  double hops = 0;
  for (const auto& l : result["lookups"]) {
    if (l["start_ms"].get<double>() < from_ms) continue;
    ++c.lookups;
    hops += l["hops"].get<double>();
    const bool right = !l["owner"].is_null() && parse_id(l["owner"]) == o.closest(parse_id(l["key"])) &&
                       l["ok"].get<bool>() && l["path"].size() == l["hops"].get<std::size_t>() + 1;
    c.lookups_right += right;
    if (!right && c.errors.size() < 5) c.errors.push_back(l.dump());
  }
  c.mean_hops = c.lookups ? hops / static_cast<double>(c.lookups) : 0;
  const std::size_t n = o.ids.size();
  const std::size_t half = std::min<std::size_t>(static_cast<std::size_t>(leaf_set / 2), n - 1);
  for (const auto& p : result["peers"]) {
    const U128 x = parse_id(p["id"]);
    const auto r = static_cast<std::size_t>(std::lower_bound(o.ids.begin(), o.ids.end(), x) - o.ids.begin());
    std::vector<U128> smaller, larger, want_smaller, want_larger;
    for (const auto& q : p["leaf_set"]["smaller"]) smaller.push_back(parse_id(q));
    for (const auto& q : p["leaf_set"]["larger"]) larger.push_back(parse_id(q));
    for (std::size_t j = 1; j <= half; ++j) {
      want_larger.push_back(o.ids[(r + j) % n]);
      want_smaller.push_back(o.ids[(r + n - j) % n]);
    }
    const bool leaves_right = smaller == want_smaller && larger == want_larger;
    c.leaf_sets_right += leaves_right;
    if (!leaves_right && c.errors.size() < 5)
      c.errors.push_back("leaf set of " + p["id"].dump() + ": " + p["leaf_set"].dump());
    const auto& rows = p["routing_table"];
    for (std::size_t i = 0; i < rows.size(); ++i) {
      for (std::size_t col = 0; col < rows[i].size(); ++col) {
        const auto& e = rows[i][col];
        const int row = static_cast<int>(i), column = static_cast<int>(col);
        if (e.is_null()) {
          if (complete_tables && column != s.digit(x, row) && o.count_in(s.block(x, row, column), row) > 0) {
            ++c.cells_missing;
          }
          continue;
        }
        ++c.entries;
        const U128 y = parse_id(e);
        c.entries_misplaced += s.shared(x, y) != row || s.digit(y, row) != column;
        c.entries_stale += !std::binary_search(o.ids.begin(), o.ids.end(), y);
      }
    }
    if (complete_tables && n > 1) {
      // No row is missing: a peer sharing k digits with x needs row k.
      int deepest = 0;
      for (std::size_t j : {(r + 1) % n, (r + n - 1) % n}) {
        if (o.ids[j] != x) deepest = std::max(deepest, s.shared(x, o.ids[j]));
      }
      if (static_cast<int>(rows.size()) < deepest + 1) ++c.cells_missing;
    }
  }
  return c;
}

std::unique_ptr<pastry::PastryRun> run_doc(const nlohmann::json& doc) {
  auto run = std::make_unique<pastry::PastryRun>(parse_scenario(doc, "test.json"));
  run->run_to_end();
  return run;
}

nlohmann::json scenario(std::uint64_t seed, int peers, const std::string& bootstrap, nlohmann::json events, int run_ms,
                        nlohmann::json params = {{"m", 128}, {"b", 4}, {"leaf_set", 16}}) {
  return {{"protocol", "pastry"},   {"seed", seed},           {"params", params}, {"peers", {{"count", peers}}},
          {"bootstrap", bootstrap}, {"join_interval_ms", 20}, {"events", events}, {"run_ms", run_ms}};
}

std::string first(const std::vector<std::string>& errors) { return errors.empty() ? "" : errors.front(); }

}  // namespace

TEST_CASE(
    "pastry: oracle bootstrap on random networks: exact leaf sets, complete tables, every lookup at the closest node") {
  struct Case {
    std::uint64_t seed;
    int peers;
    nlohmann::json params;
  };
  const std::vector<Case> cases = {
      {1, 2000, {{"m", 128}, {"b", 4}, {"leaf_set", 16}}}, {2, 500, {{"m", 128}, {"b", 4}, {"leaf_set", 16}}},
      {3, 300, {{"m", 32}, {"b", 2}, {"leaf_set", 8}}},    {4, 12, {{"m", 16}, {"b", 4}, {"leaf_set", 16}}},
      {5, 200, {{"m", 12}, {"b", 3}, {"leaf_set", 4}}},    {6, 1, {{"m", 8}, {"b", 4}}},
  };
  for (const Case& k : cases) {
    CAPTURE(k.seed);
    CAPTURE(k.peers);
    nlohmann::json params = k.params;
    params["maintenance"] = false;
    const auto run = run_doc(
        scenario(k.seed, k.peers, "oracle", {{{"at_ms", 10}, {"op", "lookups"}, {"count", 400}}}, 5000, params));
    const nlohmann::json result = run->result();
    const Checked c = check(result, 0, true);
    CAPTURE(first(c.errors));
    CHECK(c.lookups == 400);
    CHECK(c.lookups_right == c.lookups);
    CHECK(c.leaf_sets_right == static_cast<std::size_t>(k.peers));
    CHECK(c.entries_misplaced == 0);
    CHECK(c.entries_stale == 0);
    CHECK(c.cells_missing == 0);
    if (k.peers >= 500) {
      CHECK(c.entries > static_cast<std::size_t>(k.peers) * 15);  // row 0 alone is full
      // Prefix routing: about log_{2^b} N hops.
      CHECK(c.mean_hops < std::log(k.peers) / std::log(16.0) + 0.5);
      CHECK(c.mean_hops > std::log(k.peers) / std::log(16.0) - 1.0);
    }
  }
}

TEST_CASE("pastry: joins build correct state: exact leaf sets, entries in their row and column, lookups right") {
  struct Case {
    std::uint64_t seed;
    int peers;
    nlohmann::json params;
  };
  // 1000 newcomers 5 ms apart: many joins overlap (a join takes a few hops of 5-150 ms).
  for (const Case& k : {Case{11, 200, {{"m", 64}, {"b", 4}, {"leaf_set", 8}}},
                        Case{12, 1000, {{"m", 128}, {"b", 4}, {"leaf_set", 16}, {"keepalive_ms", 2000}}}}) {
    CAPTURE(k.seed);
    nlohmann::json doc =
        scenario(k.seed, k.peers, "join", {{{"at_ms", 9000}, {"op", "lookups"}, {"count", 300}, {"spread_ms", 500}}},
                 11000, k.params);
    doc["join_interval_ms"] = 5;
    doc["network"] = {{"latency", {{"model", "coordinates"}}}};
    const auto run = run_doc(doc);
    const nlohmann::json result = run->result();
    const Checked c = check(result, 0, false);
    CAPTURE(first(c.errors));
    const auto n = static_cast<std::size_t>(k.peers);
    CHECK(result["peers"].size() == n);
    CHECK(c.lookups == 300);
    CHECK(c.lookups_right == c.lookups);
    CHECK(c.leaf_sets_right == n);
    CHECK(c.entries_misplaced == 0);
    CHECK(c.entries_stale == 0);
    CHECK(c.entries > n * 15);  // row 0 is (nearly) full everywhere
  }
}

TEST_CASE("pastry: after crashing a third of the peers, leaf-set repair and rerouting keep every lookup right") {
  for (const std::string bootstrap : {"oracle", "join"}) {
    CAPTURE(bootstrap);
    const int peers = bootstrap == "oracle" ? 1000 : 200;
    const double crash = bootstrap == "oracle" ? 1000 : 6000;
    const nlohmann::json events = {{{"at_ms", crash}, {"op", "fail_fraction"}, {"fraction", 0.33}},
                                   {{"at_ms", crash + 6000}, {"op", "lookups"}, {"count", 400}, {"spread_ms", 500}}};
    const auto run = run_doc(scenario(21, peers, bootstrap, events, static_cast<int>(crash) + 11000,
                                      {{"m", 128}, {"b", 4}, {"leaf_set", 16}}));
    const nlohmann::json result = run->result();
    const Checked c = check(result, 0, false);
    CAPTURE(first(c.errors));
    CHECK(result["peers"].size() == static_cast<std::size_t>(std::lround(peers * 0.67)));
    CHECK(c.lookups == 400);
    CHECK(c.lookups_right == c.lookups);
    CHECK(c.leaf_sets_right == result["peers"].size());
    CHECK(c.entries_misplaced == 0);
    // Routes ran into crashed routing-table entries (repaired lazily) and went around them.
    CHECK(result["metrics"]["messages_by_type"]["ROUTE"]["to_dead_peer"].get<int>() > 0);
  }
}

TEST_CASE("pastry: graceful leaves: the leaf sets close the gaps at once, lookups stay right") {
  // 30 peers leave at the same moment; lookups start 300 ms later, before any keep-alive could
  // have noticed (keep-alives every 10 s): the LEAVING messages alone repair the leaf sets.
  const nlohmann::json before = run_doc(scenario(9, 300, "oracle", nlohmann::json::array(), 10))->result();
  nlohmann::json events = nlohmann::json::array();
  for (std::size_t i = 0; i < 300; i += 10)
    events.push_back({{"at_ms", 1000}, {"op", "leave"}, {"peer", before["peers"][i]["id"]}});
  events.push_back({{"at_ms", 1300}, {"op", "lookups"}, {"count", 300}, {"spread_ms", 200}});
  const nlohmann::json result = run_doc(scenario(9, 300, "oracle", events, 8000,
                                                 {{"m", 128}, {"b", 4}, {"leaf_set", 16}, {"keepalive_ms", 10000}}))
                                    ->result();
  const Checked c = check(result, 0, false);
  CAPTURE(first(c.errors));
  CHECK(result["peers"].size() == 270);
  CHECK(c.lookups == 300);
  CHECK(c.lookups_right == c.lookups);
  CHECK(c.leaf_sets_right == 270);
  CHECK(c.entries_misplaced == 0);
}

TEST_CASE("pastry: the same seed gives the same result, another seed another") {
  auto once = [](std::uint64_t seed) {
    const nlohmann::json events = {{{"at_ms", 3000}, {"op", "lookups"}, {"count", 50}},
                                   {{"at_ms", 4000}, {"op", "fail_fraction"}, {"fraction", 0.2}},
                                   {{"at_ms", 9000}, {"op", "lookups"}, {"count", 50}}};
    nlohmann::json result = run_doc(scenario(seed, 60, "join", events, 12000))->result();
    result["metrics"].erase("wall_ms");
    return result.dump();
  };
  CHECK(once(5) == once(5));
  CHECK(once(5) != once(6));
}

TEST_CASE("pastry: a get finds what a put stored, at the numerically closest node") {
  nlohmann::json events = nlohmann::json::array();
  for (int k = 0; k < 20; ++k) {
    events.push_back(
        {{"at_ms", 10 + k}, {"op", "put"}, {"name", "item-" + std::to_string(k)}, {"value", "v" + std::to_string(k)}});
    events.push_back({{"at_ms", 1000 + k}, {"op", "get"}, {"name", "item-" + std::to_string(k)}});
  }
  events.push_back({{"at_ms", 2000}, {"op", "get"}, {"name", "never stored"}});
  const auto run = run_doc(scenario(7, 300, "oracle", events, 5000));
  const nlohmann::json result = run->result();
  const Oracle o = oracle_of(result);
  int gets = 0;
  for (const auto& s : result["storage"]) {
    CHECK(s["ok"].get<bool>());
    CHECK(parse_id(s["owner"]) == o.closest(parse_id(s["key"])));
    if (s["op"] == "get") {
      ++gets;
      const bool stored = s["lookup"].get<int>() <= 40;  // the 20 puts and 20 gets come first
      CHECK(s["found"].get<bool>() == stored);
      if (stored) CHECK(s["value"].get<std::string>().rfind("v", 0) == 0);
    }
  }
  CHECK(gets == 21);
  std::size_t keys = 0;
  for (const auto& p : result["peers"]) keys += p["keys"].size();
  CHECK(keys == 20);
}

TEST_CASE("pastry: with the coordinates model the routing table holds near peers") {
  nlohmann::json doc = scenario(8, 1500, "oracle", nlohmann::json::array(), 100);
  doc["network"] = {{"latency", {{"model", "coordinates"}}}};
  const auto run = run_doc(doc);
  const SimulatorCore& sim = run->simulator();
  auto distance = [&](PeerIndex a, PeerIndex b) {
    const Position* p = sim.position(a);
    const Position* q = sim.position(b);
    return std::hypot(p->x - q->x, p->y - q->y);
  };
  double table = 0, any = 0;
  std::size_t table_count = 0, any_count = 0;
  for (PeerIndex p = 0; p < sim.peer_count(); ++p) {
    for (int c = 0; c < 16; ++c) {
      const PeerIndex e = run->protocol().entry(p, 0, c);
      if (e == kNoPeer) continue;
      table += distance(p, e);
      ++table_count;
    }
    const auto other = static_cast<PeerIndex>((p * 7919 + 13) % sim.peer_count());
    if (other != p) {
      any += distance(p, other);
      ++any_count;
    }
  }
  REQUIRE(table_count > 1500 * 14);
  // Row 0 picks the nearest of ~94 candidates per cell: far nearer than a random peer.
  CHECK(table / static_cast<double>(table_count) < 0.3 * any / static_cast<double>(any_count));
}

TEST_CASE("pastry: bad parameters are named") {
  auto error = [](nlohmann::json params) {
    try {
      run_doc(scenario(1, 4, "oracle", nlohmann::json::array(), 10, std::move(params)));
    } catch (const ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(error({{"m", 30}, {"b", 4}}).find("params.m: must be a multiple of b") != std::string::npos);
  CHECK(error({{"m", 32}, {"b", 7}}).find("params.b") != std::string::npos);
  CHECK(error({{"m", 32}, {"leaf_set", 5}}).find("params.leaf_set: must be even") != std::string::npos);
  CHECK(error({{"m", 32}, {"leaf_sets", 4}}).find("leaf_sets") != std::string::npos);
}

TEST_CASE("pastry: the bench command checks every answer and names a bad option") {
  pastry::BenchOptions o;
  o.peers = 3000;
  o.seconds = 2;
  CHECK(pastry::run_bench(o) == 0);  // 3: some lookup did not end at the closest node
  const ProtocolCommand command = pastry::bench_command();
  CHECK(command.run({{"peers", "many"}}) == 2);
  CHECK(command.run({{"bits", "30"}, {"digit-bits", "4"}}) == 2);  // not a multiple of b
}

namespace {

/// The figures of a bench run that must not depend on how it was run: the workload's and how
/// the routing decisions went.
struct PastryFigures {
  test::BenchFigures lookups;
  std::vector<std::uint64_t> by_rule;
  std::uint64_t digits_gained = 0;
  bool operator==(const PastryFigures&) const = default;
};

PastryFigures run_bench_network(const pastry::BenchOptions& o, bool records) {
  dht::BenchClock clock;
  const auto run = dht::build_and_run<pastry::BenchNetwork>(o, clock, records);
  const auto& network = *run;
  const LookupStats& st = network.protocol.stats();
  const pastry::RouteStats& rs = network.protocol.route_stats();
  PastryFigures f{test::bench_figures(st, network.sim),
                  std::vector<std::uint64_t>(std::begin(rs.by_rule), std::end(rs.by_rule)), rs.table_digits_gained};
  if (records) test::check_records_count_hops(network.protocol.records(), st);
  return f;
}

}  // namespace

TEST_CASE(
    "pastry: the bench's network on 2 and 3 threads: the figures of one thread, and of one thread keeping records") {
  // Without records the hops come back in ROUTE_DONE and the forwarders never touch the
  // requester's lookup (another thread's, in a parallel run); with records each hop extends the
  // lookup's path. Both must count the same hops; every figure depends on the order of each
  // peer's events (a hop's latency is drawn from the forwarding peer's stream).
  pastry::BenchOptions o;
  o.peers = 4000;
  o.seconds = 10;
  for (const double max_ms : {100.0, 10.003}) {
    CAPTURE(max_ms);
    o.max_ms = max_ms;
    const PastryFigures recorded = test::figures_at_any_thread_count(o, run_bench_network);
    CHECK(recorded.lookups.finished > 3000);
    CHECK(recorded.lookups.correct == recorded.lookups.finished);
    CHECK(recorded.by_rule[2] > recorded.lookups.finished);  // most hops by the routing table
  }
}

TEST_CASE("pastry: on several partitions only lookups run, without records") {
  pastry::BenchOptions o;
  o.peers = 200;
  o.threads = 2;
  pastry::BenchNetwork network(o);
  CHECK_THROWS_AS(network.protocol.keep_records(true), std::logic_error);
  CHECK_THROWS_AS(network.protocol.put(0, network.sim.peer_id(1), 7), std::logic_error);
  CHECK_THROWS_AS(network.protocol.join(0, 1), std::logic_error);
  CHECK_NOTHROW(network.protocol.lookup(0, network.sim.peer_id(1)));
}

#ifdef P2PLAB_LABS_DIR
TEST_CASE(
    "pastry: the prefix-routing lab: each hop shares one more digit with the key, the answer is the closest node") {
  const Scenario lab = load_scenario(std::string(P2PLAB_LABS_DIR) + "/pastry-prefix-routing.json");
  pastry::PastryRun run(lab);
  run.run_to_end();
  const nlohmann::json result = run.result();
  const Oracle o = oracle_of(result);
  REQUIRE(!result["lookups"].empty());
  const auto& first_lookup = result["lookups"][0];
  const U128 key = parse_id(first_lookup["key"]);
  CHECK(first_lookup["ok"].get<bool>());
  CHECK(parse_id(first_lookup["owner"]) == o.closest(key));
  const auto& path = first_lookup["path"];
  REQUIRE(path.size() >= 4);  // the lab's lookup takes three prefix hops
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    CAPTURE(i);
    CHECK(o.space.shared(parse_id(path[i + 1]), key) == o.space.shared(parse_id(path[i]), key) + 1);
  }
  for (const auto& l : result["lookups"]) CHECK(l["ok"].get<bool>());
}

TEST_CASE("pastry: the prefix-routing lab's lookup told step by step in the paper's rules") {
  pastry::PastryRun run(load_scenario(std::string(P2PLAB_LABS_DIR) + "/pastry-prefix-routing.json"));
  run.simulator().event_trace().keep_in_memory(true);
  run.run_to_end();
  std::vector<std::string> story;
  for (const TraceEvent& e : run.simulator().event_trace().events()) {
    if (e.lookup != 1) continue;
    if (e.kind == TraceKind::LookupStart || e.kind == TraceKind::LookupHop || e.kind == TraceKind::LookupDone) {
      story.push_back(run.narrate(e));
    }
  }
  REQUIRE(story.size() == 5);  // the start, three hops, the answer
  CHECK(story[0] == "65a1: shares 0 digit(s) with d46a: routing table row 0, column d -> d13d (shares 1)");
  CHECK(story[1] == "d13d: shares 1 digit(s) with d46a: routing table row 1, column 4 -> d421 (shares 2)");
  CHECK(story[2] == "d421: d46a lies within its leaf set's range: to the numerically closest leaf d467");
  CHECK(story[3] == "d467: numerically closest to d46a of all it knows: the message is delivered here");
  CHECK(story[4] == "65a1 has the answer d467 (the live node numerically closest to d46a)");
}
#endif

TEST_CASE(
    "pastry: a newcomer whose bootstrap peer crashes during its join joins again through a live peer, and says so") {
  const nlohmann::json r = run_doc(test::rejoin_scenario("pastry"))->result();
  test::check_rejoined(r);
  // 100 joined: its leaf set holds every other live peer (seven, fewer than L), on both sides.
  std::vector<std::string> others;
  const nlohmann::json* newcomer = nullptr;
  for (const auto& p : r.at("peers")) {
    if (p.at("id") == "100") {
      newcomer = &p;
    } else {
      others.push_back(p.at("id"));
    }
  }
  CHECK(others.size() == 7);
  std::sort(others.begin(), others.end());
  REQUIRE(newcomer != nullptr);  // listed among the joined peers
  for (const char* side : {"smaller", "larger"}) {
    std::vector<std::string> leaves = newcomer->at("leaf_set").at(side);
    std::sort(leaves.begin(), leaves.end());
    CHECK(leaves == others);
  }
}
