#include "can_run.hpp"

#include "common/dht_results.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace p2plab::can {

namespace {

SimTime param_ms(const JsonObject& o, const std::string& key, double fallback) {
  return from_ms(o.get_number(key, fallback, 1, 1e9));
}

std::string two_places(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", v);
  return text;
}

std::string three_places(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", v);
  return text;
}

nlohmann::json box_json(const ZoneBox& b) { return {{"lo", b.lo}, {"hi", b.hi}}; }

}  // namespace

Params parse_params(const Scenario& scenario) {
  Params p;
  if (!scenario.doc.contains("params")) return p;
  const JsonObject params(scenario.doc.at("params"), scenario.file, "params");
  params.only_keys(
      {"d", "keepalive_ms", "rpc_timeout_ms", "dead_after_ms", "takeover_ms", "lookup_timeout_ms", "maintenance"});
  p.d = static_cast<int>(params.get_int("d", 2, 1, kMaxDims));
  p.keepalive = param_ms(params, "keepalive_ms", 1000);
  p.rpc_timeout = param_ms(params, "rpc_timeout_ms", 500);
  p.dead_after = param_ms(params, "dead_after_ms", 3000);
  p.takeover = param_ms(params, "takeover_ms", 1000);
  p.lookup_timeout = param_ms(params, "lookup_timeout_ms", 20000);
  p.maintenance = params.get_bool("maintenance", true);
  if (p.dead_after <= p.keepalive) {
    params.fail("dead_after_ms", "must be longer than keepalive_ms (" + std::to_string(to_ms(p.keepalive)) +
                                     "): a neighbour is presumed failed after missing updates");
  }
  return p;
}

ZoneBox zone_box(const Zone& zone, int d) {
  const Box b = box_of(zone, d);
  ZoneBox out;
  for (int i = 0; i < d; ++i) {
    out.lo.push_back(b.low(i));
    out.hi.push_back(b.high(i));
  }
  return out;
}

std::string point_text(const Point& p, int d) {
  std::string s = "(";
  for (int i = 0; i < d; ++i) s += (i ? ", " : "") + two_places(p.coordinate(i));
  return s + ")";
}

PeerIndex ZoneOracle::owner(const Point& p) const {
  if (version_ != protocol_.zone_version() || live_ != sim_.live_count()) {
    index_.clear();
    for (const auto& [id, peer] : sim_.live_by_id()) {
      (void)id;
      if (!protocol_.joined(peer)) continue;
      for (const Zone& z : protocol_.state(peer).zones) index_.add(z, peer);
    }
    index_.build();
    version_ = protocol_.zone_version();
    live_ = sim_.live_count();
  }
  return index_.owner(p, protocol_.d());
}

CanRun::CanRun(const Scenario& scenario)
    : scenario_(scenario),
      params_(parse_params(scenario)),
      sim_(scenario.seed, scenario.network),
      protocol_(params_, sim_),
      oracle_(sim_, protocol_),
      driver_(scenario_,
              {.protocol = "can",
               .id_bits = kIdBits,
               .max_peers = 10'000'000,
               .churn = true,
               .settable = {{"keepalive_ms"}, {"rpc_timeout_ms"}}},
              sim_, *this) {
  sim_.set_handler(&protocol_);
  protocol_.set_oracle([this](PeerIndex owner, const Id& key) { return sim_.is_up(owner) && owner_of(key) == owner; });
  protocol_.on_join_failed([this](PeerIndex p) {
    if (const PeerIndex via = driver_.rejoin_through(p); via != kNoPeer) protocol_.join(p, via);
  });
}

CanRun::~CanRun() = default;

