#include "kademlia_run.hpp"

#include "common/dht_results.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>

#include "cid.hpp"

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
                    "ping_after_ms", "refresh_ms", "republish_ms", "republish_original_ms", "expire_ms",
                    "provider_expire_ms", "provider_republish_ms", "cache", "maintenance"});
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
  p.provider_expire = get_ms(params, "provider_expire_ms", 48 * 3'600'000.0, 1);
  p.provider_republish = get_ms(params, "provider_republish_ms", 22 * 3'600'000.0, 0);
  p.cache = params.get_bool("cache", true);
  p.maintenance = params.get_bool("maintenance", true);
  return p;
}

Id key_from_digest(std::string_view digest, int m) {
  Id key;
  for (int i = 0; i < m && i / 8 < static_cast<int>(digest.size()); ++i) {
    const auto byte = static_cast<unsigned char>(digest[static_cast<std::size_t>(i / 8)]);
    if ((byte >> (7 - i % 8)) & 1u) {
      const int bit = m - 1 - i;  // the digest's first bit is the key's highest
      key.limb[static_cast<std::size_t>(bit / 64)] |= std::uint64_t{1} << (bit % 64);
    }
  }
  return key;
}

Id key_of_cid(const JsonObject& op, const std::string& field, int m) {
  const std::string text = op.get_string(field);
  try {
    return key_from_digest(ipfs::kademlia_identifier(ipfs::parse_cid(text)), m);
  } catch (const ipfs::FormatError& e) {
    op.fail(field, std::string("not a CID: ") + e.what());
  }
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
               .settable = {{"alpha", true, kMaxK}, {"rpc_timeout_ms"}},
               .extra_ops = {{"provide", {"key", "name", "cid"}}, {"find_providers", {"key", "name", "cid"}}}},
              sim_, *this) {
  sim_.set_handler(&protocol_);
  protocol_.set_oracle([this](PeerIndex from, const Id& key, const std::vector<PeerIndex>& closest) {
    return closest == true_closest_live(sim_.live_by_id(), params_.m, key, static_cast<std::size_t>(params_.k), from,
                                        sim_.peer_id(from));
  });
  protocol_.set_providers_oracle([this](PeerIndex from, const Id& key, const std::vector<PeerIndex>& found) {
    return check_providers(from, key, found);
  });
}

KademliaRun::~KademliaRun() = default;

TraceVocabulary KademliaRun::vocabulary() const {
  TraceVocabulary v;
  v.message_types = enum_names<MsgType>();
  v.timer_kinds = enum_names<TimerKind>();
  v.state_fields = {"bucket"};
  for (auto p : {Purpose::User, Purpose::Join, Purpose::Refresh, Purpose::Put, Purpose::Get, Purpose::Republish,
                 Purpose::Provide, Purpose::FindProviders}) {
    v.lookup_purposes.emplace_back(to_string(p));
  }
  // In the order of kQueryHop, kTimeoutHop. A query hop goes from the node that suggested the
  // contact (the requester itself in round 1) to the contact asked; its index is the round.
  v.hop_kinds = {"query", "timeout"};
  v.hop_styles = {HopStyle::Forward, HopStyle::Timeout};
  v.user_purpose = static_cast<std::uint8_t>(Purpose::User);
  v.also_user_purposes = {static_cast<std::uint8_t>(Purpose::Put), static_cast<std::uint8_t>(Purpose::Get),
                          static_cast<std::uint8_t>(Purpose::Join), static_cast<std::uint8_t>(Purpose::Provide),
                          static_cast<std::uint8_t>(Purpose::FindProviders)};
  return v;
}

std::uint32_t KademliaRun::intern_value(const std::string& value) {
  const auto it = std::find(values_.begin(), values_.end(), value);
  if (it != values_.end()) return static_cast<std::uint32_t>(it - values_.begin());
  values_.push_back(value);
  return static_cast<std::uint32_t>(values_.size() - 1);
}

void start_node(Protocol& protocol, PeerIndex peer, PeerIndex via) {
  if (via == kNoPeer) {
    protocol.create(peer);
  } else {
    protocol.join(peer, via);
  }
  protocol.start_maintenance(peer);
}

