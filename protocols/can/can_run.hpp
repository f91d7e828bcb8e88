#pragma once
// CAN as a p2plab plug-in: reads a scenario (the structured overlays' common driver), drives the
// protocol on the simulator, reports, and shows each peer's zones in the view model.
#include <string>
#include <vector>

#include "can.hpp"
#include "common/dht_scenario.hpp"
#include "p2plab/registry.hpp"
#include "p2plab/simulator.hpp"

namespace p2plab::can {

// Positions in the model's link kinds and roles (register.cpp).
constexpr std::uint8_t kNeighbourLink = 0;
constexpr std::uint8_t kPeerRole = 0;
/// Keys and peer ids: SHA-1's 160 bits (a key's point reads d coordinates from them).
constexpr int kIdBits = 160;

/// Reads `params` of a CAN scenario (every field optional; errors name the field).
Params parse_params(const Scenario& scenario);

/// The live peers' zones, with the owner of any point (the oracle: a zone index over the true
/// network, independent of greedy routing), rebuilt when a zone or the set of live peers changes.
class ZoneOracle {
 public:
  ZoneOracle(const SimulatorCore& sim, const Protocol& protocol) : sim_(sim), protocol_(protocol) {}
  PeerIndex owner(const Point& p) const;

 private:
  const SimulatorCore& sim_;
  const Protocol& protocol_;
  mutable ZoneIndex index_;
  mutable std::uint64_t version_ = ~std::uint64_t{0};
  mutable std::size_t live_ = 0;
};

class CanRun final : public Run, private dht::DhtHooks {
 public:
  explicit CanRun(const Scenario& scenario);
  ~CanRun() override;

  using Run::simulator;
  SimulatorCore& simulator() override { return sim_; }
  const Scenario& scenario() const override { return scenario_; }
  int id_bits() const override { return kIdBits; }
  TraceVocabulary vocabulary() const override;
  void start() override { driver_.start(); }
  void act(const nlohmann::json& op) override { driver_.act(op); }
  void run_to_end() override { driver_.run_to_end(); }
  RunSummary summary() const override;
  nlohmann::json result() const override;
  PeerView inspect(PeerIndex peer) const override;
  PeerView inspect_links(PeerIndex peer) const override;
  std::vector<std::uint32_t> messages_per_search() const override;
  std::string narrate(const TraceEvent& event) const override;
  std::vector<double> key_point(const Id& key) const override {
    return coordinates(point_of(key, params_.d), params_.d);
  }
  void set_brief(bool brief) override { brief_ = brief; }
  StateSize state_size() const override;
  std::vector<SearchOutcome> requested_searches() const override;
  bool holds(PeerIndex peer, const Id& key) const override;

  Protocol& protocol() { return protocol_; }
  const Protocol& protocol() const { return protocol_; }
  Simulator<Message>& sim() { return sim_; }
  const std::vector<std::string>& warnings() const { return driver_.warnings(); }
  /// The live peer whose zone contains the key's point (the oracle), or kNoPeer.
  PeerIndex owner_of(const Id& key) const { return oracle_.owner(point_of(key, params_.d)); }

 private:
  // dht::DhtHooks: what the common scenario driver asks of CAN.
  void reserve(std::size_t count) override { protocol_.reserve(count); }
  bool serves(PeerIndex peer) const override { return protocol_.joined(peer); }
  void start_peer(PeerIndex peer, PeerIndex via) override;
  void install_converged() override;
  void start_converged_peer(PeerIndex peer) override { protocol_.start_maintenance(peer); }
  void lookup(PeerIndex from, const Id& key) override { protocol_.lookup(from, key); }
  void put(PeerIndex from, const Id& key, const std::string& value) override;
  void get(PeerIndex from, const Id& key) override { protocol_.get(from, key); }
  void leave(PeerIndex peer) override { protocol_.leave(peer); }
  void set_param(const std::string& name, double value, const std::string& field) override;
  std::string name(PeerIndex p) const;

  Scenario scenario_;
  Params params_;
  Simulator<Message> sim_;
  Protocol protocol_;
  ZoneOracle oracle_;
  dht::DhtScenario driver_;
  bool brief_ = false;
};

/// A zone as the view model's box [lo, hi) per dimension.
ZoneBox zone_box(const Zone& zone, int d);
/// "(0.71, 0.20)".
std::string point_text(const Point& p, int d);

void register_can(ProtocolRegistry& registry);

}  // namespace p2plab::can
