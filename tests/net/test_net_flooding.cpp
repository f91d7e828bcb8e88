// Flooding (Gnutella 0.4) as real processes on 127.0.0.1: 6 peers build their overlay by real
// joins (PING/PONG/CONNECT); a search finds exactly the providers the brute force finds (BFS over
// the overlay the peers report, within the TTL) and downloads from one of them; garbage
// datagrams are dropped and counted.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "flooding/wire.hpp"
#include "node_harness.hpp"
#include "p2plab/rng.hpp"

using namespace p2plab;
using namespace p2plab::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct Started {
  std::unique_ptr<Peer> peer;
  std::string id;
  int port = 0;
};

Started start(const std::string& join_port = "") {
  std::vector<std::string> args = {"node",    "--protocol",   "flooding", "--listen",         "127.0.0.1:0", "--json",
                                   "--quiet", "--collect-ms", "600",      "--rpc-timeout-ms", "500",         "--degree",
                                   "2"};
  if (!join_port.empty()) args.insert(args.end(), {"--join", "127.0.0.1:" + join_port});
  Started s;
  s.peer = std::make_unique<Peer>(args);
  const auto hello = s.peer->wait_for([](const json& j) { return j.value("event", "") == "listening"; }, 5000ms);
  REQUIRE_MESSAGE(hello.has_value(), "a flooding peer did not start");
  s.id = (*hello)["id"].get<std::string>();
  s.port = (*hello)["port"].get<int>();
  return s;
}

}  // namespace

TEST_CASE("6 real flooding peers: a search finds exactly the providers within the TTL" * doctest::test_suite("net")) {
  std::vector<Started> peers;
  peers.push_back(start());
  for (int i = 1; i < 6; ++i) {
    peers.push_back(start(std::to_string(peers[static_cast<std::size_t>(i - 1)].port)));
    std::this_thread::sleep_for(100ms);
  }
  for (std::size_t i = 0; i < peers.size(); ++i) {
    peers[i].peer->send("share song " + std::to_string(i) + ".mp3");
    REQUIRE(peers[i].peer->wait_for([](const json& j) { return j.value("op", "") == "share"; }, 3000ms));
  }
  // The overlay, as the peers report it: wait until every peer has a neighbour and the links are
  // symmetric (both ends agree).
  std::map<std::string, std::set<std::string>> graph;
  bool ready = false;
  for (int attempt = 0; attempt < 40 && !ready; ++attempt) {
    std::this_thread::sleep_for(200ms);
    graph.clear();
    for (auto& p : peers) {
      const auto s = p.peer->state();
      REQUIRE(s.has_value());
      for (const auto& n : (*s)["neighbors"]) graph[p.id].insert(n["id"].get<std::string>());
    }
    ready = graph.size() == peers.size();
    for (const auto& [a, ns] : graph) {
      for (const auto& b : ns) ready = ready && graph[b].count(a) == 1;
    }
  }
  REQUIRE(ready);
  // Brute force: the peers within TTL 7 of peer 0 (BFS), all of which share a "song".
  std::set<std::string> reachable;
  std::deque<std::pair<std::string, int>> queue = {{peers[0].id, 0}};
  std::set<std::string> seen = {peers[0].id};
  while (!queue.empty()) {
    const auto [at, depth] = queue.front();
    queue.pop_front();
    if (depth > 0) reachable.insert(at);
    if (depth == 7) continue;
    for (const auto& n : graph[at]) {
      if (seen.insert(n).second) queue.emplace_back(n, depth + 1);
    }
  }
  CHECK(reachable.size() == 5);  // a connected overlay of 6: everyone else
  peers[0].peer->send("search song");
  const auto all = peers[0].peer->wait_for([](const json& j) { return j.value("op", "") == "search"; }, 10000ms);
  REQUIRE(all.has_value());
  std::set<std::string> hits;
  for (const auto& h : (*all)["hits"]) hits.insert(h.get<std::string>());
  CHECK(hits == reachable);
  CHECK((*all)["ok"] == true);
  CHECK(reachable.count((*all)["downloaded_from"].get<std::string>()) == 1);
  // A search for one file finds exactly its provider.
  peers[0].peer->send("search song 4");
  const auto one = peers[0].peer->wait_for([](const json& j) { return j.value("op", "") == "search"; }, 10000ms);
  REQUIRE(one.has_value());
  CHECK((*one)["hits"] == json::array({peers[4].id}));
  CHECK((*one)["downloaded_from"] == peers[4].id);
  peers[0].peer->send("search nobody has this");
  const auto none = peers[0].peer->wait_for([](const json& j) { return j.value("op", "") == "search"; }, 10000ms);
  REQUIRE(none.has_value());
  CHECK((*none)["hits"].empty());
  CHECK((*none)["ok"] == false);

  // 2000 random and mutated datagrams at peer 0: every one that does not decode is dropped and
  // counted, and peer 0 still finds song 4.
  const int sock = ::socket(AF_INET, SOCK_DGRAM, 0);
  REQUIRE(sock >= 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(static_cast<std::uint16_t>(peers[0].port));
  flooding::wire::Datagram query;
  query.sender = 77;
  query.type = flooding::MsgType::Query;
  query.ttl = 3;
  query.guid = 5;
  query.name = "song";
  std::vector<std::uint8_t> seed;
  REQUIRE(flooding::wire::encode(query, seed));
  const auto before = peers[0].peer->state();
  REQUIRE(before.has_value());
  const auto dropped_before = (*before)["datagrams"]["dropped"].get<std::uint64_t>();
  Rng rng(3);
  std::uint64_t expected = 0;
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::uint8_t> junk;
    if (i % 2 == 0) {
      junk.resize(rng.below(1500));
      for (auto& b : junk) b = static_cast<std::uint8_t>(rng.next_u64());
    } else {
      junk = seed;
      junk[rng.below(junk.size())] = static_cast<std::uint8_t>(rng.next_u64());
    }
    flooding::wire::Datagram d;
    flooding::wire::Drop why{};
    if (flooding::wire::decode(junk.data(), junk.size(), d, why)) continue;  // well-formed: not garbage
    ++expected;
    ::sendto(sock, junk.data(), junk.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    if (i % 100 == 99) std::this_thread::sleep_for(5ms);
  }
  std::uint64_t dropped = 0;
  for (int attempt = 0; attempt < 50 && dropped < expected; ++attempt) {
    const auto s = peers[0].peer->state();
    REQUIRE(s.has_value());
    dropped = (*s)["datagrams"]["dropped"].get<std::uint64_t>() - dropped_before;
    if (dropped < expected) std::this_thread::sleep_for(50ms);
  }
  ::close(sock);
  CHECK(expected > 1800);
  CHECK(dropped == expected);
  peers[0].peer->send("search song 4");
  const auto again = peers[0].peer->wait_for([](const json& j) { return j.value("op", "") == "search"; }, 10000ms);
  REQUIRE(again.has_value());
  CHECK((*again)["downloaded_from"] == peers[4].id);
}
