#pragma once
// Pastry as a p2plab plug-in: reads a scenario, drives the protocol on the simulator, reports.
#include <set>
#include <string>
#include <vector>

#include "common/dht_scenario.hpp"
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

class PastryRun final : public Run, private dht::DhtHooks {
 public:
  explicit PastryRun(const Scenario& scenario);
  ~PastryRun() override;

  using Run::simulator;
  SimulatorCore& simulator() override { return sim_; }
  const Scenario& scenario() const override { return scenario_; }
  int id_bits() const override { return params_.m; }
  int id_digit_bits() const override { return params_.b; }
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
  const std::vector<std::string>& warnings() const { return driver_.warnings(); }

 private:
  // dht::DhtHooks: what the common scenario driver asks of Pastry.
  void reserve(std::size_t count) override { protocol_.reserve(count); }
  bool serves(PeerIndex peer) const override { return protocol_.joined(peer); }
  void start_peer(PeerIndex peer, PeerIndex via) override;
  void install_converged() override { protocol_.install_converged(sim_.live_by_id(), scenario_.seed); }
  void start_converged_peer(PeerIndex peer) override { protocol_.start_maintenance(peer); }
  void lookup(PeerIndex from, const Id& key) override { protocol_.lookup(from, key); }
  void put(PeerIndex from, const Id& key, const std::string& value) override;
  void get(PeerIndex from, const Id& key) override { protocol_.get(from, key); }
  void leave(PeerIndex peer) override { protocol_.leave(peer); }
  void set_param(const std::string& name, double value, const std::string& field) override;
  PeerIndex nearby_peer(PeerIndex newcomer);
  std::vector<Link> links_of(PeerIndex peer) const;

  Scenario scenario_;
  Params params_;
  Simulator<Message> sim_;
  Protocol protocol_;
  dht::DhtScenario driver_;
  bool brief_ = false;
};

void register_pastry(ProtocolRegistry& registry);

}  // namespace p2plab::pastry