std::string set_run_param(Params& p, const std::string& name, double value) {
  if (name == "rpc_timeout_ms") p.rpc_timeout = from_ms(value);
  if (name != "alpha") return "";
  // More parallel queries than k would ask nodes outside the k closest: capped at k.
  p.alpha = std::min(static_cast<int>(value), p.k);
  if (p.alpha >= value) return "";
  return "alpha " + std::to_string(static_cast<int>(value)) + " is more than k = " + std::to_string(p.k) +
         "; alpha set to " + std::to_string(p.k);
}

void KademliaRun::start_peer(PeerIndex peer, PeerIndex via) { start_node(protocol_, peer, via); }

void KademliaRun::start_converged_peer(PeerIndex peer) {
  protocol_.install_oracle_table(peer, sim_.live_by_id());
  protocol_.start_maintenance(peer);
}

void KademliaRun::put(PeerIndex from, const Id& key, const std::string& value) {
  protocol_.put(from, key, intern_value(value));
}

void KademliaRun::set_param(const std::string& name, double value, const std::string& field) {
  const std::string warning = set_run_param(protocol_.mutable_params(), name, value);
  if (!warning.empty()) driver_.warn(field + ": " + warning);
  params_ = protocol_.params();
}

Id KademliaRun::read_extra_op(const std::string& name, const JsonObject& op) {
  (void)name;  // provide and find_providers read the same fields
  uses_providers_ = true;
  const int given = (op.has("key") ? 1 : 0) + (op.has("name") ? 1 : 0) + (op.has("cid") ? 1 : 0);
  if (given == 0) op.fail("key", "missing (give \"key\": a number, \"name\": a string to hash, or \"cid\")");
  if (given > 1) op.fail(op.has("cid") ? "cid" : "name", "give one of key, name or cid, not several");
  return op.has("cid") ? key_of_cid(op, "cid", params_.m) : dht::read_key(op, IdSpace(params_.m));
}

void KademliaRun::extra_op(const std::string& name, PeerIndex from, const Id& key) {
  if (name == "provide") {
    protocol_.provide(from, key);
  } else {
    protocol_.find_providers(from, key);
  }
}

ProvidersCheck KademliaRun::check_providers(PeerIndex from, const Id& key, const std::vector<PeerIndex>& found) const {
  (void)from;  // the requester's own records count like any node's
  return kademlia::check_providers(protocol_, sim_, key, found);
}

void KademliaRun::start() { driver_.start(); }

void KademliaRun::act(const nlohmann::json& op) { driver_.act(op); }

void KademliaRun::run_to_end() { driver_.run_to_end(); }

