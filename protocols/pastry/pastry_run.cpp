#include "pastry_run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace p2plab::pastry {

struct PastryRun::Op {
  enum class Kind { Put, Get, Lookup, Lookups, Fail, FailFraction, Leave, Join, Set };
  Kind kind = Kind::Lookup;
  SimTime at = 0;
  std::string field;
  bool has_from = false;
  Id from, key, id, via;
  std::string value, param;
  std::int64_t count = 0;
  SimTime spread = 0;
  double fraction = 0, number = 0;
  bool has_id = false, has_via = false;
};

namespace {

SimTime param_ms(const JsonObject& o, const std::string& key, double fallback) {
  return from_ms(o.get_number(key, fallback, 1, 1e9));
}

Id key_of(const JsonObject& o, const IdSpace& space) {
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
  params.only_keys(
      {"m", "b", "leaf_set", "neighbourhood", "keepalive_ms", "rpc_timeout_ms", "lookup_timeout_ms", "maintenance"});
  p.b = static_cast<int>(params.get_int("b", 4, 1, kMaxDigitBits));
  p.m = static_cast<int>(params.get_int("m", 128, 1, IdSpace::kMaxBits));
  if (p.m % p.b != 0 || p.m < p.b) {
    params.fail("m", "must be a multiple of b = " + std::to_string(p.b) + " (ids are m / b digits in base 2^b)");
  }
  p.leaf_set = static_cast<int>(params.get_int("leaf_set", 16, 2, kMaxList));
  if (p.leaf_set % 2 != 0) params.fail("leaf_set", "must be even (L/2 smaller and L/2 larger ids)");
  p.neighbourhood = static_cast<int>(params.get_int("neighbourhood", 32, 0, kMaxList));
  p.keepalive = param_ms(params, "keepalive_ms", 1000);
  p.rpc_timeout = param_ms(params, "rpc_timeout_ms", 500);
  p.lookup_timeout = param_ms(params, "lookup_timeout_ms", 20000);
  p.maintenance = params.get_bool("maintenance", true);
  return p;
}

PeerIndex closest_live(const SimulatorCore& sim, const Digits& digits, const Id& key, PeerIndex except) {
  const auto& live = sim.live_by_id();
  const std::size_t n = live.size();
  if (n == 0 || (n == 1 && live[0].second == except)) return kNoPeer;
  const auto at = static_cast<std::size_t>(
      std::lower_bound(live.begin(), live.end(), std::pair<Id, PeerIndex>{key, 0}) - live.begin());
  // The closest is the first peer at or after key, or the last before it (on the circle),
  // stepping over `except`.
  std::size_t up = at % n, down = (at + n - 1) % n;
  if (live[up].second == except) up = (up + 1) % n;
  if (live[down].second == except) down = (down + n - 1) % n;
  const auto& a = live[up];
  const auto& b = live[down];
  return digits.closer(a.first, b.first, key) ? a.second : b.second;
}

PastryRun::PastryRun(const Scenario& scenario)
    : scenario_(scenario),
      params_(parse_params(scenario)),
      sim_(scenario.seed, scenario.network),
      protocol_(params_, sim_) {
  sim_.set_handler(&protocol_);
  const Digits digits(params_.m, params_.b);
  protocol_.set_oracle([this, digits](PeerIndex owner, const Id& key, PeerIndex except) {
    return sim_.is_up(owner) && closest_live(sim_, digits, key, except) == owner;
  });
  if (sim_.network().uses_positions()) {
    // The underlay distance Pastry's proximity metric stands for (the paper measures round-trip
    // times; here the coordinates model's distance, which decides the latency).
    protocol_.set_proximity([this](PeerIndex a, PeerIndex b) {
      const Position* pa = sim_.position(a);
      const Position* pb = sim_.position(b);
      const double dx = pa->x - pb->x, dy = pa->y - pb->y;
      return dx * dx + dy * dy;
    });
  }
  protocol_.on_join_failed([this](PeerIndex p) {
    const PeerIndex via = random_live_peer(p);
    if (via == kNoPeer || !sim_.is_up(p)) return;
    warnings_.push_back("peer " + sim_.peer_id(p).to_decimal() + ": join failed at " +
                        std::to_string(to_ms(sim_.current_time())) + " ms; joining again through " +
                        sim_.peer_id(via).to_decimal());
    protocol_.join(p, via);
  });
  const JsonObject top(scenario.doc, scenario.file, "");
  for (const auto& [key, unused] : scenario.doc.items()) {
    (void)unused;
    const bool generic = std::any_of(std::begin(kGenericScenarioFields), std::end(kGenericScenarioFields),
                                     [&](const char* k) { return key == k; });
    if (key != "params" && key != "peers" && key != "events" && !generic) {
      top.fail(key, "unknown field for a pastry scenario");
    }
  }
  if (scenario.churn.model != ChurnConfig::Model::None) top.fail("churn", "not supported by pastry (yet)");
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
    const auto count = peers.get_int("count", 1, 10'000'000);
    if (params_.m < 63 && static_cast<std::uint64_t>(count) > (std::uint64_t{1} << params_.m)) {
      peers.fail("count", "more peers than ids: m = " + std::to_string(params_.m) + " has only 2^" +
                              std::to_string(params_.m) + " ids");
    }
    for (std::int64_t i = 0; i < count; ++i) {
      Id id;
      do {
        id = fresh_peer_id();
      } while (!used.insert(id).second);
      initial_ids_.push_back(id);
    }
  }
  known_ids_ = used;
  if (scenario.doc.contains("events")) {
    const auto& events = top.get_array("events");
    for (std::size_t i = 0; i < events.size(); ++i) {
      const JsonObject e(events[i], scenario.file, "events[" + std::to_string(i) + "]");
      ops_.push_back(parse_op(e, known_ids_));
    }
  }
}

