#pragma once
// The live source of `p2plab-viz --attach PORT`: a Run whose peers are real `p2plab node`
// processes reporting to this UDP port (--monitor). Their reports fill the same PeerView and
// Link structures the simulated runs give the views, so the ring (chord) or the graph (flooding,
// superpeer) is drawn by the same code. Every report names its protocol; the first accepted
// report fixes the run's protocol (scenario().protocol), reports of another protocol are dropped.
// Peers appear as they report; one silent for 3 s is shown as failed; a peer that others point
// to but that never reported is shown as failed too (a stale pointer, or no --monitor).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "p2plab/net/udp.hpp"
#include "p2plab/registry.hpp"
#include "p2plab/simulator.hpp"

namespace p2plab::viz {

class LiveRun final : public Run {
 public:
  /// Binds UDP `port` on all interfaces; throws std::runtime_error when it cannot.
  explicit LiveRun(int port);
  ~LiveRun() override;

  /// Reads every waiting report (call once per frame) and advances the clock to the wall clock.
  void poll();
  std::uint64_t reports() const { return reports_; }
  std::uint64_t dropped() const { return dropped_; }
  /// The protocol of the accepted reports ("" before the first one).
  const std::string& protocol() const { return proto_; }

  SimulatorCore& simulator() override;
  const Scenario& scenario() const override { return scenario_; }
  int id_bits() const override { return unstructured() ? 64 : bits_ != 0 ? bits_ : 32; }
  TraceVocabulary vocabulary() const override;
  void start() override {}
  void run_to_end() override {}
  RunSummary summary() const override;
  nlohmann::json result() const override { return nlohmann::json::object(); }
  PeerView inspect(PeerIndex peer) const override;
  std::vector<std::uint32_t> messages_per_search() const override { return {}; }
  void act(const nlohmann::json& op) override;

  /// Handles one report datagram (public for tests); false if it was dropped.
  bool handle(const std::uint8_t* data, std::size_t size);

 private:
  struct Reported {
    bool seen = false;  // has reported itself
    SimTime last = 0;
    std::string address;
    PeerIndex predecessor = kNoPeer;
    std::vector<PeerIndex> successors;
    std::vector<std::pair<int, PeerIndex>> fingers;  // (i, node) where the finger changes
    std::vector<Id> keys;
    std::uint64_t key_count = 0;
    // flooding, superpeer:
    std::string role;
    std::vector<PeerIndex> neighbors, superpeers, leaves;
    std::uint64_t shared = 0;
  };
  PeerIndex peer_of(const Id& id);
  bool unstructured() const { return proto_ == "flooding" || proto_ == "superpeer"; }
  bool handle_chord(const nlohmann::json& j);
  bool handle_unstructured(const nlohmann::json& j, const std::string& proto);
  bool handle_events(const nlohmann::json& j, int bits);
  void accept_protocol(const std::string& proto);

  class Core;
  std::unique_ptr<Core> core_;
  Scenario scenario_;
  net::UdpSocket socket_;
  int bits_ = 0;
  std::string proto_;
  std::map<Id, PeerIndex> by_id_;
  std::vector<Reported> peers_;
  std::uint64_t reports_ = 0, dropped_ = 0, messages_ = 0;
};

}  // namespace p2plab::viz
