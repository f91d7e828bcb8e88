#pragma once
// Pastry as a p2plab plug-in: reads a scenario, drives the protocol on the simulator, reports.
#include <set>
#include <string>
#include <vector>

#include "p2plab/json_util.hpp"
#include "p2plab/registry.hpp"
#include "p2plab/simulator.hpp"
#include "pastry.hpp"

namespace p2plab::pastry {

// Positions in the model's link kinds and roles (register.cpp).
constexpr std::uint8_t kNextLink = 0, kLeafLink = 1, kTableLink = 2, kNeighbourLink = 3;
constexpr std::uint8_t kPeerRole = 0;

/// Reads `params` of a Pastry scenario (every field optional; errors name the field).
Params parse_params(const Scenario& scenario);

/// The live peer numerically closest to key (brute force over the sorted live ids; equal
/// distances: the smaller id), skipping `except`; kNoPeer if none.
PeerIndex closest_live(const SimulatorCore& sim, const Digits& digits, const Id& key, PeerIndex except = kNoPeer);

class PastryRun final : public Run {
 public:
  explicit PastryRun(const Scenario& scenario);
  ~PastryRun() override;

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
  PeerView inspect_links(PeerIndex peer) const override;
  std::vector<std::uint32_t> messages_per_search() const override;
  std::string narrate(const TraceEvent& event) const override;
  void set_brief(bool brief) override { brief_ = brief; }
  StateSize state_size() const override;
  std::vector<SearchOutcome> requested_searches() const override;
  bool holds(PeerIndex peer, const Id& key) const override;

  Protocol& protocol() { return protocol_; }
  const Protocol& protocol() const { return protocol_; }
  Simulator<Message>& sim() { return sim_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  struct Op;
  Op parse_op(const JsonObject& e, std::set<Id>& known_ids) const;
  void execute(const Op& op);
  PeerIndex random_live_peer(PeerIndex except = kNoPeer);
  PeerIndex nearby_peer(PeerIndex newcomer);
  Id random_key();
  Id fresh_peer_id();
  void add_and_join(const Id& id, PeerIndex via);
  void next_in_batch(std::uint32_t batch);
  std::vector<Link> links_of(PeerIndex peer) const;

  Scenario scenario_;
  Params params_;
  Simulator<Message> sim_;
  Protocol protocol_;
  std::vector<Op> ops_;
  struct Batch {
    std::uint64_t remaining;
    SimTime cursor, end;
  };
  std::vector<Batch> batches_;
  std::vector<Id> initial_ids_;
  std::set<Id> known_ids_;
  std::uint16_t op_handler_ = 0, lookup_handler_ = 0, join_handler_ = 0;
  std::uint64_t address_counter_ = 0;
  std::vector<std::string> warnings_;
  bool brief_ = false, started_ = false;
  double wall_ms_ = 0;
};

void register_pastry(ProtocolRegistry& registry);

}  // namespace p2plab::pastry
