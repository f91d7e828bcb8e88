#include "chord_run.hpp"

#include "common/dht_results.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

#include "p2plab/json_util.hpp"
#include "ring.hpp"

namespace p2plab::chord {

namespace {

SimTime get_ms(const JsonObject& o, const std::string& key, double fallback, double min) {
  return from_ms(o.get_number(key, fallback, min, 1e12));
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
    : scenario_(scenario),
      params_(parse_params(scenario)),
      sim_(scenario.seed, scenario.network),
      protocol_(params_, sim_),
      driver_(scenario_,
              {.protocol = "chord",
               .id_bits = params_.m,
               .settable = {{"stabilize_ms"}, {"fix_fingers_ms"}, {"check_predecessor_ms"}, {"rpc_timeout_ms"}}},
              sim_, *this) {
  sim_.set_handler(&protocol_);
  protocol_.set_oracle([this](PeerIndex owner, const Id& key) { return is_true_successor(sim_, owner, key); });
  protocol_.set_liveness_oracle([this](PeerIndex p) { return sim_.is_up(p); });
  protocol_.on_join_failed([this](PeerIndex p) {
    // Like a user restarting the client with another bootstrap address.
    const PeerIndex via = driver_.random_live_peer();
    if (via == kNoPeer || via == p || !sim_.is_up(p)) return;
    driver_.warn("peer " + sim_.peer_id(p).to_decimal() + ": out of the ring at " +
                 std::to_string(to_ms(sim_.current_time())) +
                 " ms (join failed or every successor gone); "
                 "joining again through " +
                 sim_.peer_id(via).to_decimal());
    protocol_.join(p, via);
  });
}

void ChordRun::start() { driver_.start(); }

ChordRun::~ChordRun() = default;

TraceVocabulary ChordRun::vocabulary() const {
  TraceVocabulary v;
  v.message_types = enum_names<MsgType>();
  v.timer_kinds = enum_names<TimerKind>();
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

void ChordRun::start_peer(PeerIndex peer, PeerIndex via) {
  if (via == kNoPeer) {
    protocol_.create(peer);
  } else {
    protocol_.join(peer, via);
  }
}

void ChordRun::put(PeerIndex from, const Id& key, const std::string& value) {
  protocol_.put(from, key, protocol_.intern_value(value));
}

void ChordRun::set_param(const std::string& name, double value, const std::string&) {
  Params& p = protocol_.mutable_params();
  const SimTime period = from_ms(value);
  if (name == "stabilize_ms") p.stabilize = period;
  if (name == "fix_fingers_ms") p.fix_fingers = period;
  if (name == "check_predecessor_ms") p.check_predecessor = period;
  if (name == "rpc_timeout_ms") p.rpc_timeout = period;
  params_ = p;
}

void ChordRun::act(const nlohmann::json& op) { driver_.act(op); }

void ChordRun::run_to_end() { driver_.run_to_end(); }

RunSummary ChordRun::summary() const {
  return dht::lookup_summary(protocol_.stats(), sim_, protocol_.unfinished_lookups(), driver_.wall_ms());
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
      dht::add_record(
          r, m, id_of, [&](std::uint32_t v) { return protocol_.value(v); }, kNoValue, dht::RecordValue::Any,
          [&](nlohmann::json& j) {
            if (!r.ok && r.owner != kNoPeer) j["owner_alive"] = r.owner_alive;
          },
          lookups, storage);
    }
  }
  out["lookups"] = lookups;
  out["storage"] = storage;
  nlohmann::json peers = nlohmann::json::array();
  if (!brief_) {
    // Every value moved into place, not copied: a ring of 1000 peers at m = 160 writes 320,000
    // finger ids, and a JSON object from an initializer list copies each of them once more.
    for (const auto& [id, p] : sim_.live_by_id()) {
      const PeerSnapshot snap = protocol_.snapshot(p);
      nlohmann::json j(nlohmann::json::value_t::object);
      j["id"] = id_to_json(id, m);
      j["successor"] = id_of(snap.successors.empty() ? kNoPeer : snap.successors.front());
      j["predecessor"] = id_of(snap.predecessor);
      nlohmann::json& succ = j["successors"] = nlohmann::json::array();
      for (PeerIndex s : snap.successors) succ.push_back(id_of(s));
      nlohmann::json& fingers = j["fingers"] = nlohmann::json::array();
      fingers.get_ref<nlohmann::json::array_t&>().reserve(snap.fingers.size());
      for (const FingerEntry& f : snap.fingers) {
        nlohmann::json& finger = fingers.emplace_back(nlohmann::json::value_t::object);
        finger["start"] = id_to_json(f.start, m);
        finger["node"] = id_of(f.node);
      }
      nlohmann::json& keys = j["keys"] = nlohmann::json::array();
      for (const Id& k : snap.keys) keys.push_back(id_to_json(k, m));
      peers.push_back(std::move(j));
    }
  }
  out["peers"] = peers;
  if (brief_) out["brief"] = true;
  nlohmann::json metrics =
      dht::lookup_metrics(summary(), sim_, vocabulary().message_types, protocol_.stats(), state_size());
  out["metrics"] = metrics;
  out["warnings"] = driver_.warnings();
  return out;
}

StateSize ChordRun::state_size() const {
  return dht::live_state_size(sim_, [&](PeerIndex p) { return static_cast<double>(protocol_.state_entries(p)); });
}

std::vector<SearchOutcome> ChordRun::requested_searches() const {
  // make_scenario turns each requested search into a get of a stored key.
  return dht::get_outcomes(protocol_.records(), Purpose::Get, [](const LookupRecord& r) { return r.ok; });
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
  fingers.help =
      "Finger i of n points to successor(n + 2^i): start = n + 2^i, the interval [start_i, start_i+1) it "
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
  PeerView v = peer_view(protocol_.snapshot(peer), sim_.state(peer),
                         [&](PeerIndex p) { return p == kNoPeer ? std::string("-") : sim_.peer_id(p).to_decimal(); });
  v.peer = peer;
  return v;
}

std::vector<std::uint32_t> ChordRun::messages_per_search() const {
  return dht::user_search_messages(protocol_.records(), Purpose::User);
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
        return id(event.peer) + ": " + id(event.other) + verdict +
               (r.found ? " returned the value of key " + key : " holds no value for key " + key);
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
