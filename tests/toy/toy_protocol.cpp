// The toy protocol: the smallest protocol a program can carry, defined in this one file and
// registered from here (RegisterProtocol), with no edit anywhere else in the tree. It proves the
// architecture: `p2plab-toy` is the command line linked with this file, and lists, runs and
// compares the toy like any built-in protocol, and runs it as a real peer (`p2plab-toy node
// --protocol toy_ring`, on the node shell of net/); the visualizer can link the same file (CMake
// object library p2plab_toy_protocol).
//
// The protocol: peers on an identifier circle of m bits, each knowing only its successor. A lookup
// of key k walks the circle one successor at a time until k lies in (node, successor]; the
// successor answers. O(N) hops, the lecture's first, naive ring before fingers.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "p2plab/json_util.hpp"
#include "p2plab/net/node_shell.hpp"
#include "p2plab/registry.hpp"
#include "p2plab/simulator.hpp"

namespace p2plab::toy {

namespace {

constexpr const char* kName = "toy_ring";
constexpr std::uint8_t kSuccessorLink = 0;
constexpr std::uint8_t kPeerRole = 0;

enum class MsgType : std::uint8_t { Forward, Found, Count };

struct Message {
  MsgType type = MsgType::Forward;
  std::uint32_t lookup = 0;
  std::uint16_t hops = 0;
  PeerIndex origin = kNoPeer, owner = kNoPeer;
  Id key;
};

struct LookupRecord {
  PeerIndex from = kNoPeer, owner = kNoPeer;
  Id key;
  std::uint16_t hops = 0;
  std::uint32_t messages = 0;
  SimTime start = 0, end = -1;
  bool ok = false;  // the owner is the key's true successor (the run's oracle)
};

/// The peers' logic: each peer's successor, and the walk.
class Ring final : public MessageHandler<Message> {
 public:
  explicit Ring(Transport<Message>& transport) : transport_(transport) {}

  void set_successors(const std::vector<std::pair<Id, PeerIndex>>& sorted) {
    for (std::size_t r = 0; r < sorted.size(); ++r) {
      const PeerIndex p = sorted[r].second;
      if (successor_.size() <= p) successor_.resize(p + 1, kNoPeer);
      successor_[p] = sorted[(r + 1) % sorted.size()].second;
    }
  }
  PeerIndex successor(PeerIndex p) const { return p < successor_.size() ? successor_[p] : kNoPeer; }
  /// Ground truth for the "ok" of an answer: is `owner` the key's true successor?
  void set_oracle(std::function<bool(PeerIndex owner, const Id& key)> oracle) { oracle_ = std::move(oracle); }
  const std::vector<LookupRecord>& records() const { return records_; }
  void own_records_only() { own_records_only_ = true; }

  void lookup(PeerIndex from, const Id& key) {
    const auto serial = static_cast<std::uint32_t>(records_.size());
    records_.push_back({from, kNoPeer, key, 0, 0, transport_.now(), -1, false});
    trace(TraceKind::LookupStart, from, kNoPeer, serial, 0, key);
    Message m;
    m.lookup = serial;
    m.origin = from;
    m.key = key;
    step(from, m);
  }

  void on_message(PeerIndex self, PeerIndex from, const Message& msg) override {
    if (msg.type == MsgType::Found) {
      LookupRecord& r = records_[msg.lookup];
      r.owner = msg.owner;
      r.hops = msg.hops;
      r.end = transport_.now();
      r.ok = oracle_ && oracle_(msg.owner, msg.key);
      trace(TraceKind::LookupDone, self, msg.owner, msg.lookup, msg.hops, msg.key, r.ok ? 1 : 0);
      return;
    }
    trace(TraceKind::LookupHop, from, self, msg.lookup, msg.hops, msg.key);
    step(self, msg);
  }
  void on_timer(PeerIndex, std::uint16_t, std::uint32_t) override {}

