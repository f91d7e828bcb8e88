// IPFS on the simulated network (protocols/ipfs/bitswap.hpp, ipfs_run.hpp) against independent
// truth: a fetched file, read back here from the fetcher's blocks by the test's own DAG walk,
// equals the bytes the test made; the providers a fetch finds are exactly the live providers
// whose records the true k closest hold (a sort of every live id by XOR, here); once every
// provider is gone and its records expired a fetch fails and says why; a corrupted provider's
// blocks are rejected (they do not hash to their CIDs) and the fetch completes from an honest
// one; two files sharing chunks are stored once where they share. Bad ops name their field.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ipfs/dag_pb.hpp"
#include "ipfs/ipfs_run.hpp"
#include "ipfs/multihash.hpp"
#include "ipfs/unixfs.hpp"
#include "kademlia/kademlia_run.hpp"
#include "p2plab/scenario.hpp"

using namespace p2plab;
using ipfs::IpfsRun;

namespace {

std::unique_ptr<IpfsRun> run_of(const nlohmann::json& doc) {
  auto run = std::make_unique<IpfsRun>(parse_scenario(doc, "test.json"));
  run->run_to_end();
  return run;
}

/// A scenario on `ids` (m = 16, k = 4, alpha = 2, latencies 10-60 ms) with `events`.
nlohmann::json scenario(const std::vector<int>& ids, nlohmann::json events, nlohmann::json params = {}) {
  nlohmann::json p = {{"m", 16}, {"k", 4}, {"alpha", 2}, {"block_timeout_ms", 500}};
  for (const auto& [key, value] : params.items()) p[key] = value;
  return {{"protocol", "ipfs"},
          {"seed", 3},
          {"params", p},
          {"network", {{"latency", {{"model", "uniform"}, {"min_ms", 10}, {"max_ms", 60}}}}},
          {"peers", {{"ids", ids}}},
          {"bootstrap", "oracle"},
          {"events", events},
          {"run_ms", 30000}};
}

std::vector<int> spread_ids(int count) {
  std::vector<int> ids;
  for (int i = 0; i < count; ++i) ids.push_back(1 + i * (65535 / count));
  return ids;
}

/// The test's own bytes: letters from an LCG (valid JSON text), not the run's generator.
std::string letters(std::size_t size, std::uint32_t seed) {
  std::string out(size, 'a');
  for (char& c : out) {
    seed = seed * 1664525u + 1013904223u;
    c = static_cast<char>('a' + (seed >> 24) % 26);
  }
  return out;
}

/// The file below `root` as the test reads it from `peer`'s store: each block checked against its
/// CID here, the leaves' data concatenated depth first (raw leaves, or UnixFS Data).
bool read_back(const IpfsRun& run, PeerIndex peer, const ipfs::Cid& cid, std::string& out) {
  const auto& store = run.node().store_of(peer);
  const ipfs::Bytes* bytes = nullptr;
  for (const auto& [c, payload] : store) {
    if (run.node().blocks().cid(c) == cid) bytes = &run.node().blocks().payload(payload);
  }
  if (!bytes || ipfs::sha2_256(*bytes) != cid.hash) return false;
  if (cid.codec == ipfs::kRaw) {
    out += *bytes;
    return true;
  }
  const ipfs::PbNode node = ipfs::decode_pb_node(*bytes);
  const ipfs::UnixfsData data = ipfs::decode_unixfs(node.data.value());
  if (data.data) out += *data.data;
  for (const ipfs::PbLink& link : node.links) {
    if (!read_back(run, peer, link.hash, out)) return false;
  }
  return true;
}

Id xor_of(const Id& a, const Id& b) { return kademlia::xor_distance(a, b); }

}  // namespace

