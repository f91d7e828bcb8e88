#include "live.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "chord/chord.hpp"
#include "flooding/flooding.hpp"
#include "superpeer/superpeer.hpp"
#include "p2plab/json_util.hpp"
#include "register_all.hpp"

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

std::optional<Id> id_from(const json& j, int bits) {
  if (!j.is_binary() || j.get_binary().size() > 20) return std::nullopt;
  Id id;
  for (const std::uint8_t b : j.get_binary()) {
    id.limb[2] = (id.limb[2] << 8) | (id.limb[1] >> 56);
    id.limb[1] = (id.limb[1] << 8) | (id.limb[0] >> 56);
    id.limb[0] = (id.limb[0] << 8) | b;
  }
  if (bits > 0 && !IdSpace(bits).contains(id)) return std::nullopt;
  return id;
}
/// The message and timer names of a protocol's reports (chord when not known yet).
TraceVocabulary vocabulary_of(const std::string& proto) {
  TraceVocabulary v;
  if (proto == "flooding") {
    for (int t = 0; t < static_cast<int>(flooding::MsgType::Count); ++t)
      v.message_types.push_back(flooding::to_string(static_cast<flooding::MsgType>(t)));
    v.state_fields = {"neighbor"};
    v.lookup_purposes = {"user"};
    return v;
  }
  if (proto == "superpeer") {
    for (int t = 0; t < static_cast<int>(superpeer::MsgType::Count); ++t)
      v.message_types.push_back(superpeer::to_string(static_cast<superpeer::MsgType>(t)));
    v.state_fields = {"neighbor", "superpeer", "leaf"};
    v.lookup_purposes = {"user"};
    return v;
  }
  for (int t = 0; t < static_cast<int>(chord::MsgType::Count); ++t)
    v.message_types.push_back(chord::to_string(static_cast<chord::MsgType>(t)));
  for (int t = 0; t < static_cast<int>(chord::TimerKind::Count); ++t)
    v.timer_kinds.push_back(chord::to_string(static_cast<chord::TimerKind>(t)));
  v.state_fields = {"successor", "predecessor", "finger"};
  v.lookup_purposes = {"user", "join", "fix_finger", "put", "get"};
  return v;
}
}  // namespace

LiveRun::LiveRun(int port) : core_(std::make_unique<Core>()) {
  std::string error;
  if (port < 1 || port > 65535 || !socket_.bind(net::Endpoint{0, static_cast<std::uint16_t>(port)}, error)) {
    throw std::runtime_error("--attach: cannot listen on UDP port " + std::to_string(port) +
                             (error.empty() ? std::string() : ": " + error));
  }
  scenario_.file = "live";
  scenario_.protocol = "chord";
  scenario_.title = "live: real peers reporting to UDP port " + std::to_string(port);
  scenario_.run_time = from_ms(std::int64_t{365} * 24 * 3600 * 1000);
  scenario_.doc = json{{"protocol", "chord"}, {"title", scenario_.title}};
  core_->event_trace().keep_in_memory(true);
}

LiveRun::~LiveRun() = default;

SimulatorCore& LiveRun::simulator() { return *core_; }

TraceVocabulary LiveRun::vocabulary() const { return vocabulary_of(proto_); }

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
  json j;
  try {
    j = json::from_cbor(data, data + size, true, false);
  } catch (const std::exception&) {
    j = json(json::value_t::discarded);
  }
  auto drop = [&] {
    ++dropped_;
    return false;
  };
  if (!j.is_object() || !j.contains("v") || !j["v"].is_number_unsigned() || j["v"].get<std::uint64_t>() != 1 ||
      !j.contains("proto") || !j["proto"].is_string()) {
    return drop();
  }
  const std::string proto = j["proto"].get<std::string>();
  if (proto != "chord" && proto != "flooding" && proto != "superpeer") return drop();
  if (!proto_.empty() && proto != proto_) return drop();  // peers of another protocol
  bool ok = false;
  try {
    // Each handler parses everything before changing anything.
    ok = proto == "chord" ? handle_chord(j) : handle_unstructured(j, proto);
  } catch (const std::exception&) {
    ok = false;  // a field of an unexpected type
  }
  if (!ok) return drop();
  accept_protocol(proto);
  ++reports_;
  return true;
}

void LiveRun::accept_protocol(const std::string& proto) {
  if (!proto_.empty()) return;
  proto_ = proto;
  scenario_.protocol = proto;
  scenario_.doc["protocol"] = proto;
}