 private:
  /// At peer n: answer if the key lies in (n, successor], else pass the lookup on.
  void step(PeerIndex n, Message m) {
    const PeerIndex next = successor(n);
    // A real peer (ToyNode) holds the records of its own lookups only.
    LookupRecord* r = own_records_only_ && m.origin != n ? nullptr : &records_[m.lookup];
    if (r != nullptr) ++r->messages;
    if (next == n || IdSpace::in_open_closed(m.key, transport_.id_of(n), transport_.id_of(next))) {
      m.type = MsgType::Found;
      m.owner = next;
      transport_.send(n, m.origin, m);
      return;
    }
    ++m.hops;
    transport_.send(n, next, m);
  }

  void trace(TraceKind kind, PeerIndex peer, PeerIndex other, std::uint32_t lookup, std::uint16_t index, const Id& key,
             std::uint8_t detail = 0) {
    Trace& t = transport_.trace();
    if (!t.enabled()) return;
    TraceEvent e;
    e.time = transport_.now();
    e.kind = kind;
    e.peer = peer;
    e.other = other;
    e.lookup = lookup;
    e.index = index;    // LookupHop: the hop number, 1 = first; LookupDone: the hops taken
    e.detail = detail;  // LookupDone: 1 if correct
    e.key = key;
    t.record(e);
  }

  Transport<Message>& transport_;
  std::vector<PeerIndex> successor_;
  std::vector<LookupRecord> records_;
  std::function<bool(PeerIndex, const Id&)> oracle_;
  bool own_records_only_ = false;
};

/// One run of a toy scenario: {"protocol": "toy_ring", "params": {"m": 8}, "peers": {"ids": [...]}
/// or {"count": N}, "events": [{"at_ms", "op": "lookup", "from", "key"} or {"op": "lookups", "count"}]}.
class ToyRun final : public Run {
 public:
  explicit ToyRun(const Scenario& scenario) : scenario_(scenario), sim_(scenario.seed, scenario.network), ring_(sim_) {
    sim_.set_handler(&ring_);
    ring_.set_oracle([this](PeerIndex owner, const Id& key) {
      // The first live id at or after the key, wrapping around: brute force over the sorted ids.
      const auto& live = sim_.live_by_id();
      if (live.empty()) return false;
      const auto it = std::lower_bound(live.begin(), live.end(), std::pair<Id, PeerIndex>{key, 0});
      return (it == live.end() ? live.front().second : it->second) == owner;
    });
    const JsonObject top(scenario.doc, scenario.file, "");
    if (auto params = top.find_object("params")) {
      params->only_keys({"m"});
      m_ = static_cast<int>(params->get_int("m", 8, 1, 64));
    }
    const IdSpace space(m_);
    const JsonObject peers = top.get_object("peers");
    std::set<Id> used;
    if (peers.has("ids")) {
      const auto& ids = peers.get_array("ids");
      for (std::size_t i = 0; i < ids.size(); ++i) {
        const Id id = JsonObject::parse_id(ids[i], m_, scenario.file, "peers.ids[" + std::to_string(i) + "]");
        if (used.insert(id).second) ids_.push_back(id);
      }
    } else {
      const auto count = peers.get_int("count", 1, 1 << 16);
      for (std::int64_t i = 0; ids_.size() < static_cast<std::size_t>(count) && i < 4 * count + 64; ++i) {
        const Id id = space.hash("toy peer " + std::to_string(i));
        if (used.insert(id).second) ids_.push_back(id);
      }
    }
    if (ids_.empty()) peers.fail("", "needs at least one peer");
    if (scenario.doc.contains("events")) {
      const auto& events = top.get_array("events");
      for (std::size_t i = 0; i < events.size(); ++i) {
        ops_.push_back(parse_op(JsonObject(events[i], scenario.file, "events[" + std::to_string(i) + "]")));
      }
    }
  }

  using Run::simulator;
  SimulatorCore& simulator() override { return sim_; }
  const Scenario& scenario() const override { return scenario_; }
  int id_bits() const override { return m_; }
  TraceVocabulary vocabulary() const override {
    TraceVocabulary v;
    v.message_types = {"FORWARD", "FOUND"};
    v.lookup_purposes = {"lookup"};
    v.hop_kinds = {"step"};
    v.hop_styles = {HopStyle::Forward};
    v.user_purpose = 0;
    return v;
  }

