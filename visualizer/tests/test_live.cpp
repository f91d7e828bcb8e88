// `p2plab-viz --attach`: the live run fed by real `p2plab node --monitor` processes on
// 127.0.0.1 shows every peer and the links the protocol converges to, each kind by the name its
// model registers; malformed reports are dropped and counted. No display needed.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <vector>

#include "live.hpp"
#include "node_harness.hpp"
#include "p2plab/rng.hpp"
#include "session.hpp"

using namespace p2plab;
using namespace std::chrono_literals;

namespace {

/// The live run's link kind of this name (the protocol's model), or -1.
int kind_of(const viz::LiveRun& live, const char* name) {
  return live.model() != nullptr ? live.model()->link_kind(name) : -1;
}

/// A report datagram written out by hand (not by the encoder under test).
std::vector<std::uint8_t> cbor(const nlohmann::json& j) { return nlohmann::json::to_cbor(j); }

}  // namespace

TEST_CASE("live view: three real peers appear with the successor links Chord converges to" *
          doctest::test_suite("net")) {
  // The monitor's port: a free one the system picks, read back (no guessing, no clash).
  auto live = std::make_unique<viz::LiveRun>(0);
  const int port = live->port();
  REQUIRE(port > 0);
  const std::string monitor = "127.0.0.1:" + std::to_string(port);
  // Three real Chord peers on ports the system picks (read back from their first line).
  const std::vector<std::string> common = {"--protocol",       "chord", "--bits",    "16",   "--stabilize-ms", "100",
                                           "--fix-fingers-ms", "100",   "--monitor", monitor};
  auto args = [&](const std::string& id) {
    std::vector<std::string> a = common;
    a.insert(a.end(), {"--id", id});
    return a;
  };
  std::vector<test::Started> chord;
  chord.push_back(test::start_node(args("100")));
  REQUIRE_MESSAGE(chord.back().peer, "the first Chord peer did not start");
  for (const char* id : {"30000", "60000"}) {
    chord.push_back(test::start_node(args(id), std::to_string(chord.front().port)));
    REQUIRE_MESSAGE(chord.back().peer, "a Chord peer did not start");
  }

  // Expected: successors 100 -> 30000 -> 60000 -> 100.
  const std::vector<std::pair<std::uint64_t, std::uint64_t>> ring = {{100, 30000}, {30000, 60000}, {60000, 100}};
  // Converged also means every finger 0..15 of each peer is known (fix_fingers every 100 ms).
  bool converged = false;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (!converged && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    live->poll();
    const SimulatorCore& sim = live->simulator();
    if (sim.live_count() != 3) continue;
    const int successor = kind_of(*live, "successor"), finger = kind_of(*live, "finger");
    converged = successor >= 0 && finger >= 0;
    for (const auto& [from, to] : ring) {
      const PeerIndex p = sim.find_live(Id(from));
      bool linked = false;
      int fingers = 0;
      if (p != kNoPeer) {
        for (const Link& l : live->inspect(p).links) {
          if (l.kind == successor && l.index == 0) linked = sim.peer_id(l.target) == Id(to);
          fingers += l.kind == finger;
        }
      }
      converged = converged && linked && fingers == 16;
    }
  }
  CHECK(converged);
  CHECK(live->protocol() == "chord");
  CHECK(live->id_bits() == 16);
  CHECK(live->reports() > 0);
  // The finger table arrives typed: finger i's start is id + 2^i, marked on the ring, and its
  // successor cell names a peer of the run (the one finger i's link points to).
  const PeerView v = live->inspect(live->simulator().find_live(Id(100)));
  const TableView* table = nullptr;
  for (const TableView& t : v.tables) {
    if (!t.rows.empty() && t.rows[0].cells.size() == 4 && t.rows[0].cells[1].kind == Cell::Kind::Id) table = &t;
  }
  REQUIRE(table != nullptr);
  REQUIRE(table->rows.size() == 16);
  for (std::size_t i = 0; i < table->rows.size(); ++i) {
    const auto& row = table->rows[i];
    CHECK(row.cells[1].id == Id(100 + (std::uint64_t{1} << i)));
    CHECK(row.cells[1].mark);
    REQUIRE(row.link >= 0);
    REQUIRE(row.cells[3].kind == Cell::Kind::Peer);
    CHECK(row.cells[3].peer == v.links[static_cast<std::size_t>(row.link)].target);
  }

  // Garbage and reports of another ring are dropped and counted, never shown.
  const std::uint64_t dropped = live->dropped();
  const std::size_t peers = live->simulator().peer_count();
  Rng rng(5);
  for (int i = 0; i < 1000; ++i) {
    std::vector<std::uint8_t> junk(rng.below(300));
    for (auto& byte : junk) byte = static_cast<std::uint8_t>(rng.next_u64());
    CHECK_FALSE(live->handle(junk.data(), junk.size()));
  }
  using nlohmann::json;
  const json report = {{"v", 2},
                       {"proto", "chord"},
                       {"m", 16},
                       {"id", json::binary({1, 2})},
                       {"t", 0},
                       {"k", "state"},
                       {"st", 0},
                       {"addr", "127.0.0.1:9"},
                       {"role", ""},
                       {"links", json::array()},
                       {"keys", json::array()},
                       {"nkeys", 0},
                       {"tables", json::array()}};
  json other = report;  // another ring's width
  other["m"] = 32;
  const auto other_bytes = cbor(other);
  CHECK_FALSE(live->handle(other_bytes.data(), other_bytes.size()));
  json too_big = report;
  too_big["id"] = json::binary({1, 2, 3});  // 66051 >= 2^16
  const auto too_big_bytes = cbor(too_big);
  CHECK_FALSE(live->handle(too_big_bytes.data(), too_big_bytes.size()));
  CHECK(live->dropped() == dropped + 1002);
  CHECK(live->simulator().peer_count() == peers);
}