TEST_CASE("ipfs net: a fetched file equals the bytes added, for every DAG shape") {
  struct Shape {
    std::size_t size;
    nlohmann::json options;
  };
  const std::vector<Shape> shapes = {
      {0, {}},
      {11, {}},
      {262145, {}},                                                           // 2 chunks + root
      {600000, {{"profile", "unixfs-v1-2025"}, {"chunk_size", 100000}}},      // raw leaves, CIDv1
      {30000, {{"chunk_size", 1000}, {"max_links", 4}, {"cid_version", 1}}},  // depth 3
  };
  const std::vector<int> ids = spread_ids(24);
  nlohmann::json events = nlohmann::json::array();
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    nlohmann::json add = {{"at_ms", 100},
                          {"op", "add"},
                          {"from", ids[i]},
                          {"name", "f" + std::to_string(i)},
                          {"content", letters(shapes[i].size, static_cast<std::uint32_t>(i + 1))}};
    for (const auto& [key, value] : shapes[i].options.items()) add[key] = value;
    events.push_back(add);
    events.push_back(
        {{"at_ms", 2000}, {"op", "fetch"}, {"from", ids[ids.size() - 1 - i]}, {"file", "f" + std::to_string(i)}});
  }
  const auto run = run_of(scenario(ids, events));
  REQUIRE(run->node().fetches().size() == shapes.size());
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    CAPTURE(i);
    const ipfs::FetchRecord& f = run->node().fetches()[i];
    const ipfs::AddedFile& file = run->files()[i];
    CHECK(f.complete);
    CHECK(run->fetch_checks()[i].ok);
    CHECK(f.blocks == file.blocks.size());  // every distinct block came once
    std::string back;
    REQUIRE(read_back(*run, f.from, run->node().blocks().cid(f.root), back));
    CHECK(back == letters(shapes[i].size, static_cast<std::uint32_t>(i + 1)));
  }
  CHECK(run->files()[4].depth == 3);  // 30 chunks under 4 links per node: 30 -> 8 -> 2 -> 1
  const nlohmann::json result = run->result();
  CHECK(result["metrics"]["fetches_ok"] == shapes.size());
  CHECK(result == run_of(scenario(ids, events))->result());  // one seed, one result
}

TEST_CASE("ipfs net: a fetch finds exactly the live providers the true k closest hold") {
  // 120 peers, m = 16, k = 4; five providers of one file, 15% of the peers crash after the
  // announcements, then fetches from ten peers.
  const std::vector<int> ids = spread_ids(120);
  nlohmann::json events = nlohmann::json::array();
  for (int i = 0; i < 5; ++i) {
    events.push_back({{"at_ms", 100 + 10 * i},
                      {"op", "add"},
                      {"from", ids[static_cast<std::size_t>(i * 23)]},
                      {"name", "copy" + std::to_string(i)},
                      {"size", 20000},
                      {"seed", 9}});
  }
  events.push_back({{"at_ms", 3000}, {"op", "fail_fraction"}, {"fraction", 0.15}});
  for (int i = 0; i < 10; ++i) {
    events.push_back({{"at_ms", 5000 + 300 * i},
                      {"op", "fetch"},
                      {"from", ids[static_cast<std::size_t>(7 + 11 * i)]},
                      {"file", "copy0"}});
  }
  const auto run = run_of(scenario(ids, events));
  const SimulatorCore& sim = run->sim();
  const Id key =
      kademlia::key_from_digest(ipfs::kademlia_identifier(run->node().blocks().cid(run->files()[0].root)), 16);
  std::size_t checked = 0;
  for (const ipfs::FetchRecord& f : run->node().fetches()) {
    if (!sim.is_up(f.from)) continue;
    // Brute force: every live peer by XOR distance to the key, the k = 4 first, their records.
    std::vector<PeerIndex> live;
    for (PeerIndex p = 0; p < sim.peer_count(); ++p) {
      if (sim.is_up(p)) live.push_back(p);
    }
    std::sort(live.begin(), live.end(),
              [&](PeerIndex a, PeerIndex b) { return xor_of(sim.peer_id(a), key) < xor_of(sim.peer_id(b), key); });
    std::set<PeerIndex> expected, found;
    for (std::size_t j = 0; j < 4 && j < live.size(); ++j) {
      for (PeerIndex p : run->node().dht().providers_at(live[j], key)) {
        if (sim.is_up(p) && p != f.from) expected.insert(p);
      }
    }
    for (PeerIndex p : f.providers) {
      if (sim.is_up(p)) found.insert(p);
    }
    CHECK(found == expected);
    CHECK(expected.size() >= 1);
    CHECK(run->fetch_checks()[f.serial - 1].ok);
    ++checked;
  }
  CHECK(checked >= 7);
}

