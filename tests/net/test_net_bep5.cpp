// Kademlia's real network mode (BEP 5) as real `p2plab node --protocol kademlia` processes on
// 127.0.0.1: 12 nodes join through the first; find_node returns the 8 closest ids a brute force
// over the nodes' own ids finds; an announced peer is found by get_peers elsewhere; a forged
// announce (a token never given) is refused with error 203 and stores nothing; 2000 garbage
// datagrams are dropped and counted and the node keeps answering; monitor reports carry the
// routing table; bad options and an unreachable --join end with a clear error and a non-zero exit.
#include <doctest/doctest.h>
#include <poll.h>

#include <algorithm>

#include "krpc.hpp"
#include "node_harness.hpp"
#include "p2plab/net/monitor.hpp"
#include "routing_table.hpp"

using namespace p2plab;
using namespace p2plab::test;
using namespace p2plab::kademlia;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> kArgs = {"--protocol", "kademlia", "--rpc-timeout-ms", "1000"};

std::optional<json> run_op(Peer& peer, const std::string& command) {
  peer.send(command);
  const std::string op = command.substr(0, command.find(' '));
  return peer.wait_for([&](const json& j) { return j.value("op", "") == op; }, 10000ms);
}

std::vector<std::string> ids_of(const json& nodes) {
  std::vector<std::string> out;
  for (const auto& n : nodes) out.push_back(n["id"].get<std::string>());
  return out;
}

/// The next datagram on `socket` within 2 s ("" if none).
std::string receive(const LoopbackSocket& socket) {
  pollfd p{socket.fd, POLLIN, 0};
  if (::poll(&p, 1, 2000) <= 0) return {};
  char buffer[4096];
  const ssize_t n = ::recv(socket.fd, buffer, sizeof buffer, 0);
  return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

std::vector<std::uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

}  // namespace

TEST_CASE("12 real BEP 5 nodes: find_node equals the brute force and announced peers are found" *
          doctest::test_suite("net")) {
  std::vector<Started> nodes;
  for (int i = 0; i < 12; ++i) {
    nodes.push_back(start_node(kArgs, i == 0 ? "" : std::to_string(nodes.front().port)));
    REQUIRE_MESSAGE(nodes.back().peer, "a kademlia node did not start");
  }
  // Joined: every node but the first has found others (its bootstrap lookup answered).
  bool joined = false;
  for (int attempt = 0; attempt < 50 && !joined; ++attempt) {
    std::this_thread::sleep_for(100ms);
    joined = true;
    for (auto& n : nodes) {
      const auto s = n.peer->state();
      joined = joined && s && (*s)["joined"] == true && (*s)["table"]["size"].get<int>() > 0;
    }
  }
  REQUIRE(joined);
  std::this_thread::sleep_for(500ms);  // the joins' bucket refreshes
  std::vector<krpc::NodeId> ids;
  for (const auto& n : nodes) ids.push_back(*krpc::from_hex(n.id));
  Rng rng(3);
  for (int t = 0; t < 4; ++t) {
    const std::size_t from = rng.below(nodes.size());
    const std::string target = "target-" + std::to_string(t);
    const auto answer = run_op(*nodes[from].peer, "find_node " + target);
    REQUIRE(answer.has_value());
    CHECK((*answer)["ok"] == true);
    // Brute force: the 8 ids closest to SHA-1(target) by XOR among the other 11 nodes.
    const Id key = sha1_id(target);
    std::vector<std::pair<Id, std::string>> by_distance;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (i != from) by_distance.emplace_back(xor_distance(krpc::to_id(ids[i]), key), nodes[i].id);
    }
    std::sort(by_distance.begin(), by_distance.end());
    std::vector<std::string> truth;
    for (std::size_t i = 0; i < 8; ++i) truth.push_back(by_distance[i].second);
    CHECK(ids_of((*answer)["closest"]) == truth);
  }
  // Node 3 announces port 4321 for "song"; node 9 finds it.
  const auto announced = run_op(*nodes[3].peer, "announce song 4321");
  REQUIRE(announced.has_value());
  CHECK((*announced)["announce_ok"].get<int>() == 8);
  const auto found = run_op(*nodes[9].peer, "get_peers song");
  REQUIRE(found.has_value());
  CHECK((*found)["values"] == json::array({"127.0.0.1:4321"}));
}