  void start() override {
    if (started_) return;
    started_ = true;
    for (const Id& id : ids_) sim_.add_peer(id);
    ring_.set_successors(sim_.live_by_id());
    handler_ = sim_.add_handler([this](PeerIndex, std::uint32_t i) { execute(ops_[i]); });
    for (std::size_t i = 0; i < ops_.size(); ++i)
      sim_.schedule_at(ops_[i].at, handler_, kNoPeer, static_cast<std::uint32_t>(i));
  }
  void run_to_end() override {
    start();
    sim_.run_until(scenario_.run_time);
  }

  RunSummary summary() const override {
    RunSummary s;
    s.peers_total = sim_.peer_count();
    s.peers_live = sim_.live_count();
    double hops = 0;
    for (const LookupRecord& r : ring_.records()) {
      ++s.lookups;
      if (r.end < 0) {
        ++s.lookups_unfinished;
        continue;
      }
      if (!r.ok) {
        ++s.lookups_wrong;
        continue;
      }
      ++s.lookups_ok;
      hops += r.hops;
    }
    s.mean_hops = s.lookups_ok ? hops / static_cast<double>(s.lookups_ok) : 0;
    const std::uint64_t answered = s.lookups_ok + s.lookups_wrong;
    s.success_rate = answered ? static_cast<double>(s.lookups_ok) / static_cast<double>(answered) : 1.0;
    s.messages_sent = sim_.messages().total_sent();
    s.messages_delivered = sim_.messages().total_delivered();
    s.events = sim_.events_processed();
    s.simulated_ms = to_ms(sim_.current_time());
    return s;
  }

  nlohmann::json result() const override {
    auto id_of = [&](PeerIndex p) { return p == kNoPeer ? nlohmann::json(nullptr) : id_to_json(sim_.peer_id(p), m_); };
    nlohmann::json lookups = nlohmann::json::array();
    for (const LookupRecord& r : ring_.records()) {
      lookups.push_back({{"from", id_of(r.from)},
                         {"key", id_to_json(r.key, m_)},
                         {"owner", id_of(r.owner)},
                         {"hops", r.hops},
                         {"messages", r.messages},
                         {"completed", r.end >= 0},
                         {"ok", r.ok}});
    }
    nlohmann::json peers = nlohmann::json::array();
    for (const auto& [id, p] : sim_.live_by_id())
      peers.push_back({{"id", id_to_json(id, m_)}, {"successor", id_of(ring_.successor(p))}});
    return {{"protocol", kName},
            {"scenario", scenario_.file},
            {"seed", scenario_.seed},
            {"params", {{"m", m_}}},
            {"lookups", lookups},
            {"peers", peers},
            {"metrics", summary().to_json()},
            {"warnings", warnings_}};
  }

  PeerView inspect_links(PeerIndex peer) const override {
    PeerView v;
    v.peer = peer;
    v.id = sim_.peer_id(peer);
    v.state = sim_.state(peer);
    v.role = kPeerRole;
    if (ring_.successor(peer) != kNoPeer) v.links.push_back({kSuccessorLink, 0, ring_.successor(peer)});
    return v;
  }
  PeerView inspect(PeerIndex peer) const override {
    PeerView v = inspect_links(peer);
    TableView t;
    t.title = "Successor";
    t.help = "The only peer this one knows: lookups walk the circle through it.";
    t.columns = {"successor"};
    const PeerIndex s = ring_.successor(peer);
    t.rows.push_back({{Cell::of_peer(s, s == kNoPeer ? "" : sim_.peer_id(s).to_decimal())}, v.links.empty() ? -1 : 0});
    v.tables.push_back(std::move(t));
    return v;
  }
  std::vector<std::uint32_t> messages_per_search() const override {
    std::vector<std::uint32_t> out;
    for (const LookupRecord& r : ring_.records()) {
      if (r.end >= 0) out.push_back(r.messages);
    }
    return out;
  }
  void act(const nlohmann::json& op) override {
    start();
    nlohmann::json doc = op;
    doc["at_ms"] = to_ms(sim_.current_time());
    ops_.push_back(parse_op(JsonObject(doc, "action", "")));
    execute(ops_.back());
  }
  std::vector<SearchOutcome> requested_searches() const override {
    std::vector<SearchOutcome> out;
    for (const LookupRecord& r : ring_.records()) {
      SearchOutcome o;
      o.messages = r.messages;
      o.has_hops = o.has_latency = r.end >= 0;
      o.hops = r.hops;
      o.latency_ms = r.end >= 0 ? to_ms(r.end - r.start) : 0;
      o.found = r.ok;
      o.false_negative = r.end >= 0 && !r.ok;
      out.push_back(o);
    }
    return out;
  }
  StateSize state_size() const override { return {1, 1}; }  // one successor each

