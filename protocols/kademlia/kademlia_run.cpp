#include "kademlia_run.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace p2plab::kademlia {

namespace {

SimTime get_ms(const JsonObject& o, const std::string& key, double fallback, double min) {
  return from_ms(o.get_number(key, fallback, min, 1e12));
}

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
      protocol_(params_, sim_),
      driver_(scenario_,
              {.protocol = "kademlia",
               .id_bits = params_.m,
               .address_port = 6881,  // hashed with SHA-1 as BitTorrent's DHT does
               .settable = {{"alpha", true, kMaxK}, {"rpc_timeout_ms"}}},
              sim_, *this) {
  sim_.set_handler(&protocol_);
  protocol_.set_oracle([this](PeerIndex from, const Id& key, const std::vector<PeerIndex>& closest) {
    return closest == true_closest_live(sim_.live_by_id(), params_.m, key, static_cast<std::size_t>(params_.k), from,
                                        sim_.peer_id(from));
  });
}

KademliaRun::~KademliaRun() = default;

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

std::uint32_t KademliaRun::intern_value(const std::string& value) {
  const auto it = std::find(values_.begin(), values_.end(), value);
  if (it != values_.end()) return static_cast<std::uint32_t>(it - values_.begin());
  values_.push_back(value);
  return static_cast<std::uint32_t>(values_.size() - 1);
}

void KademliaRun::start_peer(PeerIndex peer, PeerIndex via) {
  if (via == kNoPeer) {
    protocol_.create(peer);
  } else {
    protocol_.join(peer, via);
  }
  protocol_.start_maintenance(peer);
}

void KademliaRun::start_converged_peer(PeerIndex peer) {
  protocol_.install_oracle_table(peer, sim_.live_by_id());
  protocol_.start_maintenance(peer);
}

void KademliaRun::put(PeerIndex from, const Id& key, const std::string& value) {
  protocol_.put(from, key, intern_value(value));
}

void KademliaRun::set_param(const std::string& name, double value, const std::string& field) {
  Params& p = protocol_.mutable_params();
  if (name == "alpha") {
    // More parallel queries than k would ask nodes outside the k closest: capped at k.
    p.alpha = std::min(static_cast<int>(value), p.k);
    if (p.alpha < value) {
      driver_.warn(field + ": alpha " + std::to_string(static_cast<int>(value)) +
                   " is more than k = " + std::to_string(p.k) + "; alpha set to " + std::to_string(p.k));
    }
  }
  if (name == "rpc_timeout_ms") p.rpc_timeout = from_ms(value);
  params_ = p;
}

void KademliaRun::start() { driver_.start(); }

void KademliaRun::act(const nlohmann::json& op) { driver_.act(op); }

void KademliaRun::run_to_end() { driver_.run_to_end(); }

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
  s.wall_ms = driver_.wall_ms();
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
  out["warnings"] = driver_.warnings();
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
  // Every bucket on a classroom id space (empty ones too, so a figure shows them all); on a
  // large one only the buckets that hold someone.
  std::size_t next = 0;
  for (int i = 0; i < bits; ++i) {
    const PeerSnapshot::BucketSnapshot* b =
        next < s.buckets.size() && s.buckets[next].index == i ? &s.buckets[next++] : nullptr;
    if (!b) {
      if (bits <= 8) {
        buckets.rows.push_back({{Cell::of_number(i), Cell::of_text(distance_range(i, bits)),
                                 Cell::of_peer(kNoPeer, "-"), Cell::of_text("empty")},
                                -1});
      }
      continue;
    }
    const std::string range = distance_range(i, bits);
    for (std::size_t j = 0; j < b->contacts.size(); ++j) {
      const PeerIndex c = b->contacts[j];
      v.links.push_back({kBucketLink, static_cast<std::uint16_t>(i), c});
      std::string seen = j == 0 ? "oldest" : (j + 1 == b->contacts.size() ? "newest" : "#" + std::to_string(j + 1));
      if (b->stale[j]) {
        seen += " (stale)";
      } else if (b->failures[j] > 0) {
        seen += " (" + std::to_string(b->failures[j]) + " failed)";
      }
      buckets.rows.push_back(
          {{Cell::of_number(i), Cell::of_text(range), Cell::of_peer(c, name(c)), Cell::of_text(seen)},
           static_cast<int>(v.links.size() - 1)});
    }
    for (PeerIndex c : b->replacements) {
      v.links.push_back({kReplacementLink, static_cast<std::uint16_t>(i), c});
      buckets.rows.push_back(
          {{Cell::of_number(i), Cell::of_text(range), Cell::of_peer(c, name(c)), Cell::of_text("replacement")},
           static_cast<int>(v.links.size() - 1)});
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

// The slides' sentences: who is asked in which round, suggested by whom, and how close.
std::string KademliaRun::narrate(const TraceEvent& event) const {
  const auto id = [&](PeerIndex p) { return p == kNoPeer ? std::string("?") : sim_.peer_id(p).to_decimal(); };
  const std::string key = event.key.to_decimal();
  const auto distance = [&](PeerIndex p) {
    return p == kNoPeer ? std::string("?") : xor_distance(sim_.peer_id(p), event.key).to_decimal();
  };
  switch (event.kind) {
    case TraceKind::LookupStart:
      return id(event.peer) + " looks up " + key + ": round 1 asks the " + std::to_string(params_.alpha) +
             " contacts of its own buckets closest to " + key + " by XOR";
    case TraceKind::LookupHop:
      if (event.detail == kTimeoutHop) {
        return id(event.peer) + ": no answer from " + id(event.other) +
               " in time: it is left out of the k closest and its bucket counts a failure";
      }
      if (event.peer == event.other) break;
      return "round " + std::to_string(event.index) + ": ask " + id(event.other) + " (distance " +
             distance(event.other) + " to " + key + "), " +
             (event.index == 1 ? "from the requester's own buckets" : "suggested by " + id(event.peer));
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
