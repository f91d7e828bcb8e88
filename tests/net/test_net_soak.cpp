// Real peers under load and abuse (label "net", each case seconds): a Chord peer flooded with
// 2,100 PINGs naming 67,200 invented contacts, and a flooding peer with 68,000 QUERYs of new
// GUIDs and names, keep serving honest requests and joins; a Chord peer's and a flooding
// peer's resident memory stays flat under a steady load once their tables are warm; a ring of 8
// holding 10,000 keys loses two neighbours to SIGKILL and every key is readable again; peers
// restarted after a SIGKILL converge and get their keys back; forged FETCH_RANGE and NOTIFY meet
// the cheap checks; a get answers found, not found or failed (timeout at the silent peer).
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <set>
#include <string>
#include <thread>

#include "central_index/wire.hpp"
#include "chord/wire.hpp"
#include "chord_harness.hpp"
#include "flooding/wire.hpp"
#include "node_harness.hpp"
#include "p2plab/id.hpp"
#include "p2plab/rng.hpp"
#include "superpeer/wire.hpp"

using namespace p2plab;
using namespace p2plab::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

/// A sender with its own address on 127.0.0.1.
using Sender = LoopbackSocket;

/// 2,100 PINGs from 30 sender addresses, each naming 32 invented contacts, at a Chord peer.
void flood_contacts(ChordPeer& target, Rng& rng) {
  const auto before = target.peer->state();
  REQUIRE(before.has_value());
  std::uint64_t expected = counter(*before, {"datagrams", "received"});
  std::vector<std::unique_ptr<Sender>> senders;
  for (int s = 0; s < 30; ++s) senders.push_back(std::make_unique<Sender>());
  for (int batch = 0; batch < 21; ++batch) {
    for (int k = 0; k < 100; ++k) {
      chord::wire::Datagram d;
      d.bits = 32;
      d.sender = Id(rng.next_u64() & 0xffffffffu);
      d.type = chord::MsgType::Ping;
      d.tag = static_cast<std::uint32_t>(k);
      for (int c = 0; c < 32; ++c) {
        chord::wire::WireContact invented;
        invented.id = Id(rng.next_u64() & 0xffffffffu);
        invented.is_sender = false;
        invented.address = net::Endpoint{0x7f000001u, static_cast<std::uint16_t>(1024 + rng.below(60000))};
        d.list.push_back(invented);
      }
      std::vector<std::uint8_t> bytes;
      REQUIRE(chord::wire::encode(d, bytes));
      senders[static_cast<std::size_t>(batch * 100 + k) % senders.size()]->send(target.port, bytes);
      ++expected;
    }
    CHECK(wait_received(*target.peer, expected) >= expected);
  }
}

}  // namespace

TEST_CASE("chord: 2100 PINGs naming 67200 invented contacts leave the peers serving gets and joins" *
          doctest::test_suite("net-soak")) {
  const auto t0 = Clock::now();
  // A: the default limits (its budget of new contacts per sender stops the flood); B: a small
  // table and no budget to speak of (contacts no longer in use are replaced).
  ChordPeer a = start_peer();
  ChordPeer b = start_peer(std::to_string(a.port), {"--max-contacts", "256", "--new-contacts-per-s", "1000000"});
  std::vector<ChordPeer*> ring = {&a, &b};
  REQUIRE(converge(ring, 20s).empty());
  std::vector<std::pair<Peer*, std::string>> puts;
  for (int i = 0; i < 20; ++i)
    puts.emplace_back(i % 2 ? a.peer.get() : b.peer.get(), "put k" + std::to_string(i) + " v" + std::to_string(i));
  auto answers = ask_all(puts, "put", 20s);
  REQUIRE(answers.size() == 20);

  Rng rng(2100);
  flood_contacts(a, rng);
  flood_contacts(b, rng);
  const auto sa = a.peer->state(), sb = b.peer->state();
  REQUIRE((sa && sb));
  MESSAGE("A: " << (*sa)["contacts"] << " contacts, " << (*sa)["contacts_over_budget"] << " refused over budget; B: "
                << (*sb)["contacts"] << " contacts, " << (*sb)["contacts_replaced"] << " replaced");
  CHECK(counter(*sa, {"contacts_over_budget"}) > 0);
  CHECK(counter(*sa, {"contacts"}) < 65536);
  CHECK(counter(*sb, {"contacts"}) <= 255);
  CHECK(counter(*sb, {"contacts_replaced"}) > 60000);

  // Honest peers still join through either and the ring of 4 converges to the brute-force one.
  ChordPeer c = start_peer(std::to_string(b.port));
  ChordPeer d = start_peer(std::to_string(a.port));
  ring = {&a, &b, &c, &d};
  const std::string diff = converge(ring, 30s);
  INFO("convergence after the flood: " << diff);
  REQUIRE(diff.empty());
  std::vector<std::pair<Peer*, std::string>> gets;
  for (int i = 0; i < 20; ++i) gets.emplace_back(i % 2 ? c.peer.get() : d.peer.get(), "get k" + std::to_string(i));
  answers = ask_all(gets, "get", 20s);
  REQUIRE(answers.size() == 20);
  for (int i = 0; i < 20; ++i) {
    INFO(answers["k" + std::to_string(i)].dump());
    CHECK(answers["k" + std::to_string(i)]["result"] == "found");
    CHECK(answers["k" + std::to_string(i)]["value"] == "v" + std::to_string(i));
  }
  MESSAGE("whole test " << std::chrono::duration<double>(Clock::now() - t0).count() << " s");
}

