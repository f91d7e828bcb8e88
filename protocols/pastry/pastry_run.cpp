#include "pastry_run.hpp"

#include "common/dht_results.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace p2plab::pastry {

namespace {

SimTime param_ms(const JsonObject& o, const std::string& key, double fallback) {
  return from_ms(o.get_number(key, fallback, 1, 1e9));
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
      protocol_(params_, sim_),
      driver_(scenario_,
              {.protocol = "pastry",
               .id_bits = params_.m,
               .max_peers = 10'000'000,
               .churn = false,
               .protocol_picks_bootstrap = true,  // the newcomer's nearest peer (nearby_peer)
               .settable = {{"keepalive_ms"}, {"rpc_timeout_ms"}}},
              sim_, *this) {
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
    if (const PeerIndex via = driver_.rejoin_through(p); via != kNoPeer) protocol_.join(p, via);
  });
}

PastryRun::~PastryRun() = default;

TraceVocabulary PastryRun::vocabulary() const {
  TraceVocabulary v;
  v.message_types = enum_names<MsgType>();
  v.timer_kinds = enum_names<TimerKind>();
  v.state_fields = {"leaf_set", "routing_table"};
  v.lookup_purposes = {"lookup", "join", "put", "get"};
  v.hop_kinds = {"step", "timeout"};
  v.hop_styles = {HopStyle::Forward, HopStyle::Timeout};
  v.user_purpose = static_cast<std::uint8_t>(Purpose::User);
  v.also_user_purposes = {static_cast<std::uint8_t>(Purpose::Put), static_cast<std::uint8_t>(Purpose::Get),
                          static_cast<std::uint8_t>(Purpose::Join)};
  return v;
}

PeerIndex PastryRun::nearby_peer(PeerIndex newcomer) {
  // The paper assumes the newcomer knows a node near it in the underlay (e.g. by an expanding
  // ring search); with the coordinates model it is the nearest joined peer, else any.
  if (!sim_.network().uses_positions()) return driver_.random_live_peer(newcomer);
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

void PastryRun::start_peer(PeerIndex peer, PeerIndex via) {
  if (via == kNoPeer) via = nearby_peer(peer);
  if (via == kNoPeer) {
    protocol_.create(peer);
  } else {
    protocol_.join(peer, via);
  }
}

void PastryRun::put(PeerIndex from, const Id& key, const std::string& value) {
  protocol_.put(from, key, protocol_.intern_value(value));
}

void PastryRun::set_param(const std::string& name, double value, const std::string&) {
  Params& p = protocol_.mutable_params();
  if (name == "keepalive_ms") p.keepalive = from_ms(value);
  if (name == "rpc_timeout_ms") p.rpc_timeout = from_ms(value);
  params_ = p;
}

void PastryRun::start() { driver_.start(); }

void PastryRun::act(const nlohmann::json& op) { driver_.act(op); }

void PastryRun::run_to_end() { driver_.run_to_end(); }

RunSummary PastryRun::summary() const {
  return dht::lookup_summary(protocol_.stats(), sim_, protocol_.unfinished_lookups(), driver_.wall_ms());
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
      dht::add_record(
          r, m, id_of, [&](std::uint32_t v) { return protocol_.value(v); }, kNoValue, dht::RecordValue::FoundByGet,
          [&](nlohmann::json& j) { j["key_digits"] = digits.text(r.key); }, lookups, storage);
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
      j["keys"] = dht::stored_keys_json(protocol_.items(p), m);
      peers.push_back(std::move(j));
    }
  }
  out["lookups"] = lookups;
  out["storage"] = storage;
  out["peers"] = peers;
  if (brief_) out["brief"] = true;
  nlohmann::json metrics =
      dht::lookup_metrics(summary(), sim_, vocabulary().message_types, protocol_.stats(), state_size());
  out["metrics"] = metrics;
  out["warnings"] = driver_.warnings();
  return out;
}

StateSize PastryRun::state_size() const {
  return dht::live_state_size(sim_, [&](PeerIndex p) { return static_cast<double>(protocol_.state_entries(p)); });
}

std::vector<SearchOutcome> PastryRun::requested_searches() const {
  // make_scenario turns each requested search into a get of a stored key.
  return dht::get_outcomes(protocol_.records(), Purpose::Get, [](const LookupRecord& r) { return r.ok && r.found; });
}

bool PastryRun::holds(PeerIndex peer, const Id& key) const { return dht::stores(protocol_.items(peer), key); }

std::vector<std::uint32_t> PastryRun::messages_per_search() const {
  return dht::user_search_messages(protocol_.records(), Purpose::User);
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
  v.keys = dht::stored_keys(protocol_.items(peer));
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
  for (int c = 0; c < digits.columns(); ++c) table.columns.push_back(std::string(1, Id::digit_char(c)));
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