namespace {

/// A live run on a free port the system picks; `port` tells which.
std::unique_ptr<viz::LiveRun> open_live(int& port) {
  auto live = std::make_unique<viz::LiveRun>(0);
  port = live->port();
  return live;
}

struct Unstructured {
  std::unique_ptr<test::Peer> peer;
  std::string id;
  int port = 0;
};

Unstructured start_unstructured(const std::string& protocol, const std::string& monitor, const std::string& join_port,
                                const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"node",    "--protocol",       protocol, "--listen",  "127.0.0.1:0", "--json",
                                   "--quiet", "--rpc-timeout-ms", "500",    "--monitor", monitor};
  args.insert(args.end(), extra.begin(), extra.end());
  if (!join_port.empty()) args.insert(args.end(), {"--join", "127.0.0.1:" + join_port});
  Unstructured u;
  u.peer = std::make_unique<test::Peer>(args);
  const auto hello =
      u.peer->wait_for([](const nlohmann::json& j) { return j.value("event", "") == "listening"; }, 5000ms);
  REQUIRE_MESSAGE(hello.has_value(), "a peer did not start");
  u.id = (*hello)["id"].get<std::string>();
  u.port = (*hello)["port"].get<int>();
  return u;
}

std::set<std::string> ids_of_links(viz::LiveRun& live, PeerIndex p, const char* kind) {
  std::set<std::string> out;
  const int k = kind_of(live, kind);
  for (const Link& l : live.inspect(p).links) {
    if (k >= 0 && l.kind == k) out.insert(live.simulator().peer_id(l.target).to_decimal());
  }
  return out;
}

}  // namespace

