#pragma once
// Chord as a p2plab plug-in: reads a scenario, drives the protocol on the simulator, reports.
#include <memory>
#include <set>

#include "p2plab/json_util.hpp"

#include "chord.hpp"
#include "p2plab/registry.hpp"
#include "p2plab/simulator.hpp"

namespace p2plab::chord {

// Positions in the model's link kinds and roles (register.cpp).
constexpr std::uint8_t kSuccessorLink = 0, kPredecessorLink = 1, kFingerLink = 2;
constexpr std::uint8_t kPeerRole = 0;

/// One Chord peer as the views show it (links, finger table with typed cells, successor list,
/// stored keys), from its snapshot; `name` prints a peer's id. ChordRun::inspect and the real
/// peer's monitor reports (chord_node.cpp) both use it.
PeerView peer_view(const PeerSnapshot& s, PeerState state, const std::function<std::string(PeerIndex)>& name);

/// Reads `params` of a Chord scenario (every field optional; errors name the field).
Params parse_params(const Scenario& scenario);

class ChordRun final : public Run {
 public:
  explicit ChordRun(const Scenario& scenario);
  ~ChordRun() override;

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
  RouteView reference_route(PeerIndex from, const Id& key) const override;
  std::string narrate(const TraceEvent& event) const override;
  void set_brief(bool brief) override { brief_ = brief; }
  StateSize state_size() const override;
  std::vector<SearchOutcome> requested_searches() const override;

  Protocol& protocol() { return protocol_; }
  const Protocol& protocol() const { return protocol_; }
  Simulator<Message>& sim() { return sim_; }
  double wall_ms() const { return wall_ms_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  /// The peer a scenario id names, alive or not (the latest one with that id).
  PeerIndex peer_by_id(const Id& id) const;

 private:
  struct Op;
  Op parse_op(const JsonObject& e, std::set<Id>& known_ids) const;
  void schedule_scenario();
  void execute(const Op& op, std::size_t index);
  PeerIndex random_live_peer();
  Id random_key();
  Id fresh_peer_id();
  PeerIndex add_and_join(const Id& id, PeerIndex via);
  void schedule_departure(PeerIndex peer);
  void next_in_batch(std::uint32_t batch);
  void depart(PeerIndex peer);

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
  std::set<Id> known_ids_;  // every id a scenario or action may name
  std::uint16_t op_handler_ = 0, churn_handler_ = 0, lookup_handler_ = 0, join_handler_ = 0;
  std::uint64_t address_counter_ = 0;
  std::vector<std::string> warnings_;
  bool brief_ = false;
  bool started_ = false;
  double wall_ms_ = 0;
};

/// Adds Chord to a registry: its runs, its view model (register.cpp), its benchmark (bench.cpp).
void register_chord(ProtocolRegistry& registry);

}  // namespace p2plab::chord