TEST_CASE("a real BEP 5 node refuses forged announces and drops garbage and keeps answering" *
          doctest::test_suite("net")) {
  Started a = start_node(kArgs);
  REQUIRE(a.peer);
  Started b = start_node(kArgs, std::to_string(a.port));
  REQUIRE(b.peer);
  LoopbackSocket forger;
  // A forged announce_peer: a token A never gave. Error 203, nothing stored.
  krpc::Message announce;
  announce.kind = krpc::Kind::Query;
  announce.method = krpc::Method::AnnouncePeer;
  announce.transaction = "fa";
  announce.id = *krpc::from_hex("00112233445566778899aabbccddeeff00112233");
  announce.info_hash = krpc::from_id(sha1_id("song"));
  announce.port = 80;
  announce.token = "forged!!";
  forger.send(a.port, bytes_of(krpc::encode(announce)));
  krpc::Message reply;
  krpc::Drop why{};
  REQUIRE(krpc::decode(receive(forger), reply, why));
  CHECK(reply.kind == krpc::Kind::Error);
  CHECK(reply.error_code == krpc::kProtocolError);
  CHECK(reply.transaction == "fa");
  const auto state = a.peer->state();
  REQUIRE(state.has_value());
  CHECK((*state)["bad_tokens"] == 1);
  CHECK((*state)["store"]["peers"] == 0);
  // Garbage: random bytes and a valid ping with one byte changed; whatever does not decode is
  // dropped and counted.
  krpc::Message ping;
  ping.kind = krpc::Kind::Query;
  ping.method = krpc::Method::Ping;
  ping.transaction = "pp";
  ping.id = announce.id;
  const Garbage g =
      send_garbage(*a.peer, a.port, bytes_of(krpc::encode(ping)), 7, [](const std::vector<std::uint8_t>& d) {
        krpc::Message m;
        krpc::Drop w{};
        return krpc::decode(std::string(d.begin(), d.end()), m, w);
      });
  CHECK(g.sent > 1500);
  CHECK(g.dropped == g.sent);
  // Still answering: B's ping, and a stray response nobody asked for is dropped too.
  const auto pong = run_op(*b.peer, "ping 127.0.0.1:" + std::to_string(a.port));
  REQUIRE(pong.has_value());
  CHECK((*pong)["ok"] == true);
  CHECK((*pong)["id"] == a.id);
  krpc::Message stray;
  stray.kind = krpc::Kind::Response;
  stray.transaction = "zz";
  stray.id = announce.id;
  forger.send(a.port, bytes_of(krpc::encode(stray)));
  bool counted = false;
  for (int attempt = 0; attempt < 20 && !counted; ++attempt) {
    const auto s = a.peer->state();
    counted = s && (*s)["datagrams"]["dropped_by_reason"].value("unexpected_response", 0) == 1;
    if (!counted) std::this_thread::sleep_for(50ms);
  }
  CHECK(counted);
}

TEST_CASE("a BEP 5 node reports its routing table to a monitor" * doctest::test_suite("net")) {
  Started a = start_node(kArgs);
  REQUIRE(a.peer);
  LoopbackSocket monitor;
  std::vector<std::string> args = kArgs;
  args.insert(args.end(), {"--monitor", "127.0.0.1:" + std::to_string(monitor.port)});
  Started b = start_node(args, std::to_string(a.port));
  REQUIRE(b.peer);
  // Reports come every 500 ms; the one after the join names A as a bucket contact.
  bool named = false;
  for (int i = 0; i < 10 && !named; ++i) {
    const std::string d = receive(monitor);
    REQUIRE_FALSE(d.empty());
    net::MonitorReport r;
    std::string why;
    REQUIRE_MESSAGE(net::decode_report(reinterpret_cast<const std::uint8_t*>(d.data()), d.size(), r, why), why);
    CHECK(r.peer.protocol == "kademlia");
    CHECK(r.peer.bits == 160);
    CHECK(r.peer.id == krpc::to_id(*krpc::from_hex(b.id)));
    for (const auto& l : r.peer.links)
      named = named || (l.kind == "bucket contact" && l.target == krpc::to_id(*krpc::from_hex(a.id)));
  }
  CHECK(named);
}

TEST_CASE("BEP 5 node: bad options and an unreachable --join end with a clear error" * doctest::test_suite("net")) {
  Peer bad_id({"node", "--protocol", "kademlia", "--listen", "127.0.0.1:0", "--id", "xyz"});
  CHECK(bad_id.wait_text("--id: 'xyz' is not 40 hex digits", 5000ms).has_value());
  CHECK(bad_id.wait_exit(5000ms) == 2);
  Peer bad_k({"node", "--protocol", "kademlia", "--listen", "127.0.0.1:0", "--k", "0"});
  CHECK(bad_k.wait_text("--k:", 5000ms).has_value());
  CHECK(bad_k.wait_exit(5000ms) == 2);
  LoopbackSocket silent;  // a port where nobody answers
  Peer lonely({"node", "--protocol", "kademlia", "--listen", "127.0.0.1:0", "--join",
               "127.0.0.1:" + std::to_string(silent.port), "--join-timeout", "1", "--rpc-timeout-ms", "300"});
  CHECK(lonely.wait_text("no answer from 127.0.0.1:" + std::to_string(silent.port), 10000ms).has_value());
  CHECK(lonely.wait_exit(5000ms) == 1);
}