TEST_CASE("ipfs net: with every provider gone and its records expired, a fetch fails and says why") {
  // Records valid 4 s, never announced again; the two providers crash at 2 s and leave at 2.5 s.
  const std::vector<int> ids = spread_ids(30);
  const nlohmann::json events = {
      {{"at_ms", 100}, {"op", "add"}, {"from", ids[3]}, {"name", "a"}, {"size", 300000}},
      {{"at_ms", 100}, {"op", "add"}, {"from", ids[17]}, {"name", "b"}, {"size", 300000}},
      {{"at_ms", 1500}, {"op", "fetch"}, {"from", ids[25]}, {"file", "a"}},
      {{"at_ms", 2000}, {"op", "fail"}, {"peer", ids[3]}},
      {{"at_ms", 2500}, {"op", "leave"}, {"peer", ids[17]}},
      {{"at_ms", 3000}, {"op", "fetch"}, {"from", ids[8]}, {"file", "a"}},
      {{"at_ms", 8000}, {"op", "fetch"}, {"from", ids[9]}, {"file", "a"}},
  };
  const auto run = run_of(scenario(ids, events, {{"provider_expire_ms", 4000}, {"provider_republish_ms", 0}}));
  const auto& fetches = run->node().fetches();
  REQUIRE(fetches.size() == 3);
  CHECK(run->fetch_checks()[0].ok);  // before: found and fetched
  // Records still valid, providers down: found, but nobody answers.
  CHECK_FALSE(fetches[1].complete);
  CHECK(fetches[1].providers.size() == 2);
  CHECK(fetches[1].timeouts >= 2);
  CHECK(fetches[1].reason.find("every provider found is down") != std::string::npos);
  // Records expired: nothing to find.
  CHECK_FALSE(fetches[2].complete);
  CHECK(fetches[2].providers.empty());
  CHECK(fetches[2].reason.find("no provider found") != std::string::npos);
  CHECK(run->node().store_of(fetches[2].from).empty());
  const nlohmann::json result = run->result();
  CHECK(result["fetches"][2]["ok"] == false);
  CHECK(result["fetches"][2]["reason"].get<std::string>().find("expired") != std::string::npos);
}

TEST_CASE("ipfs net: a corrupted provider's blocks are rejected and the fetch completes from an honest one") {
  const std::vector<int> ids = spread_ids(30);
  nlohmann::json events = {
      {{"at_ms", 100}, {"op", "add"}, {"from", ids[4]}, {"name", "a"}, {"size", 1048576}},
      {{"at_ms", 100}, {"op", "add"}, {"from", ids[20]}, {"name", "a-again"}, {"size", 1048576}},
      {{"at_ms", 200}, {"op", "corrupt"}, {"from", ids[20]}},
      {{"at_ms", 100}, {"op", "add"}, {"from", ids[11]}, {"name", "only-bad"}, {"size", 5000}, {"seed", 77}},
      {{"at_ms", 200}, {"op", "corrupt"}, {"from", ids[11]}},
  };
  for (int i = 0; i < 4; ++i) {
    events.push_back(
        {{"at_ms", 2000 + 100 * i}, {"op", "fetch"}, {"from", ids[static_cast<std::size_t>(25 + i)]}, {"file", "a"}});
  }
  events.push_back({{"at_ms", 3000}, {"op", "fetch"}, {"from", ids[0]}, {"file", "only-bad"}});
  const auto run = run_of(scenario(ids, events));
  const SimulatorCore& sim = run->sim();
  const PeerIndex bad = sim.find_live(Id(static_cast<std::uint64_t>(ids[20])));
  std::uint32_t rejected = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const ipfs::FetchRecord& f = run->node().fetches()[i];
    CAPTURE(i);
    CHECK(f.complete);
    CHECK(run->fetch_checks()[i].ok);
    rejected += f.corrupted;
    for (const ipfs::FetchRecord::Arrival& a : f.arrivals) {
      // Rejected exactly when the sender is the corrupt peer.
      CHECK(a.verified == (a.from != bad));
    }
    // Every block the fetcher keeps hashes to its CID.
    for (const auto& [cid, payload] : run->node().store_of(f.from)) {
      CHECK(ipfs::sha2_256(run->node().blocks().payload(payload)) == run->node().blocks().cid(cid).hash);
    }
  }
  CHECK(rejected >= 1);
  // The inspector's DAG table of a fetcher that rejected a block says so on that block's row.
  bool marked = false;
  for (std::size_t i = 0; i < 4; ++i) {
    const ipfs::FetchRecord& f = run->node().fetches()[i];
    if (f.corrupted == 0) continue;
    const PeerView view = run->inspect(f.from);
    const auto dag =
        std::find_if(view.tables.begin(), view.tables.end(), [](const TableView& t) { return t.title == "DAG of a"; });
    REQUIRE(dag != view.tables.end());
    CHECK(dag->rows.size() == 5);  // the root and its 4 leaves
    for (const TableView::Row& row : dag->rows) {
      CHECK(row.cells[3].text.rfind("stored", 0) == 0);
      marked |= row.cells[3].text.find("rejected a corrupted copy") != std::string::npos;
    }
  }
  CHECK(marked);
  const ipfs::FetchRecord& only_bad = run->node().fetches()[4];
  CHECK_FALSE(only_bad.complete);
  CHECK(only_bad.corrupted == 1);
  CHECK(only_bad.reason.find("corrupted") != std::string::npos);
  CHECK(run->result()["metrics"]["corrupted_rejected"] == rejected + 1);
}

