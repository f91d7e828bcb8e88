#include "chord_run.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

#include "p2plab/json_util.hpp"
#include "ring.hpp"

namespace p2plab::chord {

struct ChordRun::Op {
  enum class Kind { Put, Get, Lookup, Lookups, Fail, FailFraction, Leave, Join, Set };
  Kind kind = Kind::Lookup;
  SimTime at = 0;
  std::string field;  // "events[3]", for warnings
  bool has_from = false;
  Id from;
  Id key;
  std::string value;
  std::int64_t count = 0;
  SimTime spread = 0;
  double fraction = 0;
  bool has_id = false;
  Id id;
  bool has_via = false;
  Id via;
  std::string param;  // set: which parameter, to `number`
  double number = 0;
};

namespace {

SimTime get_ms(const JsonObject& o, const std::string& key, double fallback, double min) {
  return from_ms(o.get_number(key, fallback, min, 1e12));
}

/// `key` (number or decimal string) or `name` (hashed with SHA-1 into the id space).
Id get_key(const JsonObject& o, const IdSpace& space) {
  if (o.has("key") && o.has("name")) o.fail("name", "give either key or name, not both");
  if (o.has("name")) return space.hash(o.get_string("name"));
  if (!o.has("key")) o.fail("key", "missing (give \"key\": a number, or \"name\": a string to hash)");
  return o.get_id("key", space.bits());
}

}  // namespace

Params parse_params(const Scenario& scenario) {
  Params p;
  if (!scenario.doc.contains("params")) return p;
  const JsonObject params(scenario.doc.at("params"), scenario.file, "params");
  params.only_keys({"m", "successors", "lookup", "stabilize_ms", "fix_fingers_ms", "check_predecessor_ms",
                    "rpc_timeout_ms", "lookup_retries", "maintenance"});
  p.m = static_cast<int>(params.get_int("m", 6, 1, IdSpace::kMaxBits));
  p.successors = static_cast<int>(params.get_int("successors", 3, 1, kMaxSuccessors));
  const std::string lookup = params.get_string("lookup", "iterative");
  if (lookup != "iterative" && lookup != "recursive") params.fail("lookup", "must be \"iterative\" or \"recursive\"");
  p.recursive = lookup == "recursive";
  p.stabilize = get_ms(params, "stabilize_ms", 500, 1);
  p.fix_fingers = get_ms(params, "fix_fingers_ms", 500, 1);
  p.check_predecessor = get_ms(params, "check_predecessor_ms", 1000, 1);
  p.rpc_timeout = get_ms(params, "rpc_timeout_ms", 1000, 1);
  p.lookup_retries = static_cast<int>(params.get_int("lookup_retries", 3, 0, 100));
  p.maintenance = params.get_bool("maintenance", true);
  return p;
}

ChordRun::ChordRun(const Scenario& scenario)
    : scenario_(scenario), params_(parse_params(scenario)), sim_(scenario.seed, scenario.network),
      protocol_(params_, sim_) {
  sim_.set_handler(&protocol_);
  protocol_.set_oracle([this](PeerIndex owner, const Id& key) { return is_true_successor(sim_, owner, key); });
  protocol_.set_liveness_oracle([this](PeerIndex p) { return sim_.is_up(p); });
  protocol_.on_join_failed([this](PeerIndex p) {
    // Like a user restarting the client with another bootstrap address.
    const PeerIndex via = random_live_peer();
    if (via == kNoPeer || via == p || !sim_.is_up(p)) return;
    warnings_.push_back("peer " + sim_.peer_id(p).to_decimal() + ": out of the ring at " +
                        std::to_string(to_ms(sim_.current_time())) + " ms (join failed or every successor gone); "
                        "joining again through " + sim_.peer_id(via).to_decimal());
    protocol_.join(p, via);
  });
  const JsonObject top(scenario.doc, scenario.file, "");
  std::vector<const char*> known(std::begin(kGenericScenarioFields), std::end(kGenericScenarioFields));
  for (const auto& [key, unused] : scenario.doc.items()) {
    (void)unused;
    if (key != "params" && key != "peers" && key != "events" &&
        std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; })) {
      top.fail(key, "unknown field for a chord scenario");
    }
  }
  // ---- peers ----
  const JsonObject peers = top.get_object("peers");
  peers.only_keys({"ids", "count"});
  if (peers.has("ids") == peers.has("count")) peers.fail("", "give exactly one of \"ids\" or \"count\"");
  std::set<Id> used;
  if (peers.has("ids")) {
    const auto& ids = peers.get_array("ids");
    if (ids.empty()) peers.fail("ids", "must name at least one peer");
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const std::string path = "peers.ids[" + std::to_string(i) + "]";
      const Id id = JsonObject::parse_id(ids[i], params_.m, scenario.file, path);
      if (!used.insert(id).second) throw ScenarioError(scenario.file, path, "duplicate id " + id.to_decimal());
      initial_ids_.push_back(id);
    }
  } else {
    const auto count = peers.get_int("count", 1, 100'000'000);
    if (params_.m < 63 && static_cast<std::uint64_t>(count) > (std::uint64_t{1} << params_.m)) {
      peers.fail("count", "more peers than ids: m = " + std::to_string(params_.m) + " has only 2^" +
                              std::to_string(params_.m) + " ids");
    }
    initial_ids_.reserve(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) {
      Id id;
      do {
        id = fresh_peer_id();
      } while (!used.insert(id).second);
      initial_ids_.push_back(id);
    }
  }

  // ---- events (checked now, so a typo fails before anything runs) ----
  known_ids_.insert(used.begin(), used.end());
  std::set<Id>& known_ids = known_ids_;
  if (scenario.doc.contains("events")) {
    const auto& events = top.get_array("events");
    for (std::size_t i = 0; i < events.size(); ++i) {
      const std::string path = "events[" + std::to_string(i) + "]";
      const JsonObject e(events[i], scenario.file, path);
      Op op = parse_op(e, known_ids);
      ops_.push_back(std::move(op));
    }
  }
}

