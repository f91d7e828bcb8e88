// Real peers as real processes on 127.0.0.1 (`p2plab node --json`), driven through their
// consoles: a ring of 16 formed by real joins converges to the brute-force answer, stores and
// reads 200 keys, loses 4 peers to SIGKILL and still reads all 200; a peer flooded with 10000
// random and mutated datagrams drops them, counts them and keeps answering; `p2plab cluster`
// starts on free ports, routes "N: command" lines and stops cleanly; a port in use is named;
// bad arguments give exit code 2 naming the argument.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "chord_harness.hpp"
#include "datagram_noise.hpp"
#include "node_harness.hpp"
#include "p2plab/rng.hpp"
#include "wire.hpp"

using namespace p2plab;
using namespace p2plab::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string item(int i) { return "item-" + std::to_string(i); }
std::string value(int i) { return "value of item " + std::to_string(i); }

/// `peers` real processes join one by one through the first; they must converge to the
/// brute-force ring, store and read `keys` keys, lose `doomed_positions` (ring positions) to
/// SIGKILL, converge again and still read every key.
void ring_test(int peers, int keys, const std::vector<std::size_t>& doomed_positions, const std::string& lookup) {
  const auto t0 = Clock::now();
  const std::vector<std::string> extra = {"--lookup", lookup};
  std::vector<ChordPeer> all;
  all.push_back(start_peer("", extra));
  const std::string bootstrap = std::to_string(all[0].port);
  for (int i = 1; i < peers; ++i) all.push_back(start_peer(bootstrap, extra));
  std::vector<ChordPeer*> live;
  for (auto& s : all) live.push_back(&s);
  std::set<std::uint64_t> distinct;
  for (auto* p : live) distinct.insert(p->id);
  REQUIRE(distinct.size() == static_cast<std::size_t>(peers));

  const std::string diff = converge(live, 30s);
  INFO("convergence: " << diff);
  REQUIRE(diff.empty());
  MESSAGE(peers << " peers (" << lookup << " lookups) converged in "
                << std::chrono::duration<double>(Clock::now() - t0).count() << " s");

  const auto n = static_cast<std::size_t>(peers);
  std::vector<std::pair<Peer*, std::string>> puts, gets;
  for (int i = 0; i < keys; ++i) {
    puts.emplace_back(all[static_cast<std::size_t>(i) % n].peer.get(), "put " + item(i) + " " + value(i));
  }
  auto answers = ask_all(puts, "put", 20s);
  REQUIRE(answers.size() == static_cast<std::size_t>(keys));
  for (int i = 0; i < keys; ++i) {
    INFO(answers[item(i)].dump());
    CHECK(answers[item(i)]["ok"] == true);
  }
  for (int i = 0; i < keys; ++i)
    gets.emplace_back(all[static_cast<std::size_t>(i + 7) % n].peer.get(), "get " + item(i));
  answers = ask_all(gets, "get", 20s);
  REQUIRE(answers.size() == static_cast<std::size_t>(keys));
  for (int i = 0; i < keys; ++i) {
    INFO(answers[item(i)].dump());
    CHECK(answers[item(i)]["ok"] == true);
    CHECK(answers[item(i)].value("value", "") == value(i));
  }

  std::vector<std::uint64_t> sorted(distinct.begin(), distinct.end());
  std::set<std::uint64_t> doomed;
  for (std::size_t position : doomed_positions) doomed.insert(sorted[position]);
  live.clear();
  for (auto& s : all) {
    if (doomed.count(s.id)) {
      s.peer->kill(SIGKILL);
    } else {
      live.push_back(&s);
    }
  }
  REQUIRE(live.size() == n - doomed.size());
  const std::string diff2 = converge(live, 30s);
  INFO("convergence after the kills: " << diff2);
  REQUIRE(diff2.empty());
  gets.clear();
  for (int i = 0; i < keys; ++i)
    gets.emplace_back(live[static_cast<std::size_t>(i) % live.size()]->peer.get(), "get " + item(i));
  answers = ask_all(gets, "get", 20s);
  REQUIRE(answers.size() == static_cast<std::size_t>(keys));
  int readable = 0;
  for (int i = 0; i < keys; ++i) {
    INFO(answers[item(i)].dump());
    CHECK(answers[item(i)]["ok"] == true);
    CHECK(answers[item(i)].value("value", "") == value(i));
    readable += answers[item(i)]["ok"] == true;
  }
  MESSAGE(readable << " of " << keys << " keys readable after " << doomed.size() << " SIGKILLs; whole test "
                   << std::chrono::duration<double>(Clock::now() - t0).count() << " s");
}

}  // namespace

