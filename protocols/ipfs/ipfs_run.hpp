#pragma once
// IPFS as a p2plab plug-in: reads a scenario (the contract in README.md: Kademlia's, plus the ops
// add, provide, find_providers, fetch, corrupt, find_peer), drives the peers (bitswap.hpp) on the
// simulator and reports files, fetches, provider and peer records, and every peer's blocks.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bitswap.hpp"
#include "common/dht_scenario.hpp"
#include "dag_builder.hpp"
#include "p2plab/registry.hpp"

namespace p2plab::ipfs {

// Positions in the model's roles (register.cpp); link kinds are Kademlia's.
constexpr std::uint8_t kNodeRole = 0, kJoiningRole = 1, kHolderRole = 2, kCorruptRole = 3;

/// A file some `add` op put on the network: its bytes (the fetch oracle compares with them), its
/// DAG and where it was added.
/// The root of a file that could not be added: no CID.
constexpr std::uint32_t kNoCid = 0xffffffffu;

struct AddedFile {
  std::string name;
  std::string field;  // "events[2]": the add op that made it
  Bytes content;
  ImportOptions options;
  std::uint32_t root = kNoCid;  // CID index
  /// Why the file could not be added (the exercise's code gave no valid DAG), or "".
  std::string error;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> blocks;  // distinct (cid, payload), root first
  std::vector<DagNode> nodes;                                   // the same blocks, decoded
  std::uint64_t chunks = 0;
  int depth = 0;
};

class IpfsRun final : public Run, private dht::DhtHooks {
 public:
  explicit IpfsRun(const Scenario& scenario);
  ~IpfsRun() override;

  using Run::simulator;
  SimulatorCore& simulator() override { return sim_; }
  const Scenario& scenario() const override { return scenario_; }
  int id_bits() const override { return params_.m; }
  TraceVocabulary vocabulary() const override;
  void start() override;
  void act(const nlohmann::json& op) override;
  void run_to_end() override;
  RunSummary summary() const override;
  nlohmann::json result() const override;
  PeerView inspect(PeerIndex peer) const override;
  std::vector<std::uint32_t> messages_per_search() const override;
  std::string narrate(const TraceEvent& event) const override;
  SearchView inspect_search(const TraceEvent& start) const override;
  void set_brief(bool brief) override { brief_ = brief; }
  StateSize state_size() const override;
  std::vector<SearchOutcome> requested_searches() const override;

  Node& node() { return node_; }
  const Node& node() const { return node_; }
  Simulator<Message>& sim() { return sim_; }
  const std::vector<AddedFile>& files() const { return files_; }
  const std::vector<std::string>& warnings() const { return driver_.warnings(); }
  /// What the fetch oracle said of fetch i (index in node().fetches()): the bytes read back from
  /// the fetcher's store equal the added file's.
  struct FetchCheck {
    bool ok = false;
    bool content_known = false;  // the root is a file added in this scenario
    std::string reason;
    std::string file;  // its name
  };
  const std::vector<FetchCheck>& fetch_checks() const { return checks_; }

 private:
  // One of IPFS's own ops, read when the scenario loads; DhtHooks passes its index back as the
  // op's "key" (an op handle, not a DHT key).
  struct IpfsOp {
    std::string name;
    std::optional<std::size_t> file;  // add, or an op naming "file"
    std::uint32_t cid = 0;            // provide, find_providers, fetch: the root's CID index
    bool provide = false;             // add, fetch: announce the root afterwards
    Id peer;                          // find_peer: the peer looked for
  };
  struct AddRecord {  // an add op carried out
    SimTime at = 0;
    PeerIndex peer = kNoPeer;
    std::size_t file = 0;
    std::uint32_t new_blocks = 0, held_blocks = 0;  // stored now / already in the peer's store
    std::uint64_t new_bytes = 0;
  };
  struct PeerQuery {  // a find_peer in progress or done
    std::uint32_t lookup = 0;
    PeerIndex from = kNoPeer, target = kNoPeer;
    bool done = false, found = false;
    int rounds = 0;
    SimTime start = 0, end = 0;
  };

  // dht::DhtHooks
  void reserve(std::size_t count) override { node_.dht().reserve(count); }
  bool serves(PeerIndex peer) const override { return node_.dht().joined(peer); }
  void start_peer(PeerIndex peer, PeerIndex via) override;
  void install_converged() override {}
  void start_converged_peer(PeerIndex peer) override;
  void lookup(PeerIndex from, const Id& key) override { node_.dht().lookup(from, key); }
  void put(PeerIndex from, const Id& key, const std::string& value) override;
  void get(PeerIndex from, const Id& key) override { node_.dht().get(from, key); }
  void set_param(const std::string& name, double value, const std::string& field) override;
  Id read_extra_op(const std::string& name, const JsonObject& op) override;
  void extra_op(const std::string& name, PeerIndex from, const Id& key) override;

  std::size_t read_add(const JsonObject& op);
  std::uint32_t read_root(const JsonObject& op, IpfsOp& out);
  Id dht_key(std::uint32_t cid) const;
  void on_fetch_done(const FetchRecord& f);
  std::string short_cid(std::uint32_t cid) const;
  TableView dag_table(const AddedFile& f, PeerIndex peer) const;
  std::string peer_name(PeerIndex p) const;

  Scenario scenario_;
  BitswapParams bitswap_;  // before params_: parse_params fills both
  kademlia::Params params_;
  Simulator<Message> sim_;
  BlockTable blocks_;
  Node node_;
  std::vector<AddedFile> files_;
  std::vector<IpfsOp> ops_;
  std::vector<AddRecord> adds_;
  std::vector<FetchCheck> checks_;
  std::vector<bool> fetch_provides_;  // per fetch: announce the root when complete
  std::vector<PeerQuery> peer_queries_;
  std::map<std::uint32_t, std::size_t> peer_query_of_lookup_;
  std::vector<std::string> values_;
  LookupStats fetch_stats_;
  bool brief_ = false;
  dht::DhtScenario driver_;  // last: it reads the events (read_extra_op) when constructed
};

/// The "params" of an IPFS scenario: Kademlia's (kademlia_run.hpp), and Bitswap's
/// block_timeout_ms and upload_mbps into `bitswap`.
kademlia::Params parse_params(const Scenario& scenario, BitswapParams& bitswap);

/// Adds IPFS to a registry (register.cpp).
void register_ipfs(ProtocolRegistry& registry);

}  // namespace p2plab::ipfs