ChordRun::Op ChordRun::parse_op(const JsonObject& e, std::set<Id>& known_ids) const {
  const IdSpace space(params_.m);
  Op op;
  op.field = e.path();
  op.at = from_ms(e.get_number("at_ms", 0.0, 1e12));
  const std::string kind = e.get_string("op");
  auto need_peer = [&](const std::string& field) {
    const Id id = e.get_id(field, params_.m);
    if (!known_ids.count(id)) e.fail(field, "no peer with id " + id.to_decimal() + " exists in this scenario");
    return id;
  };
  if (kind == "put" || kind == "get" || kind == "lookup") {
    op.kind = kind == "put" ? Op::Kind::Put : kind == "get" ? Op::Kind::Get : Op::Kind::Lookup;
    e.only_keys({"at_ms", "op", "key", "name", "from", "value"});
    op.key = get_key(e, space);
    if (kind == "lookup" && !e.has("from")) e.fail("from", "missing (the id of the peer that starts the lookup)");
    if (e.has("from")) {
      op.has_from = true;
      op.from = need_peer("from");
    }
    if (kind == "put") op.value = e.get_string("value", e.has("name") ? e.get_string("name") : std::string());
  } else if (kind == "lookups") {
    op.kind = Op::Kind::Lookups;
    e.only_keys({"at_ms", "op", "count", "spread_ms"});
    op.count = e.get_int("count", 0, 100'000'000);
    op.spread = get_ms(e, "spread_ms", 1000, 0);
  } else if (kind == "fail" || kind == "leave") {
    op.kind = kind == "fail" ? Op::Kind::Fail : Op::Kind::Leave;
    e.only_keys({"at_ms", "op", "peer"});
    op.id = need_peer("peer");
  } else if (kind == "fail_fraction") {
    op.kind = Op::Kind::FailFraction;
    e.only_keys({"at_ms", "op", "fraction"});
    op.fraction = e.get_number("fraction", 0.0, 1.0);
  } else if (kind == "set") {
    // Change a protocol parameter while the run goes on (a periodic timer picks up its new
    // period when it next fires).
    op.kind = Op::Kind::Set;
    e.only_keys({"at_ms", "op", "param", "value"});
    op.param = e.get_string("param");
    if (op.param != "stabilize_ms" && op.param != "fix_fingers_ms" && op.param != "check_predecessor_ms" &&
        op.param != "rpc_timeout_ms") {
      e.fail("param", "cannot be changed during a run (these can: stabilize_ms, fix_fingers_ms, "
                      "check_predecessor_ms, rpc_timeout_ms)");
    }
    op.number = e.get_number("value", 1.0, 1e9);
  } else if (kind == "join") {
    op.kind = Op::Kind::Join;
    e.only_keys({"at_ms", "op", "id", "via"});
    if (e.has("id")) {
      op.has_id = true;
      op.id = e.get_id("id", params_.m);
      known_ids.insert(op.id);
    }
    if (e.has("via")) {
      op.has_via = true;
      op.via = need_peer("via");
    }
  } else {
    e.fail("op", "unknown operation \"" + kind +
                     "\" (known: put, get, lookup, lookups, fail, fail_fraction, leave, join, set)");
  }
  return op;
}