TEST_CASE("16 real peers: ring by real joins then 200 puts and gets then 4 killed and nothing lost" *
          doctest::test_suite("net-slow")) {
  // Killed: ring positions 2 and 3 (neighbours), 7 and 12. r = 5: every key has 6 copies.
  ring_test(16, 200, {2, 3, 7, 12}, "iterative");
}

TEST_CASE("8 real peers with recursive lookups: 80 puts and gets then 2 neighbours killed and nothing lost" *
          doctest::test_suite("net")) {
  // 6 survivors: more than r = 5. (With N <= r a dead peer can survive at the tail of the
  // successor lists, which wrap around the ring: a limit of the protocol code, see the report.)
  ring_test(8, 80, {1, 2}, "recursive");
}

TEST_CASE("a peer flooded with 10000 random and mutated datagrams drops and counts them and keeps answering" *
          doctest::test_suite("net")) {
  ChordPeer a = start_peer();
  ChordPeer b = start_peer(std::to_string(a.port));
  std::vector<ChordPeer*> both = {&a, &b};
  REQUIRE(converge(both, 20s).empty());
  auto put = ask_all({{b.peer.get(), "put before-flood kept"}}, "put", 5s);
  REQUIRE(put["before-flood"]["ok"] == true);

  const LoopbackSocket forger;
  const int sock = forger.fd;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(static_cast<std::uint16_t>(a.port));

  // Seeds: a valid datagram of every type, from invented senders, mutated. A mutation that still
  // decodes is a well-formed Chord message from an invented peer, not garbage (a forged NOTIFY
  // is the protocol's business, not the decoder's; test_net_wire checks those decode to valid
  // values): it is replaced by another mutation, so all 10000 datagrams must be dropped.
  Rng rng(99);
  std::vector<std::vector<std::uint8_t>> seeds;
  for (int t = 0; t < static_cast<int>(chord::MsgType::Count); ++t) {
    chord::wire::Datagram d;
    d.bits = 32;
    d.sender = Id(rng.next_u64() & 0xffffffffu);
    d.type = static_cast<chord::MsgType>(t);
    d.lookup = static_cast<std::uint32_t>(rng.below(4));
    d.tag = static_cast<std::uint32_t>(rng.below(4));
    d.origin = chord::wire::WireContact{d.sender, true, {}};
    d.list = {*d.origin};
    d.key = Id(rng.next_u64() & 0xffffffffu);
    if (t == static_cast<int>(chord::MsgType::Put)) d.value = "junk";
    std::vector<std::uint8_t> bytes;
    REQUIRE(chord::wire::encode(d, bytes));
    seeds.push_back(bytes);
  }
  const auto before = a.peer->state();
  REQUIRE(before.has_value());
  const std::uint64_t dropped_before = (*before)["datagrams"]["dropped"].get<std::uint64_t>();
  std::uint64_t expected_drops = 0, mutated = 0, regenerated = 0;
  for (int batch = 0; batch < 100; ++batch) {
    for (int k = 0; k < 100; ++k) {
      std::vector<std::uint8_t> junk;
      chord::wire::Datagram d;
      chord::wire::Drop why{};
      while (true) {
        const bool random = rng.below(2) == 0;
        junk = random ? test::random_datagram(rng) : test::mutated_datagram(rng, seeds);
        if (!chord::wire::decode(junk.data(), junk.size(), 32, d, why)) {
          mutated += random ? 0 : 1;
          break;
        }
        ++regenerated;
      }
      ++expected_drops;
      ::sendto(sock, junk.data(), junk.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    }
    // Flow control: wait until the peer has counted this batch (the socket buffer stays small).
    std::uint64_t dropped = 0;
    const auto deadline = Clock::now() + 5s;
    while (Clock::now() < deadline) {
      const auto s = a.peer->state();
      REQUIRE_MESSAGE(s.has_value(), "the flooded peer stopped answering its console");
      dropped = (*s)["datagrams"]["dropped"].get<std::uint64_t>() - dropped_before;
      if (dropped >= expected_drops) break;
    }
    REQUIRE_MESSAGE(dropped == expected_drops,
                    "batch " << batch << ": " << dropped << " dropped, expected " << expected_drops);
  }
  MESSAGE("10000 datagrams (" << mutated << " mutated, the rest random) dropped and counted; " << regenerated
                              << " mutations that still decoded were replaced");
  CHECK(expected_drops == 10000);
  CHECK(mutated > 4000);
  const auto after = a.peer->state();
  REQUIRE(after.has_value());
  const json& counters = (*after)["datagrams"];
  std::uint64_t by_reason = 0;
  for (const auto& [reason, count] : counters["dropped_by_reason"].items()) by_reason += count.get<std::uint64_t>();
  CHECK(by_reason == counters["dropped"].get<std::uint64_t>());
  CHECK(counters["dropped_by_reason"].value("not_cbor", 0) > 0);
  CHECK(counters["dropped_by_reason"].value("oversized", 0) > 0);

  // It still answers on the network: a HELLO gets its reply ...
  chord::wire::Datagram hello;
  hello.kind = chord::wire::Kind::Hello;
  hello.bits = 32;
  hello.sender = Id(12345);
  std::vector<std::uint8_t> bytes;
  REQUIRE(chord::wire::encode(hello, bytes));
  bool replied = false;
  for (int attempt = 0; attempt < 20 && !replied; ++attempt) {
    ::sendto(sock, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    pollfd p{sock, POLLIN, 0};
    while (!replied && ::poll(&p, 1, 200) > 0) {
      std::uint8_t buffer[2048];
      const ssize_t n = ::recv(sock, buffer, sizeof buffer, 0);
      chord::wire::Datagram d;
      chord::wire::Drop why{};
      replied = n > 0 && chord::wire::decode(buffer, static_cast<std::size_t>(n), 32, d, why) &&
                d.kind == chord::wire::Kind::HelloReply && d.sender == Id(a.id);
    }
  }
  CHECK(replied);
  // ... and the ring is intact: both peers still hold the brute-force state, and the key put
  // before the flood is read back.
  const std::string diff = converge(both, 10s);
  if (!diff.empty()) {
    MESSAGE("A " << a.id << ": " << a.peer->state().value_or(json()).dump());
    MESSAGE("B " << b.id << ": " << b.peer->state().value_or(json()).dump());
    MESSAGE("A's events:\n" << a.peer->events() << "B's events:\n" << b.peer->events());
  }
  INFO("convergence after the flood: " << diff);
  CHECK(diff.empty());
  const auto got = ask_all({{b.peer.get(), "get before-flood"}}, "get", 10s);
  REQUIRE(got.count("before-flood") == 1);
  CHECK(got.at("before-flood")["ok"] == true);
  CHECK(got.at("before-flood").value("value", "") == "kept");
  const auto looked = ask_all({{a.peer.get(), "lookup 7"}}, "lookup", 10s);
  REQUIRE(looked.count("7") == 1);
  CHECK(looked.at("7")["ok"] == true);
}

TEST_CASE("p2plab cluster starts peers that form a ring and routes numbered commands and stops them all on SIGINT" *
          doctest::test_suite("net")) {
  // --base-port 0: the system picks free ports, the cluster says which.
  Peer cluster({"cluster", "--protocol", "chord", "--peers", "3", "--base-port", "0", "--stabilize-ms", "100",
                "--fix-fingers-ms", "100"});
  const auto started = cluster.wait_text("Ctrl-C stops them", 10000ms);
  REQUIRE(started.has_value());
  std::vector<pid_t> pids;
  std::vector<int> ports;
  {
    const auto at = started->find(" ports ");
    const auto open = started->find("(pids ");
    REQUIRE((at != std::string::npos && open != std::string::npos));
    std::istringstream port_list(started->substr(at + 7, open - at - 7));
    for (int port = 0; port_list >> port;) ports.push_back(port);
    std::istringstream in(started->substr(open + 6));
    long pid = 0;
    while (in >> pid) pids.push_back(static_cast<pid_t>(pid));
  }
  REQUIRE(pids.size() == 3);
  REQUIRE(ports.size() == 3);
  // A fourth peer joins the cluster's ring and sees a full successor list.
  Peer extra({"node", "--protocol", "chord", "--listen", "127.0.0.1:0", "--json", "--quiet", "--join",
              "127.0.0.1:" + std::to_string(ports[1]), "--stabilize-ms", "100", "--fix-fingers-ms", "100"});
  bool joined = false;
  for (int attempt = 0; attempt < 40 && !joined; ++attempt) {
    std::this_thread::sleep_for(250ms);
    const auto s = extra.state();
    joined = s && (*s)["in_ring"] == true && (*s)["successors"].size() == 3;
  }
  CHECK(joined);
  // "2: state" reaches peer 2 only, whose answer comes back marked [2].
  cluster.send("2: state");
  const auto answer = cluster.wait_text("] peer ", 5000ms);
  REQUIRE(answer.has_value());
  CHECK(answer->rfind("[2] peer ", 0) == 0);
  CHECK(answer->find("127.0.0.1:" + std::to_string(ports[2])) != std::string::npos);
  cluster.send("7: state");
  CHECK(cluster.wait_text("type N: COMMAND", 5000ms).has_value());
  ::kill(cluster.pid(), SIGINT);
  CHECK(cluster.wait_text("all peers stopped", 8000ms).has_value());
  CHECK(cluster.wait_exit(5000ms) == 0);
  for (pid_t pid : pids) {
    errno = 0;
    CHECK_MESSAGE((::kill(pid, 0) == -1 && errno == ESRCH), "peer process " << pid << " is still there");
  }
}

TEST_CASE("a port already in use: node and cluster name it and exit 1 and the cluster says nothing is up" *
          doctest::test_suite("net")) {
  const LoopbackSocket holder;  // holds the port taken
  const int taken = holder.port;
  const std::string in_use = "port " + std::to_string(taken) + " is already in use";
  Peer node({"node", "--protocol", "chord", "--listen", "127.0.0.1:" + std::to_string(taken)});
  CHECK(node.wait_text(in_use, 5000ms).has_value());
  CHECK(node.wait_exit(5000ms) == 1);
  // The cluster's second peer would take the port: nothing starts, nothing claims to be up.
  Peer cluster({"cluster", "--protocol", "chord", "--peers", "3", "--base-port", std::to_string(taken - 1)});
  std::string said;
  CHECK(cluster.wait_for_line(
      [&](const std::string& line) {
        said += line + "\n";
        return line.find(in_use) != std::string::npos;
      },
      5000ms));
  CHECK(cluster.wait_exit(5000ms) == 1);
  CHECK_MESSAGE(said.find("peers on") == std::string::npos, said);
}

TEST_CASE("bad arguments to node and cluster: exit code 2 and a line naming the argument" *
          doctest::test_suite("net")) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"node", "--protocol", "central_index", "--monitor", "127.0.0.1:5000", "--rpc-timeout-ms", "5"},
       "--rpc-timeout-ms"},
      {{"node", "--protocol", "flooding", "--ttl", "0"}, "--ttl"},
      {{"node", "--protocol", "chord", "--lookup", "sideways"}, "--lookup"},
      {{"node", "--protocol", "chord", "--seed", "-1"}, "--seed"},
      {{"node", "--protocol", "central_index", "--id", "abc"}, "--id"},
      {{"node", "--protocol", "superpeer", "--superpeer-ratio", "2"}, "--superpeer-ratio"},
      {{"node", "--protocol", "flooding", "--monitor", "127.0.0.1:0"}, "--monitor"},
      {{"node", "--protocol", "superpeer", "--monitor", "x:y"}, "--monitor"},
      {{"node", "--protocol", "flooding", "--id", "18446744073709551616"}, "--id"},
      {{"node", "--protocol", "nonsense"}, "--protocol"},
      {{"node", "--protocol", "chord", "--listen", "nowhere"}, "--listen"},
      {{"node", "--protocol", "chord", "--listen", "127.0.0.1:99999"}, "--listen"},
      {{"node", "--protocol", "chord", "--bits", "8", "--id", "256"}, "--id"},
      {{"node", "--protocol", "chord", "--join", "127.0.0.1"}, "--join"},
      {{"node", "--protocol", "chord", "--monitor", "x:y"}, "--monitor"},
      {{"cluster", "--protocol", "chord", "--peers", "0"}, "--peers"},
      {{"cluster", "--protocol", "chord", "--peers", "10", "--base-port", "65530"}, "--base-port"},
      {{"cluster", "--protocol", "chord", "--base-port", "-1"}, "--base-port"},
  };
  for (const auto& [args, name] : cases) {
    Peer p(args);
    const auto line = p.wait_text(name, 5000ms);
    INFO(args[0] << " ... expecting a message naming " << name);
    CHECK(line.has_value());
    CHECK(p.wait_exit(5000ms) == 2);
  }
  // An option of another protocol is not one of this protocol's node.
  Peer other({"node", "--protocol", "chord", "--ttl", "3"});
  CHECK(other.wait_text("--ttl", 5000ms).has_value());
  CHECK(other.wait_exit(5000ms) == 2);
  // A bootstrap peer that does not answer: exit code 1 after --join-timeout, with a reason.
  Peer lonely(
      {"node", "--protocol", "chord", "--listen", "127.0.0.1:0", "--join", "127.0.0.1:9", "--join-timeout", "0.5"});
  CHECK(lonely.wait_text("no answer from 127.0.0.1:9", 5000ms).has_value());
  CHECK(lonely.wait_exit(5000ms) == 1);
}