TEST_CASE("flooding: 68000 QUERYs with new GUIDs and names leave the peer serving searches and joins" *
          doctest::test_suite("net-soak")) {
  const auto t0 = Clock::now();
  const std::vector<std::string> args = {"--protocol", "flooding", "--collect-ms", "500", "--rpc-timeout-ms", "500"};
  Started provider = start_node(args);
  REQUIRE(provider.peer);
  provider.peer->send("share song 4.mp3");
  REQUIRE(provider.peer->wait_for([](const json& j) { return j.value("op", "") == "share"; }, 3000ms));
  Started target = start_node(args, std::to_string(provider.port));
  REQUIRE(target.peer);
  std::vector<Started> two;
  two.push_back(std::move(provider));
  two.push_back(std::move(target));
  REQUIRE(read_overlay(two, 40, [](const Overlay& o) { return o.graph.size() == 2; }).ready);
  Started& p0 = two[0];
  Started& p1 = two[1];

  const auto before = p1.peer->state();
  REQUIRE(before.has_value());
  send_paced(*p1.peer, p1.port, 68000, 1, 1000, [](int n) {
    flooding::wire::Datagram d;
    d.sender = 424242;
    d.type = flooding::MsgType::Query;
    d.ttl = 1;
    d.hops = 1;
    d.guid = 1'000'000 + static_cast<std::uint64_t>(n);
    d.name = "junk " + std::to_string(n);
    std::vector<std::uint8_t> bytes;
    flooding::wire::encode(d, bytes);
    return bytes;
  });
  const auto after = p1.peer->state();
  REQUIRE(after.has_value());
  MESSAGE("after 68000 QUERYs: " << (*after)["tables"].dump() << ", datagrams " << (*after)["datagrams"].dump());
  CHECK(counter(*after, {"tables", "queries"}) <= 65536);
  CHECK(counter(*after, {"tables", "queries_forgotten"}) >= 68000 - 65536);
  CHECK(counter(*after, {"tables", "names"}) <= 65536);
  CHECK(counter(*after, {"tables", "names_rebuilt"}) >= 1);
  CHECK(counter(*after, {"datagrams", "dropped"}) == counter(*before, {"datagrams", "dropped"}));

  // The flooded peer still searches, and a newcomer joins through it and finds the file.
  const auto found = run_search(*p1.peer, "song");
  REQUIRE(found.has_value());
  CHECK(hits_of(*found) == std::set<std::string>{p0.id});
  CHECK((*found)["downloaded_from"] == p0.id);
  Started newcomer = start_node(args, std::to_string(p1.port));
  REQUIRE(newcomer.peer);
  std::optional<json> answer;
  for (int attempt = 0; attempt < 10; ++attempt) {  // until the newcomer has its neighbours
    answer = run_search(*newcomer.peer, "song 4");
    if (answer && (*answer)["ok"] == true) break;
    std::this_thread::sleep_for(300ms);
  }
  REQUIRE(answer.has_value());
  CHECK((*answer)["downloaded_from"] == p0.id);
  MESSAGE("whole test " << std::chrono::duration<double>(Clock::now() - t0).count() << " s");
}