void ChordRun::start() {
  if (started_) return;
  started_ = true;
  schedule_scenario();
}

ChordRun::~ChordRun() = default;

TraceVocabulary ChordRun::vocabulary() const {
  TraceVocabulary v;
  for (int i = 0; i < static_cast<int>(MsgType::Count); ++i) v.message_types.emplace_back(to_string(static_cast<MsgType>(i)));
  for (int i = 0; i < static_cast<int>(TimerKind::Count); ++i) v.timer_kinds.emplace_back(to_string(static_cast<TimerKind>(i)));
  v.state_fields = {"successor", "predecessor", "finger"};
  v.lookup_purposes = {"lookup", "join", "fix_finger", "put", "get"};
  // In the order of kStepHop, kTimeoutHop.
  v.hop_kinds = {"step", "timeout"};
  v.hop_styles = {HopStyle::Forward, HopStyle::Timeout};
  v.user_purpose = static_cast<std::uint8_t>(Purpose::User);
  // A put's, a get's and a join's lookup are animated too (a newcomer looks up its own id).
  v.also_user_purposes = {static_cast<std::uint8_t>(Purpose::Put), static_cast<std::uint8_t>(Purpose::Get),
                          static_cast<std::uint8_t>(Purpose::Join)};
  return v;
}

Id ChordRun::fresh_peer_id() {
  // A generated address such as "10.0.3.7:4000", hashed with SHA-1 like a real Chord node.
  for (;;) {
    const std::uint64_t n = address_counter_++;
    char address[64];
    std::snprintf(address, sizeof address, "10.%u.%u.%u:%u", static_cast<unsigned>((n >> 16) & 0xff),
                  static_cast<unsigned>((n >> 8) & 0xff), static_cast<unsigned>(n & 0xff),
                  static_cast<unsigned>(4000 + (n >> 24)));
    const std::string salted = std::string(address) + "#" + std::to_string(scenario_.seed);
    const Id id = IdSpace(params_.m).hash(salted);
    if (sim_.peer_count() == 0 || sim_.find_live(id) == kNoPeer) return id;
  }
}

PeerIndex ChordRun::peer_by_id(const Id& id) const {
  const PeerIndex live = sim_.find_live(id);
  if (live != kNoPeer) return live;
  for (PeerIndex p = static_cast<PeerIndex>(sim_.peer_count()); p-- > 0;) {
    if (sim_.peer_id(p) == id) return p;
  }
  return kNoPeer;
}

PeerIndex ChordRun::random_live_peer() {
  // A random live peer that is part of the ring (a newcomer still looking up its successor
  // cannot serve requests yet; applications wait for their join to finish).
  const auto& live = sim_.live_by_id();
  if (live.empty()) return kNoPeer;
  PeerIndex p = kNoPeer;
  for (int attempt = 0; attempt < 64; ++attempt) {
    p = live[sim_.scenario_rng().below(live.size())].second;
    if (protocol_.in_ring(p)) return p;
  }
  return p;
}

Id ChordRun::random_key() {
  Id key;
  Rng& rng = sim_.scenario_rng();
  for (auto& limb : key.limb) limb = rng.next_u64();
  return IdSpace(params_.m).reduce(key);
}

PeerIndex ChordRun::add_and_join(const Id& id, PeerIndex via) {
  known_ids_.insert(id);  // a later action may name it (a peer that joined with a generated id)
  const PeerIndex peer = sim_.add_peer(id);
  protocol_.reserve(peer + 1);
  if (via == kNoPeer) {
    protocol_.create(peer);
  } else {
    protocol_.join(peer, via);
  }
  schedule_departure(peer);
  return peer;
}

void ChordRun::schedule_departure(PeerIndex peer) {
  const ChurnConfig& churn = scenario_.churn;
  if (churn.model == ChurnConfig::Model::None) return;
  // Lifetimes come from a stream of the peer's own, so they do not shift its protocol stream.
  const Id& id = sim_.peer_id(peer);
  Rng life = Rng::derive(scenario_.seed ^ 0x6c69666574696d65ULL, id.limb[0] ^ mix64(id.limb[1] ^ mix64(id.limb[2])));
  const double ms = churn.model == ChurnConfig::Model::Exponential ? life.exponential(churn.mean_ms)
                                                                     : life.weibull(churn.shape, churn.scale_ms);
  const SimTime begin = std::max(sim_.current_time(), churn.start);
  sim_.schedule_at(begin + from_ms(ms), churn_handler_, peer, 0);
}

