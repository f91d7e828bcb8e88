// The central index (Napster) as real processes on 127.0.0.1: an index server and 4 peers that
// register their names there (one joins through another peer, which names the server); every
// search returns exactly the providers a brute force over what each peer was told to share finds
// (keywords matched independently of the server's index), the download comes straight from one
// of them; a peer that leaves is unregistered; garbage datagrams are dropped and counted. Also
// the wire codec: round trips and refusals.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "central_index/wire.hpp"
#include "common/search.hpp"
#include "node_harness.hpp"

using namespace p2plab;
using namespace p2plab::test;
using nlohmann::json;
using namespace std::chrono_literals;
namespace ciw = p2plab::central_index::wire;

namespace {

Started start(const std::vector<std::string>& shares, const std::string& join_port = "") {
  std::vector<std::string> args = {"--protocol", "central_index", "--rpc-timeout-ms", "800"};
  for (const auto& s : shares) args.insert(args.end(), {"--share", s});
  Started s = start_node(args, join_port);
  REQUIRE_MESSAGE(s.peer, "a central-index peer did not start");
  return s;
}

/// `search KEYWORDS` and its answer (required).
json search_at(Peer& peer, const std::string& keywords) {
  const auto r = run_search(peer, keywords);
  REQUIRE_MESSAGE(r.has_value(), "no answer to search " << keywords);
  return *r;
}

/// The brute force: every peer sharing a name that holds all of the query's keywords.
std::set<std::string> providers(const std::map<std::string, std::vector<std::string>>& shared,
                                const std::string& query) {
  auto words = [](const std::string& text) {
    auto w = search::Catalogue::keywords(text);
    std::sort(w.begin(), w.end());
    w.erase(std::unique(w.begin(), w.end()), w.end());
    return w;
  };
  const auto want = words(query);
  std::set<std::string> out;
  for (const auto& [peer, names] : shared) {
    for (const auto& name : names) {
      const auto have = words(name);
      if (std::includes(have.begin(), have.end(), want.begin(), want.end())) out.insert(peer);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("central index wire: round trips and refusals" * doctest::test_suite("net")) {
  ciw::Datagram d;
  d.sender = 42;
  d.type = central_index::MsgType::SearchResult;
  d.guid = 7;
  d.flag = 1;
  d.providers = {{Id(5), true, {}}, {Id(6), false, {0x7f000001, 4000}}};
  std::vector<std::uint8_t> out;
  REQUIRE(ciw::encode(d, out));
  ciw::Datagram back;
  ciw::Drop why{};
  REQUIRE(ciw::decode(out.data(), out.size(), back, why));
  CHECK(back.sender == 42);
  CHECK(back.type == central_index::MsgType::SearchResult);
  CHECK(back.guid == std::optional<std::uint64_t>(7));
  CHECK(back.flag == 1);
  CHECK(back.providers == d.providers);

  ciw::Datagram reply;
  reply.kind = ciw::Kind::HelloReply;
  reply.sender = 1;
  reply.server = ciw::WireContact{Id(9), false, {0x7f000001, 4100}};
  REQUIRE(ciw::encode(reply, out));
  REQUIRE(ciw::decode(out.data(), out.size(), back, why));
  CHECK(back.kind == ciw::Kind::HelloReply);
  CHECK(back.server == reply.server);

  auto refused = [&](const json& j) {
    const auto bytes = json::to_cbor(j);
    ciw::Datagram x;
    ciw::Drop reason{};
    const bool ok = ciw::decode(bytes.data(), bytes.size(), x, reason);
    return ok ? std::optional<ciw::Drop>() : std::optional<ciw::Drop>(reason);
  };
  const json base = {{"v", 1}, {"p", "central_index"}, {"k", 0}, {"s", 3}, {"t", 0}, {"x", "song"}};  // REGISTER
  CHECK_FALSE(refused(base).has_value());
  auto with = [&](const char* key, const json& value) {
    json j = base;
    j[key] = value;
    return j;
  };
  auto without = [&](const char* key) {
    json j = base;
    j.erase(key);
    return j;
  };
  CHECK(refused(with("v", 2)) == ciw::Drop::Version);
  CHECK(refused(with("p", "flooding")) == ciw::Drop::Protocol);
  CHECK(refused(with("k", 3)) == ciw::Drop::Kind);
  CHECK(refused(with("s", "3")) == ciw::Drop::BadId);
  CHECK(refused(with("t", 7)) == ciw::Drop::Type);
  CHECK(refused(without("x")) == ciw::Drop::Missing);                       // REGISTER without its name
  CHECK(refused(with("x", std::string(256, 'a'))) == ciw::Drop::BadField);  // too long
  CHECK(refused(with("q", 5)) == ciw::Drop::BadField);                      // a GUID on a REGISTER
  CHECK(refused(with("f", 1)) == ciw::Drop::BadField);                      // a flag on a REGISTER
  CHECK(refused(with("zz", 1)) == ciw::Drop::BadField);                     // unknown field
  json result = {{"v", 1}, {"p", "central_index"}, {"k", 0}, {"s", 3}, {"t", 3}, {"q", 1}, {"c", json::array()}};
  CHECK_FALSE(refused(result).has_value());
  result["c"] = json::array();
  for (int i = 0; i < 17; ++i) result["c"].push_back(json::array({i + 10, 0x7f000001, 4000}));
  CHECK(refused(result) == ciw::Drop::BadField);  // more than 16 providers
  result["c"] = json::array({json::array({10, 0, 4000})});
  CHECK(refused(result) == ciw::Drop::BadContact);  // ip 0
  result.erase("c");
  CHECK(refused(result) == ciw::Drop::Missing);
  CHECK(refused(json{{"v", 1}, {"p", "central_index"}, {"k", 2}, {"s", 3}, {"n", json::array({4})}}) ==
        ciw::Drop::BadContact);  // the server's contact needs its address
  const std::vector<std::uint8_t> big(ciw::kMaxDatagram + 1, 0xa0);
  CHECK_FALSE(ciw::decode(big.data(), big.size(), back, why));
  CHECK(why == ciw::Drop::Oversized);
}

TEST_CASE("central index: a server and 4 real peers and searches return exactly the brute-force providers" *
          doctest::test_suite("net")) {
  std::map<std::string, std::vector<std::string>> shared;  // peer id -> names (the oracle's input)
  std::vector<Started> peers;
  const std::vector<std::vector<std::string>> shares = {{"song 0.mp3"},
                                                        {"song 1.mp3", "common tune"},
                                                        {"song 2.mp3", "common tune live"},
                                                        {"song 3.mp3", "common tune"},
                                                        {}};
  peers.push_back(start(shares[0]));  // the server
  for (std::size_t i = 1; i < shares.size(); ++i) {
    // Peer 2 joins through peer 1 (which answers with the server's contact), the others through the server.
    const int via = i == 2 ? peers[1].port : peers[0].port;
    peers.push_back(start(shares[i], std::to_string(via)));
    std::this_thread::sleep_for(50ms);
  }
  for (std::size_t i = 0; i < peers.size(); ++i) shared[peers[i].id] = shares[i];
  // Peer 4 shares a name after joining (registered at once).
  std::this_thread::sleep_for(300ms);
  peers[4].peer->send("share late name");
  REQUIRE(peers[4].peer->wait_for([](const json& j) { return j.value("op", "") == "share"; }, 3000ms));
  shared[peers[4].id].push_back("late name");
  // Every peer knows the server; the server's index holds every name once registered.
  std::map<std::string, std::set<std::string>> index;  // name -> providers, from what each peer shares
  for (const auto& [peer, names] : shared) {
    for (const auto& name : names) index[name].insert(peer);
  }
  bool ready = false;
  json server_index;
  for (int attempt = 0; attempt < 40 && !ready; ++attempt) {
    std::this_thread::sleep_for(100ms);
    const auto s = peers[0].peer->state();
    REQUIRE(s.has_value());
    server_index = (*s)["index"];
    ready = (*s)["role"] == "server" && server_index.size() == index.size();
  }
  REQUIRE_MESSAGE(ready, server_index.dump());
  for (const auto& [name, ids] : index) {
    std::set<std::string> got;
    for (const auto& id : server_index.value(name, json::array())) got.insert(id.get<std::string>());
    CHECK_MESSAGE(got == ids, name);
  }
  for (std::size_t i = 1; i < peers.size(); ++i) {
    const auto s = peers[i].peer->state();
    REQUIRE(s.has_value());
    CHECK((*s)["role"] == "peer");
    CHECK((*s)["server"]["id"] == peers[0].id);
  }

  struct Case {
    std::size_t from;
    std::string query;
  };
  const std::vector<Case> cases = {{4, "song"},   {4, "common tune"}, {4, "tune live"}, {4, "song 2"},
                                   {4, "absent"}, {1, "late name"},   {2, "song 0"},    {3, "MP3 Song 1"}};
  for (const auto& c : cases) {
    const auto expected = providers(shared, c.query);
    const json r = search_at(*peers[c.from].peer, c.query);
    CHECK_MESSAGE(hits_of(r) == expected, "search " << c.query << ": " << r.dump());
    CHECK(r["ok"] == !expected.empty());
    if (!expected.empty()) CHECK(expected.count(r["downloaded_from"].get<std::string>()) == 1);
  }
  CHECK(providers(shared, "song").size() == 4);  // the oracle is not trivially empty
  CHECK(providers(shared, "common tune").size() == 3);

  // Peer 3 leaves (UNREGISTER): it is no longer a provider.
  peers[3].peer->send("leave");
  CHECK(peers[3].peer->wait_exit(5000ms) == 0);
  shared.erase(peers[3].id);
  std::this_thread::sleep_for(200ms);
  const json after = search_at(*peers[4].peer, "common tune");
  CHECK(hits_of(after) == providers(shared, "common tune"));
  CHECK(hits_of(after).size() == 2);

  // 2000 random and mutated datagrams at the server: each one that does not decode is dropped and
  // counted, and the index still answers.
  ciw::Datagram query;
  query.sender = 77;
  query.type = central_index::MsgType::Search;
  query.guid = 5;
  query.name = "song";
  std::vector<std::uint8_t> seed;
  REQUIRE(ciw::encode(query, seed));
  const Garbage garbage = send_garbage(*peers[0].peer, peers[0].port, seed, 4, [](const std::vector<std::uint8_t>& b) {
    ciw::Datagram d;
    ciw::Drop why{};
    return ciw::decode(b.data(), b.size(), d, why);
  });
  CHECK(garbage.sent > 1800);
  CHECK(garbage.dropped == garbage.sent);
  const json again = search_at(*peers[4].peer, "song 2");
  CHECK(hits_of(again) == std::set<std::string>{peers[2].id});
  CHECK(again["downloaded_from"] == peers[2].id);
}

TEST_CASE("central index: a peer that joins where nobody answers exits 1 with a message" * doctest::test_suite("net")) {
  Peer p({"node", "--protocol", "central_index", "--listen", "127.0.0.1:0", "--join", "127.0.0.1:9", "--join-timeout",
          "0.5", "--quiet"});
  CHECK(p.wait_text("no answer from 127.0.0.1:9", 5000ms).has_value());
  CHECK(p.wait_exit(5000ms) == 1);
}

TEST_CASE("central index: a server restarted on its address learns the peers' files back from their keepalives" *
          doctest::test_suite("net")) {
  const std::vector<std::string> fast = {"--protocol", "central_index",  "--rpc-timeout-ms",
                                         "500",        "--keepalive-ms", "200"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = fast;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  Started server = start_node(fast);
  REQUIRE(server.peer);
  Started provider = start_node(with({"--share", "song 1.mp3"}), std::to_string(server.port));
  Started asker = start_node(fast, std::to_string(server.port));
  REQUIRE((provider.peer && asker.peer));
  std::this_thread::sleep_for(300ms);
  CHECK(hits_of(search_at(*asker.peer, "song")) == std::set<std::string>{provider.id});

  // SIGKILL, and a new server process on the same address (the same id): its index is empty.
  server.peer->kill(SIGKILL);
  const std::string address = "127.0.0.1:" + std::to_string(server.port);
  Peer restarted(
      {"node", "--protocol", "central_index", "--listen", address, "--json", "--quiet", "--keepalive-ms", "200"});
  const auto hello = restarted.wait_for([](const json& j) { return j.value("event", "") == "listening"; }, 5000ms);
  REQUIRE(hello.has_value());
  CHECK((*hello)["id"] == server.id);
  const auto t0 = Clock::now();
  std::set<std::string> hits;
  while (hits.empty() && Clock::now() - t0 < 10s) {
    hits = hits_of(search_at(*asker.peer, "song"));
    if (hits.empty()) std::this_thread::sleep_for(100ms);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  MESSAGE("the restarted server found the provider again after " << seconds << " s (keepalive 0.2 s)");
  CHECK(hits == std::set<std::string>{provider.id});
  CHECK(seconds < 3.0);  // a few keepalive periods, a search timeout
  const auto s = restarted.state();
  REQUIRE(s.has_value());
  CHECK((*s)["index"].contains("song 1.mp3"));
}

TEST_CASE("central index: 2000 forged REGISTERs of new peers and names leave the server indexing honest peers" *
          doctest::test_suite("net")) {
  // Small tables, so that the flood overfills each many times over.
  const std::vector<std::string> args = {"--protocol",       "central_index",
                                         "--rpc-timeout-ms", "500",
                                         "--keepalive-ms",   "200",
                                         "--max-contacts",   "64",
                                         "--max-names",      "64",
                                         "--max-queries",    "64"};
  auto with = [&](const std::string& name) {
    std::vector<std::string> a = args;
    a.insert(a.end(), {"--share", name});
    return a;
  };
  Started server = start_node(args);
  REQUIRE(server.peer);
  Started song = start_node(with("song 1.mp3"), std::to_string(server.port));
  Started asker = start_node(args, std::to_string(server.port));
  REQUIRE((song.peer && asker.peer));
  std::this_thread::sleep_for(300ms);
  REQUIRE(hits_of(search_at(*asker.peer, "song")) == std::set<std::string>{song.id});

  // 2,000 REGISTERs, each from a new invented peer with a new name, from 20 source addresses.
  send_paced(*server.peer, server.port, 2000, 20, 200, [](int n) {
    central_index::wire::Datagram d;
    d.sender = 0x5000'0000'0000ull + static_cast<std::uint64_t>(n);
    d.type = central_index::MsgType::Register;
    d.name = "junk " + std::to_string(n);
    std::vector<std::uint8_t> bytes;
    central_index::wire::encode(d, bytes);
    return bytes;
  });
  const auto flooded = server.peer->state();
  REQUIRE(flooded.has_value());
  MESSAGE("after the flood: contacts " << (*flooded)["contacts"] << ", replaced " << (*flooded)["contacts_replaced"]
                                       << ", over budget " << (*flooded)["contacts_over_budget"] << ", tables "
                                       << (*flooded)["tables"].dump() << ", index size " << (*flooded)["index"].size());
  CHECK(counter(*flooded, {"contacts"}) <= 64);
  CHECK(counter(*flooded, {"tables", "names"}) <= 64);
  CHECK((*flooded)["index"].contains("song 1.mp3"));  // the honest provider's keepalives keep it

  // Three keepalive periods later the forged providers are silent: a new honest provider is
  // indexed (its contact replaces a forged one), and both honest files are found.
  std::this_thread::sleep_for(800ms);
  Started film = start_node(with("film 2.avi"), std::to_string(server.port));
  REQUIRE(film.peer);
  std::set<std::string> films;
  for (int attempt = 0; attempt < 20 && films.empty(); ++attempt) {
    films = hits_of(search_at(*asker.peer, "film"));
    if (films.empty()) std::this_thread::sleep_for(100ms);
  }
  CHECK(films == std::set<std::string>{film.id});
  CHECK(hits_of(search_at(*asker.peer, "song")) == std::set<std::string>{song.id});
  const auto after = server.peer->state();
  REQUIRE(after.has_value());
  CHECK(counter(*after, {"contacts"}) <= 64);
  CHECK(counter(*after, {"contacts_replaced"}) > 0);
  CHECK(counter(*after, {"tables", "names"}) <= 64);
}
