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

/// One node as the views show it: a link per bucket contact (index = bucket i), the k-buckets
/// as a table (one row per contact, least recently seen first, then the replacement cache), the
/// stored pairs. `name` prints a peer's id.
PeerView peer_view(const PeerSnapshot& s, PeerState state, int bits, const std::function<std::string(PeerIndex)>& name);

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
  std::uint32_t intern_value(const std::string& value);
  nlohmann::json record_json(const LookupRecord& r) const;

  Scenario scenario_;
  Params params_;
  Simulator<Message> sim_;
  Protocol protocol_;
  dht::DhtScenario driver_;
  std::vector<std::string> values_;
  bool brief_ = false;
};

/// Adds Kademlia to a registry: its runs, its view model, its benchmark (register.cpp).
void register_kademlia(ProtocolRegistry& registry);

}  // namespace p2plab::kademlia