void ChordRun::depart(PeerIndex peer) {
  if (!sim_.is_up(peer)) return;
  if (scenario_.churn.graceful) {
    protocol_.leave(peer);
    sim_.mark_left(peer);
  } else {
    sim_.mark_failed(peer);
  }
  if (scenario_.churn.replace) {
    const PeerIndex via = random_live_peer();
    if (via != kNoPeer) add_and_join(fresh_peer_id(), via);
  }
}

void ChordRun::schedule_scenario() {
  op_handler_ = sim_.add_handler([this](PeerIndex, std::uint32_t index) { execute(ops_[index], index); });
  churn_handler_ = sim_.add_handler([this](PeerIndex peer, std::uint32_t) { depart(peer); });
  lookup_handler_ = sim_.add_handler([this](PeerIndex, std::uint32_t batch) {
    const PeerIndex from = random_live_peer();
    if (from != kNoPeer) protocol_.lookup(from, random_key());
    next_in_batch(batch);
  });
  join_handler_ = sim_.add_handler([this](PeerIndex, std::uint32_t index) {
    // Bootstrap "join": the first peer creates the ring, each later one joins through it.
    const PeerIndex first = index == 0 ? kNoPeer : sim_.find_live(initial_ids_[0]);
    const PeerIndex via = index == 0 ? kNoPeer : (first != kNoPeer ? first : random_live_peer());
    if (index != 0 && via == kNoPeer) {
      warnings_.push_back("peers.ids[" + std::to_string(index) + "]: no live peer to join through; not joined");
      return;
    }
    add_and_join(initial_ids_[index], via);
  });

  if (scenario_.bootstrap == "oracle") {
    protocol_.reserve(initial_ids_.size());
    for (const Id& id : initial_ids_) sim_.add_peer(id);
    protocol_.install_converged(sim_.live_by_id());
    for (PeerIndex p = 0; p < initial_ids_.size(); ++p) {
      protocol_.start_maintenance(p);
      schedule_departure(p);
    }
  } else {
    for (std::size_t i = 0; i < initial_ids_.size(); ++i) {
      sim_.schedule_at(static_cast<SimTime>(i) * scenario_.join_interval, join_handler_, kNoPeer,
                       static_cast<std::uint32_t>(i));
    }
  }
  for (std::size_t i = 0; i < ops_.size(); ++i) {
    sim_.schedule_at(ops_[i].at, op_handler_, kNoPeer, static_cast<std::uint32_t>(i));
  }
}

void ChordRun::next_in_batch(std::uint32_t index) {
  Batch& b = batches_[index];
  if (b.remaining == 0) return;
  // The smallest of k uniform samples in [t, end) lies at t + (end - t) * (1 - U^(1/k)): drawing
  // it repeatedly yields sorted uniform times without storing them.
  const double u = sim_.scenario_rng().uniform();
  const double fraction = 1.0 - portable_exp(portable_log(1.0 - u) / static_cast<double>(b.remaining));
  const auto span = static_cast<double>(b.end - b.cursor);
  b.cursor = std::min(b.end, b.cursor + static_cast<SimTime>(span * fraction));
  --b.remaining;
  sim_.schedule_at(b.cursor, lookup_handler_, kNoPeer, index);
}