 private:
  struct Op {
    SimTime at = 0;
    bool many = false;
    std::int64_t count = 0;
    Id from, key;
  };

  Op parse_op(const JsonObject& e) const {
    Op op;
    op.at = from_ms(e.get_number("at_ms", 0.0, 0.0, 1e12));
    const std::string kind = e.get_string("op");
    if (kind == "lookups") {
      e.only_keys({"at_ms", "op", "count"});
      op.many = true;
      op.count = e.get_int("count", 0, 1'000'000);
    } else if (kind == "lookup") {
      e.only_keys({"at_ms", "op", "from", "key", "name"});
      op.from = e.get_id("from", m_);
      if (std::find(ids_.begin(), ids_.end(), op.from) == ids_.end()) e.fail("from", "no such peer");
      op.key = e.has("name") ? IdSpace(m_).hash(e.get_string("name")) : e.get_id("key", m_);
    } else {
      e.fail("op", "unknown operation \"" + kind + "\" (known: lookup, lookups)");
    }
    return op;
  }

  void execute(const Op& op) {
    if (!op.many) {
      ring_.lookup(sim_.find_live(op.from), op.key);
      return;
    }
    const auto& live = sim_.live_by_id();
    for (std::int64_t i = 0; i < op.count && !live.empty(); ++i) {
      Id key;
      key.limb[0] = sim_.scenario_rng().next_u64();
      ring_.lookup(live[sim_.scenario_rng().below(live.size())].second, IdSpace(m_).reduce(key));
    }
  }

  Scenario scenario_;
  int m_ = 8;
  Simulator<Message> sim_;
  Ring ring_;
  std::vector<Id> ids_;
  std::vector<Op> ops_;
  std::vector<std::string> warnings_;
  std::uint16_t handler_ = 0;
  bool started_ = false;
};

nlohmann::json make_scenario(const ScenarioRequest& request) {
  const auto it = request.params.find("m");
  const int m = it == request.params.end() ? 8 : static_cast<int>(it->second);
  nlohmann::json events = nlohmann::json::array();
  if (request.searches.empty()) {
    events.push_back({{"at_ms", 1000}, {"op", "lookups"}, {"count", 10}});
  }
  // compare: a lookup of each requested item's name from the requested peer. The peers' ids are
  // generated here, so that "from" can name them.
  nlohmann::json ids = nlohmann::json::array();
  const IdSpace space(m);
  std::set<Id> used;
  for (int i = 0; static_cast<int>(ids.size()) < request.peers && i < 4 * request.peers + 64; ++i) {
    const Id id = space.hash("toy peer " + std::to_string(i));
    if (used.insert(id).second) ids.push_back(id_to_json(id, m));
  }
  for (std::size_t i = 0; i < request.searches.size(); ++i) {
    const auto from = static_cast<std::size_t>(request.searches[i].first) % ids.size();
    events.push_back({{"at_ms", request.first_search_ms + request.search_gap_ms * static_cast<int>(i)},
                      {"op", "lookup"},
                      {"from", ids[from]},
                      {"name", "item-" + std::to_string(request.searches[i].second)}});
  }
  return {{"protocol", kName},       {"seed", request.seed}, {"params", {{"m", m}}},
          {"peers", {{"ids", ids}}}, {"events", events},     {"run_ms", 60000}};
}

ProtocolInfo toy_protocol();

// ---- the toy as a real peer (`p2plab node --protocol toy_ring`), on the node shell ----------------
// A peer joins through --join: the HELLO exchange makes the bootstrap known, and a lookup of the
// peer's own id sent through it makes the peer known there. Each peer's successor is the next id
// clockwise among the peers it knows; the monitor shows it (net/monitor.hpp).

class ToyNode final : public net::TransportApp<Message> {
 public:
  ToyNode(net::Shell& shell, int m) : TransportApp(shell), m_(m), ring_(transport_) { ring_.own_records_only(); }

