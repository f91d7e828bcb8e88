// Superpeers (Gnutella 0.6) as real processes on 127.0.0.1: 8 peers elect superpeers and attach
// leaves by real joins (HELLO_SUPERPEERS, ATTACH, ANNOUNCE, CONNECT); a search finds exactly the
// providers the brute force finds (superpeers within the TTL over the superpeer overlay the peers
// report, and their leaves) and downloads from one of them; garbage datagrams are dropped and
// counted.
#include <doctest/doctest.h>

#include <algorithm>
#include <deque>

#include "node_harness.hpp"
#include "superpeer/wire.hpp"

using namespace p2plab;
using namespace p2plab::test;
using nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("8 real superpeer-protocol peers: a search finds exactly the providers within the TTL" *
          doctest::test_suite("net")) {
  std::vector<Started> peers;
  for (int i = 0; i < 8; ++i) {
    const std::vector<std::string> args = {"--protocol",        "superpeer",
                                           "--collect-ms",      "600",
                                           "--rpc-timeout-ms",  "500",
                                           "--degree",          "2",
                                           "--share",           "song " + std::to_string(i) + ".mp3",
                                           "--superpeer-ratio", "0.5"};
    peers.push_back(start_node(args, i == 0 ? "" : std::to_string(peers.back().port)));
    REQUIRE_MESSAGE(peers.back().peer, "a superpeer-protocol peer did not start");
    std::this_thread::sleep_for(100ms);
  }
  // The overlay, as the peers report it: the links are symmetric (a leaf lists its superpeers, a
  // superpeer its superpeer neighbours and its leaves) and every leaf is attached.
  Overlay overlay = read_overlay(peers, 50, [](const Overlay& o) {
    for (const auto& [peer, ns] : o.graph) {
      if (o.role.at(peer) == "leaf" && ns.empty()) return false;
    }
    return true;
  });
  REQUIRE(overlay.ready);
  std::this_thread::sleep_for(300ms);  // the leaves' ANNOUNCEs follow their ATTACH_OK
  // Brute force: from peer 0 (the first peer, a superpeer), a query reaches the superpeers within
  // TTL 4 over superpeer-superpeer links; each answers for itself and its leaves.
  auto& role = overlay.role;
  REQUIRE(role[peers[0].id] == "superpeer");
  std::set<std::string> reachable;
  std::deque<std::pair<std::string, int>> queue = {{peers[0].id, 0}};
  std::set<std::string> seen = {peers[0].id};
  while (!queue.empty()) {
    const auto [at, depth] = queue.front();
    queue.pop_front();
    reachable.insert(at);
    for (const auto& n : overlay.graph.at(at)) {
      if (role[n] == "leaf") {
        reachable.insert(n);
      } else if (depth < 4 && seen.insert(n).second) {
        queue.emplace_back(n, depth + 1);
      }
    }
  }
  reachable.erase(peers[0].id);  // its own files are no find
  MESSAGE("roles: " << std::count_if(role.begin(), role.end(), [](const auto& r) { return r.second == "superpeer"; })
                    << " superpeers, " << reachable.size() << " providers within reach");
  // The searches, and garbage at peer 0 (seeded by a valid QUERY).
  superpeer::wire::Datagram query;
  query.sender = 77;
  query.type = superpeer::MsgType::Query;
  query.ttl = 3;
  query.guid = 5;
  query.name = "song";
  query.node = superpeer::wire::WireContact{Id(77), true, {}};
  std::vector<std::uint8_t> seed;
  REQUIRE(superpeer::wire::encode(query, seed));
  check_searches(peers[0], reachable, peers[4].id, seed, 3, [](const std::vector<std::uint8_t>& b) {
    superpeer::wire::Datagram d;
    superpeer::wire::Drop why{};
    return superpeer::wire::decode(b.data(), b.size(), d, why);
  });
}

TEST_CASE("superpeer: 3000 forged QUERYs with new GUIDs and names leave the superpeer serving searches and joins" *
          doctest::test_suite("net")) {
  const std::vector<std::string> args = {"--protocol",       "superpeer", "--collect-ms",   "500",
                                         "--rpc-timeout-ms", "500",       "--max-contacts", "64",
                                         "--max-names",      "64",        "--max-queries",  "64"};
  auto with = [&](const std::string& name) {
    std::vector<std::string> a = args;
    a.insert(a.end(), {"--share", name});
    return a;
  };
  Started superpeer = start_node(args);  // the first peer: a superpeer
  REQUIRE(superpeer.peer);
  Started leaf = start_node(with("song 4.mp3"), std::to_string(superpeer.port));
  REQUIRE(leaf.peer);
  // Until the leaf is attached and has announced its file (its attach phase takes a while).
  std::set<std::string> hits;
  for (int attempt = 0; attempt < 20 && hits.empty(); ++attempt) {
    const auto f = run_search(*superpeer.peer, "song");
    REQUIRE(f.has_value());
    hits = hits_of(*f);
  }
  REQUIRE(hits == std::set<std::string>{leaf.id});

  send_paced(*superpeer.peer, superpeer.port, 3000, 20, 200, [](int n) {
    superpeer::wire::Datagram d;
    d.sender = 0x6000'0000'0000ull + static_cast<std::uint64_t>(n);
    d.type = superpeer::MsgType::Query;
    d.ttl = 1;
    d.hops = 1;
    d.guid = 2'000'000 + static_cast<std::uint64_t>(n);
    d.name = "junk " + std::to_string(n);
    d.node = superpeer::wire::WireContact{Id(d.sender), true, net::Endpoint{}};
    std::vector<std::uint8_t> bytes;
    superpeer::wire::encode(d, bytes);
    return bytes;
  });
  const auto after = superpeer.peer->state();
  REQUIRE(after.has_value());
  MESSAGE("after 3000 QUERYs: contacts " << (*after)["contacts"] << ", replaced " << (*after)["contacts_replaced"]
                                         << ", tables " << (*after)["tables"].dump() << ", datagrams "
                                         << (*after)["datagrams"].dump());
  CHECK(counter(*after, {"contacts"}) <= 64);
  CHECK(counter(*after, {"tables", "queries"}) <= 64);
  CHECK(counter(*after, {"tables", "queries_forgotten"}) >= 3000 - 64);
  CHECK(counter(*after, {"tables", "names"}) <= 64);

  // The flooded superpeer still finds its leaf's file, and a newcomer attaches and finds it too.
  const auto found = run_search(*superpeer.peer, "song");
  REQUIRE(found.has_value());
  CHECK(hits_of(*found) == std::set<std::string>{leaf.id});
  Started newcomer = start_node(args, std::to_string(superpeer.port));
  REQUIRE(newcomer.peer);
  std::optional<json> answer;
  for (int attempt = 0; attempt < 10; ++attempt) {
    answer = run_search(*newcomer.peer, "song 4");
    if (answer && (*answer)["ok"] == true) break;
    std::this_thread::sleep_for(300ms);
  }
  REQUIRE(answer.has_value());
  CHECK(hits_of(*answer) == std::set<std::string>{leaf.id});
}