TEST_CASE("resident memory stays flat under steady load once the tables are warm (every protocol)" *
          doctest::test_suite("net-soak")) {
  // Freed memory goes back to the allocator at once (AddressSanitizer would otherwise hold up to
  // 256 MB in quarantine and RSS would measure that).
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string options = std::string(asan ? asan : "") + (asan && *asan ? ":" : "") +
                              "quarantine_size_mb=0:thread_local_quarantine_size_kb=0";
  ::setenv("ASAN_OPTIONS", options.c_str(), 1);
  ChordPeer a = start_peer("", {"--max-running", "400"});
  ChordPeer b = start_peer(std::to_string(a.port));
  std::vector<ChordPeer*> ring = {&a, &b};
  REQUIRE(converge(ring, 20s).empty());
  const std::vector<std::string> fargs = {"--protocol", "flooding", "--max-queries", "2000", "--max-names", "2000"};
  Started f = start_node(fargs);
  REQUIRE(f.peer);
  // A superpeer and an index server with small tables: forged QUERYs, and REGISTERs from invented
  // providers that fall silent (swept after three keepalive periods of 0.2 s).
  Started sp = start_node({"--protocol", "superpeer", "--max-queries", "2000", "--max-names", "2000"});
  Started server = start_node({"--protocol", "central_index", "--keepalive-ms", "200", "--max-contacts", "1024",
                               "--max-names", "2000", "--max-queries", "2000"});
  REQUIRE((sp.peer && server.peer));
  // P2PLAB_SOAK_ROUNDS: measured rounds after warm-up (3; the label net-soak-long runs 60).
  const char* rounds_text = std::getenv("P2PLAB_SOAK_ROUNDS");
  const int measured_rounds = rounds_text ? std::max(1, std::atoi(rounds_text)) : 3;

  // One round: 1,000 puts (200 keys, each put a new value of 400 bytes), 200 gets at the Chord
  // peers, and 5,000 QUERYs of new GUIDs and names at the flooding peer. A peer that kept every
  // value, record, GUID or name would grow by megabytes per round.
  int round_number = 0;
  Sender sender;
  std::uint64_t queries_sent = 0;
  auto round = [&] {
    ++round_number;
    for (int part = 0; part < 5; ++part) {
      std::vector<std::pair<Peer*, std::string>> puts;
      for (int k = 0; k < 200; ++k) {
        const std::string key = "key" + std::to_string(k);
        const std::string value = key + "r" + std::to_string(round_number) + "p" + std::to_string(part);
        puts.emplace_back(k % 2 ? a.peer.get() : b.peer.get(), "put " + key + " " + value + std::string(400, 'x'));
      }
      const auto answers = ask_all(puts, "put", 20s);
      REQUIRE(answers.size() == 200);
    }
    std::vector<std::pair<Peer*, std::string>> gets;
    for (int k = 0; k < 200; ++k) gets.emplace_back(k % 2 ? b.peer.get() : a.peer.get(), "get key" + std::to_string(k));
    const auto answers = ask_all(gets, "get", 20s);
    REQUIRE(answers.size() == 200);
    for (const auto& [key, answer] : answers) CHECK(answer["result"] == "found");
    const auto before = f.peer->state();
    REQUIRE(before.has_value());
    std::uint64_t expected = counter(*before, {"datagrams", "received"});
    for (int k = 0; k < 5000; ++k, ++queries_sent) {
      flooding::wire::Datagram d;
      d.sender = 777;
      d.type = flooding::MsgType::Query;
      d.ttl = 1;
      d.hops = 1;
      d.guid = queries_sent + 1;
      d.name = "junk " + std::to_string(queries_sent) + " " + std::string(150, 'y');
      std::vector<std::uint8_t> bytes;
      REQUIRE(flooding::wire::encode(d, bytes));
      sender.send(f.port, bytes);
      ++expected;
      if (k % 500 == 499) CHECK(wait_received(*f.peer, expected) >= expected);
    }
    // 1,000 QUERYs at the superpeer and 1,000 REGISTERs of invented providers at the server.
    const auto sp_before = sp.peer->state(), server_before = server.peer->state();
    REQUIRE((sp_before && server_before));
    std::uint64_t sp_expected = counter(*sp_before, {"datagrams", "received"});
    std::uint64_t server_expected = counter(*server_before, {"datagrams", "received"});
    for (int k = 0; k < 1000; ++k, ++queries_sent) {
      superpeer::wire::Datagram q;
      q.sender = 888;
      q.type = superpeer::MsgType::Query;
      q.ttl = 1;
      q.hops = 1;
      q.guid = queries_sent + 1;
      q.name = "junk " + std::to_string(queries_sent);
      q.node = superpeer::wire::WireContact{Id(888), true, net::Endpoint{}};
      std::vector<std::uint8_t> bytes;
      REQUIRE(superpeer::wire::encode(q, bytes));
      sender.send(sp.port, bytes);
      central_index::wire::Datagram r;
      r.sender = 0x7000'0000ull + queries_sent;
      r.type = central_index::MsgType::Register;
      r.name = "junk " + std::to_string(queries_sent);
      REQUIRE(central_index::wire::encode(r, bytes));
      sender.send(server.port, bytes);
      ++sp_expected;
      ++server_expected;
      if (k % 250 == 249) {
        CHECK(wait_received(*sp.peer, sp_expected) >= sp_expected);
        CHECK(wait_received(*server.peer, server_expected) >= server_expected);
      }
    }
  };
  // Warm-up: two rounds fill the flooding peer's tables (2,000 queries and names) and give the
  // Chord peers their keys; then RSS is measured after round 3 and after round 6.
  round();
  round();
  round();
  const long chord_warm = rss_kib(a.peer->pid()), flood_warm = rss_kib(f.peer->pid());
  const long sp_warm = rss_kib(sp.peer->pid()), server_warm = rss_kib(server.peer->pid());
  const auto t0 = Clock::now();
  for (int r = 0; r < measured_rounds; ++r) round();
  const long chord_end = rss_kib(a.peer->pid()), flood_end = rss_kib(f.peer->pid());
  const long sp_end = rss_kib(sp.peer->pid()), server_end = rss_kib(server.peer->pid());
  const auto sa = a.peer->state(), sf = f.peer->state(), ssp = sp.peer->state(), sserver = server.peer->state();
  REQUIRE((sa && sf && ssp && sserver));
  MESSAGE(measured_rounds << " rounds in " << std::chrono::duration<double>(Clock::now() - t0).count()
                          << " s; superpeer RSS " << sp_warm << " -> " << sp_end << " KiB (" << (*ssp)["tables"].dump()
                          << "); index server RSS " << server_warm << " -> " << server_end << " KiB ("
                          << (*sserver)["tables"].dump() << ", contacts " << (*sserver)["contacts"] << ")");
  CHECK(sp_end <= sp_warm * 6 / 5);
  CHECK(server_end <= server_warm * 6 / 5);
  CHECK(sp_end - sp_warm < 1024);
  CHECK(server_end - server_warm < 1024);
  CHECK(counter(*ssp, {"tables", "queries"}) <= 2000);
  CHECK(counter(*sserver, {"contacts"}) <= 1024);
  MESSAGE("chord peer RSS " << chord_warm << " -> " << chord_end << " KiB (" << (*sa)["memory"].dump()
                            << "); flooding peer RSS " << flood_warm << " -> " << flood_end << " KiB ("
                            << (*sf)["tables"].dump() << ")");
  REQUIRE(chord_warm > 0);
  REQUIRE(flood_warm > 0);
  REQUIRE((*sa)["memory"].is_object());
  REQUIRE((*sf)["tables"].is_object());
  // Flat: within 20 %, and less than 1 MiB more (3,000 puts and 15,000 queries later, by default).
  CHECK(chord_end <= chord_warm * 6 / 5);
  CHECK(flood_end <= flood_warm * 6 / 5);
  CHECK(chord_end - chord_warm < 1024);
  CHECK(flood_end - flood_warm < 1024);
  CHECK(counter(*sa, {"memory", "values"}) <= 2 * 200 + 256);
  CHECK(counter(*sa, {"memory", "records"}) == 0);
  CHECK(counter(*sf, {"tables", "queries"}) <= 2000);
  CHECK(counter(*sf, {"tables", "names"}) <= 2000);
}

