#pragma once
// Chord as a p2plab plug-in: reads a scenario, drives the protocol on the simulator, reports.
#include <memory>
#include <set>

#include "p2plab/json_util.hpp"

#include "chord.hpp"
#include "common/dht_scenario.hpp"
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

class ChordRun final : public Run, private dht::DhtHooks {
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
  double wall_ms() const { return driver_.wall_ms(); }
  const std::vector<std::string>& warnings() const { return driver_.warnings(); }
  /// The peer a scenario id names, alive or not (the latest one with that id).
  PeerIndex peer_by_id(const Id& id) const { return driver_.peer_by_id(id); }

 private:
  // dht::DhtHooks: what the common scenario driver asks of Chord.
  void reserve(std::size_t count) override { protocol_.reserve(count); }
  bool serves(PeerIndex peer) const override { return protocol_.in_ring(peer); }
  void start_peer(PeerIndex peer, PeerIndex via) override;
  void install_converged() override { protocol_.install_converged(sim_.live_by_id()); }
  void start_converged_peer(PeerIndex peer) override { protocol_.start_maintenance(peer); }
  void lookup(PeerIndex from, const Id& key) override { protocol_.lookup(from, key); }
  void put(PeerIndex from, const Id& key, const std::string& value) override;
  void get(PeerIndex from, const Id& key) override { protocol_.get(from, key); }
  void leave(PeerIndex peer) override { protocol_.leave(peer); }
  void set_param(const std::string& name, double value, const std::string& field) override;

  Scenario scenario_;
  Params params_;
  Simulator<Message> sim_;
  Protocol protocol_;
  dht::DhtScenario driver_;
  bool brief_ = false;
};

/// Adds Chord to a registry: its runs, its view model (register.cpp), its benchmark (bench.cpp).
void register_chord(ProtocolRegistry& registry);

}  // namespace p2plab::chord