TraceVocabulary CanRun::vocabulary() const {
  TraceVocabulary v;
  v.message_types = enum_names<MsgType>();
  v.timer_kinds = enum_names<TimerKind>();
  v.state_fields = {"zones"};
  v.lookup_purposes = {"lookup", "join", "put", "get", "probe"};
  v.hop_kinds = {"step", "timeout"};
  v.hop_styles = {HopStyle::Forward, HopStyle::Timeout};
  v.user_purpose = static_cast<std::uint8_t>(Purpose::User);
  v.also_user_purposes = {static_cast<std::uint8_t>(Purpose::Put), static_cast<std::uint8_t>(Purpose::Get),
                          static_cast<std::uint8_t>(Purpose::Join)};
  return v;
}

void CanRun::start_peer(PeerIndex peer, PeerIndex via) {
  if (via == kNoPeer) {
    protocol_.create(peer);
  } else {
    protocol_.join(peer, via);
  }
}

void CanRun::install_converged() {
  // The zones the initial peers' joins would make, in the order they were added.
  std::vector<PeerIndex> peers;
  for (PeerIndex p = 0; p < sim_.peer_count(); ++p) peers.push_back(p);
  protocol_.install_random_joins(peers);
}

void CanRun::put(PeerIndex from, const Id& key, const std::string& value) {
  protocol_.put(from, key, protocol_.intern_value(value));
}

void CanRun::set_param(const std::string& name, double value, const std::string&) {
  Params& p = protocol_.mutable_params();
  if (name == "keepalive_ms") p.keepalive = from_ms(value);
  if (name == "rpc_timeout_ms") p.rpc_timeout = from_ms(value);
  params_ = p;
}

std::string CanRun::name(PeerIndex p) const { return p == kNoPeer ? std::string("?") : sim_.peer_id(p).to_decimal(); }

RunSummary CanRun::summary() const {
  return dht::lookup_summary(
      protocol_.stats(), sim_,
      protocol_.stats().started_count() - protocol_.stats().finished_count() - protocol_.stats().failed_count(),
      driver_.wall_ms());
}

nlohmann::json CanRun::result() const {
  const int d = params_.d;
  auto id_of = [&](PeerIndex p) -> nlohmann::json {
    return p == kNoPeer ? nlohmann::json(nullptr) : id_to_json(sim_.peer_id(p), kIdBits);
  };
  nlohmann::json out;
  out["protocol"] = "can";
  out["scenario"] = scenario_.file;
  out["seed"] = scenario_.seed;
  out["params"] = {{"d", d},
                   {"keepalive_ms", to_ms(params_.keepalive)},
                   {"rpc_timeout_ms", to_ms(params_.rpc_timeout)},
                   {"dead_after_ms", to_ms(params_.dead_after)},
                   {"takeover_ms", to_ms(params_.takeover)},
                   {"lookup_timeout_ms", to_ms(params_.lookup_timeout)},
                   {"maintenance", params_.maintenance}};
  nlohmann::json lookups = nlohmann::json::array(), storage = nlohmann::json::array();
  nlohmann::json peers = nlohmann::json::array();
  if (!brief_) {
    for (const LookupRecord& r : protocol_.records()) {
      dht::add_record(
          r, kIdBits, id_of, [&](std::uint32_t v) { return protocol_.value(v); }, kNoValue,
          dht::RecordValue::FoundByGet, [&](nlohmann::json& j) { j["point"] = coordinates(point_of(r.key, d), d); },
          lookups, storage);
    }
    for (const auto& [id, p] : sim_.live_by_id()) {
      if (!protocol_.joined(p)) continue;
      const PeerState& s = protocol_.state(p);
      nlohmann::json j;
      j["id"] = id_to_json(id, kIdBits);
      nlohmann::json zones = nlohmann::json::array();
      for (const Zone& z : s.zones) zones.push_back(box_json(zone_box(z, d)));
      j["zone"] = zones.size() == 1 ? zones[0] : zones;  // a list while it holds several
      j["volume"] = protocol_.volume(p);
      nlohmann::json neighbours = nlohmann::json::array();
      for (PeerIndex q : protocol_.neighbour_peers(p)) neighbours.push_back(id_of(q));
      j["neighbours"] = neighbours;
      j["keys"] = dht::stored_keys_json(protocol_.items(p), kIdBits);
      peers.push_back(std::move(j));
    }
  }
  out["lookups"] = lookups;
  out["storage"] = storage;
  out["peers"] = peers;
  if (brief_) out["brief"] = true;
  nlohmann::json metrics =
      dht::lookup_metrics(summary(), sim_, vocabulary().message_types, protocol_.stats(), state_size());
  // The paper's path length on n equal zones, for comparison.
  metrics["equal_zones_path"] = equal_zones_path(static_cast<double>(std::max<std::size_t>(1, sim_.live_count())), d);
  out["metrics"] = metrics;
  out["warnings"] = driver_.warnings();
  return out;
}

