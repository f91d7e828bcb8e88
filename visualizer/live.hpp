#pragma once
// The live source of `p2plab-viz --attach PORT`: a Run whose peers are real `p2plab node`
// processes reporting to this UDP port (--monitor). A report is the reporting peer's PeerView
// (net/monitor.hpp, one codec for every protocol); the protocol it names is looked up in the
// registry for its ProtocolModel (link kinds and roles by name, geometry) and its vocabulary, so
// the views draw the live peers with the same code as the simulated ones, whatever the protocol.
// The first accepted report fixes the run's protocol and id width; reports of another protocol
// or width, of a protocol not in the registry, or naming a link kind or role the protocol does
// not have, are dropped and counted. Peers appear as they report; one silent for 3 s is shown as
// failed; a peer that others point to but that never reported is shown as failed too (a stale
// pointer, or no --monitor).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "p2plab/net/monitor.hpp"
#include "p2plab/net/udp.hpp"
#include "p2plab/registry.hpp"
#include "p2plab/simulator.hpp"

namespace p2plab::viz {

class LiveRun final : public Run {
 public:
  /// Binds UDP `port` on all interfaces (the class's laptops report to it), or a free port when
  /// 0 (tests: port() tells which); throws std::runtime_error when it cannot.
  explicit LiveRun(int port);
  /// The UDP port the reports are read from.
  int port() const;
  ~LiveRun() override;

  /// Reads every waiting report (call once per frame) and advances the clock to the wall clock.
  void poll();
  std::uint64_t reports() const { return reports_; }
  std::uint64_t dropped() const { return dropped_; }
  /// The protocol of the accepted reports ("" before the first one).
  const std::string& protocol() const { return proto_; }
  /// Its model (nullptr before the first report).
  const ProtocolModel* model() const { return model_; }

  SimulatorCore& simulator() override;
  const Scenario& scenario() const override { return scenario_; }
  int id_bits() const override { return bits_ != 0 ? bits_ : 32; }
  TraceVocabulary vocabulary() const override { return vocabulary_; }
  void start() override {}
  void run_to_end() override {}
  RunSummary summary() const override;
  nlohmann::json result() const override { return nlohmann::json::object(); }
  PeerView inspect(PeerIndex peer) const override;
  PeerView inspect_links(PeerIndex peer) const override;
  std::vector<std::uint32_t> messages_per_search() const override { return {}; }
  void act(const nlohmann::json& op) override;

  /// Handles one report datagram (public for tests); false if it was dropped.
  bool handle(const std::uint8_t* data, std::size_t size);

 private:
  struct Reported {
    bool seen = false;  // has reported itself
    SimTime last = 0;
    std::string address;
    PeerView view;  // targets and peer cells mapped to this run's peers
  };
  PeerIndex peer_of(const Id& id);
  bool accept(const net::MonitorReport& report);
  void record_events(const std::vector<net::MonitorEvent>& events);

  class Core;
  std::unique_ptr<Core> core_;
  Scenario scenario_;
  net::UdpSocket socket_;
  int bits_ = 0;
  std::string proto_;
  const ProtocolModel* model_ = nullptr;
  TraceVocabulary vocabulary_;
  std::map<Id, PeerIndex> by_id_;
  std::vector<Reported> peers_;
  std::uint64_t reports_ = 0, dropped_ = 0, messages_ = 0;
};

}  // namespace p2plab::viz
