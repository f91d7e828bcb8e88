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