void ChordRun::execute(const Op& op, std::size_t index) {
  (void)index;
  auto live_peer = [&](const Id& id, const char* role) {
    const PeerIndex p = sim_.find_live(id);
    if (p == kNoPeer) {
      warnings_.push_back(op.field + ": " + role + " " + id.to_decimal() + " is not alive at " +
                          std::to_string(to_ms(sim_.current_time())) + " ms; skipped");
    }
    return p;
  };
  switch (op.kind) {
    case Op::Kind::Put:
    case Op::Kind::Get:
    case Op::Kind::Lookup: {
      const PeerIndex from = op.has_from ? live_peer(op.from, "peer") : random_live_peer();
      if (from == kNoPeer) return;
      if (op.kind == Op::Kind::Put) {
        protocol_.put(from, op.key, protocol_.intern_value(op.value));
      } else if (op.kind == Op::Kind::Get) {
        protocol_.get(from, op.key);
      } else {
        protocol_.lookup(from, op.key);
      }
      return;
    }
    case Op::Kind::Lookups: {
      // `count` lookups at uniform random times in [now, now + spread), generated one at a time
      // in time order (a million lookups cost one pending event, not a million).
      batches_.push_back({static_cast<std::uint64_t>(op.count), sim_.current_time(), sim_.current_time() + op.spread});
      next_in_batch(static_cast<std::uint32_t>(batches_.size() - 1));
      return;
    }
    case Op::Kind::Fail: {
      const PeerIndex p = live_peer(op.id, "peer");
      if (p != kNoPeer) sim_.mark_failed(p);
      return;
    }
    case Op::Kind::Leave: {
      const PeerIndex p = live_peer(op.id, "peer");
      if (p == kNoPeer) return;
      protocol_.leave(p);
      sim_.mark_left(p);
      return;
    }
    case Op::Kind::FailFraction:
      sim_.fail_fraction(op.fraction);
      return;
    case Op::Kind::Set: {
      Params& p = protocol_.mutable_params();
      const SimTime value = from_ms(op.number);
      if (op.param == "stabilize_ms") p.stabilize = value;
      if (op.param == "fix_fingers_ms") p.fix_fingers = value;
      if (op.param == "check_predecessor_ms") p.check_predecessor = value;
      if (op.param == "rpc_timeout_ms") p.rpc_timeout = value;
      params_ = p;
      return;
    }
    case Op::Kind::Join: {
      Id id = op.has_id ? op.id : fresh_peer_id();
      if (sim_.find_live(id) != kNoPeer) {
        warnings_.push_back(op.field + ": a live peer already has id " + id.to_decimal() + "; join skipped");
        return;
      }
      const PeerIndex via = op.has_via ? live_peer(op.via, "bootstrap peer") : random_live_peer();
      if (via == kNoPeer && sim_.live_count() > 0) return;
      add_and_join(id, via);
      return;
    }
  }
}

void ChordRun::act(const nlohmann::json& op_json) {
  start();
  nlohmann::json doc = op_json;
  doc["at_ms"] = to_ms(sim_.current_time());
  const JsonObject e(doc, "action", "");
  Op op = parse_op(e, known_ids_);
  ops_.push_back(op);
  execute(ops_.back(), ops_.size() - 1);
}

void ChordRun::run_to_end() {
  start();
  const auto begin = std::chrono::steady_clock::now();
  sim_.run_until(scenario_.run_time);
  wall_ms_ += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
}

RunSummary ChordRun::summary() const {
  RunSummary s;
  const LookupStats& st = protocol_.stats();
  s.peers_total = sim_.peer_count();
  s.peers_live = sim_.live_count();
  s.lookups = st.started_count();
  s.lookups_ok = st.correct_count();
  s.lookups_failed = st.failed_count();
  s.lookups_wrong = st.finished_count() - st.correct_count();
  s.lookups_unfinished = protocol_.unfinished_lookups();
  s.success_rate = st.success_rate();
  s.mean_hops = st.mean_hops();
  s.p99_hops = st.hops_quantile(0.99);
  s.mean_latency_ms = st.mean_latency_ms();
  s.p99_latency_ms = st.latency_quantile_ms(0.99);
  s.messages_sent = sim_.messages().total_sent();
  s.messages_delivered = sim_.messages().total_delivered();
  s.messages_dropped = sim_.messages().total_dropped();
  s.events = sim_.events_processed();
  s.simulated_ms = to_ms(sim_.current_time());
  s.wall_ms = wall_ms_;
  return s;
}