TEST_CASE("live view: five real flooding peers report the overlay their consoles show" * doctest::test_suite("net")) {
  int port = 0;
  auto owned = open_live(port);
  REQUIRE(owned != nullptr);
  viz::LiveRun* live = owned.get();
  viz::Session session(std::move(owned));
  const std::string monitor = "127.0.0.1:" + std::to_string(port);
  std::vector<Unstructured> peers;
  peers.push_back(start_unstructured("flooding", monitor, "", {"--degree", "2"}));
  for (int i = 1; i < 5; ++i) {
    peers.push_back(start_unstructured("flooding", monitor, std::to_string(peers[static_cast<std::size_t>(i - 1)].port),
                                       {"--degree", "2"}));
  }
  // Peer i shares i names: the reported counts tell the peers apart.
  for (std::size_t i = 0; i < peers.size(); ++i) {
    for (std::size_t k = 0; k < i; ++k) {
      peers[i].peer->send("share file " + std::to_string(i) + " " + std::to_string(k));
      REQUIRE(peers[i].peer->wait_for([](const nlohmann::json& j) { return j.value("op", "") == "share"; }, 3000ms));
    }
  }
  // Converged: every peer's reported neighbours equal the neighbours its own `state` shows, both
  // read again until they agree (the overlay may still change while the peers join).
  bool agree = false;
  std::map<std::string, std::set<std::string>> graph;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!agree && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(600ms);  // longer than the report period (500 ms)
    graph.clear();
    for (auto& p : peers) {
      const auto s = p.peer->state();
      REQUIRE(s.has_value());
      for (const auto& n : (*s)["neighbors"]) graph[p.id].insert(n["id"].get<std::string>());
    }
    live->poll();
    const SimulatorCore& sim = live->simulator();
    agree = sim.live_count() == peers.size() && sim.peer_count() == peers.size();
    for (std::size_t i = 0; i < peers.size() && agree; ++i) {
      const auto id = Id::from_decimal(peers[i].id);
      REQUIRE(id.has_value());
      const PeerIndex p = sim.find_live(*id);
      agree = p != kNoPeer && ids_of_links(*live, p, "neighbor") == graph[peers[i].id] && !graph[peers[i].id].empty();
    }
  }
  REQUIRE(agree);
  CHECK(live->protocol() == "flooding");
  CHECK(live->scenario().protocol == "flooding");
  CHECK(session.geometry() == Geometry::Graph);  // the graph view
  CHECK(live->id_bits() == 64);
  // The overlay is symmetric and connected (BFS over the reported links).
  std::set<std::string> reached = {peers[0].id};
  std::vector<std::string> frontier = {peers[0].id};
  while (!frontier.empty()) {
    const std::string at = frontier.back();
    frontier.pop_back();
    for (const auto& n : graph[at]) {
      CHECK(graph[n].count(at) == 1);
      if (reached.insert(n).second) frontier.push_back(n);
    }
  }
  CHECK(reached.size() == peers.size());
  // Each peer's role is the model's "peer", and its tables arrive typed: the peer cells of its
  // neighbour table name exactly the peers its links point to.
  for (std::size_t i = 0; i < peers.size(); ++i) {
    const PeerView v = live->inspect(live->simulator().find_live(*Id::from_decimal(peers[i].id)));
    CHECK(static_cast<int>(v.role) == live->model()->role("peer"));
    std::set<PeerIndex> linked, in_cells;
    for (const Link& l : v.links) linked.insert(l.target);
    for (const auto& t : v.tables) {
      for (const auto& row : t.rows) {
        if (row.link < 0) continue;
        for (const Cell& c : row.cells) {
          if (c.kind == Cell::Kind::Peer) in_cells.insert(c.peer);
        }
      }
    }
    CHECK(in_cells == linked);
  }
  // Message events arrive too (PING, PONG, CONNECT... while joining; a search now).
  peers[0].peer->send("search file 4 1");
  REQUIRE(peers[0].peer->wait_for([](const nlohmann::json& j) { return j.value("op", "") == "search"; }, 10000ms));
  std::this_thread::sleep_for(400ms);
  live->poll();
  const auto& names = live->vocabulary().message_types;
  const auto query_type = std::find(names.begin(), names.end(), "QUERY");
  REQUIRE(query_type != names.end());
  bool query_seen = false;
  for (const TraceEvent& e : live->simulator().event_trace().events()) {
    query_seen = query_seen || (e.kind == TraceKind::Send && e.detail == query_type - names.begin());
  }
  CHECK(query_seen);

  // Malformed reports, and reports of another protocol, are dropped and counted, never shown.
  const std::uint64_t dropped = live->dropped();
  const std::size_t count = live->simulator().peer_count();
  using nlohmann::json;
  const json good = {{"v", 2},
                     {"proto", "flooding"},
                     {"m", 64},
                     {"id", json::binary({99})},
                     {"t", 0},
                     {"k", "state"},
                     {"addr", "1.2.3.4:5"},
                     {"st", 0},
                     {"role", "peer"},
                     {"links", json::array({json::array({"neighbor", 0, json::binary({98})})})},
                     {"keys", json::array()},
                     {"nkeys", 0},
                     {"tables", json::array()}};
  std::vector<json> bad;
  for (const char* key : {"v", "proto", "m", "id", "k", "role", "links", "addr", "st", "keys", "nkeys", "tables"}) {
    json b = good;
    b.erase(key);
    bad.push_back(b);
  }
  auto with = [&](const char* key, const json& value) {
    json b = good;
    b[key] = value;
    bad.push_back(b);
  };
  with("v", 1);
  with("v", "2");
  with("proto", "chord");      // another protocol
  with("proto", "superpeer");  // another protocol
  with("proto", "no_such_protocol");
  with("m", 32);  // another id width
  with("id", 99);
  with("id", json::binary(std::vector<std::uint8_t>(21, 1)));                    // longer than 160 bits
  with("role", "leaf");                                                          // not a role flooding has
  with("links", json::array({json::array({"finger", 0, json::binary({98})})}));  // nor a link kind
  with("links", json::array({json::array({"neighbor", 0, 98})}));
  with("links", json::array({json::array({"neighbor", 70000, json::binary({98})})}));
  with("links", 98);
  with("addr", 7);
  with("st", 9);
  with("nkeys", -1);
  with("k", "gossip");
  with("tables", json::array({{{"title", "t"},
                               {"cols", json::array()},
                               {"rows", json::array({json::array({json::array({7, "x"})})})},
                               {"link", json::array({-1})}}}));  // a cell of kind 7
  json many = good;
  many["links"] = json::array();
  for (int i = 0; i < 300; ++i)
    many["links"].push_back(json::array({"neighbor", 0, json::binary({1, static_cast<std::uint8_t>(i)})}));
  bad.push_back(many);
  for (const json& b : bad) {
    const auto bytes = cbor(b);
    CHECK_FALSE_MESSAGE(live->handle(bytes.data(), bytes.size()), b.dump());
  }
  CHECK(live->dropped() == dropped + bad.size());
  CHECK(live->simulator().peer_count() == count);
  // The well-formed one is taken (a peer 99 and its neighbour 98 appear).
  const auto good_bytes = cbor(good);
  CHECK(live->handle(good_bytes.data(), good_bytes.size()));
  CHECK(live->simulator().peer_count() == count + 2);
}

