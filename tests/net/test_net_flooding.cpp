// Flooding (Gnutella 0.4) as real processes on 127.0.0.1: 6 peers build their overlay by real
// joins (PING/PONG/CONNECT); a search finds exactly the providers the brute force finds (BFS over
// the overlay the peers report, within the TTL) and downloads from one of them; garbage
// datagrams are dropped and counted.
#include <doctest/doctest.h>

#include <deque>

#include "flooding/wire.hpp"
#include "node_harness.hpp"

using namespace p2plab;
using namespace p2plab::test;
using nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("6 real flooding peers: a search finds exactly the providers within the TTL" * doctest::test_suite("net")) {
  const std::vector<std::string> args = {"--protocol",       "flooding", "--collect-ms", "600",
                                         "--rpc-timeout-ms", "500",      "--degree",     "2"};
  std::vector<Started> peers;
  for (int i = 0; i < 6; ++i) {
    peers.push_back(start_node(args, i == 0 ? "" : std::to_string(peers.back().port)));
    REQUIRE_MESSAGE(peers.back().peer, "a flooding peer did not start");
    std::this_thread::sleep_for(100ms);
  }
  for (std::size_t i = 0; i < peers.size(); ++i) {
    peers[i].peer->send("share song " + std::to_string(i) + ".mp3");
    REQUIRE(peers[i].peer->wait_for([](const json& j) { return j.value("op", "") == "share"; }, 3000ms));
  }
  // The overlay, as the peers report it: every peer has a neighbour, the links are symmetric.
  const Overlay overlay = read_overlay(peers, 40, [](const Overlay& o) {
    for (const auto& [peer, ns] : o.graph) {
      if (ns.empty()) return false;
    }
    return true;
  });
  REQUIRE(overlay.ready);
  // Brute force: the peers within TTL 7 of peer 0 (BFS), all of which share a "song".
  std::set<std::string> reachable;
  std::deque<std::pair<std::string, int>> queue = {{peers[0].id, 0}};
  std::set<std::string> seen = {peers[0].id};
  while (!queue.empty()) {
    const auto [at, depth] = queue.front();
    queue.pop_front();
    if (depth > 0) reachable.insert(at);
    if (depth == 7) continue;
    for (const auto& n : overlay.graph.at(at)) {
      if (seen.insert(n).second) queue.emplace_back(n, depth + 1);
    }
  }
  CHECK(reachable.size() == 5);  // a connected overlay of 6: everyone else
  // The searches, and garbage at peer 0 (seeded by a valid QUERY).
  flooding::wire::Datagram query;
  query.sender = 77;
  query.type = flooding::MsgType::Query;
  query.ttl = 3;
  query.guid = 5;
  query.name = "song";
  std::vector<std::uint8_t> seed;
  REQUIRE(flooding::wire::encode(query, seed));
  check_searches(peers[0], reachable, peers[4].id, seed, 3, [](const std::vector<std::uint8_t>& b) {
    flooding::wire::Datagram d;
    flooding::wire::Drop why{};
    return flooding::wire::decode(b.data(), b.size(), d, why);
  });
}
