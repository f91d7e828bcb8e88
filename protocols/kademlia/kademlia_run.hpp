#pragma once
// Kademlia as a p2plab plug-in: reads a scenario (the contract in README.md), drives the nodes on
// the simulator, and reports lookups, stored pairs and every live node's k-buckets.
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/dht_scenario.hpp"
#include "kademlia.hpp"
#include "p2plab/json_util.hpp"
#include "p2plab/registry.hpp"
#include "p2plab/simulator.hpp"

namespace p2plab::kademlia {

// Positions in the model's link kinds and roles (register.cpp).
constexpr std::uint8_t kBucketLink = 0, kReplacementLink = 1;
constexpr std::uint8_t kNodeRole = 0, kJoiningRole = 1;

/// Reads `params` of a Kademlia scenario (every field optional; errors name the field).
Params parse_params(const Scenario& scenario);

/// The m-bit key of a 256-bit digest: its first m bits, read big-endian (kad-dht compares whole
/// 256-bit ids from the top bit, so the first bits are the ones that decide closeness).
/// Worked example: digest d6 23 25 0f ..., m = 8 -> 0xd6 = 214; m = 12 -> 0xd62 = 3426.
Id key_from_digest(std::string_view digest, int m);
/// The key of a provider record for a CID's text ("Qm...", "bafy..."): key_from_digest of its
/// Kademlia identifier (ipfs/cid.hpp). A bad CID throws a ScenarioError naming `field`.
Id key_of_cid(const JsonObject& op, const std::string& field, int m);

/// One node as the views show it: a link per bucket contact (index = bucket i), the k-buckets
/// as a table (one row per contact, least recently seen first, then the replacement cache), the
/// stored pairs. `name` prints a peer's id.
PeerView peer_view(const PeerSnapshot& s, PeerState state, int bits, const std::function<std::string(PeerIndex)>& name);

/// A node added by the scenario driver (DhtHooks::start_peer): it starts the network alone
/// (via == kNoPeer) or joins through `via`, then starts its periodic tasks.
void start_node(Protocol& protocol, PeerIndex peer, PeerIndex via);
/// The op "set" on Kademlia's run-time parameters (alpha, capped at k; rpc_timeout_ms); returns a
/// warning ("alpha 9 is more than k = 4; alpha set to 4") or "".
std::string set_run_param(Params& params, const std::string& name, double value);

class KademliaRun final : public Run, private dht::DhtHooks {
 public:
  explicit KademliaRun(const Scenario& scenario);
  ~KademliaRun() override;

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
  bool holds(PeerIndex peer, const Id& key) const override;
  void set_brief(bool brief) override { brief_ = brief; }
  StateSize state_size() const override;
  std::vector<SearchOutcome> requested_searches() const override;

  Protocol& protocol() { return protocol_; }
  const Protocol& protocol() const { return protocol_; }
  Simulator<Message>& sim() { return sim_; }
  const std::vector<std::string>& warnings() const { return driver_.warnings(); }
  /// The value a put stored, by its index in the messages.
  const std::string& value(std::uint32_t index) const { return values_[index]; }

 private:
  // dht::DhtHooks: what the common scenario driver asks of Kademlia.
  void reserve(std::size_t count) override { protocol_.reserve(count); }
  bool serves(PeerIndex peer) const override { return protocol_.joined(peer); }
  void start_peer(PeerIndex peer, PeerIndex via) override;
  void install_converged() override {}
  void start_converged_peer(PeerIndex peer) override;
  void lookup(PeerIndex from, const Id& key) override { protocol_.lookup(from, key); }
  void put(PeerIndex from, const Id& key, const std::string& value) override;
  void get(PeerIndex from, const Id& key) override { protocol_.get(from, key); }
  // No leave message: a leaving node just stops answering, like a crash.
  void set_param(const std::string& name, double value, const std::string& field) override;
  Id read_extra_op(const std::string& name, const JsonObject& op) override;
  void extra_op(const std::string& name, PeerIndex from, const Id& key) override;
  ProvidersCheck check_providers(PeerIndex from, const Id& key, const std::vector<PeerIndex>& found) const;
  std::uint32_t intern_value(const std::string& value);
  nlohmann::json record_json(const LookupRecord& r) const;
  /// A find_providers record: record_json plus providers, providers_down, found, reason.
  nlohmann::json providers_json(nlohmann::json j, const LookupRecord& r) const;

  Scenario scenario_;
  Params params_;
  Simulator<Message> sim_;
  Protocol protocol_;
  // Set while driver_ reads the events (read_extra_op), so declared before it: a provide or
  // find_providers op makes the result report provider records.
  bool uses_providers_ = false;
  dht::DhtScenario driver_;
  std::vector<std::string> values_;
  bool brief_ = false;
};

/// Kademlia's view model (register.cpp): geometry, link kinds, roles, operations, parameters
/// (IPFS's model starts from it).
ProtocolModel kademlia_model();

/// Adds Kademlia to a registry: its runs, its view model, its benchmark (register.cpp).
void register_kademlia(ProtocolRegistry& registry);

}  // namespace p2plab::kademlia
