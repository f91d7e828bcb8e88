#include "live.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "p2plab/json_util.hpp"
#include "p2plab/registry.hpp"

namespace p2plab::viz {

using nlohmann::json;

/// The engine's peer table (ids, up/down) without any event: the live run's clock is the wall
/// clock, set on every poll.
class LiveRun::Core final : public SimulatorCore {
 public:
  Core() : SimulatorCore(1, NetworkConfig{}), start_(std::chrono::steady_clock::now()) {}
  void tick() {
    now_ = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start_).count();
  }
  void revive(PeerIndex p) {
    if (state_[p] == PeerState::Up) return;
    state_[p] = PeerState::Up;
    ++live_count_;
    note_live_change(p, true);
  }

 protected:
  void dispatch(const QueuedEvent&) override {}

 private:
  std::chrono::steady_clock::time_point start_;
};

namespace {

constexpr SimTime kSilentAfter = 3'000'000;  // µs without a report: shown as failed

/// The message names of a protocol: the vocabulary of a small run it builds for itself (the
/// registry knows how), or nothing when it cannot build one (names are then learned as reported).
TraceVocabulary vocabulary_of(const ProtocolInfo& info) {
  if (!info.model.make_scenario || !info.create) return {};
  try {
    ScenarioRequest request;
    request.peers = 2;
    const Scenario scenario = parse_scenario(info.model.make_scenario(request), "live");
    return info.create(scenario)->vocabulary();
  } catch (const std::exception&) {
    return {};
  }
}

}  // namespace

LiveRun::LiveRun(int port) : core_(std::make_unique<Core>()) {
  std::string error;
  if (port < 0 || port > 65535 || !socket_.bind(net::Endpoint{0, static_cast<std::uint16_t>(port)}, error)) {
    throw std::runtime_error("--attach: cannot listen on UDP port " + std::to_string(port) +
                             (error.empty() ? std::string() : ": " + error));
  }
  scenario_.file = "live";
  scenario_.title = "live: real peers reporting to UDP port " + std::to_string(port);
  scenario_.run_time = from_ms(std::int64_t{365} * 24 * 3600 * 1000);
  scenario_.doc = json{{"protocol", ""}, {"title", scenario_.title}};
  core_->event_trace().keep_in_memory(true);
}

LiveRun::~LiveRun() = default;

int LiveRun::port() const { return socket_.local_port(); }

SimulatorCore& LiveRun::simulator() { return *core_; }

RunSummary LiveRun::summary() const {
  RunSummary s;
  s.peers_total = core_->peer_count();
  s.peers_live = core_->live_count();
  s.messages_sent = messages_;
  s.messages_delivered = messages_;
  s.simulated_ms = to_ms(core_->current_time());
  return s;
}

void LiveRun::act(const json& op) {
  (void)op;
  throw ScenarioError("live", "op", "the peers are real processes: use their consoles (p2plab node)");
}

PeerIndex LiveRun::peer_of(const Id& id) {
  if (auto it = by_id_.find(id); it != by_id_.end()) return it->second;
  const PeerIndex p = core_->add_peer(id);
  core_->mark_failed(p);  // not reported yet: shown as failed until it does
  by_id_[id] = p;
  peers_.resize(core_->peer_count());
  return p;
}

bool LiveRun::handle(const std::uint8_t* data, std::size_t size) {
  net::MonitorReport report;
  std::string why;
  if (!net::decode_report(data, size, report, why) || !accept(report)) {
    ++dropped_;
    return false;
  }
  ++reports_;
  return true;
}