StateSize CanRun::state_size() const {
  return dht::live_state_size(sim_,
                              [&](PeerIndex p) { return static_cast<double>(protocol_.neighbour_peers(p).size()); });
}

std::vector<SearchOutcome> CanRun::requested_searches() const {
  // make_scenario turns each requested search into a get of a stored key.
  return dht::get_outcomes(protocol_.records(), Purpose::Get, [](const LookupRecord& r) { return r.ok && r.found; });
}

bool CanRun::holds(PeerIndex peer, const Id& key) const { return dht::stores(protocol_.items(peer), key); }

std::vector<std::uint32_t> CanRun::messages_per_search() const {
  return dht::user_search_messages(protocol_.records(), Purpose::User);
}

// ---- what the views show ----------------------------------------------------------------------------

PeerView CanRun::inspect_links(PeerIndex peer) const {
  PeerView v;
  v.peer = peer;
  v.id = sim_.peer_id(peer);
  v.state = sim_.state(peer);
  v.role = kPeerRole;
  if (peer >= sim_.peer_count()) return v;
  const PeerState& s = protocol_.state(peer);
  const std::vector<PeerIndex> neighbours = protocol_.neighbour_peers(peer);
  for (std::size_t j = 0; j < neighbours.size(); ++j) {
    v.links.push_back({kNeighbourLink, static_cast<std::uint16_t>(j), neighbours[j]});
  }
  for (const Zone& z : s.zones) v.zones.push_back(zone_box(z, params_.d));
  v.keys = dht::stored_keys(protocol_.items(peer));
  return v;
}

PeerView CanRun::inspect(PeerIndex peer) const {
  PeerView v = inspect_links(peer);
  const int d = params_.d;
  auto box_text = [&](const Zone& z) {
    const ZoneBox b = zone_box(z, d);
    std::string s;
    for (int i = 0; i < d; ++i) {
      s += (i ? " x " : "") + std::string("[") + two_places(b.lo[static_cast<std::size_t>(i)]) + ", " +
           two_places(b.hi[static_cast<std::size_t>(i)]) + ")";
    }
    return s;
  };
  TableView zones;
  zones.title = "Zones";
  zones.help =
      "The boxes of the torus this peer owns: the keys whose points lie in them are stored here. Each is a "
      "zone halved along the dimensions in turn (its code: one bit per halving, 0 the lower half).";
  zones.columns = {"code", "box", "volume"};
  for (const Zone& z : protocol_.state(peer).zones) {
    zones.rows.push_back({{Cell::of_text(z.text()), Cell::of_text(box_text(z)), Cell::of_number(z.volume())}, -1});
  }
  v.tables.push_back(std::move(zones));
  TableView neighbours;
  neighbours.title = "Neighbours";
  neighbours.help =
      "Peers whose zones abut this peer's (they overlap along d - 1 dimensions and touch along one). A message "
      "goes to the neighbour whose zone is closest to the key's point.";
  neighbours.columns = {"#", "peer", "zone"};
  for (std::size_t j = 0; j < v.links.size(); ++j) {
    const PeerIndex q = v.links[j].target;
    std::string text;
    for (const Neighbour& n : protocol_.state(peer).neighbours) {
      if (n.peer == q) text += (text.empty() ? "" : "; ") + box_text(n.zone);
    }
    neighbours.rows.push_back(
        {{Cell::of_number(static_cast<double>(j + 1)), Cell::of_peer(q, name(q)), Cell::of_text(text)},
         static_cast<int>(j)});
  }
  v.tables.push_back(std::move(neighbours));
  TableView keys;
  keys.title = "Stored keys";
  keys.help = "Keys whose points lie in this peer's zones, put here.";
  keys.columns = {"key", "point"};
  for (const Id& k : v.keys) keys.rows.push_back({{Cell::of_id(k), Cell::of_text(point_text(point_of(k, d), d))}, -1});
  v.tables.push_back(std::move(keys));
  return v;
}