nlohmann::json ChordRun::result() const {
  const int m = params_.m;
  auto id_of = [&](PeerIndex p) -> nlohmann::json {
    return p == kNoPeer ? nlohmann::json(nullptr) : id_to_json(sim_.peer_id(p), m);
  };
  nlohmann::json out;
  out["protocol"] = "chord";
  out["scenario"] = scenario_.file;
  out["seed"] = scenario_.seed;
  out["params"] = {{"m", m},
                   {"successors", params_.successors},
                   {"lookup", params_.recursive ? "recursive" : "iterative"},
                   {"stabilize_ms", to_ms(params_.stabilize)},
                   {"fix_fingers_ms", to_ms(params_.fix_fingers)},
                   {"check_predecessor_ms", to_ms(params_.check_predecessor)},
                   {"rpc_timeout_ms", to_ms(params_.rpc_timeout)},
                   {"maintenance", params_.maintenance}};
  nlohmann::json lookups = nlohmann::json::array();
  nlohmann::json storage = nlohmann::json::array();
  if (!brief_) {
    for (const LookupRecord& r : protocol_.records()) {
      nlohmann::json j;
      j["lookup"] = r.serial;
      j["from"] = id_of(r.from);
      j["key"] = id_to_json(r.key, m);
      j["owner"] = id_of(r.owner);
      j["hops"] = r.hops;
      nlohmann::json path = nlohmann::json::array();
      for (PeerIndex p : r.path) path.push_back(id_of(p));
      j["path"] = path;
      j["start_ms"] = to_ms(r.start);
      j["latency_ms"] = to_ms(r.end - r.start);
      j["ok"] = r.ok;
      j["completed"] = r.completed;
      j["messages"] = r.messages;
      if (!r.ok && r.owner != kNoPeer) j["owner_alive"] = r.owner_alive;
      if (r.purpose == Purpose::User) {
        lookups.push_back(std::move(j));
      } else {
        j["op"] = r.purpose == Purpose::Put ? "put" : "get";
        j["found"] = r.found;
        j["value"] = r.value == kNoValue ? nlohmann::json(nullptr) : nlohmann::json(protocol_.value(r.value));
        storage.push_back(std::move(j));
      }
    }
  }
  out["lookups"] = lookups;
  out["storage"] = storage;
  nlohmann::json peers = nlohmann::json::array();
  if (!brief_) {
    for (const auto& [id, p] : sim_.live_by_id()) {
      const PeerSnapshot snap = protocol_.snapshot(p);
      nlohmann::json j;
      j["id"] = id_to_json(id, m);
      j["successor"] = id_of(snap.successors.empty() ? kNoPeer : snap.successors.front());
      j["predecessor"] = id_of(snap.predecessor);
      nlohmann::json succ = nlohmann::json::array();
      for (PeerIndex s : snap.successors) succ.push_back(id_of(s));
      j["successors"] = succ;
      nlohmann::json fingers = nlohmann::json::array();
      for (const FingerEntry& f : snap.fingers) fingers.push_back({{"start", id_to_json(f.start, m)}, {"node", id_of(f.node)}});
      j["fingers"] = fingers;
      nlohmann::json keys = nlohmann::json::array();
      for (const Id& k : snap.keys) keys.push_back(id_to_json(k, m));
      j["keys"] = keys;
      peers.push_back(std::move(j));
    }
  }
  out["peers"] = peers;
  if (brief_) out["brief"] = true;
  nlohmann::json metrics = summary().to_json();
  nlohmann::json by_type = nlohmann::json::object();
  const MessageStats& ms = sim_.messages();
  for (int t = 0; t < static_cast<int>(MsgType::Count); ++t) {
    if (ms.sent[t] == 0) continue;
    by_type[to_string(static_cast<MsgType>(t))] = {{"sent", ms.sent[t]}, {"delivered", ms.delivered[t]},
                                                   {"lost", ms.lost[t]}, {"to_dead_peer", ms.to_dead[t]}};
  }
  metrics["messages_by_type"] = by_type;
  nlohmann::json hist = nlohmann::json::array();
  for (auto c : protocol_.stats().hop_histogram()) hist.push_back(c);
  metrics["hop_histogram"] = hist;
  metrics["mean_state_entries"] = state_size().mean;
  out["metrics"] = metrics;
  out["warnings"] = warnings_;
  return out;
}

StateSize ChordRun::state_size() const {
  // Distinct peers each live node knows (fingers, successors, predecessor).
  StateSize size;
  double total = 0;
  for (const auto& [id, p] : sim_.live_by_id()) {
    (void)id;
    const auto entries = static_cast<double>(protocol_.state_entries(p));
    total += entries;
    size.max = std::max(size.max, entries);
  }
  size.mean = sim_.live_count() ? total / static_cast<double>(sim_.live_count()) : 0.0;
  return size;
}

std::vector<SearchOutcome> ChordRun::requested_searches() const {
  // make_scenario turns each requested search into a get of a stored key.
  std::vector<SearchOutcome> out;
  for (const LookupRecord& r : protocol_.records()) {
    if (r.purpose != Purpose::Get) continue;
    SearchOutcome o;
    o.messages = r.messages;
    o.has_hops = o.has_latency = true;
    o.hops = r.hops;
    o.latency_ms = to_ms(r.end - r.start);
    o.found = r.ok;
    o.false_negative = !r.ok;  // the key was stored: not finding it is a false negative
    out.push_back(o);
  }
  return out;
}