  void on_message(PeerIndex self, PeerIndex from, const Message& msg) override { ring_.on_message(self, from, msg); }
  void on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) override {
    ring_.on_timer(self, kind, cookie);
  }

  bool encode(PeerIndex, const Message& m, std::vector<std::uint8_t>& out) override {
    net::wire::Writer w(shell_.format(), net::wire::Kind::Message, shell_.self_id());
    w.uint("t", static_cast<std::uint64_t>(m.type));
    w.uint("l", m.lookup);
    w.uint("h", m.hops);
    w.id("y", m.key);
    if (m.origin != kNoPeer) w.contact("o", shell_.wire_contact(m.origin));
    if (m.owner != kNoPeer) w.contact("n", shell_.wire_contact(m.owner));
    return w.finish(out);
  }
  const char* name_of(const Message& m) const override { return m.type == MsgType::Found ? "FOUND" : "FORWARD"; }
  bool read(net::wire::Reader& r) override {
    in_ = Wire{};
    if (r.kind() != net::wire::Kind::Message) return r.fields() == 0 || r.fail(net::wire::Drop::BadField);
    bool has_type = false;
    return r.each([&](const std::string& name, const nlohmann::json& value) {
      if (name == "t") return has_type = r.small(value, 1, in_.type);
      if (name == "l") return r.small(value, 0xffffffffu, in_.lookup);
      if (name == "h") return r.small(value, 0xffff, in_.hops);
      if (name == "y") return r.id(value, in_.key);
      if (name == "o") return r.contact(value, in_.origin.emplace());
      if (name == "n") return r.contact(value, in_.owner.emplace());
      return r.fail(net::wire::Drop::BadField);
    }) && (has_type || r.fail(net::wire::Drop::Missing)) &&
           (in_.origin || r.fail(net::wire::Drop::Missing));
  }
  bool map(PeerIndex, const net::Endpoint& from, net::wire::Drop&) override {
    pending_ = Message{};
    pending_.type = static_cast<MsgType>(in_.type);
    pending_.lookup = in_.lookup;
    pending_.hops = in_.hops;
    pending_.key = in_.key;
    if (in_.origin && (pending_.origin = shell_.learn(*in_.origin, from)) == kNoPeer) return false;
    if (in_.owner && (pending_.owner = shell_.learn(*in_.owner, from)) == kNoPeer) return false;
    return true;
  }
  const char* pending_name() const override { return name_of(pending_); }
  void deliver(PeerIndex sender) override {
    update_successor();
    // A lookup this peer did not start has no record here: the answer goes to its origin only.
    if (pending_.type == MsgType::Found && pending_.lookup >= ring_.records().size()) return;
    ring_.on_message(self(), sender, pending_);
  }

  std::string start() override {
    update_successor();
    return "the first peer of a toy ring";
  }
  void joined(PeerIndex bootstrap) override {
    update_successor();
    ring_.lookup(self(), shell_.self_id());  // through the bootstrap: it learns this peer
    (void)bootstrap;
  }
  void tick() override { update_successor(); }
  std::string leave() override { return "left"; }

  std::string title() const override { return "toy ring peer " + shell_.id_text(self()); }
  std::string help() const override { return "lookup KEY"; }
  bool command(const std::string& op, std::istream& in) override {
    if (op != "lookup") return false;
    std::string text;
    in >> text;
    const auto key = Id::from_decimal(text);
    if (!key || !IdSpace(m_).contains(*key)) {
      shell_.error("lookup: KEY is a number below 2^" + std::to_string(m_));
      return true;
    }
    ring_.lookup(self(), *key);
    return true;
  }
  nlohmann::json state() const override {
    const PeerIndex s = ring_.successor(self());
    return {{"successor", s == kNoPeer ? nlohmann::json(nullptr) : nlohmann::json(shell_.id_text(s))}};
  }
  std::string state_text(const nlohmann::json& s) const override {
    return "toy peer, successor " + s["successor"].dump() + "\n";
  }
  PeerView view() const override {
    PeerView v;
    v.role = kPeerRole;
    if (ring_.successor(self()) != kNoPeer) v.links.push_back({kSuccessorLink, 0, ring_.successor(self())});
    return v;
  }

