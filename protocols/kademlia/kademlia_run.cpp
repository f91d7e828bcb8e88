#include "kademlia_run.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace p2plab::kademlia {

struct KademliaRun::Op {
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

constexpr const char* kSettable[] = {"alpha", "rpc_timeout_ms"};

}  // namespace

Params parse_params(const Scenario& scenario) {
  Params p;
  if (!scenario.doc.contains("params")) return p;
  const JsonObject params(scenario.doc.at("params"), scenario.file, "params");
  params.only_keys({"m", "k", "alpha", "replacements", "stale_after", "rpc_timeout_ms", "round_timeout_ms",
                    "ping_after_ms", "refresh_ms", "republish_ms", "republish_original_ms", "expire_ms", "cache",
                    "maintenance"});
  p.m = static_cast<int>(params.get_int("m", 160, 2, IdSpace::kMaxBits));
  p.k = static_cast<int>(params.get_int("k", 20, 1, kMaxK));
  p.alpha = static_cast<int>(params.get_int("alpha", 3, 1, kMaxK));
  if (p.alpha > p.k) params.fail("alpha", "must not exceed k (" + std::to_string(p.k) + ")");
  p.replacements = static_cast<int>(params.get_int("replacements", p.k, 0, 1000));
  p.stale_after = static_cast<int>(params.get_int("stale_after", 5, 1, 1000));
  p.rpc_timeout = get_ms(params, "rpc_timeout_ms", 1000, 1);
  p.ping_after = get_ms(params, "ping_after_ms", 60'000, 0);
  p.round_timeout = get_ms(params, "round_timeout_ms", 0, 0);
  // 0 switches a periodic task off.
  p.refresh = get_ms(params, "refresh_ms", 3'600'000, 0);
  p.republish = get_ms(params, "republish_ms", 3'600'000, 0);
  p.republish_original = get_ms(params, "republish_original_ms", 86'400'000, 0);
  p.expire = get_ms(params, "expire_ms", 86'400'000, 1);
  p.cache = params.get_bool("cache", true);
  p.maintenance = params.get_bool("maintenance", true);
  return p;
}

KademliaRun::KademliaRun(const Scenario& scenario)
    : scenario_(scenario),
      params_(parse_params(scenario)),
      sim_(scenario.seed, scenario.network),
      protocol_(params_, sim_) {
  sim_.set_handler(&protocol_);
  protocol_.set_oracle([this](PeerIndex from, const Id& key, const std::vector<PeerIndex>& closest) {
    return closest == true_closest_live(sim_.live_by_id(), params_.m, key, static_cast<std::size_t>(params_.k), from,
                                        sim_.peer_id(from));
  });
  const JsonObject top(scenario.doc, scenario.file, "");
  for (const auto& [key, unused] : scenario.doc.items()) {
    (void)unused;
    if (key != "params" && key != "peers" && key != "events" &&
        std::none_of(std::begin(kGenericScenarioFields), std::end(kGenericScenarioFields),
                     [&](const char* k) { return key == k; })) {
      top.fail(key, "unknown field for a kademlia scenario");
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
  if (scenario.doc.contains("events")) {
    const auto& events = top.get_array("events");
    for (std::size_t i = 0; i < events.size(); ++i) {
      const JsonObject e(events[i], scenario.file, "events[" + std::to_string(i) + "]");
      ops_.push_back(parse_op(e, known_ids_));
    }
  }
}

KademliaRun::~KademliaRun() = default;

KademliaRun::Op KademliaRun::parse_op(const JsonObject& e, std::set<Id>& known_ids) const {
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
    op.kind = Op::Kind::Set;
    e.only_keys({"at_ms", "op", "param", "value"});
    op.param = e.get_string("param");
    if (std::none_of(std::begin(kSettable), std::end(kSettable), [&](const char* p) { return op.param == p; })) {
      e.fail("param", "cannot be changed during a run (these can: alpha, rpc_timeout_ms)");
    }
    op.number =
        op.param == "alpha" ? static_cast<double>(e.get_int("value", 1, kMaxK)) : e.get_number("value", 1.0, 1e9);
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

TraceVocabulary KademliaRun::vocabulary() const {
  TraceVocabulary v;
  for (int i = 0; i < static_cast<int>(MsgType::Count); ++i)
    v.message_types.emplace_back(to_string(static_cast<MsgType>(i)));
  for (int i = 0; i < static_cast<int>(TimerKind::Count); ++i)
    v.timer_kinds.emplace_back(to_string(static_cast<TimerKind>(i)));
  v.state_fields = {"bucket"};
  for (auto p : {Purpose::User, Purpose::Join, Purpose::Refresh, Purpose::Put, Purpose::Get, Purpose::Republish}) {
    v.lookup_purposes.emplace_back(to_string(p));
  }
  // In the order of kQueryHop, kTimeoutHop. A query hop goes from the node that suggested the
  // contact (the requester itself in round 1) to the contact asked; its index is the round.
  v.hop_kinds = {"query", "timeout"};
  v.hop_styles = {HopStyle::Forward, HopStyle::Timeout};
  v.user_purpose = static_cast<std::uint8_t>(Purpose::User);
  v.also_user_purposes = {static_cast<std::uint8_t>(Purpose::Put), static_cast<std::uint8_t>(Purpose::Get),
                          static_cast<std::uint8_t>(Purpose::Join)};
  return v;
}

Id KademliaRun::fresh_peer_id() {
  // A generated address such as "10.0.3.7:6881", hashed with SHA-1 as BitTorrent's DHT does.
  for (;;) {
    const std::uint64_t n = address_counter_++;
    char address[64];
    std::snprintf(address, sizeof address, "10.%u.%u.%u:%u", static_cast<unsigned>((n >> 16) & 0xff),
                  static_cast<unsigned>((n >> 8) & 0xff), static_cast<unsigned>(n & 0xff),
                  static_cast<unsigned>(6881 + (n >> 24)));
    const std::string salted = std::string(address) + "#" + std::to_string(scenario_.seed);
    const Id id = IdSpace(params_.m).hash(salted);
    if (sim_.peer_count() == 0 || sim_.find_live(id) == kNoPeer) return id;
  }
}

PeerIndex KademliaRun::random_live_peer() {
  const auto& live = sim_.live_by_id();
  if (live.empty()) return kNoPeer;
  PeerIndex p = kNoPeer;
  for (int attempt = 0; attempt < 64; ++attempt) {
    p = live[sim_.scenario_rng().below(live.size())].second;
    if (protocol_.joined(p)) return p;  // one whose join has finished
  }
  return p;
}

Id KademliaRun::random_key() {
  Id key;
  Rng& rng = sim_.scenario_rng();
  for (auto& limb : key.limb) limb = rng.next_u64();
  return IdSpace(params_.m).reduce(key);
}

std::uint32_t KademliaRun::intern_value(const std::string& value) {
  const auto it = std::find(values_.begin(), values_.end(), value);
  if (it != values_.end()) return static_cast<std::uint32_t>(it - values_.begin());
  values_.push_back(value);
  return static_cast<std::uint32_t>(values_.size() - 1);
}

PeerIndex KademliaRun::add_and_join(const Id& id, PeerIndex via) {
  known_ids_.insert(id);
  const PeerIndex peer = sim_.add_peer(id);
  protocol_.reserve(peer + 1);
  if (via == kNoPeer) {
    protocol_.create(peer);
  } else {
    protocol_.join(peer, via);
  }
  protocol_.start_maintenance(peer);
  schedule_departure(peer);
  return peer;
}

void KademliaRun::schedule_departure(PeerIndex peer) {
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

void KademliaRun::depart(PeerIndex peer) {
  if (!sim_.is_up(peer)) return;
  // Kademlia has no leave message: a leaving node just stops answering, like a crash.
  if (scenario_.churn.graceful) {
    sim_.mark_left(peer);
  } else {
    sim_.mark_failed(peer);
  }
  if (scenario_.churn.replace) {
    const PeerIndex via = random_live_peer();
    if (via != kNoPeer) add_and_join(fresh_peer_id(), via);
  }
}

void KademliaRun::start() {
  if (started_) return;
  started_ = true;
  schedule_scenario();
}

void KademliaRun::schedule_scenario() {
  op_handler_ = sim_.add_handler([this](PeerIndex, std::uint32_t index) { execute(ops_[index]); });
  churn_handler_ = sim_.add_handler([this](PeerIndex peer, std::uint32_t) { depart(peer); });
  lookup_handler_ = sim_.add_handler([this](PeerIndex, std::uint32_t batch) {
    const PeerIndex from = random_live_peer();
    if (from != kNoPeer) protocol_.lookup(from, random_key());
    next_in_batch(batch);
  });
  join_handler_ = sim_.add_handler([this](PeerIndex, std::uint32_t index) {
    // Bootstrap "join": the first node starts alone, each later one joins through it (or
    // through a random live node once it is gone).
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
    const auto& live = sim_.live_by_id();
    for (PeerIndex p = 0; p < initial_ids_.size(); ++p) {
      protocol_.install_oracle_table(p, live);
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

void KademliaRun::next_in_batch(std::uint32_t index) {
  Batch& b = batches_[index];
  if (b.remaining == 0) return;
  // The smallest of r uniform samples in [t, end) lies at t + (end - t) * (1 - U^(1/r)).
  const double u = sim_.scenario_rng().uniform();
  const double fraction = 1.0 - portable_exp(portable_log(1.0 - u) / static_cast<double>(b.remaining));
  const auto span = static_cast<double>(b.end - b.cursor);
  b.cursor = std::min(b.end, b.cursor + static_cast<SimTime>(span * fraction));
  --b.remaining;
  sim_.schedule_at(b.cursor, lookup_handler_, kNoPeer, index);
}

void KademliaRun::execute(const Op& op) {
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
        protocol_.put(from, op.key, intern_value(op.value));
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
    case Op::Kind::Fail:
    case Op::Kind::Leave: {
      // Kademlia has no leave message: a leaving node just stops answering.
      const PeerIndex p = live_peer(op.id, "peer");
      if (p == kNoPeer) return;
      if (op.kind == Op::Kind::Fail) {
        sim_.mark_failed(p);
      } else {
        sim_.mark_left(p);
      }
      return;
    }
    case Op::Kind::FailFraction:
      sim_.fail_fraction(op.fraction);
      return;
    case Op::Kind::Set: {
      Params& p = protocol_.mutable_params();
      if (op.param == "alpha") {
        // More parallel queries than k would ask nodes outside the k closest: capped at k.
        p.alpha = std::min(static_cast<int>(op.number), p.k);
        if (p.alpha < op.number) {
          warnings_.push_back(op.field + ": alpha " + std::to_string(static_cast<int>(op.number)) +
                              " is more than k = " + std::to_string(p.k) + "; alpha set to " + std::to_string(p.k));
        }
      }
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
      const PeerIndex via = op.has_via ? live_peer(op.via, "bootstrap peer") : random_live_peer();
      if (via == kNoPeer && sim_.live_count() > 0) return;
      add_and_join(id, via);
      return;
    }
  }
}

void KademliaRun::act(const nlohmann::json& op_json) {
  start();
  nlohmann::json doc = op_json;
  doc["at_ms"] = to_ms(sim_.current_time());
  const JsonObject e(doc, "action", "");
  ops_.push_back(parse_op(e, known_ids_));
  execute(ops_.back());
}

void KademliaRun::run_to_end() {
  start();
  const auto begin = std::chrono::steady_clock::now();
  sim_.run_until(scenario_.run_time);
  wall_ms_ += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
}

RunSummary KademliaRun::summary() const {
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
  s.mean_hops = st.mean_hops();  // rounds
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

nlohmann::json KademliaRun::record_json(const LookupRecord& r) const {
  const int m = params_.m;
  auto id_of = [&](PeerIndex p) -> nlohmann::json {
    return p == kNoPeer ? nlohmann::json(nullptr) : id_to_json(sim_.peer_id(p), m);
  };
  nlohmann::json j;
  j["lookup"] = r.serial;
  j["from"] = id_of(r.from);
  j["key"] = id_to_json(r.key, m);
  nlohmann::json closest = nlohmann::json::array();
  for (PeerIndex p : r.closest) closest.push_back(id_of(p));
  j["closest"] = closest;
  j["rounds"] = r.rounds;
  j["round_closest_asked"] = r.round_closest_asked;
  j["rpcs"] = r.rpcs;
  nlohmann::json path = nlohmann::json::array();
  for (const PathStep& s : r.path) {
    path.push_back({{"round", s.round},
                    {"asked", id_of(s.asked)},
                    {"suggested_by", id_of(s.suggested_by)},
                    {"answered", s.answered}});
  }
  j["path"] = path;
  j["start_ms"] = to_ms(r.start);
  j["latency_ms"] = to_ms(r.end - r.start);
  j["ok"] = r.ok;
  return j;
}

nlohmann::json KademliaRun::result() const {
  const int m = params_.m;
  auto id_of = [&](PeerIndex p) -> nlohmann::json {
    return p == kNoPeer ? nlohmann::json(nullptr) : id_to_json(sim_.peer_id(p), m);
  };
  nlohmann::json out;
  out["protocol"] = "kademlia";
  out["scenario"] = scenario_.file;
  out["seed"] = scenario_.seed;
  out["params"] = {{"m", m},
                   {"k", params_.k},
                   {"alpha", params_.alpha},
                   {"replacements", params_.replacements},
                   {"stale_after", params_.stale_after},
                   {"rpc_timeout_ms", to_ms(params_.rpc_timeout)},
                   {"ping_after_ms", to_ms(params_.ping_after)},
                   {"round_timeout_ms", to_ms(params_.round_timeout)},
                   {"refresh_ms", to_ms(params_.refresh)},
                   {"republish_ms", to_ms(params_.republish)},
                   {"republish_original_ms", to_ms(params_.republish_original)},
                   {"expire_ms", to_ms(params_.expire)},
                   {"cache", params_.cache},
                   {"maintenance", params_.maintenance}};
  nlohmann::json lookups = nlohmann::json::array();
  nlohmann::json storage = nlohmann::json::array();
  if (!brief_) {
    for (const LookupRecord& r : protocol_.records()) {
      nlohmann::json j = record_json(r);
      if (r.purpose == Purpose::User) {
        lookups.push_back(std::move(j));
        continue;
      }
      j["op"] = to_string(r.purpose);
      j["found"] = r.found;
      j["value"] = r.value == kNoValue ? nlohmann::json(nullptr) : nlohmann::json(values_[r.value]);
      if (r.purpose == Purpose::Get) {
        j["found_at"] = id_of(r.found_at);
        j["cached_at"] = id_of(r.cached_at);
      }
      storage.push_back(std::move(j));
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
      nlohmann::json buckets = nlohmann::json::array();
      for (const PeerSnapshot::BucketSnapshot& b : snap.buckets) {
        nlohmann::json contacts = nlohmann::json::array(), replacements = nlohmann::json::array(),
                       stale = nlohmann::json::array();
        for (std::size_t c = 0; c < b.contacts.size(); ++c) {
          contacts.push_back(id_of(b.contacts[c]));
          if (b.stale[c]) stale.push_back(id_of(b.contacts[c]));
        }
        for (PeerIndex c : b.replacements) replacements.push_back(id_of(c));
        nlohmann::json bj = nlohmann::json::object();
        bj["i"] = b.index;
        bj["contacts"] = std::move(contacts);
        // Stale: failed stale_after RPCs in a row, kept until a replacement comes, never offered.
        if (!stale.empty()) bj["stale"] = std::move(stale);
        if (!replacements.empty()) bj["replacements"] = std::move(replacements);
        buckets.push_back(std::move(bj));
      }
      j["buckets"] = std::move(buckets);
      nlohmann::json keys = nlohmann::json::array(), cached = nlohmann::json::array();
      for (const Item& item : snap.items) (item.cached ? cached : keys).push_back(id_to_json(item.key, m));
      j["keys"] = std::move(keys);
      if (!cached.empty()) j["cached_keys"] = std::move(cached);
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
    by_type[to_string(static_cast<MsgType>(t))] = {
        {"sent", ms.sent[t]}, {"delivered", ms.delivered[t]}, {"lost", ms.lost[t]}, {"to_dead_peer", ms.to_dead[t]}};
  }
  metrics["messages_by_type"] = by_type;
  nlohmann::json hist = nlohmann::json::array();
  for (auto c : protocol_.stats().hop_histogram()) hist.push_back(c);
  metrics["rounds_histogram"] = hist;
  const KademliaStats& ks = protocol_.kademlia_stats();
  const double n = ks.lookups > 0 ? static_cast<double>(ks.lookups) : 1.0;
  metrics["mean_rpcs"] = static_cast<double>(ks.rpcs) / n;
  metrics["mean_rounds_to_closest"] = static_cast<double>(ks.rounds_to_closest) / n;
  metrics["mean_state_entries"] = state_size().mean;
  out["metrics"] = metrics;
  out["warnings"] = warnings_;
  return out;
}

StateSize KademliaRun::state_size() const {
  StateSize size;
  double total = 0;
  for (const auto& [id, p] : sim_.live_by_id()) {
    (void)id;
    const auto entries = protocol_.has_node(p) ? static_cast<double>(protocol_.table(p).size()) : 0.0;
    total += entries;
    size.max = std::max(size.max, entries);
  }
  size.mean = sim_.live_count() ? total / static_cast<double>(sim_.live_count()) : 0.0;
  return size;
}

namespace {
/// Messages a lookup caused: each query, each answer, and a caching STORE with its reply.
std::uint32_t messages_of(const LookupRecord& r) {
  std::uint32_t n = r.rpcs;
  for (const PathStep& s : r.path) n += s.answered ? 1 : 0;
  if (r.cached_at != kNoPeer) n += 2;
  return n;
}
}  // namespace

std::vector<SearchOutcome> KademliaRun::requested_searches() const {
  // make_scenario turns each requested search into a get of a stored key.
  std::vector<SearchOutcome> out;
  for (const LookupRecord& r : protocol_.records()) {
    if (r.purpose != Purpose::Get) continue;
    SearchOutcome o;
    o.messages = messages_of(r);
    o.has_hops = o.has_latency = true;
    o.hops = r.rounds;
    o.latency_ms = to_ms(r.end - r.start);
    o.found = r.found;
    o.false_negative = !r.found;  // every requested key was stored
    out.push_back(o);
  }
  return out;
}

std::vector<std::uint32_t> KademliaRun::messages_per_search() const {
  std::vector<std::uint32_t> out;
  for (const LookupRecord& r : protocol_.records()) {
    if (r.purpose == Purpose::User) out.push_back(messages_of(r));
  }
  return out;
}

bool KademliaRun::holds(PeerIndex peer, const Id& key) const { return protocol_.stored_value(peer, key) != kNoValue; }

// ---- the views --------------------------------------------------------------------------------

namespace {
/// "[4, 8)" for small m, "[2^57, 2^58)" above: the distances bucket i covers.
std::string distance_range(int i, int bits) {
  if (bits <= 53 && i < 52) {
    return "[" + std::to_string(std::uint64_t{1} << i) + ", " + std::to_string(std::uint64_t{1} << (i + 1)) + ")";
  }
  return "[2^" + std::to_string(i) + ", 2^" + std::to_string(i + 1) + ")";
}
}  // namespace

PeerView peer_view(const PeerSnapshot& s, PeerState state, int bits,
                   const std::function<std::string(PeerIndex)>& name) {
  PeerView v;
  v.peer = s.peer;
  v.id = s.id;
  v.state = state;
  v.role = s.joined ? kNodeRole : kJoiningRole;
  TableView buckets;
  buckets.title = "k-buckets";
  buckets.help =
      "Bucket i holds up to k contacts at XOR distance [2^i, 2^(i+1)) from this node, least recently seen "
      "first. When it is full, a newcomer waits in the replacement cache while the oldest contact is pinged: "
      "it stays if it answers (old contacts are the likeliest to stay up).";
  buckets.columns = {"i", "distance", "contact", "seen"};
  buckets.distance_column = 1;  // a trie view shades the subtree of each bucket's distances
  // The distances bucket i covers, typed (an interval of XOR distances, closed so that its end
  // fits in m bits: [2^i, 2^(i+1) - 1]) and printed short.
  // (Built field by field: Cell::of_interval would print both ends in decimal first, 48 digits
  // each at m = 160, for every row of every peer a view inspects.)
  const auto range_cell = [&](int i) {
    Cell cell;
    cell.kind = Cell::Kind::Interval;
    cell.id = Id::power_of_two(i);
    cell.end = Id::power_of_two(i + 1) - Id(1);  // 2^160 - 1 for i = 159: power_of_two(160) is 0
    cell.closed_right = true;
    cell.text = distance_range(i, bits);
    return cell;
  };
  // Every bucket on a classroom id space (empty ones too, so a figure shows them all); on a
  // large one only the buckets that hold someone.
  std::size_t next = 0;
  for (int i = 0; i < bits; ++i) {
    const PeerSnapshot::BucketSnapshot* b =
        next < s.buckets.size() && s.buckets[next].index == i ? &s.buckets[next++] : nullptr;
    if (!b) {
      if (bits <= 8) {
        buckets.rows.push_back(
            {{Cell::of_number(i), range_cell(i), Cell::of_peer(kNoPeer, "-"), Cell::of_text("empty")}, -1});
      }
      continue;
    }
    for (std::size_t j = 0; j < b->contacts.size(); ++j) {
      const PeerIndex c = b->contacts[j];
      v.links.push_back({kBucketLink, static_cast<std::uint16_t>(i), c});
      std::string seen = j == 0 ? "oldest" : (j + 1 == b->contacts.size() ? "newest" : "#" + std::to_string(j + 1));
      if (b->stale[j]) {
        seen += " (stale)";
      } else if (b->failures[j] > 0) {
        seen += " (" + std::to_string(b->failures[j]) + " failed)";
      }
      TableView::Row row{{Cell::of_number(i), range_cell(i), Cell::of_peer(c, name(c)), Cell::of_text(seen)},
                         static_cast<int>(v.links.size() - 1)};
      row.stale = b->stale[j];
      buckets.rows.push_back(std::move(row));
    }
    for (PeerIndex c : b->replacements) {
      v.links.push_back({kReplacementLink, static_cast<std::uint16_t>(i), c});
      TableView::Row row{{Cell::of_number(i), range_cell(i), Cell::of_peer(c, name(c)), Cell::of_text("replacement")},
                         static_cast<int>(v.links.size() - 1)};
      row.waiting = true;
      buckets.rows.push_back(std::move(row));
    }
  }
  v.tables.push_back(std::move(buckets));
  TableView items;
  items.title = "Stored pairs";
  items.help = "Pairs this node holds: as one of the k closest to the key (replica), or a copy cached by a get.";
  items.columns = {"key", "kind", "expires (ms)"};
  for (const Item& item : s.items) {
    items.rows.push_back({{Cell::of_id(item.key), Cell::of_text(item.cached ? "cached" : "replica"),
                           Cell::of_number(to_ms(item.expires))},
                          -1});
    if (!item.cached) v.keys.push_back(item.key);
  }
  v.tables.push_back(std::move(items));
  return v;
}

PeerView KademliaRun::inspect(PeerIndex peer) const {
  PeerView v = peer_view(protocol_.snapshot(peer), sim_.state(peer), params_.m,
                         [&](PeerIndex p) { return p == kNoPeer ? std::string("-") : sim_.peer_id(p).to_decimal(); });
  v.peer = peer;
  return v;
}

// The slides' sentences: who is asked in which round, suggested by whom, and how close. A round's
// alpha queries are told in one sentence, at its first query (the rest of the round, recorded
// at the same moment, tell nothing):
//   "round 2: 4 asks 9 (suggested by 11) and 13 (suggested by 14), the 2 closest to 10 (1010) it
//    knows and has not asked yet; best XOR distance now 1 (11)"
std::string KademliaRun::narrate(const TraceEvent& event) const {
  const int m = params_.m;
  // Ids in binary as well on a classroom id space, where the trie is drawn bit by bit.
  const auto named = [&](const Id& id) {
    std::string text = id.to_decimal();
    if (m > 64 && text.size() > 10) return text.substr(0, 8) + "...";
    if (m > 8) return text;
    text += " (";
    for (int b = m - 1; b >= 0; --b) text += id.bit(b) ? '1' : '0';
    return text + ")";
  };
  // Above 64 bits (48 decimal digits at m = 160) ids by their first digits, distances by their
  // power of two: a round of three queries still fits in two lines.
  const auto shown = [&](const Id& id) {
    std::string text = id.to_decimal();
    return m > 64 && text.size() > 10 ? text.substr(0, 8) + "..." : text;
  };
  const auto shown_distance = [&](const Id& d) {
    return m > 64 && d.bit_width() > 32 ? "about 2^" + std::to_string(d.bit_width() - 1) : d.to_decimal();
  };
  const auto id = [&](PeerIndex p) { return p == kNoPeer ? std::string("?") : shown(sim_.peer_id(p)); };
  const std::string key = shown(event.key);
  const auto distance = [&](PeerIndex p) {
    return p == kNoPeer ? std::string("?") : shown_distance(xor_distance(sim_.peer_id(p), event.key));
  };
  const std::vector<TraceEvent>& trace = sim_.event_trace().events();
  const TraceEvent* const first = trace.data();
  const TraceEvent* const last = first + trace.size();
  const auto query_of_round = [&](const TraceEvent& e) {
    return e.kind == TraceKind::LookupHop && e.detail == kQueryHop && e.lookup == event.lookup &&
           e.index == event.index && e.time == event.time && e.peer != e.other;
  };
  switch (event.kind) {
    case TraceKind::LookupStart:
      return id(event.peer) + " looks up " + named(event.key) + ": round 1 asks the " + std::to_string(params_.alpha) +
             " contacts of its own buckets closest to " + key + " by XOR";
    case TraceKind::LookupHop: {
      if (event.detail == kTimeoutHop) {
        return id(event.peer) + ": no answer from " + id(event.other) +
               " in time: it is left out of the k closest and its bucket counts a failure";
      }
      if (event.peer == event.other) break;
      if (&event < first || &event >= last) {  // not read from the trace: this query alone
        return "round " + std::to_string(event.index) + ": ask " + id(event.other) + " (distance " +
               distance(event.other) + " to " + key + "), " +
               (event.index == 1 ? "from the requester's own buckets" : "suggested by " + id(event.peer));
      }
      for (const TraceEvent* e = &event - 1; e >= first && e->time == event.time; --e) {
        if (query_of_round(*e)) return "";  // told with the round's first query
      }
      std::vector<const TraceEvent*> round;
      for (const TraceEvent* e = &event; e < last && e->time == event.time; ++e) {
        if (query_of_round(*e)) round.push_back(e);
      }
      // The closest node asked so far: every query of this lookup up to this round.
      PeerIndex best = kNoPeer;
      Id best_distance;
      PeerIndex requester = kNoPeer;
      for (const TraceEvent* e = last - 1; e >= first; --e) {
        if (e->lookup != event.lookup) continue;
        if (e->kind == TraceKind::LookupStart) {
          requester = e->peer;
          break;
        }
        if (e->kind != TraceKind::LookupHop || e->detail != kQueryHop || e->index > event.index) continue;
        const Id d = xor_distance(sim_.peer_id(e->other), event.key);
        if (best == kNoPeer || d <= best_distance) {  // ties: the earliest asked (scanning backwards)
          best = e->other;
          best_distance = d;
        }
      }
      // Who suggested each: once at the end when one peer suggested them all.
      const bool one_suggester = std::all_of(round.begin(), round.end(),
                                             [&](const TraceEvent* e) { return e->peer == round.front()->peer; });
      std::string text = "round " + std::to_string(event.index) + ": " + id(requester) + " asks ";
      for (std::size_t i = 0; i < round.size(); ++i) {
        text += i == 0 ? "" : (i + 1 == round.size() ? " and " : ", ");
        text += id(round[i]->other);
        if (event.index > 1 && !one_suggester) text += " (suggested by " + id(round[i]->peer) + ")";
      }
      if (event.index > 1 && one_suggester) {
        text += round.size() == 1 ? " (suggested by " : " (all suggested by ";
        text += id(round.front()->peer) + ")";
      }
      const std::string count = round.size() == 1 ? "the contact" : "the " + std::to_string(round.size()) + " contacts";
      text += event.index == 1 ? ", " + count + " of its own buckets closest to " + named(event.key)
                               : ", " + count + " closest to " + named(event.key) + " it knows and has not asked yet";
      return text + "; best XOR distance now " + shown_distance(best_distance) + " (" + id(best) + ")";
    }
    case TraceKind::LookupDone:
      if (event.other == kNoPeer) return id(event.peer) + ": the lookup found nobody";
      return id(event.peer) + ": done after " + std::to_string(event.index) + " rounds; closest " + id(event.other) +
             " (distance " + distance(event.other) + ")" +
             (event.detail != 0 ? " - the true k closest" : " - NOT the true k closest (or value not found)");
    default:
      break;
  }
  return "";
}

}  // namespace p2plab::kademlia