TEST_CASE("node --protocol X --help lists the shell's options and X's own, and no other protocol's" *
          doctest::test_suite("net")) {
  // Each protocol's own options as its README documents them.
  const std::map<std::string, std::vector<std::string>> own = {
      {"chord", {"--bits", "--successors", "--lookup", "--stabilize-ms", "--fix-fingers-ms", "--check-predecessor-ms"}},
      {"flooding", {"--ttl", "--share"}},
      {"superpeer", {"--ttl", "--superpeer-ratio", "--share"}},
      {"central_index", {"--share"}},
  };
  for (const auto& [protocol, options] : own) {
    Peer p({"node", "--protocol", protocol, "--help"});
    std::string help;
    p.wait_for_line(
        [&](const std::string& line) {
          help += line + "\n";
          return false;
        },
        3000ms);
    INFO(protocol << ":\n" << help);
    for (const char* common : {"--listen", "--join", "--id", "--monitor", "--json", "--duration"}) {
      CHECK(help.find(common) != std::string::npos);
    }
    for (const auto& o : options) CHECK(help.find(o + " ") != std::string::npos);
    for (const auto& [other, other_options] : own) {
      for (const auto& o : other_options) {
        const bool mine = std::find(options.begin(), options.end(), o) != options.end();
        if (other != protocol && !mine) CHECK(help.find(o + " ") == std::string::npos);
      }
    }
  }
}