bool LiveRun::handle_chord(const json& j) {
  if (!j.contains("m") || !j["m"].is_number_unsigned() || !j.contains("id")) return false;
  const auto m = j["m"].get<std::uint64_t>();
  if (m < 1 || m > 160) return false;
  if (bits_ != 0 && static_cast<int>(m) != bits_) return false;  // another ring's report
  const int bits = static_cast<int>(m);
  const auto self = id_from(j["id"], bits);
  if (!self) return false;
  const std::string kind = j.contains("k") && j["k"].is_string() ? j["k"].get<std::string>() : "";
  if (kind == "msgs") {
    if (!handle_events(j, bits)) return false;
    bits_ = bits;
    return true;
  }
  if (kind != "state") return false;
  Reported r;
  std::vector<Id> succ;
  std::vector<std::pair<int, Id>> fingers;
  std::optional<Id> pred;
  if (j.contains("pred") && !j["pred"].is_null() && !(pred = id_from(j["pred"], bits))) return false;
  if (!j.contains("succ") || !j["succ"].is_array() || j["succ"].size() > 32) return false;
  for (const auto& s : j["succ"]) {
    const auto id = id_from(s, bits);
    if (!id) return false;
    succ.push_back(*id);
  }
  if (!j.contains("fingers") || !j["fingers"].is_array() || j["fingers"].size() > 160) return false;
  for (const auto& f : j["fingers"]) {
    if (!f.is_array() || f.size() != 2 || !f[0].is_number_unsigned() || f[0].get<std::uint64_t>() >= m) return false;
    const auto id = id_from(f[1], bits);
    if (!id) return false;
    fingers.emplace_back(static_cast<int>(f[0].get<std::uint64_t>()), *id);
  }
  if (j.contains("keys") && j["keys"].is_array() && j["keys"].size() <= 64) {
    for (const auto& k : j["keys"]) {
      if (auto id = id_from(k, bits)) r.keys.push_back(*id);
    }
  }
  if (j.contains("addr") && !j["addr"].is_string()) return false;
  r.seen = true;
  r.last = core_->current_time();
  r.address = j.contains("addr") ? j["addr"].get<std::string>() : "";
  r.key_count =
      j.contains("nkeys") && j["nkeys"].is_number_unsigned() ? j["nkeys"].get<std::uint64_t>() : r.keys.size();
  bits_ = bits;
  const PeerIndex p = peer_of(*self);
  r.predecessor = pred ? peer_of(*pred) : kNoPeer;
  for (const Id& s : succ) r.successors.push_back(peer_of(s));
  for (const auto& [i, id] : fingers) r.fingers.emplace_back(i, peer_of(id));
  peers_[p] = std::move(r);
  core_->revive(p);
  return true;
}

bool LiveRun::handle_unstructured(const json& j, const std::string& proto) {
  if (!j.contains("id") || !j["id"].is_number_unsigned()) return false;
  const Id self(j["id"].get<std::uint64_t>());
  const std::string kind = j.contains("k") && j["k"].is_string() ? j["k"].get<std::string>() : "";
  if (kind == "msgs") return handle_events(j, 0);
  if (kind != "state") return false;
  if (!j.contains("role") || !j["role"].is_string()) return false;
  const std::string role = j["role"].get<std::string>();
  if (proto == "flooding" ? role != "peer" : role != "superpeer" && role != "leaf") return false;
  auto ids = [&](const char* key, std::vector<Id>& out) {
    if (!j.contains(key)) return true;  // an empty list may be left out
    const json& list = j[key];
    if (!list.is_array() || list.size() > 256) return false;
    for (const auto& x : list) {
      if (!x.is_number_unsigned() || Id(x.get<std::uint64_t>()) == self) return false;
      out.emplace_back(x.get<std::uint64_t>());
    }
    return true;
  };
  std::vector<Id> neighbors, superpeers, leaves;
  if (!ids("nbrs", neighbors) || !ids("sps", superpeers) || !ids("leaves", leaves)) return false;
  // Links a role cannot have: a flooding peer has neighbours only, a leaf superpeers only.
  if (role == "peer" && (!superpeers.empty() || !leaves.empty())) return false;
  if (role == "superpeer" && !superpeers.empty()) return false;
  if (role == "leaf" && (!neighbors.empty() || !leaves.empty())) return false;
  if (j.contains("addr") && !j["addr"].is_string()) return false;
  if (j.contains("nshared") && !j["nshared"].is_number_unsigned()) return false;
  Reported r;
  r.seen = true;
  r.last = core_->current_time();
  r.address = j.contains("addr") ? j["addr"].get<std::string>() : "";
  r.role = role;
  r.shared = j.contains("nshared") ? j["nshared"].get<std::uint64_t>() : 0;
  const PeerIndex p = peer_of(self);
  for (const Id& id : neighbors) r.neighbors.push_back(peer_of(id));
  for (const Id& id : superpeers) r.superpeers.push_back(peer_of(id));
  for (const Id& id : leaves) r.leaves.push_back(peer_of(id));
  peers_[p] = std::move(r);
  core_->revive(p);
  return true;
}