TEST_CASE("live view: real superpeer-protocol peers report their roles and links" * doctest::test_suite("net")) {
  int port = 0;
  auto owned = open_live(port);
  REQUIRE(owned != nullptr);
  viz::LiveRun* live = owned.get();
  viz::Session session(std::move(owned));
  const std::string monitor = "127.0.0.1:" + std::to_string(port);
  const std::vector<std::string> extra = {"--degree", "2", "--superpeer-ratio", "0.5", "--share", "a song"};
  std::vector<Unstructured> peers;
  peers.push_back(start_unstructured("superpeer", monitor, "", extra));
  for (int i = 1; i < 6; ++i) {
    peers.push_back(
        start_unstructured("superpeer", monitor, std::to_string(peers[static_cast<std::size_t>(i - 1)].port), extra));
    std::this_thread::sleep_for(100ms);
  }
  // Converged: each peer's reported role equals its console's, and its reported links (the
  // superpeer links, and a superpeer's leaves) equal the neighbours its console shows.
  bool agree = false;
  std::map<std::string, std::string> role;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!agree && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(600ms);
    std::map<std::string, std::set<std::string>> graph;
    for (auto& p : peers) {
      const auto s = p.peer->state();
      REQUIRE(s.has_value());
      role[p.id] = (*s)["role"].get<std::string>();
      graph[p.id];
      for (const auto& n : (*s)["neighbors"]) graph[p.id].insert(n["id"].get<std::string>());
    }
    live->poll();
    const SimulatorCore& sim = live->simulator();
    agree = sim.live_count() == peers.size() && sim.peer_count() == peers.size();
    for (std::size_t i = 0; i < peers.size() && agree; ++i) {
      const PeerIndex p = sim.find_live(*Id::from_decimal(peers[i].id));
      if (p == kNoPeer) {
        agree = false;
        break;
      }
      const PeerView v = live->inspect(p);
      std::set<std::string> links = ids_of_links(*live, p, "superpeer");
      for (const auto& kind : {"leaf", "overlay"}) {
        for (const auto& l : ids_of_links(*live, p, kind)) links.insert(l);
      }
      agree = static_cast<int>(v.role) == live->model()->role(role[peers[i].id]) && links == graph[peers[i].id] &&
              (role[peers[i].id] != "leaf" || !links.empty());
    }
  }
  REQUIRE(agree);
  CHECK(live->protocol() == "superpeer");
  CHECK(session.geometry() == Geometry::Graph);
  CHECK(std::count_if(role.begin(), role.end(), [](const auto& r) { return r.second == "superpeer"; }) >= 1);
  // A leaf's links are to superpeers only, and each of them lists the leaf among its leaves.
  const SimulatorCore& sim = live->simulator();
  for (const auto& p : peers) {
    if (role[p.id] != "leaf") continue;
    for (const auto& sp : ids_of_links(*live, sim.find_live(*Id::from_decimal(p.id)), "superpeer")) {
      CHECK(role[sp] == "superpeer");
      CHECK(ids_of_links(*live, sim.find_live(*Id::from_decimal(sp)), "leaf").count(p.id) == 1);
    }
  }
  // The overlay the queries flood joins superpeers only (drawn apart from the leaves' links).
  for (const auto& p : peers) {
    for (const auto& n : ids_of_links(*live, sim.find_live(*Id::from_decimal(p.id)), "overlay")) {
      CHECK(role[p.id] == "superpeer");
      CHECK(role[n] == "superpeer");
    }
  }
  // A flooding report is another protocol's here: dropped.
  const auto flooding = cbor({{"v", 2},
                              {"proto", "flooding"},
                              {"m", 64},
                              {"id", nlohmann::json::binary({5})},
                              {"t", 0},
                              {"k", "state"},
                              {"st", 0},
                              {"addr", "127.0.0.1:9"},
                              {"role", "peer"},
                              {"links", nlohmann::json::array()},
                              {"keys", nlohmann::json::array()},
                              {"nkeys", 0},
                              {"tables", nlohmann::json::array()}});
  const std::uint64_t dropped = live->dropped();
  CHECK_FALSE(live->handle(flooding.data(), flooding.size()));
  CHECK(live->dropped() == dropped + 1);
}

