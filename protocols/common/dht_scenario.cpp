#include "common/dht_scenario.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace p2plab::dht {

struct DhtScenario::Op {
  enum class Kind { Put, Get, Lookup, Lookups, Fail, FailFraction, Leave, Join, Set, Extra };
  Kind kind = Kind::Lookup;
  SimTime at = 0;
  std::string field;  // "events[3]", for warnings
  bool has_from = false, has_id = false, has_via = false;
  Id from, key, id, via;
  std::string value;
  std::string param;  // set: which parameter, to `number`; extra: the op's name
  std::int64_t count = 0;
  SimTime spread = 0;
  double fraction = 0, number = 0;
};

Id read_key(const JsonObject& o, const IdSpace& space) {
  if (o.has("key") && o.has("name")) o.fail("name", "give either key or name, not both");
  if (o.has("name")) return space.hash(o.get_string("name"));
  if (!o.has("key")) o.fail("key", "missing (give \"key\": a number, or \"name\": a string to hash)");
  return o.get_id("key", space.bits());
}

namespace {

bool is_generic_field(const std::string& key) {
  return std::any_of(std::begin(kGenericScenarioFields), std::end(kGenericScenarioFields),
                     [&](const char* k) { return key == k; });
}

}  // namespace

DhtScenario::DhtScenario(const Scenario& scenario, DhtRules rules, SimulatorCore& sim, DhtHooks& hooks)
    : scenario_(scenario), rules_(std::move(rules)), sim_(sim), hooks_(hooks) {
  const JsonObject top(scenario.doc, scenario.file, "");
  for (const auto& [key, unused] : scenario.doc.items()) {
    (void)unused;
    if (key != "params" && key != "peers" && key != "events" && !is_generic_field(key)) {
      top.fail(key, "unknown field for a " + rules_.protocol + " scenario");
    }
  }
  if (!rules_.churn && scenario.churn.model != ChurnConfig::Model::None) {
    top.fail("churn", "not supported by " + rules_.protocol + " (yet)");
  }
  // ---- peers ----
  const int m = rules_.id_bits;
  const JsonObject peers = top.get_object("peers");
  peers.only_keys({"ids", "count"});
  if (peers.has("ids") == peers.has("count")) peers.fail("", "give exactly one of \"ids\" or \"count\"");
  std::set<Id> used;
  if (peers.has("ids")) {
    const auto& ids = peers.get_array("ids");
    if (ids.empty()) peers.fail("ids", "must name at least one peer");
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const std::string path = "peers.ids[" + std::to_string(i) + "]";
      const Id id = JsonObject::parse_id(ids[i], m, scenario.file, path);
      if (!used.insert(id).second) throw ScenarioError(scenario.file, path, "duplicate id " + id.to_decimal());
      initial_ids_.push_back(id);
    }
  } else {
    const auto count = peers.get_int("count", 1, rules_.max_peers);
    if (m < 63 && static_cast<std::uint64_t>(count) > (std::uint64_t{1} << m)) {
      peers.fail("count",
                 "more peers than ids: m = " + std::to_string(m) + " has only 2^" + std::to_string(m) + " ids");
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
  known_ids_ = std::move(used);
  // ---- events (checked now, so a typo fails before anything runs) ----
  if (scenario.doc.contains("events")) {
    const auto& events = top.get_array("events");
    for (std::size_t i = 0; i < events.size(); ++i) {
      const JsonObject e(events[i], scenario.file, "events[" + std::to_string(i) + "]");
      ops_.push_back(parse_op(e));
    }
  }
}

DhtScenario::~DhtScenario() = default;

DhtScenario::Op DhtScenario::parse_op(const JsonObject& e) {
  const int m = rules_.id_bits;
  Op op;
  op.field = e.path();
  op.at = from_ms(e.get_number("at_ms", 0.0, 1e12));
  const std::string kind = e.get_string("op");
  auto need_peer = [&](const std::string& field) {
    const Id id = e.get_id(field, m);
    if (!known_ids_.count(id)) e.fail(field, "no peer with id " + id.to_decimal() + " exists in this scenario");
    return id;
  };
  if (kind == "put" || kind == "get" || kind == "lookup") {
    op.kind = kind == "put" ? Op::Kind::Put : kind == "get" ? Op::Kind::Get : Op::Kind::Lookup;
    e.only_keys({"at_ms", "op", "key", "name", "from", "value"});
    op.key = read_key(e, IdSpace(m));
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
    // Change a protocol parameter while the run goes on (a periodic timer picks up its new
    // period when it next fires).
    op.kind = Op::Kind::Set;
    e.only_keys({"at_ms", "op", "param", "value"});
    op.param = e.get_string("param");
    const auto settable = std::find_if(rules_.settable.begin(), rules_.settable.end(),
                                       [&](const SettableParam& s) { return s.name == op.param; });
    if (settable == rules_.settable.end()) {
      std::string names;
      for (const SettableParam& s : rules_.settable) names += (names.empty() ? "" : ", ") + s.name;
      e.fail("param", "cannot be changed during a run (these can: " + names + ")");
    }
    op.number = settable->integer ? static_cast<double>(e.get_int("value", 1, static_cast<std::int64_t>(settable->max)))
                                  : e.get_number("value", 1.0, settable->max);
  } else if (kind == "join") {
    op.kind = Op::Kind::Join;
    e.only_keys({"at_ms", "op", "id", "via"});
    if (e.has("id")) {
      op.has_id = true;
      op.id = e.get_id("id", m);
      known_ids_.insert(op.id);
    }
    if (e.has("via")) {
      op.has_via = true;
      op.via = need_peer("via");
    }
  } else if (const auto extra = std::find_if(rules_.extra_ops.begin(), rules_.extra_ops.end(),
                                             [&](const ExtraOp& x) { return x.name == kind; });
             extra != rules_.extra_ops.end()) {
    op.kind = Op::Kind::Extra;
    op.param = kind;
    std::vector<std::string> allowed = {"at_ms", "op", "from"};
    allowed.insert(allowed.end(), extra->fields.begin(), extra->fields.end());
    for (const auto& [field, unused] : e.raw().items()) {
      (void)unused;
      if (std::find(allowed.begin(), allowed.end(), field) == allowed.end()) {
        std::string list;
        for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
        e.fail(field, "unknown field (known here: " + list + ")");
      }
    }
    if (!e.has("from")) e.fail("from", "missing (the id of the peer that carries out the " + kind + ")");
    op.has_from = true;
    op.from = need_peer("from");
    op.key = hooks_.read_extra_op(kind, e);
  } else {
    std::string known = "put, get, lookup, lookups, fail, fail_fraction, leave, join, set";
    for (const ExtraOp& x : rules_.extra_ops) known += ", " + x.name;
    e.fail("op", "unknown operation \"" + kind + "\" (known: " + known + ")");
  }
  return op;
}

Id DhtScenario::fresh_peer_id() {
  for (;;) {
    const std::uint64_t n = address_counter_++;
    char address[64];
    std::snprintf(address, sizeof address, "10.%u.%u.%u:%u", static_cast<unsigned>((n >> 16) & 0xff),
                  static_cast<unsigned>((n >> 8) & 0xff), static_cast<unsigned>(n & 0xff),
                  static_cast<unsigned>(rules_.address_port + (n >> 24)));
    const Id id = IdSpace(rules_.id_bits).hash(std::string(address) + "#" + std::to_string(scenario_.seed));
    if (sim_.peer_count() == 0 || sim_.find_live(id) == kNoPeer) return id;
  }
}

PeerIndex DhtScenario::peer_by_id(const Id& id) const {
  const PeerIndex live = sim_.find_live(id);
  if (live != kNoPeer) return live;
  for (PeerIndex p = static_cast<PeerIndex>(sim_.peer_count()); p-- > 0;) {
    if (sim_.peer_id(p) == id) return p;
  }
  return kNoPeer;
}

PeerIndex DhtScenario::rejoin_through(PeerIndex peer) {
  const PeerIndex via = random_live_peer(peer);
  if (via == kNoPeer || !sim_.is_up(peer)) return kNoPeer;
  warn("peer " + sim_.peer_id(peer).to_decimal() + ": join failed at " + std::to_string(to_ms(sim_.current_time())) +
       " ms; joining again through " + sim_.peer_id(via).to_decimal());
  return via;
}

PeerIndex DhtScenario::random_live_peer(PeerIndex except) {
  const auto& live = sim_.live_by_id();
  if (live.empty()) return kNoPeer;
  for (int attempt = 0; attempt < 64; ++attempt) {
    const PeerIndex p = live[sim_.scenario_rng().below(live.size())].second;
    if (p != except && hooks_.serves(p)) return p;
  }
  for (const auto& [id, p] : live) {
    (void)id;
    if (p != except && hooks_.serves(p)) return p;
  }
  return kNoPeer;
}

Id DhtScenario::random_key() {
  Id key;
  Rng& rng = sim_.scenario_rng();
  for (auto& limb : key.limb) limb = rng.next_u64();
  return IdSpace(rules_.id_bits).reduce(key);
}

PeerIndex DhtScenario::add_and_join(const Id& id, PeerIndex via) {
  known_ids_.insert(id);  // a later action may name it (a peer that joined with a generated id)
  const PeerIndex peer = sim_.add_peer(id);
  hooks_.reserve(peer + 1);
  hooks_.start_peer(peer, via);
  schedule_departure(peer);
  return peer;
}

void DhtScenario::schedule_departure(PeerIndex peer) {
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

void DhtScenario::depart(PeerIndex peer) {
  if (!sim_.is_up(peer)) return;
  if (scenario_.churn.graceful) {
    hooks_.leave(peer);
    sim_.mark_left(peer);
  } else {
    sim_.mark_failed(peer);
  }
  if (scenario_.churn.replace) {
    const PeerIndex via = random_live_peer();
    if (via != kNoPeer) add_and_join(fresh_peer_id(), via);
  }
}

void DhtScenario::start() {
  if (started_) return;
  started_ = true;
  op_handler_ = sim_.add_handler([this](PeerIndex, std::uint32_t index) { execute(ops_[index]); });
  churn_handler_ = sim_.add_handler([this](PeerIndex peer, std::uint32_t) { depart(peer); });
  lookup_handler_ = sim_.add_handler([this](PeerIndex, std::uint32_t batch) {
    const PeerIndex from = random_live_peer();
    if (from != kNoPeer) hooks_.lookup(from, random_key());
    next_in_batch(batch);
  });
  join_handler_ = sim_.add_handler([this](PeerIndex, std::uint32_t index) {
    // Bootstrap "join": the first peer starts the network, each later one joins through it (or
    // through a random live peer once it is gone), or where the protocol places it.
    PeerIndex via = kNoPeer;
    if (index != 0 && !rules_.protocol_picks_bootstrap) {
      via = sim_.find_live(initial_ids_[0]);
      if (via == kNoPeer) via = random_live_peer();
      if (via == kNoPeer) {
        warn("peers.ids[" + std::to_string(index) + "]: no live peer to join through; not joined");
        return;
      }
    }
    add_and_join(initial_ids_[index], via);
  });

  if (scenario_.bootstrap == "oracle") {
    hooks_.reserve(initial_ids_.size());
    for (const Id& id : initial_ids_) sim_.add_peer(id);
    hooks_.install_converged();
    for (PeerIndex p = 0; p < initial_ids_.size(); ++p) {
      hooks_.start_converged_peer(p);
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

void DhtScenario::next_in_batch(std::uint32_t index) {
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

PeerIndex DhtScenario::live_peer(const Op& op, const Id& id, const char* role) {
  const PeerIndex p = sim_.find_live(id);
  if (p == kNoPeer) {
    warn(op.field + ": " + role + " " + id.to_decimal() + " is not alive at " +
         std::to_string(to_ms(sim_.current_time())) + " ms; skipped");
  }
  return p;
}

void DhtScenario::execute(const Op& op) {
  switch (op.kind) {
    case Op::Kind::Put:
    case Op::Kind::Get:
    case Op::Kind::Lookup: {
      const PeerIndex from = op.has_from ? live_peer(op, op.from, "peer") : random_live_peer();
      if (from == kNoPeer) return;
      if (op.kind == Op::Kind::Put) {
        hooks_.put(from, op.key, op.value);
      } else if (op.kind == Op::Kind::Get) {
        hooks_.get(from, op.key);
      } else {
        hooks_.lookup(from, op.key);
      }
      return;
    }
    case Op::Kind::Lookups:
      // `count` lookups at uniform random times in [now, now + spread), generated one at a time
      // in time order (a million lookups cost one pending event, not a million).
      batches_.push_back({static_cast<std::uint64_t>(op.count), sim_.current_time(), sim_.current_time() + op.spread});
      next_in_batch(static_cast<std::uint32_t>(batches_.size() - 1));
      return;
    case Op::Kind::Fail: {
      const PeerIndex p = live_peer(op, op.id, "peer");
      if (p != kNoPeer) sim_.mark_failed(p);
      return;
    }
    case Op::Kind::Leave: {
      const PeerIndex p = live_peer(op, op.id, "peer");
      if (p == kNoPeer) return;
      hooks_.leave(p);
      sim_.mark_left(p);
      return;
    }
    case Op::Kind::FailFraction:
      sim_.fail_fraction(op.fraction);
      return;
    case Op::Kind::Set:
      hooks_.set_param(op.param, op.number, op.field);
      return;
    case Op::Kind::Extra: {
      const PeerIndex from = live_peer(op, op.from, "peer");
      if (from == kNoPeer) return;
      hooks_.extra_op(op.param, from, op.key);
      return;
    }
    case Op::Kind::Join: {
      const Id id = op.has_id ? op.id : fresh_peer_id();
      if (sim_.find_live(id) != kNoPeer) {
        warn(op.field + ": a live peer already has id " + id.to_decimal() + "; join skipped");
        return;
      }
      PeerIndex via = kNoPeer;
      if (op.has_via) {
        via = live_peer(op, op.via, "bootstrap peer");
        if (via == kNoPeer) return;
      } else if (!rules_.protocol_picks_bootstrap) {
        via = random_live_peer();
        if (via == kNoPeer && sim_.live_count() > 0) return;
      }
      add_and_join(id, via);
      return;
    }
  }
}

void DhtScenario::act(const nlohmann::json& op_json) {
  start();
  nlohmann::json doc = op_json;
  doc["at_ms"] = to_ms(sim_.current_time());
  const JsonObject e(doc, "action", "");
  ops_.push_back(parse_op(e));
  execute(ops_.back());
}

void DhtScenario::run_to_end() {
  start();
  const auto begin = std::chrono::steady_clock::now();
  sim_.run_until(scenario_.run_time);
  wall_ms_ += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
}

}  // namespace p2plab::dht