PastryRun::~PastryRun() = default;

PastryRun::Op PastryRun::parse_op(const JsonObject& e, std::set<Id>& known_ids) const {
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
    op.key = key_of(e, space);
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
    op.spread = from_ms(e.get_number("spread_ms", 1000, 0, 1e12));
  } else if (kind == "fail" || kind == "leave") {
    op.kind = kind == "fail" ? Op::Kind::Fail : Op::Kind::Leave;
    e.only_keys({"at_ms", "op", "peer"});
    op.id = need_peer("peer");
  } else if (kind == "fail_fraction") {
    op.kind = Op::Kind::FailFraction;
    e.only_keys({"at_ms", "op", "fraction"});
    op.fraction = e.get_number("fraction", 0.0, 1.0);
  } else if (kind == "set") {
    op.kind = Op::Kind::Set;
    e.only_keys({"at_ms", "op", "param", "value"});
    op.param = e.get_string("param");
    if (op.param != "keepalive_ms" && op.param != "rpc_timeout_ms") {
      e.fail("param", "cannot be changed during a run (these can: keepalive_ms, rpc_timeout_ms)");
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

TraceVocabulary PastryRun::vocabulary() const {
  TraceVocabulary v;
  for (int i = 0; i < static_cast<int>(MsgType::Count); ++i)
    v.message_types.emplace_back(to_string(static_cast<MsgType>(i)));
  for (int i = 0; i < static_cast<int>(TimerKind::Count); ++i)
    v.timer_kinds.emplace_back(to_string(static_cast<TimerKind>(i)));
  v.state_fields = {"leaf_set", "routing_table"};
  v.lookup_purposes = {"lookup", "join", "put", "get"};
  v.hop_kinds = {"step", "timeout"};
  v.hop_styles = {HopStyle::Forward, HopStyle::Timeout};
  v.user_purpose = static_cast<std::uint8_t>(Purpose::User);
  v.also_user_purposes = {static_cast<std::uint8_t>(Purpose::Put), static_cast<std::uint8_t>(Purpose::Get),
                          static_cast<std::uint8_t>(Purpose::Join)};
  return v;
}

Id PastryRun::fresh_peer_id() {
  for (;;) {
    const std::uint64_t n = address_counter_++;
    char address[64];
    std::snprintf(address, sizeof address, "10.%u.%u.%u:%u", static_cast<unsigned>((n >> 16) & 0xff),
                  static_cast<unsigned>((n >> 8) & 0xff), static_cast<unsigned>(n & 0xff),
                  static_cast<unsigned>(4000 + (n >> 24)));
    const Id id = IdSpace(params_.m).hash(std::string(address) + "#" + std::to_string(scenario_.seed));
    if (sim_.peer_count() == 0 || sim_.find_live(id) == kNoPeer) return id;
  }
}

PeerIndex PastryRun::random_live_peer(PeerIndex except) {
  // A random live peer that has joined (a newcomer still joining cannot serve requests yet).
  const auto& live = sim_.live_by_id();
  if (live.empty()) return kNoPeer;
  for (int attempt = 0; attempt < 64; ++attempt) {
    const PeerIndex p = live[sim_.scenario_rng().below(live.size())].second;
    if (p != except && protocol_.joined(p)) return p;
  }
  for (const auto& [id, p] : live) {
    (void)id;
    if (p != except && protocol_.joined(p)) return p;
  }
  return kNoPeer;
}

PeerIndex PastryRun::nearby_peer(PeerIndex newcomer) {
  // The paper assumes the newcomer knows a node near it in the underlay (e.g. by an expanding
  // ring search); with the coordinates model it is the nearest joined peer, else any.
  if (!sim_.network().uses_positions()) return random_live_peer(newcomer);
  const Position* at = sim_.position(newcomer);
  PeerIndex best = kNoPeer;
  double best_d = 0;
  for (const auto& [id, p] : sim_.live_by_id()) {
    (void)id;
    if (p == newcomer || !protocol_.joined(p)) continue;
    const Position* q = sim_.position(p);
    const double d = (q->x - at->x) * (q->x - at->x) + (q->y - at->y) * (q->y - at->y);
    if (best == kNoPeer || d < best_d) {
      best = p;
      best_d = d;
    }
  }
  return best;
}

Id PastryRun::random_key() {
  Id key;
  Rng& rng = sim_.scenario_rng();
  for (auto& limb : key.limb) limb = rng.next_u64();
  return IdSpace(params_.m).reduce(key);
}

void PastryRun::add_and_join(const Id& id, PeerIndex via) {
  known_ids_.insert(id);
  const PeerIndex peer = sim_.add_peer(id);
  protocol_.reserve(peer + 1);
  if (via == kNoPeer) via = nearby_peer(peer);
  if (via == kNoPeer) {
    protocol_.create(peer);
  } else {
    protocol_.join(peer, via);
  }
}

void PastryRun::start() {
  if (started_) return;
  started_ = true;
  op_handler_ = sim_.add_handler([this](PeerIndex, std::uint32_t index) { execute(ops_[index]); });
  lookup_handler_ = sim_.add_handler([this](PeerIndex, std::uint32_t batch) {
    const PeerIndex from = random_live_peer();
    if (from != kNoPeer) protocol_.lookup(from, random_key());
    next_in_batch(batch);
  });
  join_handler_ =
      sim_.add_handler([this](PeerIndex, std::uint32_t index) { add_and_join(initial_ids_[index], kNoPeer); });
  if (scenario_.bootstrap == "oracle") {
    protocol_.reserve(initial_ids_.size());
    for (const Id& id : initial_ids_) sim_.add_peer(id);
    protocol_.install_converged(sim_.live_by_id(), scenario_.seed);
    for (PeerIndex p = 0; p < initial_ids_.size(); ++p) protocol_.start_maintenance(p);
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

void PastryRun::next_in_batch(std::uint32_t index) {
  Batch& b = batches_[index];
  if (b.remaining == 0) return;
  // The smallest of k uniform samples in [t, end): sorted uniform times, one at a time.
  const double u = sim_.scenario_rng().uniform();
  const double fraction = 1.0 - portable_exp(portable_log(1.0 - u) / static_cast<double>(b.remaining));
  const auto span = static_cast<double>(b.end - b.cursor);
  b.cursor = std::min(b.end, b.cursor + static_cast<SimTime>(span * fraction));
  --b.remaining;
  sim_.schedule_at(b.cursor, lookup_handler_, kNoPeer, index);
}

void PastryRun::execute(const Op& op) {
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
    case Op::Kind::Lookups:
      batches_.push_back({static_cast<std::uint64_t>(op.count), sim_.current_time(), sim_.current_time() + op.spread});
      next_in_batch(static_cast<std::uint32_t>(batches_.size() - 1));
      return;
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
      if (op.param == "keepalive_ms") p.keepalive = from_ms(op.number);
      if (op.param == "rpc_timeout_ms") p.rpc_timeout = from_ms(op.number);
      params_ = p;
      return;
    }
    case Op::Kind::Join: {
      const Id id = op.has_id ? op.id : fresh_peer_id();
      if (sim_.find_live(id) != kNoPeer) {
        warnings_.push_back(op.field + ": a live peer already has id " + id.to_decimal() + "; join skipped");
        return;
      }
      PeerIndex via = kNoPeer;
      if (op.has_via) {
        via = live_peer(op.via, "bootstrap peer");
        if (via == kNoPeer) return;
      }
      add_and_join(id, via);
      return;
    }
  }
}

void PastryRun::act(const nlohmann::json& op_json) {
  start();
  nlohmann::json doc = op_json;
  doc["at_ms"] = to_ms(sim_.current_time());
  const JsonObject e(doc, "action", "");
  ops_.push_back(parse_op(e, known_ids_));
  execute(ops_.back());
}

void PastryRun::run_to_end() {
  start();
  const auto begin = std::chrono::steady_clock::now();
  sim_.run_until(scenario_.run_time);
  wall_ms_ += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
}

RunSummary PastryRun::summary() const {
  RunSummary s;
  const LookupStats& st = protocol_.stats();
  s.peers_total = sim_.peer_count();
  s.peers_live = sim_.live_count();
  s.lookups = st.started_count();
  s.lookups_ok = st.correct_count();
  s.lookups_failed = st.failed_count();
  s.lookups_wrong = st.finished_count() - st.correct_count();
  // Joins in progress are not lookups of the workload: counted from the statistics.
  s.lookups_unfinished = st.started_count() - st.finished_count() - st.failed_count();
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

nlohmann::json PastryRun::result() const {
  const int m = params_.m;
  const Digits& digits = protocol_.digits();
  auto id_of = [&](PeerIndex p) -> nlohmann::json {
    return p == kNoPeer ? nlohmann::json(nullptr) : id_to_json(sim_.peer_id(p), m);
  };
  nlohmann::json out;
  out["protocol"] = "pastry";
  out["scenario"] = scenario_.file;
  out["seed"] = scenario_.seed;
  out["params"] = {{"m", m},
                   {"b", params_.b},
                   {"leaf_set", params_.leaf_set},
                   {"neighbourhood", params_.neighbourhood},
                   {"keepalive_ms", to_ms(params_.keepalive)},
                   {"rpc_timeout_ms", to_ms(params_.rpc_timeout)},
                   {"lookup_timeout_ms", to_ms(params_.lookup_timeout)},
                   {"maintenance", params_.maintenance}};
  nlohmann::json lookups = nlohmann::json::array(), storage = nlohmann::json::array();
  nlohmann::json peers = nlohmann::json::array();
  if (!brief_) {
    for (const LookupRecord& r : protocol_.records()) {
      if (r.purpose == Purpose::Join) continue;
      nlohmann::json j;
      j["lookup"] = r.serial;
      j["from"] = id_of(r.from);
      j["key"] = id_to_json(r.key, m);
      j["key_digits"] = digits.text(r.key);
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
      if (r.purpose == Purpose::User) {
        lookups.push_back(std::move(j));
      } else {
        j["op"] = r.purpose == Purpose::Put ? "put" : "get";
        j["found"] = r.found;
        j["value"] = r.purpose == Purpose::Get && r.found && r.value != kNoValue
                         ? nlohmann::json(protocol_.value(r.value))
                         : nlohmann::json(nullptr);
        storage.push_back(std::move(j));
      }
    }
    for (const auto& [id, p] : sim_.live_by_id()) {
      const PeerState& s = protocol_.state(p);
      nlohmann::json j;
      j["id"] = id_to_json(id, m);
      j["digits"] = digits.text(id);
      nlohmann::json smaller = nlohmann::json::array(), larger = nlohmann::json::array();
      for (PeerIndex q : s.smaller) smaller.push_back(id_of(q));
      for (PeerIndex q : s.larger) larger.push_back(id_of(q));
      j["leaf_set"] = {{"smaller", smaller}, {"larger", larger}};
      nlohmann::json rows = nlohmann::json::array();
      for (int row = 0; row < protocol_.rows_in_use(p); ++row) {
        nlohmann::json cells = nlohmann::json::array();
        for (int c = 0; c < digits.columns(); ++c) cells.push_back(id_of(protocol_.entry(p, row, c)));
        rows.push_back(cells);
      }
      j["routing_table"] = rows;
      nlohmann::json neighbours = nlohmann::json::array();
      for (PeerIndex q : s.neighbours) neighbours.push_back(id_of(q));
      j["neighbourhood"] = neighbours;
      nlohmann::json keys = nlohmann::json::array();
      if (const auto* items = protocol_.items(p)) {
        for (const auto& [key, value] : *items) {
          (void)value;
          keys.push_back(id_to_json(key, m));
        }
      }
      j["keys"] = keys;
      peers.push_back(std::move(j));
    }
  }
  out["lookups"] = lookups;
  out["storage"] = storage;
  out["peers"] = peers;
  if (brief_) out["brief"] = true;
  nlohmann::json metrics = summary().to_json();
  nlohmann::json by_type = nlohmann::json::object();
  const MessageStats& ms = sim_.messages();
  for (int t = 0; t < static_cast<int>(MsgType::Count); ++t) {
    if (ms.sent[t] == 0) continue;
    by_type[to_string(static_cast<MsgType>(t))] = {
        {"sent", ms.sent[t]}, {"delivered", ms.delivered[t]}, {"lost", ms.lost[t]}, {"to_dead_peer", ms.to_dead[t]}};
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

StateSize PastryRun::state_size() const {
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

std::vector<SearchOutcome> PastryRun::requested_searches() const {
  std::vector<SearchOutcome> out;
  for (const LookupRecord& r : protocol_.records()) {
    if (r.purpose != Purpose::Get) continue;
    SearchOutcome o;
    o.messages = r.messages;
    o.has_hops = o.has_latency = true;
    o.hops = r.hops;
    o.latency_ms = to_ms(r.end - r.start);
    o.found = r.ok && r.found;
    o.false_negative = !o.found;
    out.push_back(o);
  }
  return out;
}

bool PastryRun::holds(PeerIndex peer, const Id& key) const {
  const auto* items = protocol_.items(peer);
  return items != nullptr && items->count(key) != 0;
}

std::vector<std::uint32_t> PastryRun::messages_per_search() const {
  std::vector<std::uint32_t> out;
  for (const LookupRecord& r : protocol_.records()) {
    if (r.purpose == Purpose::User && r.completed) out.push_back(r.messages);
  }
  return out;
}

// ---- what the views show ----------------------------------------------------------------------------

std::vector<Link> PastryRun::links_of(PeerIndex peer) const {
  std::vector<Link> links;
  if (peer >= sim_.peer_count()) return links;
  const PeerState& s = protocol_.state(peer);
  if (!s.larger.empty()) links.push_back({kNextLink, 0, s.larger.front()});
  const auto half = static_cast<std::uint16_t>(params_.leaf_set / 2);
  for (std::size_t j = 0; j < s.smaller.size(); ++j)
    links.push_back({kLeafLink, static_cast<std::uint16_t>(j), s.smaller[j]});
  for (std::size_t j = 0; j < s.larger.size(); ++j) {
    links.push_back({kLeafLink, static_cast<std::uint16_t>(half + j), s.larger[j]});
  }
  for (std::size_t i = 0; i < s.table.size(); ++i) {
    if (s.table[i] != kNoPeer) links.push_back({kTableLink, static_cast<std::uint16_t>(i), s.table[i]});
  }
  for (std::size_t j = 0; j < s.neighbours.size(); ++j) {
    links.push_back({kNeighbourLink, static_cast<std::uint16_t>(j), s.neighbours[j]});
  }
  return links;
}

PeerView PastryRun::inspect_links(PeerIndex peer) const {
  PeerView v;
  v.peer = peer;
  v.id = sim_.peer_id(peer);
  v.state = sim_.state(peer);
  v.role = kPeerRole;
  v.links = links_of(peer);
  if (const auto* items = protocol_.items(peer)) {
    for (const auto& [key, value] : *items) {
      (void)value;
      v.keys.push_back(key);
    }
  }
  return v;
}

PeerView PastryRun::inspect(PeerIndex peer) const {
  PeerView v = inspect_links(peer);
  const Digits& digits = protocol_.digits();
  const PeerState& s = protocol_.state(peer);
  const Id& self = sim_.peer_id(peer);
  auto name = [&](PeerIndex p) { return p == kNoPeer ? std::string("-") : digits.text(sim_.peer_id(p)); };
  auto position = [&](std::uint8_t kind, std::size_t index) {
    for (std::size_t k = 0; k < v.links.size(); ++k) {
      if (v.links[k].kind == kind && v.links[k].index == index) return static_cast<int>(k);
    }
    return -1;
  };
  TableView leaves;
  leaves.title = "Leaf set";
  leaves.help =
      "The L/2 numerically closest smaller and L/2 closest larger ids (in base 2^b). A key within their "
      "range goes straight to the numerically closest of them.";
  leaves.columns = {"side", "#", "node", "id (decimal)"};
  const auto half = static_cast<std::size_t>(params_.leaf_set / 2);
  for (std::size_t j = s.smaller.size(); j-- > 0;) {
    leaves.rows.push_back({{Cell::of_text("smaller"), Cell::of_number(static_cast<double>(j + 1)),
                            Cell::of_peer(s.smaller[j], name(s.smaller[j])), Cell::of_id(sim_.peer_id(s.smaller[j]))},
                           position(kLeafLink, j)});
  }
  for (std::size_t j = 0; j < s.larger.size(); ++j) {
    leaves.rows.push_back({{Cell::of_text("larger"), Cell::of_number(static_cast<double>(j + 1)),
                            Cell::of_peer(s.larger[j], name(s.larger[j])), Cell::of_id(sim_.peer_id(s.larger[j]))},
                           position(kLeafLink, half + j)});
  }
  v.tables.push_back(std::move(leaves));
  TableView table;
  table.title = "Routing table";
  table.help =
      "Row i holds peers that share the first i digits with this one; column d the one whose digit i is d "
      "(written prefix-digit-rest, as in the paper's figure 1). The column of this peer's own digit i is "
      "empty (shown as its digit in brackets).";
  table.columns = {"row"};
  for (int c = 0; c < digits.columns(); ++c) table.columns.push_back(std::string(1, Digits::digit_char(c)));
  for (int row = 0; row < protocol_.rows_in_use(peer); ++row) {
    TableView::Row r;
    r.cells.push_back(Cell::of_number(row));
    for (int c = 0; c < digits.columns(); ++c) {
      if (c == digits.digit(self, row)) {
        r.cells.push_back(Cell::of_text("(" + table.columns[static_cast<std::size_t>(c) + 1] + ")"));
        continue;
      }
      const PeerIndex e = protocol_.entry(peer, row, c);
      if (e == kNoPeer) {
        r.cells.push_back(Cell::of_text(""));
        continue;
      }
      const std::string text = name(e);
      const auto cut = static_cast<std::size_t>(row);
      r.cells.push_back(Cell::of_peer(e, text.substr(0, cut) + "-" + text.substr(cut, 1) + "-" + text.substr(cut + 1)));
    }
    table.rows.push_back(std::move(r));
  }
  v.tables.push_back(std::move(table));
  TableView neighbours;
  neighbours.title = "Neighbourhood set";
  neighbours.help =
      "The M peers nearest in the underlay (proximity): a newcomer copies it from the nearby node it "
      "joins through.";
  neighbours.columns = {"#", "node"};
  for (std::size_t j = 0; j < s.neighbours.size(); ++j) {
    neighbours.rows.push_back(
        {{Cell::of_number(static_cast<double>(j + 1)), Cell::of_peer(s.neighbours[j], name(s.neighbours[j]))},
         position(kNeighbourLink, j)});
  }
  v.tables.push_back(std::move(neighbours));
  TableView keys;
  keys.title = "Stored keys";
  keys.help = "Keys this peer is numerically closest to, put here.";
  keys.columns = {"key"};
  for (const Id& k : v.keys) keys.rows.push_back({{Cell::of_id(k)}, -1});
  v.tables.push_back(std::move(keys));
  return v;
}

// The paper's three rules in words, for the step a search takes at one node.
std::string PastryRun::narrate(const TraceEvent& event) const {
  const Digits& digits = protocol_.digits();
  const auto name = [&](PeerIndex p) { return p == kNoPeer ? std::string("?") : digits.text(sim_.peer_id(p)); };
  const std::string key = digits.text(event.key);
  if (event.kind == TraceKind::LookupDone) {
    if (event.other == kNoPeer) return name(event.peer) + " gets no answer: the lookup failed";
    return name(event.peer) + " has the answer " + name(event.other) +
           (event.detail != 0 ? " (the live node numerically closest to " + key + ")"
                              : " (WRONG: not the live node numerically closest to " + key + ")");
  }
  if (event.kind == TraceKind::LookupHop && event.detail == kTimeoutHop) {
    return name(event.peer) + ": no acknowledgement from " + name(event.other) +
           " (presumed failed): dropped from its tables, routed another way";
  }
  if (event.kind != TraceKind::LookupStart && event.kind != TraceKind::LookupHop) return "";
  const PeerIndex x = event.kind == TraceKind::LookupStart ? event.peer : event.other;
  if (x == kNoPeer || !sim_.is_up(x) || !protocol_.joined(x)) return "";
  const Decision d = protocol_.route(x, event.key);
  const int shared = digits.shared_prefix(sim_.peer_id(x), event.key);
  switch (d.rule) {
    case Decision::Rule::Deliver:
      return name(x) + ": numerically closest to " + key + " of all it knows: the message is delivered here";
    case Decision::Rule::LeafSet:
      return name(x) + ": " + key + " lies within its leaf set's range: to the numerically closest leaf " +
             name(d.next);
    case Decision::Rule::Table:
      return name(x) + ": shares " + std::to_string(shared) + " digit(s) with " + key + ": routing table row " +
             std::to_string(d.row) + ", column " + key.substr(static_cast<std::size_t>(d.row), 1) + " -> " +
             name(d.next) + " (shares " + std::to_string(digits.shared_prefix(sim_.peer_id(d.next), event.key)) + ")";
    case Decision::Rule::RareCase:
      return name(x) + ": routing table row " + std::to_string(shared) + " has no entry for digit " +
             key.substr(static_cast<std::size_t>(shared), 1) + ": to " + name(d.next) +
             ", numerically closer with a prefix as long (the rare case)";
  }
  return "";
}

}  // namespace p2plab::pastry