namespace {

/// Datagrams the kernel dropped at the UDP socket bound to 127.0.0.1:port (/proc/net/udp), or -1.
long socket_drops(int port) {
  std::FILE* f = std::fopen("/proc/net/udp", "r");
  if (f == nullptr) return -1;
  char line[512];
  long drops = -1;
  char want[32];
  std::snprintf(want, sizeof want, "0100007F:%04X", port);
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strstr(line, want) == nullptr) continue;
    // The last column is the drop count.
    const char* last = std::strrchr(line, ' ');
    drops = last != nullptr ? std::atol(last + 1) : -1;
    break;
  }
  std::fclose(f);
  return drops;
}

/// `commands` in chunks of `chunk` per peer at a time (every peer's console pipes stay far from
/// full), the answers by "arg".
std::map<std::string, json> ask_chunked(const std::vector<std::pair<Peer*, std::string>>& commands,
                                        const std::string& op, std::size_t chunk) {
  std::map<Peer*, std::vector<std::string>> by_peer;
  for (const auto& [peer, command] : commands) by_peer[peer].push_back(command);
  std::map<std::string, json> answers;
  for (std::size_t start = 0;; start += chunk) {
    std::vector<std::pair<Peer*, std::string>> round;
    for (const auto& [peer, list] : by_peer) {
      for (std::size_t i = start; i < list.size() && i < start + chunk; ++i) round.emplace_back(peer, list[i]);
    }
    if (round.empty()) break;
    const auto got = ask_all(round, op, 30s);
    answers.insert(got.begin(), got.end());
  }
  return answers;
}

}  // namespace