// The greedy step in words: where the key's point lies, which neighbour's zone is closest.
std::string CanRun::narrate(const TraceEvent& event) const {
  const int d = params_.d;
  const Point p = point_of(event.key, d);
  const std::string point = point_text(p, d);
  if (event.kind == TraceKind::LookupDone) {
    if (event.other == kNoPeer) return name(event.peer) + " gets no answer: the lookup failed";
    const auto& own = protocol_.state(event.peer).zones;
    if (event.other != event.peer &&
        std::any_of(own.begin(), own.end(), [&](const Zone& z) { return contains(z, p, d); })) {
      return name(event.peer) + " has joined: " + name(event.other) +
             " split its zone and handed over the half with the point " + point;
    }
    return name(event.peer) + " has the answer " + name(event.other) +
           (event.detail != 0 ? " (its zone contains the point " + point + ")"
                              : " (WRONG: its zone does not contain " + point + ")");
  }
  if (event.kind == TraceKind::LookupHop && event.detail == kTimeoutHop) {
    return name(event.peer) + ": no acknowledgement from " + name(event.other) +
           " (presumed failed): dropped from its neighbours, routed around it";
  }
  if (event.kind != TraceKind::LookupStart && event.kind != TraceKind::LookupHop) return "";
  const PeerIndex x = event.kind == TraceKind::LookupStart ? event.peer : event.other;
  if (x == kNoPeer || !sim_.is_up(x) || !protocol_.joined(x)) return "";
  const Decision step = protocol_.route(x, p);
  if (step.next == kNoPeer && !step.stuck) {
    if (protocol_.purpose_of(event.lookup) == Purpose::Join) {
      // The zone it splits: the one with the point; halving number depth is along dimension depth mod d.
      for (const Zone& z : protocol_.state(x).zones) {
        if (!contains(z, p, d)) continue;
        if (protocol_.state(x).zones.size() > 1) {
          return "peer " + name(x) + ": the newcomer's point " + point +
                 " lies in a zone it has taken over: it hands that whole zone over";
        }
        return "peer " + name(x) + ": the newcomer's point " + point +
               " lies in its zone: it splits the zone in half " + "along dimension " + std::to_string(z.depth % d + 1) +
               " and hands over the half with the point";
      }
    }
    return "peer " + name(x) + ": the point " + point + " lies in its own zone: delivered here";
  }
  if (step.stuck) {
    return "peer " + name(x) + ": no neighbour's zone is closer to " + point +
           " than its own (a failed neighbour's zone not taken over yet): it waits and tries again";
  }
  if (step.distance == 0) {
    return "peer " + name(x) + ": the point " + point + " is not in its zone; it lies in neighbour " + name(step.next) +
           "'s zone: forward to " + name(step.next);
  }
  return "peer " + name(x) + ": the point " + point + " is not in its zone; neighbour " + name(step.next) +
         "'s zone is the closest to it (distance " + three_places(std::sqrt(step.distance)) + "): forward to " +
         name(step.next);
}

}  // namespace p2plab::can