bool LiveRun::accept(const net::MonitorReport& report) {
  const net::ReportedPeer& r = report.peer;
  // The run's protocol and id width: fixed by the first report.
  if (!proto_.empty() && (r.protocol != proto_ || r.bits != bits_)) return false;
  const ProtocolInfo* info = model_ != nullptr ? nullptr : all_protocols().find_simulated(r.protocol);
  if (model_ == nullptr && info == nullptr) return false;
  const ProtocolModel& model = model_ != nullptr ? *model_ : info->model;
  if (report.kind == net::MonitorReport::Kind::State) {
    // Everything is checked before anything changes.
    const int role = r.role.empty() ? 0 : model.role(r.role);
    if (role < 0 || role > 255) return false;
    std::vector<int> kinds;
    for (const net::ReportedLink& l : r.links) {
      kinds.push_back(model.link_kind(l.kind));
      if (kinds.back() < 0 || kinds.back() > 255) return false;
    }
    if (model_ == nullptr) {
      model_ = &info->model;
      vocabulary_ = vocabulary_of(*info);
    }
    PeerView v;
    v.id = r.id;
    v.role = static_cast<std::uint8_t>(role);
    for (std::size_t i = 0; i < r.links.size(); ++i) {
      v.links.push_back({static_cast<std::uint8_t>(kinds[i]), r.links[i].index, peer_of(r.links[i].target)});
    }
    v.keys = r.keys;
    v.tables = r.tables;
    for (TableView& t : v.tables) {
      for (TableView::Row& row : t.rows) {
        if (row.link >= static_cast<int>(v.links.size())) row.link = -1;
        for (Cell& c : row.cells) {
          if (c.kind == Cell::Kind::Peer && c.peer != kNoPeer) c.peer = peer_of(c.id);
        }
      }
    }
    const PeerIndex p = peer_of(r.id);
    v.peer = p;
    Reported& rep = peers_[p];
    rep.seen = true;
    rep.last = core_->current_time();
    rep.address = r.address;
    rep.view = std::move(v);
    core_->revive(p);
  } else {
    if (model_ == nullptr) {
      model_ = &info->model;
      vocabulary_ = vocabulary_of(*info);
    }
    record_events(report.events);
  }
  if (proto_.empty()) {
    proto_ = r.protocol;
    bits_ = r.bits;
    scenario_.protocol = proto_;
    scenario_.doc["protocol"] = proto_;
  }
  return true;
}

void LiveRun::record_events(const std::vector<net::MonitorEvent>& events) {
  auto& names = vocabulary_.message_types;
  for (const net::MonitorEvent& e : events) {
    auto type = std::find(names.begin(), names.end(), e.type);
    if (type == names.end()) {
      if (names.size() >= 255) continue;  // a protocol has fewer message types
      names.push_back(e.type);            // a name the vocabulary did not list: learned
      type = names.end() - 1;
    }
    TraceEvent t;
    t.time = core_->current_time();
    t.kind = TraceKind::Send;
    t.detail = static_cast<std::uint8_t>(type - names.begin());
    t.peer = peer_of(e.from);
    t.other = peer_of(e.to);
    core_->event_trace().record(t);
    ++messages_;
  }
}

void LiveRun::poll() {
  core_->tick();
  // Bounded per frame: a flood of reports cannot freeze the window.
  for (int round = 0; round < 16; ++round) {
    const int got =
        socket_.receive(std::chrono::microseconds(0), 256,
                        [&](const std::uint8_t* data, std::size_t size, const net::Endpoint&) { handle(data, size); });
    if (got < 256) break;
  }
  const SimTime now = core_->current_time();
  for (PeerIndex p = 0; p < peers_.size(); ++p) {
    if (peers_[p].seen && core_->is_up(p) && now - peers_[p].last > kSilentAfter) core_->mark_failed(p);
  }
  if (core_->event_trace().events().size() > 200000) core_->event_trace().clear();
}

PeerView LiveRun::inspect_links(PeerIndex peer) const {
  PeerView v;
  v.peer = peer;
  if (peer >= peers_.size()) return v;
  const Reported& r = peers_[peer];
  v = r.view;
  v.tables.clear();
  v.peer = peer;
  v.id = core_->peer_id(peer);
  v.state = core_->state(peer);
  return v;
}

PeerView LiveRun::inspect(PeerIndex peer) const {
  PeerView v = inspect_links(peer);
  if (peer >= peers_.size()) return v;
  const Reported& r = peers_[peer];
  v.tables = r.view.tables;
  TableView info;
  info.title = "Peer (live)";
  info.help = "What this real peer reported to the monitor (p2plab node --monitor).";
  info.columns = {"field", "value"};
  auto row = [&](const char* field, const std::string& value) {
    info.rows.push_back({{Cell::of_text(field), Cell::of_text(value)}, -1});
  };
  row("address", r.seen ? r.address : "(never reported)");
  row("last report", r.seen ? std::to_string((core_->current_time() - r.last) / 1000) + " ms ago" : "-");
  v.tables.push_back(std::move(info));
  return v;
}

}  // namespace p2plab::viz