TEST_CASE("chord: 8 peers with 10000 keys lose 2 neighbours to SIGKILL and every key is readable again" *
          doctest::test_suite("net-soak")) {
  const auto t0 = Clock::now();
  // P2PLAB_SOAK_KEYS=40000: the figure, for a longer run by hand (about a minute).
  const char* keys_env = std::getenv("P2PLAB_SOAK_KEYS");
  const int kPeers = 8, kKeys = keys_env != nullptr ? std::max(100, std::atoi(keys_env)) : 10000;
  // The fast periods of the other tests, with a timeout that holds while 8 sanitized peers share
  // two cores at full load.
  std::vector<std::string> base = kFast;
  base[std::find(base.begin(), base.end(), "--rpc-timeout-ms") - base.begin() + 1] = "1500";
  std::vector<ChordPeer> all;
  all.push_back(start_peer("", {}, base));
  for (int i = 1; i < kPeers; ++i) all.push_back(start_peer(std::to_string(all[0].port), {}, base));
  std::vector<ChordPeer*> live;
  for (auto& p : all) live.push_back(&p);
  REQUIRE(converge(live, 30s).empty());
  std::vector<std::pair<Peer*, std::string>> puts;
  for (int i = 0; i < kKeys; ++i) {
    puts.emplace_back(all[static_cast<std::size_t>(i % kPeers)].peer.get(),
                      "put key" + std::to_string(i) + " value of key " + std::to_string(i));
  }
  const auto t_put = Clock::now();
  auto answers = ask_chunked(puts, "put", 200);
  INFO("put answers " << answers.size() << " after " << std::chrono::duration<double>(Clock::now() - t_put).count()
                      << " s");
  REQUIRE(answers.size() == static_cast<std::size_t>(kKeys));
  int shown = 0;
  // A put that timed out is put again, as a user would (at most twice): with 8 sanitized peers
  // and the rest of the suite on two cores, an owner now and then answers after the RPC timeout
  // (4 of 10000 in one CI run). What this test is about is the recovery after the kills; a put
  // path that fails for real still fails here (each key at most three times, and at most 1 % of
  // the keys retried).
  std::size_t retried = 0;
  for (int attempt = 1; attempt <= 2; ++attempt) {
    std::vector<std::pair<Peer*, std::string>> again;
    for (int i = 0; i < kKeys; ++i) {
      const json& a = answers["key" + std::to_string(i)];
      if (a["result"] == "stored") continue;
      if (++shown <= 3) MESSAGE("put again (attempt " << attempt + 1 << "): " << a.dump());
      again.push_back(puts[static_cast<std::size_t>(i)]);
    }
    if (again.empty()) break;
    retried += again.size();
    for (auto& [key, a] : ask_chunked(again, "put", 200)) answers[key] = a;
  }
  int stored = 0;
  for (const auto& [key, a] : answers) stored += a["result"] == "stored";
  CHECK(stored == kKeys);
  CHECK(retried <= static_cast<std::size_t>(kKeys / 100));
  const double put_s = std::chrono::duration<double>(Clock::now() - t_put).count();
  // A put's copies leave at once only up to 4x the transfer rate; beyond that (this flood of
  // puts) they wait in the paced queue, and a peer killed now would take its queued copies with
  // it. What the test asks is recovery once the copies are out: wait until every queue is empty.
  const auto t_drain = Clock::now();
  std::uint64_t queued = 1;
  while (queued > 0 && Clock::now() - t_drain < 30s) {
    queued = 0;
    for (auto& p : all) {
      const auto s = p.peer->state();
      queued += s ? counter(*s, {"transfers", "queued"}) : 1;
    }
    if (queued > 0) std::this_thread::sleep_for(100ms);
  }
  INFO("copies still queued 30 s after the puts: " << queued);
  REQUIRE(queued == 0);
  const double drain_s = std::chrono::duration<double>(Clock::now() - t_drain).count();

  // Kill two neighbours on the ring (ring positions 2 and 3): their keys' copies are on the
  // next peers (r = 5), which now own them.
  std::vector<std::uint64_t> ids;
  for (auto& p : all) ids.push_back(p.id);
  std::sort(ids.begin(), ids.end());
  live.clear();
  for (auto& p : all) {
    if (p.id == ids[2] || p.id == ids[3]) {
      p.peer->kill(SIGKILL);
    } else {
      live.push_back(&p);
    }
  }
  const auto t_kill = Clock::now();
  const std::string diff = converge(live, 30s);
  INFO("convergence after the kills: " << diff);
  REQUIRE(diff.empty());
  const double converge_s = std::chrono::duration<double>(Clock::now() - t_kill).count();
  std::vector<std::pair<Peer*, std::string>> gets;
  for (int i = 0; i < kKeys; ++i) {
    gets.emplace_back(live[static_cast<std::size_t>(i) % live.size()]->peer.get(), "get key" + std::to_string(i));
  }
  answers = ask_chunked(gets, "get", 200);
  REQUIRE(answers.size() == static_cast<std::size_t>(kKeys));
  int found = 0;
  for (int i = 0; i < kKeys; ++i) {
    const json& a = answers["key" + std::to_string(i)];
    const bool ok = a["result"] == "found" && a.value("value", "") == "value of key " + std::to_string(i);
    found += ok;
    if (!ok && ++shown <= 6) MESSAGE(a.dump());
  }
  const double readable_s = std::chrono::duration<double>(Clock::now() - t_kill).count();
  CHECK(found == kKeys);
  // What the transfers cost: the survivors' datagrams, paced transfers, and kernel drops.
  std::uint64_t sent = 0, transfers = 0, transfer_drops = 0;
  long kernel_drops = 0;
  for (auto* p : live) {
    const auto s = p->peer->state();
    REQUIRE(s.has_value());
    sent += counter(*s, {"datagrams", "sent"});
    transfers += counter(*s, {"transfers", "sent"});
    transfer_drops += counter(*s, {"transfers", "dropped"});
    kernel_drops += std::max(0L, socket_drops(p->port));
  }
  CHECK(transfer_drops == 0);
  MESSAGE(kKeys << " keys put in " << put_s << " s (" << retried << " put again), their copies out " << drain_s
                << " s later; after 2 SIGKILLs: converged in " << converge_s << " s, " << found << " keys readable "
                << readable_s << " s after the kills; survivors sent " << sent << " datagrams in all, " << transfers
                << " of them paced transfers; kernel drops at their sockets: " << kernel_drops << "; whole test "
                << std::chrono::duration<double>(Clock::now() - t0).count() << " s");
}