TEST_CASE("ipfs net: two files sharing chunks are stored once where they share") {
  // b is a with one byte changed in its last chunk: 3 of 4 leaves the same, a different root.
  const std::vector<int> ids = spread_ids(20);
  const nlohmann::json events = {
      {{"at_ms", 100}, {"op", "add"}, {"from", ids[2]}, {"name", "a"}, {"size", 1048576}, {"seed", 5}},
      {{"at_ms", 200},
       {"op", "add"},
       {"from", ids[2]},
       {"name", "b"},
       {"size", 1048576},
       {"seed", 5},
       {"change_byte", 1000000}},
      {{"at_ms", 2000}, {"op", "fetch"}, {"from", ids[15]}, {"file", "a"}},
      {{"at_ms", 6000}, {"op", "fetch"}, {"from", ids[15]}, {"file", "b"}},
  };
  const auto run = run_of(scenario(ids, events));
  const ipfs::AddedFile& a = run->files()[0];
  const ipfs::AddedFile& b = run->files()[1];
  CHECK(a.root != b.root);
  // Brute force: the distinct CIDs of both DAGs.
  std::set<std::uint32_t> distinct;
  std::size_t shared = 0;
  for (const auto& [cid, payload] : a.blocks) distinct.insert(cid);
  for (const auto& [cid, payload] : b.blocks) shared += distinct.insert(cid).second ? 0 : 1;
  CHECK(shared == 3);
  const PeerIndex adder = run->sim().find_live(Id(static_cast<std::uint64_t>(ids[2])));
  CHECK(run->node().store_of(adder).size() == distinct.size());  // 7 blocks, not 10
  const nlohmann::json result = run->result();
  CHECK(result["adds"][1]["blocks_already_held"] == 3);
  CHECK(result["adds"][1]["blocks_stored"] == 2);
  // The fetcher of both transfers only b's new blocks the second time.
  const ipfs::FetchRecord& second = run->node().fetches()[1];
  CHECK(run->fetch_checks()[1].ok);
  CHECK(second.blocks == 2);
  CHECK(second.blocks_local == 3);
  CHECK(run->node().store_of(second.from).size() == distinct.size());
}

TEST_CASE("ipfs net: with an upload rate a fetch takes the time its bytes need, and two providers share it") {
  // 1 MiB: a root and 4 leaves of 262,158 bytes; at 8 Mbit/s a leaf takes 262.158 ms to send.
  const std::vector<int> ids = spread_ids(20);
  const double leaf_ms = 262158.0 * 8 / 8e6 * 1000;
  const auto fetch_time = [&](bool two_providers) {
    nlohmann::json events = {{{"at_ms", 100}, {"op", "add"}, {"from", ids[2]}, {"name", "a"}, {"size", 1048576}},
                             {{"at_ms", 3000}, {"op", "fetch"}, {"from", ids[12]}, {"file", "a"}}};
    if (two_providers) {
      events.push_back({{"at_ms", 100}, {"op", "add"}, {"from", ids[7]}, {"name", "b"}, {"size", 1048576}});
    }
    const auto run = run_of(scenario(ids, events, {{"upload_mbps", 8}}));
    const ipfs::FetchRecord& f = run->node().fetches().at(0);
    CHECK(run->fetch_checks().at(0).ok);
    std::set<PeerIndex> senders;
    for (const auto& a : f.arrivals) senders.insert(a.from);
    CHECK(senders.size() == (two_providers ? 2u : 1u));
    return to_ms(f.end - f.start);
  };
  const double one = fetch_time(false), two = fetch_time(true);
  // One uplink sends the 4 leaves one after the other; the provider lookup and the round trips
  // for the root and the leaves (at most 60 ms a message) come on top.
  CHECK(one >= 4 * leaf_ms);
  CHECK(one <= 4 * leaf_ms + 1500);
  // Two uplinks send 2 leaves each.
  CHECK(two >= 2 * leaf_ms);
  CHECK(two <= one - leaf_ms);
}

