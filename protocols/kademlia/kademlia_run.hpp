#pragma once
// Kademlia as a p2plab plug-in: reads a scenario (the contract in README.md), drives the nodes on
// the simulator, and reports lookups, stored pairs and every live node's k-buckets.
#include <memory>
#include <set>
#include <string>
#include <vector>

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

class KademliaRun final : public Run {
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
  const std::vector<std::string>& warnings() const { return warnings_; }
  /// The value a put stored, by its index in the messages.
  const std::string& value(std::uint32_t index) const { return values_[index]; }

 private:
  struct Op;
  Op parse_op(const JsonObject& e, std::set<Id>& known_ids) const;
  void schedule_scenario();
  void execute(const Op& op);
  PeerIndex random_live_peer();
  Id random_key();
  Id fresh_peer_id();
  PeerIndex add_and_join(const Id& id, PeerIndex via);
  void schedule_departure(PeerIndex peer);
  void next_in_batch(std::uint32_t batch);
  void depart(PeerIndex peer);
  std::uint32_t intern_value(const std::string& value);
  nlohmann::json record_json(const LookupRecord& r) const;

  Scenario scenario_;
  Params params_;
  Simulator<Message> sim_;
  Protocol protocol_;
  std::vector<Op> ops_;
  struct Batch {  // a "lookups" operation in progress
    std::uint64_t remaining;
    SimTime cursor, end;
  };
  std::vector<Batch> batches_;
  std::vector<Id> initial_ids_;
  std::set<Id> known_ids_;
  std::vector<std::string> values_;
  std::uint16_t op_handler_ = 0, churn_handler_ = 0, lookup_handler_ = 0, join_handler_ = 0;
  std::uint64_t address_counter_ = 0;
  std::vector<std::string> warnings_;
  bool brief_ = false;
  bool started_ = false;
  double wall_ms_ = 0;
};

/// Adds Kademlia to a registry: its runs, its view model, its benchmark (register.cpp).
void register_kademlia(ProtocolRegistry& registry);

}  // namespace p2plab::kademlia
