// Provider records on the Kademlia DHT (libp2p kad-dht's ADD_PROVIDER / GET_PROVIDERS) against
// independent truth: on random networks with crashed nodes every find_providers returns exactly
// the live providers whose records the live nodes among the true k closest hold, computed here by
// brute force from the result file (a sort of all live ids by XOR); a CID's key is the spec's
// Kademlia identifier cut to m bits; records expire without republishing (the find says why) and
// republishing keeps them; bad provider ops are refused naming the field.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "chord/chord_run.hpp"
#include "ipfs/cid.hpp"
#include "kademlia/kademlia_run.hpp"
#include "kademlia_test_util.hpp"
#include "p2plab/json_util.hpp"
#include "p2plab/scenario.hpp"
#include "test_util.hpp"

using namespace p2plab;
using test::id_of;
using test::x_or;

namespace {

std::unique_ptr<kademlia::KademliaRun> run_of(const nlohmann::json& doc) {
  auto run = std::make_unique<kademlia::KademliaRun>(parse_scenario(doc, "test.json"));
  run->run_to_end();
  return run;
}

std::set<Id> id_set(const nlohmann::json& array) {
  std::set<Id> out;
  for (const auto& j : array) out.insert(id_of(j));
  return out;
}

/// splitmix64: the test's own stream of ids, independent of the engine's Rng.
std::uint64_t next_random(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// The brute-force truth of one find_providers, from the result file: sort every live peer by
/// XOR distance to the key, take the k first, gather the providers their records name, keep the
/// live ones.
std::set<Id> expected_providers(const nlohmann::json& result, const Id& key, std::size_t k) {
  std::vector<std::pair<Id, const nlohmann::json*>> live;
  for (const auto& p : result["peers"]) live.emplace_back(id_of(p["id"]), &p);
  std::sort(live.begin(), live.end(),
            [&](const auto& a, const auto& b) { return x_or(a.first, key) < x_or(b.first, key); });
  std::set<Id> live_ids;
  for (const auto& [id, p] : live) live_ids.insert(id);
  std::set<Id> out;
  for (std::size_t i = 0; i < std::min(k, live.size()); ++i) {
    const nlohmann::json& peer = *live[i].second;
    if (!peer.contains("provider_records")) continue;
    for (const auto& r : peer["provider_records"]) {
      if (id_of(r["key"]) == key && live_ids.count(id_of(r["provider"]))) out.insert(id_of(r["provider"]));
    }
  }
  return out;
}

nlohmann::json small_network(const nlohmann::json& params, const nlohmann::json& events, int run_ms) {
  nlohmann::json ids = nlohmann::json::array();
  for (int i = 1; i <= 40; ++i) ids.push_back(i * 1601 % 65536);
  return {{"protocol", "kademlia"}, {"seed", 5},        {"params", params}, {"peers", {{"ids", ids}}},
          {"bootstrap", "oracle"},  {"run_ms", run_ms}, {"events", events}};
}

}  // namespace

TEST_CASE("kademlia providers: find_providers returns exactly the live providers at the true k closest") {
  struct Case {
    int m, k;
    std::uint64_t seed;
  };
  std::size_t finds = 0, with_providers = 0, with_down = 0;
  for (const Case& c : {Case{32, 8, 1}, Case{32, 4, 2}, Case{160, 8, 3}, Case{32, 8, 4}}) {
    CAPTURE(c.seed);
    std::uint64_t state = c.seed * 7919;
    // 300 distinct random ids (decimal strings: m = 160 does not fit a JSON number).
    std::set<Id> used;
    std::vector<Id> ids;
    while (ids.size() < 300) {
      Id id;
      for (auto& limb : id.limb) limb = next_random(state);
      id = id.low_bits(c.m);
      if (used.insert(id).second) ids.push_back(id);
    }
    auto pick = [&] { return ids[next_random(state) % ids.size()].to_decimal(); };
    nlohmann::json events = nlohmann::json::array();
    // Six keys, 1 to 3 providers each (a provider may announce several).
    std::string last_provider;
    for (int key = 0; key < 6; ++key) {
      for (int p = 0; p <= key % 3; ++p) {
        last_provider = pick();
        events.push_back({{"at_ms", 1000 + 10 * p},
                          {"op", "provide"},
                          {"from", last_provider},
                          {"name", test::numbered("file-", key)}});
      }
    }
    // About 10% crash, holders of records among them, and one provider of file-5 for sure.
    events.push_back({{"at_ms", 4000}, {"op", "fail"}, {"peer", last_provider}});
    for (int i = 0; i < 30; ++i) events.push_back({{"at_ms", 4000}, {"op", "fail"}, {"peer", pick()}});
    for (int key = 0; key < 6; ++key) {
      for (int f = 0; f < 4; ++f) {
        events.push_back({{"at_ms", 6000 + 100 * f},
                          {"op", "find_providers"},
                          {"from", pick()},
                          {"name", test::numbered("file-", key)}});
      }
    }
    const nlohmann::json doc = {{"protocol", "kademlia"},
                                {"seed", c.seed},
                                {"params", {{"m", c.m}, {"k", c.k}, {"alpha", 3}}},
                                {"peers",
                                 {{"ids",
                                   [&] {
                                     nlohmann::json a = nlohmann::json::array();
                                     for (const Id& id : ids) a.push_back(id.to_decimal());
                                     return a;
                                   }()}}},
                                {"bootstrap", "oracle"},
                                {"run_ms", 9000},
                                {"events", events}};
    auto run = run_of(doc);
    const nlohmann::json result = run->result();
    std::set<Id> live;
    for (const auto& p : result["peers"]) live.insert(id_of(p["id"]));
    REQUIRE(result["provides"].size() == 12);
    for (const auto& p : result["provides"]) CHECK(p["ok"].get<bool>());  // announced at the true k closest
    for (const auto& f : result["find_providers"]) {                      // (the driver skips a crashed finder's)
      CAPTURE(f.dump());
      ++finds;
      const std::set<Id> expected = expected_providers(result, id_of(f["key"]), static_cast<std::size_t>(c.k));
      std::set<Id> found_live, down;
      for (const Id& p : id_set(f["providers"])) (live.count(p) ? found_live : down).insert(p);
      CHECK(found_live == expected);
      CHECK(id_set(f["providers_down"]) == down);
      CHECK(f["ok"].get<bool>() == (found_live == expected));
      CHECK(f["found"].get<bool>() == !expected.empty());
      with_providers += !expected.empty();
      with_down += !down.empty();
    }
  }
  MESSAGE("finds checked: " << finds << ", with a live provider: " << with_providers
                            << ", with a crashed provider still listed: " << with_down);
  CHECK(finds >= 70);                 // most finders survive the crashes
  CHECK(with_providers > finds / 2);  // not vacuous: most keys keep a live provider
  CHECK(with_down > 0);               // a crashed provider's record is still served
}

TEST_CASE("kademlia providers: a CID's key is the spec's Kademlia identifier cut to m bits") {
  // The IPFS kad-dht spec's example: the CID's multihash hashed with sha2-256.
  const std::string cid = "bafybeihfg3d7rdltd43u3tfvncx7n5loqofbsobojcadtmokrljfthuc7y";
  const std::string identifier = "d623250f3f660ab4c3a53d3c97b3f6a0194c548053488d093520206248253bcb";
  const Id first_160 = test::Big::from_hex(identifier.substr(0, 40)).to_id();
  std::string digest;
  for (std::size_t i = 0; i < identifier.size(); i += 2) {
    digest.push_back(static_cast<char>(std::stoi(identifier.substr(i, 2), nullptr, 16)));
  }
  CHECK(kademlia::key_from_digest(digest, 160) == first_160);
  CHECK(kademlia::key_from_digest(digest, 8) == Id(0xd6));
  CHECK(kademlia::key_from_digest(digest, 12) == Id(0xd62));
  // Through the scenario: provide by CID, find by CID, and the key reported is the same.
  nlohmann::json params = {{"m", 160}, {"k", 4}};
  auto doc = small_network(params,
                           {{{"at_ms", 100}, {"op", "provide"}, {"from", 1601}, {"cid", cid}},
                            {{"at_ms", 2000}, {"op", "find_providers"}, {"from", 3202}, {"cid", cid}}},
                           3000);
  const nlohmann::json result = run_of(doc)->result();
  REQUIRE(result["find_providers"].size() == 1);
  CHECK(id_of(result["provides"][0]["key"]) == first_160);
  CHECK(id_of(result["find_providers"][0]["key"]) == first_160);
  CHECK(id_set(result["find_providers"][0]["providers"]) == std::set<Id>{Id(1601)});
  CHECK(result["find_providers"][0]["ok"].get<bool>());
  // The CIDv0 of the same block ("Qm...": the bare multihash) names the same record.
  ipfs::Cid v0 = ipfs::parse_cid(cid);
  v0.version = 0;
  REQUIRE(v0.to_string().substr(0, 2) == "Qm");
  doc["events"][1]["cid"] = v0.to_string();
  const nlohmann::json by_v0 = run_of(doc)->result();
  CHECK(id_of(by_v0["find_providers"][0]["key"]) == first_160);
  CHECK(id_set(by_v0["find_providers"][0]["providers"]) == std::set<Id>{Id(1601)});
}

TEST_CASE("kademlia providers: records expire without republishing and republishing keeps them") {
  const nlohmann::json events = {{{"at_ms", 1000}, {"op", "provide"}, {"from", 1601}, {"name", "paper.pdf"}},
                                 {{"at_ms", 1000}, {"op", "provide"}, {"from", 4803}, {"name", "paper.pdf"}},
                                 {{"at_ms", 5000}, {"op", "find_providers"}, {"from", 8005}, {"name", "paper.pdf"}},
                                 {{"at_ms", 10000}, {"op", "fail"}, {"peer", 4803}},
                                 {{"at_ms", 12000}, {"op", "find_providers"}, {"from", 8005}, {"name", "paper.pdf"}},
                                 {{"at_ms", 40000}, {"op", "find_providers"}, {"from", 9606}, {"name", "paper.pdf"}}};
  const auto providers_of = [](const nlohmann::json& f) { return id_set(f["providers"]); };
  SUBCASE("without republishing every record is gone after provider_expire_ms") {
    const nlohmann::json result =
        run_of(small_network({{"m", 16}, {"k", 4}, {"provider_expire_ms", 20000}, {"provider_republish_ms", 0}}, events,
                             45000))
            ->result();
    const auto& f = result["find_providers"];
    REQUIRE(f.size() == 3);
    CHECK(providers_of(f[0]) == std::set<Id>{Id(1601), Id(4803)});
    CHECK(f[0]["found"].get<bool>());
    // The crashed provider's record is still served, marked down.
    CHECK(providers_of(f[1]) == std::set<Id>{Id(1601), Id(4803)});
    CHECK(id_set(f[1]["providers_down"]) == std::set<Id>{Id(4803)});
    CHECK(f[1]["ok"].get<bool>());
    // At 40 s the records written at 1 s (valid 20 s) are gone: the find fails and says why.
    CHECK(f[2]["providers"].empty());
    CHECK_FALSE(f[2]["found"].get<bool>());
    CHECK(f[2].value("reason", std::string()).find("expired") != std::string::npos);
    CHECK(f[2]["ok"].get<bool>());  // the brute force agrees: nobody holds a record
    for (const auto& p : result["peers"]) CHECK_FALSE(p.contains("provider_records"));
    CHECK(result["metrics"]["provider_records"].get<int>() == 0);
  }
  SUBCASE("republishing every 8 s keeps the live provider findable") {
    const nlohmann::json result =
        run_of(small_network({{"m", 16}, {"k", 4}, {"provider_expire_ms", 20000}, {"provider_republish_ms", 8000}},
                             events, 45000))
            ->result();
    const auto& f = result["find_providers"];
    REQUIRE(f.size() == 3);
    // The crashed provider no longer republishes: its records expired; the live one's stay.
    CHECK(providers_of(f[2]) == std::set<Id>{Id(1601)});
    CHECK(f[2]["found"].get<bool>());
    CHECK(f[2]["ok"].get<bool>());
    // Records renewed by the last announcement (at 1 s + 5 x 8 s = 41 s) expire 20 s later.
    int held = 0;
    for (const auto& p : result["peers"]) {
      if (!p.contains("provider_records")) continue;
      for (const auto& r : p["provider_records"]) {
        ++held;
        CHECK(id_of(r["provider"]) == Id(1601));
        CHECK(r["expires_ms"].get<double>() > 45000);
      }
    }
    CHECK(held == 4);  // the k closest
    CHECK(result["metrics"]["provider_records"].get<int>() == 4);
    // Announcements: 1601 at 1, 9, 17, 25, 33, 41 s, 4803 at 1 and 9 s (crashed at 10 s); each
    // sends ADD_PROVIDER to the k = 4 closest, 3 when it is one of them itself.
    CHECK(result["metrics"]["messages_by_type"]["ADD_PROVIDER"]["sent"].get<int>() >= 8 * 3);
  }
}

TEST_CASE("kademlia providers: bad provider ops are refused naming the field") {
  auto error_of = [](nlohmann::json events) -> std::string {
    for (auto& e : events) e["at_ms"] = 1;
    try {
      kademlia::KademliaRun run(parse_scenario(small_network({{"m", 16}, {"k", 4}}, events, 1000), "test.json"));
    } catch (const ScenarioError& e) {
      return e.what();
    }
    return "";
  };
  CHECK(error_of({{{"op", "provide"}, {"from", 1601}, {"name", "a"}}}).empty());
  CHECK(error_of({{{"op", "provide"}, {"name", "a"}}}).find("events[0].from") != std::string::npos);
  CHECK(error_of({{{"op", "provide"}, {"from", 1601}}}).find("events[0].key") != std::string::npos);
  CHECK(error_of({{{"op", "provide"}, {"from", 1601}, {"key", 3}, {"cid", "QmX"}}}).find("events[0].cid") !=
        std::string::npos);
  const std::string bad_cid = error_of({{{"op", "find_providers"}, {"from", 1601}, {"cid", "Qm123"}}});
  CHECK(bad_cid.find("events[0].cid") != std::string::npos);
  CHECK(bad_cid.find("not a CID") != std::string::npos);
  CHECK(error_of({{{"op", "find_providers"}, {"from", 1601}, {"name", "a"}, {"count", 3}}}).find("events[0].count") !=
        std::string::npos);
  CHECK(error_of({{{"op", "find_providers"}, {"from", 7}, {"name", "a"}}}).find("events[0].from") != std::string::npos);
  CHECK(error_of({{{"op", "provides"}, {"from", 1601}}}).find("provide, find_providers") != std::string::npos);
  nlohmann::json doc = small_network({{"m", 16}, {"provider_expire_ms", 0}}, nlohmann::json::array(), 1000);
  try {
    kademlia::KademliaRun run(parse_scenario(doc, "test.json"));
    FAIL("provider_expire_ms 0 accepted");
  } catch (const ScenarioError& e) {
    CHECK(std::string(e.what()).find("params.provider_expire_ms") != std::string::npos);
  }
  // The extension stays Kademlia's: a Chord scenario does not know the op.
  nlohmann::json chord = {{"protocol", "chord"},
                          {"params", {{"m", 8}}},
                          {"peers", {{"ids", {1, 50, 100}}}},
                          {"events", {{{"at_ms", 1}, {"op", "provide"}, {"from", 1}, {"name", "a"}}}}};
  try {
    test::make_chord_run(chord);
    FAIL("a chord scenario accepted provide");
  } catch (const ScenarioError& e) {
    CHECK(std::string(e.what()).find("events[0].op") != std::string::npos);
  }
}