TEST_CASE("ipfs net: a peer record (PeerID -> address) is found while the peer is up") {
  const std::vector<int> ids = spread_ids(40);
  const nlohmann::json events = {
      {{"at_ms", 500}, {"op", "find_peer"}, {"from", ids[1]}, {"peer", ids[30]}},
      {{"at_ms", 2000}, {"op", "fail"}, {"peer", ids[30]}},
      {{"at_ms", 2500}, {"op", "find_peer"}, {"from", ids[2]}, {"peer", ids[30]}},
      {{"at_ms", 3000}, {"op", "find_peer"}, {"from", ids[2]}, {"peer", 7}},  // never existed
  };
  const auto run = run_of(scenario(ids, events));
  const nlohmann::json records = run->result()["peer_records"];
  REQUIRE(records.size() == 2);
  CHECK(records[0]["found"] == true);
  // The address is the simulated peer's: 10.x.y.z from its index (the test's own arithmetic).
  PeerIndex target = kNoPeer;
  for (PeerIndex p = 0; p < run->sim().peer_count(); ++p) {
    if (run->sim().peer_id(p) == Id(static_cast<std::uint64_t>(ids[30]))) target = p;
  }
  REQUIRE(target != kNoPeer);
  CHECK(records[0]["addresses"][0] == "/ip4/10.0.0." + std::to_string(target) + "/udp/4001/quic-v1");
  CHECK(records[1]["found"] == false);  // down: it is not among the closest that answer
  CHECK(run->warnings().size() == 1);
}

TEST_CASE("ipfs net: bad ops and parameters are refused naming the field") {
  const std::vector<int> ids = spread_ids(8);
  const auto refused = [&](nlohmann::json events, const std::string& field, nlohmann::json params = {}) {
    for (auto& e : events) e["at_ms"] = 10;
    CAPTURE(events.dump());
    CHECK_THROWS_WITH_AS(IpfsRun(parse_scenario(scenario(ids, events, params), "bad.json")),
                         doctest::Contains(field.c_str()), ScenarioError);
  };
  refused({{{"op", "add"}, {"from", ids[0]}}}, "events[0].size");
  refused({{{"op", "add"}, {"from", ids[0]}, {"size", 10}, {"content", "x"}}}, "events[0].size");
  refused({{{"op", "add"}, {"from", ids[0]}, {"size", 10}, {"change_byte", 10}}}, "events[0].change_byte");
  refused({{{"op", "add"}, {"from", ids[0]}, {"size", 10}, {"chunk_size", 0}}}, "events[0].chunk_size");
  refused({{{"op", "add"}, {"from", ids[0]}, {"size", 10}, {"profile", "v9"}}}, "events[0].profile");
  refused({{{"op", "add"}, {"from", ids[0]}, {"size", 10}, {"name", "a"}},
           {{"op", "add"}, {"from", ids[1]}, {"size", 10}, {"name", "a"}}},
          "events[1].name");
  refused({{{"op", "fetch"}, {"from", ids[0]}, {"file", "none"}}}, "events[0].file");
  refused({{{"op", "fetch"}, {"from", ids[0]}, {"cid", "Qmnope"}}}, "events[0].cid");
  refused({{{"op", "fetch"}, {"from", ids[0]}}}, "events[0].cid");
  refused({{{"op", "fetch"}, {"from", ids[0]}, {"cid", "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"}, {"size", 1}}},
          "events[0].size");
  refused({{{"op", "corrupt"}}}, "events[0].from");
  refused({{{"op", "find_peer"}, {"from", ids[0]}}}, "events[0].peer");
  refused(nlohmann::json::array(), "params.bogus", {{"bogus", 1}});
  refused(nlohmann::json::array(), "params.k", {{"k", 0}});
  refused(nlohmann::json::array(), "params.upload_mbps", {{"upload_mbps", -1}});
}