namespace {

/// A ring of `size` (the first peer creates it, the others join through it) holding 30 keys;
/// the peer at `victim` (0: the creator, restarted without --join as it was started) is
/// SIGKILLed and started again on its address after `delay`. Returns "" when the ring
/// converged again and every key is found, or what went wrong; `seconds`: from the restart.
std::string restart_case(int size, std::size_t victim, std::chrono::milliseconds delay, double& seconds) {
  // (No REQUIRE here: the cases run on threads. A slow start on a loaded machine gets 15 s.)
  std::vector<ChordPeer> ring;
  for (int i = 0; i < size; ++i) {
    std::vector<std::string> args = {"node", "--protocol", "chord", "--listen", "127.0.0.1:0"};
    args.insert(args.end(), kFast.begin(), kFast.end());
    if (i > 0) args.insert(args.end(), {"--join", "127.0.0.1:" + std::to_string(ring[0].port)});
    ChordPeer p;
    p.peer = std::make_unique<Peer>(args);
    const auto hello = p.peer->wait_for([](const json& j) { return j.value("event", "") == "listening"; }, 15000ms);
    if (!hello) return "peer " + std::to_string(i) + " did not start";
    p.id = std::stoull((*hello)["id"].get<std::string>());
    p.port = (*hello)["port"].get<int>();
    ring.push_back(std::move(p));
  }
  std::vector<ChordPeer*> live;
  for (auto& p : ring) live.push_back(&p);
  if (const std::string d = converge(live, 20s); !d.empty()) return "first convergence: " + d;
  std::vector<std::pair<Peer*, std::string>> puts;
  for (int i = 0; i < 30; ++i)
    puts.emplace_back(ring[static_cast<std::size_t>(i % size)].peer.get(),
                      "put r" + std::to_string(i) + " v" + std::to_string(i));
  if (ask_all(puts, "put", 20s).size() != 30) return "puts unanswered";
  std::this_thread::sleep_for(300ms);  // the copies are out
  ChordPeer& v = ring[victim];
  v.peer->kill(SIGKILL);
  std::this_thread::sleep_for(delay);
  std::vector<std::string> args = {"node", "--protocol", "chord", "--listen", "127.0.0.1:" + std::to_string(v.port)};
  args.insert(args.end(), kFast.begin(), kFast.end());
  if (victim != 0) args.insert(args.end(), {"--join", "127.0.0.1:" + std::to_string(ring[0].port)});
  v.peer = std::make_unique<Peer>(args);
  if (!v.peer->wait_for([](const json& j) { return j.value("event", "") == "listening"; }, 15000ms)) {
    return "the restarted peer did not start";
  }
  const auto t0 = Clock::now();
  const std::string d = converge(live, 30s);
  seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!d.empty()) {
    std::string report = "convergence after the restart: " + d;
    for (auto& p : ring) {
      const auto st = p.peer->state();
      report += "\n  peer " + std::to_string(p.id) + ": " + (st ? (*st).dump() : "no state") + "\n  events:\n" +
                p.peer->events();
    }
    return report;
  }
  std::vector<std::pair<Peer*, std::string>> gets;
  for (int i = 0; i < 30; ++i)
    gets.emplace_back(ring[static_cast<std::size_t>(i % size)].peer.get(), "get r" + std::to_string(i));
  // The keys may still be on their way back to the restarted peer: ask again for a few seconds.
  std::map<std::string, json> answers;
  int found = 0;
  while (Clock::now() - t0 < 30s) {
    answers = ask_all(gets, "get", 20s);
    found = 0;
    for (int i = 0; i < 30; ++i) {
      const json& a = answers["r" + std::to_string(i)];  // (null when unanswered: asked again)
      found += a.is_object() && a.value("value", "") == "v" + std::to_string(i);
    }
    if (found == 30) break;
    std::this_thread::sleep_for(200ms);
  }
  seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (found != 30) return std::to_string(found) + " of 30 keys found after the restart";
  return "";
}

}  // namespace

