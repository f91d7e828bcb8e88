// Superpeers (Gnutella 0.6) as real processes on 127.0.0.1: 8 peers elect superpeers and attach
// leaves by real joins (HELLO_SUPERPEERS, ATTACH, ANNOUNCE, CONNECT); a search finds exactly the
// providers the brute force finds (superpeers within the TTL over the superpeer overlay the peers
// report, and their leaves) and downloads from one of them; garbage datagrams are dropped and
// counted.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "node_harness.hpp"
#include "p2plab/rng.hpp"
#include "superpeer/wire.hpp"

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

Started start(const std::string& share, const std::string& join_port = "") {
  std::vector<std::string> args = {
      "node",         "--protocol", "superpeer",        "--listen", "127.0.0.1:0", "--json", "--quiet",
      "--collect-ms", "600",        "--rpc-timeout-ms", "500",      "--degree",    "2"};
  args.insert(args.end(), {"--share", share, "--superpeer-ratio", "0.5"});
  if (!join_port.empty()) args.insert(args.end(), {"--join", "127.0.0.1:" + join_port});
  Started s;
  s.peer = std::make_unique<Peer>(args);
  const auto hello = s.peer->wait_for([](const json& j) { return j.value("event", "") == "listening"; }, 5000ms);
  REQUIRE_MESSAGE(hello.has_value(), "a superpeer-protocol peer did not start");
  s.id = (*hello)["id"].get<std::string>();
  s.port = (*hello)["port"].get<int>();
  return s;
}

}  // namespace

TEST_CASE("8 real superpeer-protocol peers: a search finds exactly the providers within the TTL" *
          doctest::test_suite("net")) {
  std::vector<Started> peers;
  peers.push_back(start("song 0.mp3"));
  for (int i = 1; i < 8; ++i) {
    peers.push_back(
        start("song " + std::to_string(i) + ".mp3", std::to_string(peers[static_cast<std::size_t>(i - 1)].port)));
    std::this_thread::sleep_for(100ms);
  }
  // The overlay, as the peers report it: wait until the links are symmetric (a leaf lists its
  // superpeers, a superpeer its superpeer neighbours and its leaves) and every leaf is attached.
  std::map<std::string, std::set<std::string>> graph;
  std::map<std::string, std::string> role;
  bool ready = false;
  for (int attempt = 0; attempt < 50 && !ready; ++attempt) {
    std::this_thread::sleep_for(200ms);
    graph.clear();
    for (auto& p : peers) {
      const auto s = p.peer->state();
      REQUIRE(s.has_value());
      role[p.id] = (*s)["role"].get<std::string>();
      graph[p.id];
      for (const auto& n : (*s)["neighbors"]) graph[p.id].insert(n["id"].get<std::string>());
    }
    ready = graph.size() == peers.size();
    for (const auto& [a, ns] : graph) {
      if (role[a] == "leaf" && ns.empty()) ready = false;
      for (const auto& b : ns) ready = ready && graph[b].count(a) == 1;
    }
  }
  REQUIRE(ready);
  std::this_thread::sleep_for(300ms);  // the leaves' ANNOUNCEs follow their ATTACH_OK
  // Brute force: from peer 0 (the first peer, a superpeer), a query reaches the superpeers within
  // TTL 4 over superpeer-superpeer links; each answers for itself and its leaves.
  REQUIRE(role[peers[0].id] == "superpeer");
  std::set<std::string> reachable;
  std::deque<std::pair<std::string, int>> queue = {{peers[0].id, 0}};
  std::set<std::string> seen = {peers[0].id};
  while (!queue.empty()) {
    const auto [at, depth] = queue.front();
    queue.pop_front();
    reachable.insert(at);
    for (const auto& n : graph[at]) {
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
  superpeer::wire::Datagram query;
  query.sender = 77;
  query.type = superpeer::MsgType::Query;
  query.ttl = 3;
  query.guid = 5;
  query.name = "song";
  query.node = superpeer::wire::WireContact{77, true, {}};
  std::vector<std::uint8_t> seed;
  REQUIRE(superpeer::wire::encode(query, seed));
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
    superpeer::wire::Datagram d;
    superpeer::wire::Drop why{};
    if (superpeer::wire::decode(junk.data(), junk.size(), d, why)) continue;  // well-formed: not garbage
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