 private:
  struct Wire {
    std::uint8_t type = 0;
    std::uint32_t lookup = 0;
    std::uint16_t hops = 0;
    Id key;
    std::optional<net::wire::Contact> origin, owner;
  };
  void update_successor() {
    std::vector<std::pair<Id, PeerIndex>> sorted;
    for (PeerIndex p = 0; p < shell_.contacts().size(); ++p) sorted.emplace_back(shell_.contacts().at(p).id, p);
    std::sort(sorted.begin(), sorted.end());
    ring_.set_successors(sorted);
  }

  int m_;
  Ring ring_;
  Wire in_;
  Message pending_;
};

ProtocolCommand toy_node() {
  return net::node_command("One real toy ring peer on a UDP socket; console: lookup KEY, state, leave",
                           {net::node_option("bits", "Identifier bits m", "16")},
                           [](const CommandArgs& args, net::NodeSetup& setup, std::string& error) {
                             int m = 16;
                             if (!net::read_option(args, "bits", 3, 64, m, error)) return false;
                             setup.protocol = kName;
                             setup.id_bits = m;
                             setup.format = net::wire::Format{1, kName, m, 1400};
                             setup.model = toy_protocol().model;
                             setup.make = [m](net::Shell& shell) { return std::make_unique<ToyNode>(shell, m); };
                             return true;
                           });
}

/// A tool (`p2plab-toy toy_ring successor KEY --ids A,B,C`): the peer a key belongs to on a given
/// circle. It shows that a protocol's tools reach the command line through the registry alone.
ProtocolCommand successor_tool() {
  ProtocolCommand tool;
  tool.name = "successor";
  tool.summary = "Print the successor of KEY among the ids (the peer that stores KEY)";
  tool.arguments = {{"key", "A key, a whole number"}};
  CommandOption ids_option;
  ids_option.name = "ids";
  ids_option.help = "The peers' ids, separated by commas";
  ids_option.default_value = "0";
  tool.options = {ids_option};
  tool.run = [](const CommandArgs& args) {
    try {
      const std::uint64_t key = std::stoull(args.at("key"));
      std::vector<std::uint64_t> ids;
      std::stringstream list(args.at("ids"));
      for (std::string id; std::getline(list, id, ',');) ids.push_back(std::stoull(id));
      std::sort(ids.begin(), ids.end());
      const auto it = std::lower_bound(ids.begin(), ids.end(), key);
      std::printf("%llu\n", static_cast<unsigned long long>(it == ids.end() ? ids.front() : *it));
      return 0;
    } catch (const std::exception&) {
      std::fprintf(stderr, "p2plab toy_ring successor: KEY and --ids must be whole numbers\n");
      return 2;
    }
  };
  return tool;
}

ProtocolInfo toy_protocol() {
  ProtocolInfo info;
  info.name = kName;
  info.description = "Toy ring (a test's protocol): each peer knows only its successor, lookups walk the circle (O(N))";
  info.create = [](const Scenario& scenario) -> std::unique_ptr<Run> { return std::make_unique<ToyRun>(scenario); };
  ProtocolModel& model = info.model;
  model.geometry = Geometry::Ring;
  model.search_noun = "lookup";
  model.complexity = "O(N)";
  model.link_kinds = {{"successor", "successor (the only peer each one knows)", Colour::Green, LinkDrawing::Adjacent}};
  model.roles = {{"peer", "a peer on the circle", Colour::Blue, 1.0f, 0}};
  model.operations = {{"lookup",
                       "lookup",
                       "Walk the circle to the key's successor.",
                       "from",
                       {{"key", "key", OperationField::Kind::Key, "A number, or text to hash.", "7"}}}};
  model.parameters = {{"m", "m (id bits)", "Identifiers 0 .. 2^m - 1.", 3, 64, 8, true, true, false}};
  model.make_scenario = make_scenario;
  info.node = toy_node();
  info.commands = {successor_tool()};
  return info;
}

const RegisterProtocol registration{toy_protocol()};

}  // namespace

}  // namespace p2plab::toy