bool LiveRun::handle_events(const json& j, int bits) {
  // bits > 0: chord ids (byte strings below 2^bits); 0: 64-bit unsigned integers.
  if (!j.contains("e") || !j["e"].is_array() || j["e"].size() > 256) return false;
  const std::string proto = j["proto"].get<std::string>();
  const auto names = vocabulary_of(proto).message_types;
  auto id_of = [&](const json& x) -> std::optional<Id> {
    if (bits > 0) return id_from(x, bits);
    if (!x.is_number_unsigned()) return std::nullopt;
    return Id(x.get<std::uint64_t>());
  };
  for (const auto& e : j["e"]) {
    if (!e.is_array() || e.size() != 3 || !e[2].is_string()) continue;
    const auto from = id_of(e[0]), to = id_of(e[1]);
    if (!from || !to) continue;
    const auto type = std::find(names.begin(), names.end(), e[2].get<std::string>());
    if (type == names.end()) continue;
    TraceEvent t;
    t.time = core_->current_time();
    t.kind = TraceKind::Send;
    t.detail = static_cast<std::uint8_t>(type - names.begin());
    t.peer = peer_of(*from);
    t.other = peer_of(*to);
    core_->event_trace().record(t);
    ++messages_;
  }
  return true;
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

namespace {

/// A two-column "field, value" table of text cells.
TableView text_table(std::string title, const std::vector<std::pair<std::string, std::string>>& rows) {
  TableView t;
  t.title = std::move(title);
  t.columns = {"field", "value"};
  for (const auto& [field, value] : rows) t.rows.push_back({{Cell::of_text(field), Cell::of_text(value)}, -1});
  return t;
}

}  // namespace

PeerView LiveRun::inspect(PeerIndex peer) const {
  // The reports' link and role names, placed in the protocol's registered model (a bridge until
  // the monitor reports carry the view model itself).
  static const ProtocolModel none;
  const ProtocolInfo* info = all_protocols().find(proto_);
  const ProtocolModel& model = info != nullptr ? info->model : none;
  auto kind = [&](const char* name) { return static_cast<std::uint8_t>(std::max(0, model.link_kind(name))); };
  PeerView v;
  v.peer = peer;
  if (peer >= peers_.size()) return v;
  v.id = core_->peer_id(peer);
  v.state = core_->state(peer);
  v.role = static_cast<std::uint8_t>(std::max(0, model.role("peer")));
  const Reported& r = peers_[peer];
  const std::string since =
      r.seen ? std::to_string((core_->current_time() - r.last) / 1000) + " ms ago" : std::string("-");
  if (unstructured()) {
    if (!r.role.empty()) v.role = static_cast<std::uint8_t>(std::max(0, model.role(r.role)));
    // The kinds the simulated protocols use: neighbours, or links to superpeers (a leaf's and
    // between superpeers) and a superpeer's leaves.
    const std::uint8_t overlay = model.link_kind("neighbor") >= 0 ? kind("neighbor") : kind("superpeer");
    for (PeerIndex n : r.neighbors) v.links.push_back({overlay, 0, n});
    for (PeerIndex s : r.superpeers) v.links.push_back({kind("superpeer"), 0, s});
    for (PeerIndex l : r.leaves) v.links.push_back({kind("leaf"), 0, l});
    std::vector<std::pair<std::string, std::string>> rows = {
        {"address", r.seen ? r.address : "(never reported)"},
        {"role", r.seen ? r.role : "-"},
        {"neighbours", std::to_string(r.neighbors.size())}};
    if (model.link_kind("leaf") >= 0) {
      rows.push_back({"superpeers", std::to_string(r.superpeers.size())});
      rows.push_back({"leaves", std::to_string(r.leaves.size())});
    }
    rows.push_back({"shared names", std::to_string(r.shared)});
    rows.push_back({"last report", since});
    v.tables.push_back(text_table("peer (live)", rows));
    return v;
  }
  for (std::size_t j = 0; j < r.successors.size(); ++j) {
    v.links.push_back({kind("successor"), static_cast<std::uint16_t>(j), r.successors[j]});
  }
  if (r.predecessor != kNoPeer) v.links.push_back({kind("predecessor"), 0, r.predecessor});
  // The views expect finger i for every i: a finger reported at its change point holds until
  // the next one.
  for (std::size_t k = 0; k < r.fingers.size(); ++k) {
    const int end = k + 1 < r.fingers.size() ? r.fingers[k + 1].first : bits_;
    for (int i = r.fingers[k].first; i < end; ++i) {
      v.links.push_back({kind("finger"), static_cast<std::uint16_t>(i), r.fingers[k].second});
    }
  }
  v.keys = r.keys;
  TableView fingers;
  fingers.title = "finger table (live)";
  fingers.columns = {"i", "node"};
  for (const auto& [i, node] : r.fingers) {
    fingers.rows.push_back({{Cell::of_number(i), Cell::of_peer(node, core_->peer_id(node).to_decimal())}, -1});
  }
  v.tables.push_back(std::move(fingers));
  v.tables.push_back(text_table("peer (live)", {{"address", r.seen ? r.address : "(never reported)"},
                                                {"keys owned", std::to_string(r.key_count)},
                                                {"last report", since}}));
  return v;
}

}  // namespace p2plab::viz