TEST_CASE("chord: a peer restarted 0 or 2 or 5 s after a SIGKILL in rings of 2 and 3 converges and finds every key" *
          doctest::test_suite("net-soak")) {
  struct Case {
    int size;
    std::size_t victim;
    int delay_ms;
  };
  const std::vector<Case> cases = {{2, 0, 0},    {2, 0, 2000}, {2, 0, 5000}, {2, 1, 0},    {2, 1, 2000},
                                   {2, 1, 5000}, {3, 1, 0},    {3, 1, 2000}, {3, 2, 5000}, {3, 0, 2000}};
  // The cases run side by side (each its own ring), five at a time: the test takes about as long
  // as the slowest of each wave, and a loaded machine is not asked to start 24 peers at once.
  std::vector<std::string> results(cases.size());
  std::vector<double> seconds(cases.size(), 0);
  for (std::size_t wave = 0; wave < cases.size(); wave += 5) {
    std::vector<std::thread> threads;
    for (std::size_t c = wave; c < cases.size() && c < wave + 5; ++c) {
      threads.emplace_back([&, c] {
        try {
          results[c] =
              restart_case(cases[c].size, cases[c].victim, std::chrono::milliseconds(cases[c].delay_ms), seconds[c]);
        } catch (const std::exception& e) {
          results[c] = e.what();
        } catch (...) {
          results[c] = "an exception";
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  for (std::size_t c = 0; c < cases.size(); ++c) {
    INFO("ring of " << cases[c].size << ", peer " << cases[c].victim << " restarted after " << cases[c].delay_ms
                    << " ms");
    CHECK(results[c] == "");
    MESSAGE("ring of " << cases[c].size << ", peer " << cases[c].victim << " ("
                       << std::string(cases[c].victim == 0 ? "creator" : "joined") << ") restarted after "
                       << cases[c].delay_ms
                       << " ms: " << (results[c].empty() ? "converged, all keys found" : results[c]) << " in "
                       << seconds[c] << " s");
  }
}

TEST_CASE("forged datagrams: FETCH_RANGE from an unverified address gets 4 keys and NOTIFY needs a PONG first" *
          doctest::test_suite("net-soak")) {
  ChordPeer a = start_peer();
  ChordPeer b = start_peer(std::to_string(a.port));
  std::vector<ChordPeer*> ring = {&a, &b};
  REQUIRE(converge(ring, 20s).empty());
  std::vector<std::pair<Peer*, std::string>> puts;
  for (int i = 0; i < 200; ++i) puts.emplace_back(a.peer.get(), "put f" + std::to_string(i) + " v" + std::to_string(i));
  REQUIRE(ask_all(puts, "put", 20s).size() == 200);
  std::this_thread::sleep_for(500ms);  // the copies are out: both peers hold all 200 keys
  const auto before = b.peer->state();
  REQUIRE(before.has_value());
  REQUIRE(counter(*before, {"memory", "stored"}) == 200);

  Sender forger;
  auto send = [&](const chord::wire::Datagram& d, int port) {
    std::vector<std::uint8_t> bytes;
    REQUIRE(chord::wire::encode(d, bytes));
    forger.send(port, bytes);
  };
  // What comes back to the forger's socket within `ms`, by message type (and the last PING's tag).
  std::uint32_t ping_tag = 0;
  auto collect = [&](int ms) {
    std::map<chord::MsgType, int> got;
    const auto until = Clock::now() + std::chrono::milliseconds(ms);
    while (Clock::now() < until) {
      pollfd p{forger.fd, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      std::uint8_t buffer[2048];
      const ssize_t n = ::recv(forger.fd, buffer, sizeof buffer, 0);
      chord::wire::Datagram d;
      chord::wire::Drop why{};
      if (n > 0 && chord::wire::decode(buffer, static_cast<std::size_t>(n), 32, d, why)) {
        ++got[d.type];
        if (d.type == chord::MsgType::Ping) ping_tag = d.tag;
      }
    }
    return got;
  };
  // FETCH_RANGE for nearly the whole circle from an address B never sent anything to: B answers
  // with 4 keys, not 200 (an amplifier aimed at that address would send all of them).
  const std::uint32_t x = 12345;
  chord::wire::Datagram fetch;
  fetch.bits = 32;
  fetch.sender = Id(x);
  fetch.type = chord::MsgType::FetchRange;
  fetch.key = Id(x + 1);
  send(fetch, b.port);
  const auto answered = collect(1500);
  const int handed = answered.count(chord::MsgType::HandOver) ? answered.at(chord::MsgType::HandOver) : 0;
  MESSAGE("FETCH_RANGE from an unverified address: " << handed << " keys handed over (B holds 200)");
  CHECK(handed == 4);

  // NOTIFY from a new id that would be B's predecessor: B PINGs it instead of accepting it.
  const std::uint64_t pred = std::stoull((*before)["predecessor"]["id"].get<std::string>());
  const std::uint64_t between =
      pred < b.id ? pred + (b.id - pred) / 2 : (pred + ((b.id + (1ULL << 32) - pred) / 2)) & 0xffffffffu;
  chord::wire::Datagram notify;
  notify.bits = 32;
  notify.sender = Id(between);
  notify.type = chord::MsgType::Notify;
  send(notify, b.port);
  const auto pinged = collect(500);
  CHECK(pinged.count(chord::MsgType::Ping) == 1);
  auto s = b.peer->state();
  REQUIRE(s.has_value());
  CHECK(std::stoull((*s)["predecessor"]["id"].get<std::string>()) == pred);
  CHECK(counter(*s, {"notify_unverified"}) >= 1);
  // A PONG that does not echo the PING's random tag (a blind forger's guess) proves nothing.
  chord::wire::Datagram pong;
  pong.bits = 32;
  pong.sender = Id(between);
  pong.type = chord::MsgType::Pong;
  pong.tag = ping_tag + 1;
  send(pong, b.port);
  std::this_thread::sleep_for(100ms);
  send(notify, b.port);
  CHECK(collect(300).count(chord::MsgType::Ping) == 1);  // pinged again, with a new tag
  s = b.peer->state();
  REQUIRE(s.has_value());
  CHECK(std::stoull((*s)["predecessor"]["id"].get<std::string>()) == pred);
  // A forger that receives at its address (echoes the tag) is verified: its next NOTIFY makes
  // it the predecessor, as the README says (the check stops invented addresses, not peers).
  pong.tag = ping_tag;
  send(pong, b.port);
  std::this_thread::sleep_for(100ms);
  send(notify, b.port);
  std::this_thread::sleep_for(300ms);
  s = b.peer->state();
  REQUIRE(s.has_value());
  CHECK(std::stoull((*s)["predecessor"]["id"].get<std::string>()) == between);
}

TEST_CASE("get answers found or not found or failed with the peer that did not answer" *
          doctest::test_suite("net-soak")) {
  ChordPeer a = start_peer();
  ChordPeer b = start_peer(std::to_string(a.port));
  std::vector<ChordPeer*> ring = {&a, &b};
  REQUIRE(converge(ring, 20s).empty());
  // Keys g0 .. g19, and if none of them falls in B's arc (the ids come from the ports the
  // kernel hands out: B's arc may be a few percent of the circle), the first later gN that does,
  // by the test's own hash and two-peer oracle. (Twenty keys alone missed B in one CI run.)
  const IdSpace space(32);
  const Oracle oracle{a.id < b.id ? std::vector<std::uint64_t>{a.id, b.id} : std::vector<std::uint64_t>{b.id, a.id}};
  auto lands_at_b = [&](int i) { return oracle.successor(space.hash("g" + std::to_string(i)).low64()) == b.id; };
  std::vector<int> keys(20);
  std::iota(keys.begin(), keys.end(), 0);
  if (std::none_of(keys.begin(), keys.end(), lands_at_b)) {
    int i = 20;
    while (!lands_at_b(i) && i < (1 << 24)) ++i;
    REQUIRE(lands_at_b(i));
    keys.push_back(i);
  }
  std::vector<std::pair<Peer*, std::string>> puts;
  for (const int i : keys) puts.emplace_back(a.peer.get(), "put g" + std::to_string(i) + " v" + std::to_string(i));
  const auto stored = ask_all(puts, "put", 20s);
  REQUIRE(stored.size() == puts.size());
  std::string at_b;  // a key B owns
  for (const auto& [key, answer] : stored) {
    if (answer["owner"] == std::to_string(b.id)) at_b = key;
  }
  REQUIRE_FALSE(at_b.empty());
  auto got = ask_all({{a.peer.get(), "get " + at_b}, {a.peer.get(), "get no-such-key"}}, "get", 10s);
  CHECK(got[at_b]["result"] == "found");
  CHECK(got["no-such-key"]["result"] == "not found");
  CHECK(got["no-such-key"]["ok"] == false);
  // B dies; A asks it at once (it has not noticed yet): the get fails, naming B.
  b.peer->kill(SIGKILL);
  got = ask_all({{a.peer.get(), "get " + at_b}}, "get", 10s);
  REQUIRE(got.count(at_b) == 1);
  INFO(got[at_b].dump());
  const std::string expected =
      "failed (timeout at " + std::to_string(b.id) + " at 127.0.0.1:" + std::to_string(b.port) + ")";
  CHECK(got[at_b]["result"] == expected);
  CHECK(got[at_b]["timeout_at"] == std::to_string(b.id) + " at 127.0.0.1:" + std::to_string(b.port));
}

TEST_CASE("chord: a flood of 30000 forged PUTs at one peer leaves the ring converged and serving" *
          doctest::test_suite("net-soak")) {
  // A transfer rate of 500 keys/s lets 2,000 fresh copies a second leave at once: the flood (two
  // copies per PUT) outpaces that on any machine unless it took over 30 s, so some copies are
  // always paced. (At the default 2,000 a slow, sanitized run sent every copy at once.)
  const std::vector<std::string> rate = {"--transfer-rate", "500"};
  ChordPeer a = start_peer("", rate);
  ChordPeer b = start_peer(std::to_string(a.port), rate);
  ChordPeer c = start_peer(std::to_string(a.port), rate);
  std::vector<ChordPeer*> ring = {&a, &b, &c};
  REQUIRE(converge(ring, 20s).empty());
  const auto before = b.peer->state();
  REQUIRE(before.has_value());
  std::uint64_t expected = counter(*before, {"datagrams", "received"});
  // 30,000 PUTs of new keys from one forger: each is stored at B and copied to its successors,
  // the copies beyond 4x the transfer rate paced instead of sent at once.
  Sender forger;
  for (int n = 0; n < 30000; ++n) {
    chord::wire::Datagram d;
    d.bits = 32;
    d.sender = Id(0x1234u);
    d.type = chord::MsgType::Put;
    d.key = Id(static_cast<std::uint64_t>(n) * 2654435761u & 0xffffffffu);
    d.value = "forged " + std::to_string(n);
    d.lookup = static_cast<std::uint32_t>(n);
    std::vector<std::uint8_t> bytes;
    REQUIRE(chord::wire::encode(d, bytes));
    forger.send(b.port, bytes);
    ++expected;
    if (n % 1000 == 999) wait_received(*b.peer, expected - 500);  // the sender's pace: B's socket keeps up
  }
  const auto flooded = b.peer->state();
  REQUIRE(flooded.has_value());
  MESSAGE("after 30000 PUTs: B " << (*flooded)["memory"].dump() << ", transfers "
                                 << (flooded->contains("transfers") ? (*flooded)["transfers"].dump() : "{}"));
  CHECK(counter(*flooded, {"transfers", "queued"}) + counter(*flooded, {"transfers", "sent"}) > 0);  // paced
  // The ring's maintenance was not starved: it is (still) converged, and honest puts and gets work.
  REQUIRE(converge(ring, 20s).empty());
  long drops = 0;
  for (ChordPeer* p : {&a, &c}) drops += std::max(0L, socket_drops(p->port));
  MESSAGE("kernel drops at A's and C's sockets: " << drops);
  CHECK(drops == 0);
  std::vector<std::pair<Peer*, std::string>> ops;
  for (int i = 0; i < 50; ++i) ops.emplace_back(a.peer.get(), "put honest" + std::to_string(i) + " v");
  for (const auto& [key, answer] : ask_all(ops, "put", 20s)) CHECK(answer["result"] == "stored");
  ops.clear();
  for (int i = 0; i < 50; ++i) ops.emplace_back(c.peer.get(), "get honest" + std::to_string(i));
  for (const auto& [key, answer] : ask_all(ops, "get", 20s)) CHECK(answer["result"] == "found");
}