RunSummary KademliaRun::summary() const {
  return dht::lookup_summary(protocol_.stats(), sim_, protocol_.unfinished_lookups(), driver_.wall_ms());
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

nlohmann::json KademliaRun::providers_json(nlohmann::json j, const LookupRecord& r) const {
  const auto ids = [&](const std::vector<PeerIndex>& peers) {
    nlohmann::json out = nlohmann::json::array();
    for (PeerIndex p : peers) out.push_back(id_to_json(sim_.peer_id(p), params_.m));
    return out;
  };
  j["providers"] = ids(r.providers);
  j["providers_down"] = ids(r.providers_down);
  const bool found = r.providers.size() > r.providers_down.size();
  j["found"] = found;
  if (!found) {
    j["reason"] = r.providers.empty()
                      ? "no provider record for this key at the nodes asked: none was announced, or every record "
                        "expired (not announced again within provider_expire_ms)"
                      : "every provider found is down: its record stays at the k closest until it expires";
  }
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
                   {"provider_expire_ms", to_ms(params_.provider_expire)},
                   {"provider_republish_ms", to_ms(params_.provider_republish)},
                   {"cache", params_.cache},
                   {"maintenance", params_.maintenance}};
  nlohmann::json lookups = nlohmann::json::array();
  nlohmann::json storage = nlohmann::json::array();
  nlohmann::json provides = nlohmann::json::array(), finds = nlohmann::json::array();
  if (!brief_) {
    for (const LookupRecord& r : protocol_.records()) {
      nlohmann::json j = record_json(r);
      if (r.purpose == Purpose::User) {
        lookups.push_back(std::move(j));
        continue;
      }
      if (r.purpose == Purpose::Provide) {
        provides.push_back(std::move(j));
        continue;
      }
      if (r.purpose == Purpose::FindProviders) {
        finds.push_back(providers_json(std::move(j), r));
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
  if (uses_providers_) {
    out["provides"] = provides;
    out["find_providers"] = finds;
  }
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
      if (!snap.provider_records.empty()) {
        nlohmann::json records = nlohmann::json::array();
        for (const ProviderRecord& pr : snap.provider_records) {
          records.push_back(
              {{"key", id_to_json(pr.key, m)}, {"provider", id_of(pr.provider)}, {"expires_ms", to_ms(pr.expires)}});
        }
        j["provider_records"] = std::move(records);
      }
      peers.push_back(std::move(j));
    }
  }
  out["peers"] = peers;
  if (brief_) out["brief"] = true;
  nlohmann::json metrics =
      dht::lookup_metrics(summary(), sim_, vocabulary().message_types, protocol_.stats(), state_size());
  // A Kademlia lookup's hops are its rounds.
  metrics["rounds_histogram"] = std::move(metrics["hop_histogram"]);
  metrics.erase("hop_histogram");
  const KademliaStats& ks = protocol_.kademlia_stats();
  const double n = ks.lookups > 0 ? static_cast<double>(ks.lookups) : 1.0;
  metrics["mean_rpcs"] = static_cast<double>(ks.rpcs) / n;
  metrics["mean_rounds_to_closest"] = static_cast<double>(ks.rounds_to_closest) / n;
  if (uses_providers_) {
    // Brief mode lists no peers: the count of records the live nodes hold stands for them.
    std::uint64_t records = 0;
    for (const auto& [id, p] : sim_.live_by_id()) {
      (void)id;
      records += protocol_.snapshot(p).provider_records.size();
    }
    metrics["provider_records"] = records;
  }
  out["metrics"] = metrics;
  out["warnings"] = driver_.warnings();
  return out;
}

StateSize KademliaRun::state_size() const {
  return dht::live_state_size(
      sim_, [&](PeerIndex p) { return protocol_.has_node(p) ? static_cast<double>(protocol_.table_size(p)) : 0.0; });
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
      return id(event.peer) + " looks up " + named(event.key);  // round 1 is told with its queries
    case TraceKind::LookupHop: {
      if (event.detail == kTimeoutHop) {
        return id(event.peer) + ": no answer from " + id(event.other) +
               " in time: it is left out of the k closest and its bucket counts a failure";
      }
      if (event.peer == event.other) break;
      // std::less: a total order even for an event that is not in the trace (a copy).
      if (std::less<const TraceEvent*>()(&event, first) || !std::less<const TraceEvent*>()(&event, last)) {
        // not read from the trace: this query alone
        return "round " + std::to_string(event.index) + ": ask " + id(event.other) + " (distance " +
               distance(event.other) + " to " + key + "), " +
               (event.index == 1 ? "from the requester's own buckets" : "suggested by " + id(event.peer));
      }
      // Indices, not pointers: the event may be the trace's first.
      const auto at = static_cast<std::size_t>(&event - first);
      for (std::size_t e = at; e-- > 0 && trace[e].time == event.time;) {
        if (query_of_round(trace[e])) return "";  // told with the round's first query
      }
      std::vector<const TraceEvent*> round;
      for (std::size_t e = at; e < trace.size() && trace[e].time == event.time; ++e) {
        if (query_of_round(trace[e])) round.push_back(&trace[e]);
      }
      // The closest node asked so far: every query of this lookup up to this round.
      PeerIndex best = kNoPeer;
      Id best_distance;
      PeerIndex requester = kNoPeer;
      for (std::size_t e = trace.size(); e-- > 0;) {
        const TraceEvent& t = trace[e];
        if (t.lookup != event.lookup) continue;
        if (t.kind == TraceKind::LookupStart) {
          requester = t.peer;
          break;
        }
        if (t.kind != TraceKind::LookupHop || t.detail != kQueryHop || t.index > event.index) continue;
        const Id d = xor_distance(sim_.peer_id(t.other), event.key);
        if (best == kNoPeer || d <= best_distance) {  // ties: the earliest asked (scanning backwards)
          best = t.other;
          best_distance = d;
        }
      }
      // Who suggested each: once at the end when one peer suggested them all.
      const bool one_suggester =
          std::all_of(round.begin(), round.end(), [&](const TraceEvent* e) { return e->peer == round.front()->peer; });
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