namespace {
std::vector<Link> links_of(const PeerSnapshot& s) {
  std::vector<Link> links;
  for (std::size_t j = 0; j < s.successors.size(); ++j) {
    links.push_back({kSuccessorLink, static_cast<std::uint16_t>(j), s.successors[j]});
  }
  if (s.predecessor != kNoPeer) links.push_back({kPredecessorLink, 0, s.predecessor});
  for (const FingerEntry& f : s.fingers) {
    if (f.node != kNoPeer) links.push_back({kFingerLink, static_cast<std::uint16_t>(f.i), f.node});
  }
  return links;
}

/// The position in `links` of the link of `kind` and `index`, or -1.
int link_position(const std::vector<Link>& links, std::uint8_t kind, std::size_t index) {
  for (std::size_t k = 0; k < links.size(); ++k) {
    if (links[k].kind == kind && links[k].index == index) return static_cast<int>(k);
  }
  return -1;
}
}  // namespace

PeerView peer_view(const PeerSnapshot& s, PeerState state, const std::function<std::string(PeerIndex)>& name) {
  PeerView v;
  v.id = s.id;
  v.state = state;
  v.role = kPeerRole;
  v.links = links_of(s);
  TableView fingers;
  fingers.title = "Finger table";
  fingers.help = "Finger i of n points to successor(n + 2^i): start = n + 2^i, the interval [start_i, start_i+1) it "
                 "covers, successor = the first peer at or after start.";
  fingers.columns = {"i", "start", "interval", "successor"};
  for (const FingerEntry& f : s.fingers) {
    TableView::Row row;
    row.cells = {Cell::of_number(f.i), Cell::of_id(f.start, true), Cell::of_interval(f.start, f.interval_end),
                 Cell::of_peer(f.node, name(f.node))};
    row.link = f.node == kNoPeer ? -1 : link_position(v.links, kFingerLink, static_cast<std::size_t>(f.i));
    fingers.rows.push_back(std::move(row));
  }
  v.tables.push_back(std::move(fingers));
  TableView succ;
  succ.title = "Successor list";
  succ.help = "The next r peers clockwise: when the successor fails, the next one in the list takes over.";
  succ.columns = {"#", "node"};
  for (std::size_t j = 0; j < s.successors.size(); ++j) {
    TableView::Row row;
    row.cells = {Cell::of_number(static_cast<double>(j + 1)), Cell::of_peer(s.successors[j], name(s.successors[j]))};
    row.link = link_position(v.links, kSuccessorLink, j);
    succ.rows.push_back(std::move(row));
  }
  v.tables.push_back(std::move(succ));
  TableView keys;
  keys.title = "Stored keys";
  keys.help = "Primary: keys in (predecessor, n], this peer answers for them. Replica: copies kept for predecessors.";
  keys.columns = {"key", "role"};
  for (const Id& k : s.keys) keys.rows.push_back({{Cell::of_id(k), Cell::of_text("primary")}, -1});
  for (const Id& k : s.replicas) keys.rows.push_back({{Cell::of_id(k), Cell::of_text("replica")}, -1});
  v.tables.push_back(std::move(keys));
  v.keys = s.keys;
  return v;
}

PeerView ChordRun::inspect(PeerIndex peer) const {
  PeerView v = peer_view(protocol_.snapshot(peer), sim_.state(peer), [&](PeerIndex p) {
    return p == kNoPeer ? std::string("-") : sim_.peer_id(p).to_decimal();
  });
  v.peer = peer;
  return v;
}

std::vector<std::uint32_t> ChordRun::messages_per_search() const {
  std::vector<std::uint32_t> out;
  for (const LookupRecord& r : protocol_.records()) {
    if (r.purpose == Purpose::User && r.completed) out.push_back(r.messages);
  }
  return out;
}