TEST_CASE("live view: a real central-index server and its peers report their roles and links" *
          doctest::test_suite("net")) {
  int port = 0;
  auto live = open_live(port);
  REQUIRE(live != nullptr);
  const std::string monitor = "127.0.0.1:" + std::to_string(port);
  std::vector<Unstructured> peers;
  peers.push_back(start_unstructured("central_index", monitor, "", {"--share", "index song"}));
  for (int i = 1; i < 4; ++i) {
    peers.push_back(start_unstructured("central_index", monitor, std::to_string(peers[0].port),
                                       {"--share", "song " + std::to_string(i)}));
  }
  // Converged: the server (the first peer) reports the role "server" and a link to every peer,
  // each peer the role "peer" and one link, to the server, of the kinds the model names.
  bool agree = false;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (!agree && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(300ms);
    live->poll();
    const SimulatorCore& sim = live->simulator();
    if (live->model() == nullptr || sim.live_count() != peers.size()) continue;
    std::set<std::string> clients;
    for (std::size_t i = 1; i < peers.size(); ++i) clients.insert(peers[i].id);
    const PeerIndex server = sim.find_live(*Id::from_decimal(peers[0].id));
    std::set<std::string> registered =
        server == kNoPeer ? std::set<std::string>{} : ids_of_links(*live, server, "client");
    registered.erase(peers[0].id);  // the server indexes its own names too
    agree = server != kNoPeer && live->inspect(server).role == live->model()->role("server") && registered == clients;
    for (std::size_t i = 1; i < peers.size() && agree; ++i) {
      const PeerIndex p = sim.find_live(*Id::from_decimal(peers[i].id));
      agree = p != kNoPeer && live->inspect(p).role == live->model()->role("peer") &&
              ids_of_links(*live, p, "server") == std::set<std::string>{peers[0].id};
    }
  }
  CHECK(agree);
  CHECK(live->protocol() == "central_index");
  CHECK(live->id_bits() == 64);
}