// The slides' sentence for one routing decision, made at peer x for key k (lookup(44) on the
// lecture's ring): "52: the farthest finger preceding 44 is finger 5 -> 23" (finger 5 of 52
// starts at 52 + 2^5 = 20, and its successor 23 is the last finger before 44); at the end
// "42: 44 lies in (42, 45]: the answer is 45". A LookupStart is the requester's first decision;
// a LookupHop to x is x's decision (iterative: what x's answer tells the requester; recursive:
// where x forwards); a LookupDone names the answer.
std::string ChordRun::narrate(const TraceEvent& event) const {
  const auto id = [&](PeerIndex p) { return p == kNoPeer ? std::string("?") : sim_.peer_id(p).to_decimal(); };
  if (event.kind == TraceKind::LookupDone) {
    if (event.other == kNoPeer) return id(event.peer) + " gets no answer: the lookup failed";
    const std::string verdict = event.detail != 0 ? " (the true successor)" : " (WRONG: not the true successor)";
    // A put or a get ends when the owner has answered the PUT or the GET: its record, among the
    // last ones finished (this one has just finished), says which.
    const auto& records = protocol_.records();
    for (std::size_t i = records.size(), seen = 0; i-- > 0 && seen < 64; ++seen) {
      const LookupRecord& r = records[i];
      if (r.serial != event.lookup) continue;
      const std::string key = r.key.to_decimal();
      if (r.purpose == Purpose::Put) {
        return id(event.peer) + ": " + id(event.other) + verdict + " stored key " + key +
               " and copied it to its successors (PUT acknowledged)";
      }
      if (r.purpose == Purpose::Get) {
        return id(event.peer) + ": " + id(event.other) + verdict + (r.found ? " returned the value of key " + key
                                                                          : " holds no value for key " + key);
      }
      break;
    }
    return id(event.peer) + " has the answer " + id(event.other) + verdict;
  }
  if (event.kind == TraceKind::LookupHop && event.detail == kTimeoutHop) {
    return id(event.peer) + ": no answer from " + id(event.other) +
           " in time (presumed crashed): it asks again, avoiding " + id(event.other);
  }
  if (event.kind != TraceKind::LookupStart && event.kind != TraceKind::LookupHop) return "";
  const PeerIndex x = event.kind == TraceKind::LookupStart ? event.peer : event.other;
  if (x == kNoPeer || !sim_.is_up(x)) return "";
  const std::string key = event.key.to_decimal();
  PeerIndex next = kNoPeer;
  if (protocol_.route_step(x, event.key, next)) {
    return id(x) + ": " + key + " lies in (" + id(x) + ", " + id(next) + "]: the answer is " + id(next);
  }
  if (next == kNoPeer) return id(x) + ": knows no way on yet (still joining)";
  for (int i = params_.m - 1; i >= 0; --i) {
    if (protocol_.finger(x, i) == next) {
      return id(x) + ": the farthest finger preceding " + key + " is finger " + std::to_string(i) + " -> " + id(next);
    }
  }
  return id(x) + ": the closest peer preceding " + key + " it knows is " + id(next) + " (from its successor list)";
}

RouteView ChordRun::reference_route(PeerIndex from, const Id& key) const {
  // Ideal Chord on the live peers: every finger and successor list exactly right. At each node
  // the lookup ends if key lies in (node, successor]; else it goes to the known peer (true finger
  // or one of the r true successors) that lies in (node, key) farthest from the node. On a
  // converged ring the protocol's reference code takes exactly this route (test_chord_oracle).
  RouteView route;
  const auto& ring = sim_.live_by_id();
  if (ring.empty() || from >= sim_.peer_count() || !sim_.is_up(from)) return route;
  const IdSpace space(params_.m);
  const std::size_t count = ring.size();
  auto rank_of_successor = [&](const Id& x) {  // index in `ring` of the first id >= x (wrapping)
    const auto it = std::lower_bound(ring.begin(), ring.end(), std::pair<Id, PeerIndex>{x, 0});
    return it == ring.end() ? std::size_t{0} : static_cast<std::size_t>(it - ring.begin());
  };
  PeerIndex node = from;
  route.path.push_back(node);
  for (std::size_t hop = 0; hop <= count; ++hop) {
    const Id& self = sim_.peer_id(node);
    const std::size_t rank = rank_of_successor(space.add(self, Id(1)));
    const PeerIndex successor = count == 1 ? node : ring[rank].second;
    if (count == 1 || IdSpace::in_open_closed(key, self, ring[rank].first)) {
      route.owner = successor;
      return route;
    }
    PeerIndex best = kNoPeer;
    Id best_distance;
    auto consider = [&](PeerIndex p) {
      const Id& id = sim_.peer_id(p);
      if (p == node || !IdSpace::in_open(id, self, key)) return;
      const Id d = space.distance(self, id);
      if (best == kNoPeer || best_distance < d) {
        best = p;
        best_distance = d;
      }
    };
    for (int i = 0; i < params_.m; ++i) consider(ring[rank_of_successor(finger_start(space, self, i))].second);
    for (int j = 0; j < params_.successors && static_cast<std::size_t>(j) < count; ++j) {
      consider(ring[(rank + static_cast<std::size_t>(j)) % count].second);
    }
    node = best != kNoPeer ? best : successor;
    route.path.push_back(node);
  }
  return route;
}

PeerView ChordRun::inspect_links(PeerIndex peer) const {
  PeerView v;
  v.peer = peer;
  v.id = sim_.peer_id(peer);
  v.state = sim_.state(peer);
  v.role = kPeerRole;
  const PeerSnapshot s = protocol_.snapshot(peer);
  v.links = links_of(s);
  v.keys = s.keys;
  return v;
}

}  // namespace p2plab::chord
