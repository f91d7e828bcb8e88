#include "search.hpp"

#include <algorithm>
#include <cctype>

namespace p2plab::search {

std::vector<std::string> Catalogue::keywords(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (!word.empty()) {
      words.push_back(word);
      word.clear();
    }
  }
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  return words;
}

NameIndex Catalogue::intern(const std::string& name) {
  if (auto it = index_.find(name); it != index_.end()) return it->second;
  const auto n = static_cast<NameIndex>(names_.size());
  names_.push_back(name);
  words_.push_back(keywords(name));
  index_.emplace(name, n);
  return n;
}

bool Catalogue::matches(NameIndex query, NameIndex item) const {
  if (query >= names_.size() || item >= names_.size()) return false;
  if (query == item) return true;
  const auto& want = words_[query];
  const auto& have = words_[item];
  return !want.empty() && std::includes(have.begin(), have.end(), want.begin(), want.end());
}

QueryIndex QueryLog::open(PeerIndex from, NameIndex name, SimTime now, bool live_provider_existed) {
  QueryRecord r;
  r.from = from;
  r.name = name;
  r.start = now;
  r.live_provider_existed = live_provider_existed;
  records_.push_back(std::move(r));
  const auto q = static_cast<QueryIndex>(records_.size() - 1);
  if (trace_ != nullptr && trace_->enabled()) {
    TraceEvent e;
    e.time = now;
    e.kind = TraceKind::LookupStart;
    e.peer = from;
    e.lookup = q;
    e.key = Id(name);
    trace_->record(e);
  }
  return q;
}

void QueryLog::hop(QueryIndex q, PeerIndex from, PeerIndex to, int hops, bool duplicate, SimTime now, int kind) {
  if (observer_ != nullptr && q != kNoQuery) observer_->hop(q, from, to, hops, duplicate, kind);
  if (trace_ == nullptr || !trace_->enabled() || q == kNoQuery) return;
  TraceEvent e;
  e.time = now;
  e.kind = TraceKind::LookupHop;
  e.peer = from;
  e.other = to;
  e.lookup = q;
  e.index = static_cast<std::uint16_t>(hops);
  e.detail = static_cast<std::uint8_t>(duplicate ? kDuplicateHop : kind);
  trace_->record(e);
}

void QueryLog::hit(QueryIndex q, PeerIndex provider, int hops) {
  QueryRecord& r = records_[q];
  if (r.hits.empty() || hops < r.first_hit_hops) r.first_hit_hops = hops;
  r.hits.insert(provider);
  if (!alive_ || alive_(provider)) r.live_hits.insert(provider);
}

void QueryLog::downloaded(QueryIndex q, PeerIndex provider, PeerIndex relay, SimTime now) {
  QueryRecord& r = records_[q];
  r.downloaded_from = provider;
  r.relayed = relay != kNoPeer;
  r.relay = relay;
  // A relayed transfer appears in the trace as two relay legs: provider -> relay -> requester;
  // a direct one as one download hop: provider -> requester.
  if (r.relayed) {
    hop(q, provider, relay, 0, false, now, kRelayLeg);
    hop(q, relay, r.from, 0, false, now, kRelayLeg);
  } else {
    hop(q, provider, r.from, 0, false, now, kDownloadHop);
  }
}

void QueryLog::finish(QueryIndex q, SimTime now) {
  QueryRecord& r = records_[q];
  if (r.finished) return;
  r.finished = true;
  r.end = now;
  if (trace_ != nullptr && trace_->enabled()) {
    TraceEvent e;
    e.time = now;
    e.kind = TraceKind::LookupDone;
    e.peer = r.from;
    e.other = r.downloaded_from;
    e.lookup = q;
    e.detail = r.live_hits.empty() ? 0 : 1;
    e.index = static_cast<std::uint16_t>(std::max(r.first_hit_hops, 0));
    trace_->record(e);
  }
  if (observer_ != nullptr) observer_->finished(q);
}

namespace {

std::uint64_t get_peer_id(const JsonObject& o, const std::string& key) {
  return static_cast<std::uint64_t>(o.get_int(key, 0, INT64_MAX));
}

}  // namespace

Workload::Op parse_event(const JsonObject& e, std::set<std::uint64_t>& known, bool has_items, Catalogue& catalogue) {
  Workload::Op op;
  op.field = e.path();
  op.at = from_ms(e.get_number("at_ms", 0.0, 1e12));
  const std::string kind = e.get_string("op");
  auto need_peer = [&](const std::string& field) {
    const std::uint64_t id = get_peer_id(e, field);
    if (!known.count(id)) e.fail(field, "no peer with id " + std::to_string(id) + " exists in this scenario");
    return id;
  };
  if (kind == "query") {
    op.kind = Workload::Op::Kind::Query;
    e.only_keys({"at_ms", "op", "from", "name", "ttl"});
    op.ttl = static_cast<int>(e.get_int("ttl", 0, 1, 255));
    op.from = need_peer("from");
    op.has_from = true;
    const std::string name = e.get_string("name");
    if (Catalogue::keywords(name).empty()) e.fail("name", "needs at least one letter or digit");
    op.name = catalogue.intern(name);
  } else if (kind == "queries") {
    op.kind = Workload::Op::Kind::Queries;
    e.only_keys({"at_ms", "op", "count", "spread_ms", "ttl"});
    op.ttl = static_cast<int>(e.get_int("ttl", 0, 1, 255));
    op.count = e.get_int("count", 0, 100'000'000);
    op.spread = from_ms(e.get_number("spread_ms", 1000.0, 0.0, 1e12));
    if (op.count > 0 && !has_items) e.fail("op", "\"queries\" picks existing items, but the scenario has no \"items\"");
  } else if (kind == "fail" || kind == "leave") {
    op.kind = kind == "fail" ? Workload::Op::Kind::Fail : Workload::Op::Kind::Leave;
    e.only_keys({"at_ms", "op", "peer"});
    op.peer = need_peer("peer");
  } else if (kind == "fail_fraction") {
    op.kind = Workload::Op::Kind::FailFraction;
    e.only_keys({"at_ms", "op", "fraction"});
    op.fraction = e.get_number("fraction", 0.0, 1.0);
  } else if (kind == "set") {
    op.kind = Workload::Op::Kind::Set;  // the protocol checks the name when it runs
    e.only_keys({"at_ms", "op", "param", "value"});
    op.param = e.get_string("param");
    op.number = e.get_number("value", 0.0, 1e9);
  } else if (kind == "join") {
    op.kind = Workload::Op::Kind::Join;
    e.only_keys({"at_ms", "op", "id"});
    if (e.has("id")) {
      op.has_id = true;
      op.id = get_peer_id(e, "id");
      known.insert(op.id);
    }
  } else {
    e.fail("op", "unknown operation \"" + kind + "\" (known: query, queries, fail, fail_fraction, leave, join, set)");
  }
  return op;
}

Workload parse_workload(const Scenario& scenario, Catalogue& catalogue) {
  Workload w;
  const JsonObject top(scenario.doc, scenario.file, "");
  for (const auto& [key, unused] : scenario.doc.items()) {
    (void)unused;
    const bool generic = std::any_of(std::begin(kGenericScenarioFields), std::end(kGenericScenarioFields),
                                     [&](const char* k) { return key == k; });
    if (!generic && key != "params" && key != "peers" && key != "events" && key != "items") {
      top.fail(key, "unknown field for a " + scenario.protocol + " scenario");
    }
  }

  // ---- peers: {"count": N} (ids 0 .. N-1) or {"ids": [...]}, optional capacities ----
  const JsonObject peers = top.get_object("peers");
  peers.only_keys({"ids", "count", "capacities"});
  if (peers.has("ids") == peers.has("count")) peers.fail("", "give exactly one of \"ids\" or \"count\"");
  std::set<std::uint64_t> used;
  if (peers.has("ids")) {
    const auto& ids = peers.get_array("ids");
    if (ids.empty()) peers.fail("ids", "must name at least one peer");
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const std::string path = "peers.ids[" + std::to_string(i) + "]";
      if (!ids[i].is_number_integer() || ids[i].get<std::int64_t>() < 0) {
        throw ScenarioError(scenario.file, path, "expected a non-negative integer, got " + describe_json_type(ids[i]));
      }
      const auto id = ids[i].get<std::uint64_t>();
      if (!used.insert(id).second) throw ScenarioError(scenario.file, path, "duplicate id " + std::to_string(id));
      w.ids.push_back(id);
    }
  } else {
    const auto count = peers.get_int("count", 1, 10'000'000);
    for (std::int64_t i = 0; i < count; ++i) {
      w.ids.push_back(static_cast<std::uint64_t>(i));
      used.insert(static_cast<std::uint64_t>(i));
    }
  }
  w.capacities.assign(w.ids.size(), Capacity{});
  if (peers.has("capacities")) {
    // Either one object per peer, or {"random": true}: bandwidth and uptime drawn from heavy-tailed
    // distributions and a share of peers behind NAT (as measured in deployed systems).
    const auto& caps = scenario.doc.at("peers").at("capacities");
    if (caps.is_array()) {
      if (caps.size() != w.ids.size())
        peers.fail("capacities", "needs one entry per peer (" + std::to_string(w.ids.size()) + ")");
      for (std::size_t i = 0; i < caps.size(); ++i) {
        const JsonObject c(caps[i], scenario.file, "peers.capacities[" + std::to_string(i) + "]");
        c.only_keys({"bandwidth_kbps", "uptime_h", "nat"});
        w.capacities[i].bandwidth_kbps = c.get_number("bandwidth_kbps", 1000.0, 0.0, 1e9);
        w.capacities[i].uptime_h = c.get_number("uptime_h", 1.0, 0.0, 1e6);
        w.capacities[i].behind_nat = c.get_bool("nat", false);
      }
    } else {
      const JsonObject c = peers.get_object("capacities");
      c.only_keys({"random", "nat_fraction"});
      const double nat_fraction = c.get_number("nat_fraction", 0.3, 0.0, 1.0);
      Rng rng = Rng::derive(scenario.seed, 0x636170616369ULL);
      for (auto& cap : w.capacities) {
        cap.bandwidth_kbps =
            56.0 * portable_exp(rng.uniform() * portable_log(100000.0 / 56.0));  // 56k .. 100M, log-uniform
        cap.uptime_h = rng.weibull(0.6, 2.0);
        cap.behind_nat = rng.chance(nat_fraction);
      }
    }
  }
  auto position_of = [&](std::uint64_t id) -> std::size_t {
    return static_cast<std::size_t>(std::find(w.ids.begin(), w.ids.end(), id) - w.ids.begin());
  };

  // ---- items: {"count": K, "replicas": R} or [{"peer": 3, "name": "song.mp3"}] ----
  if (scenario.doc.contains("items")) {
    const auto& items = scenario.doc.at("items");
    if (items.is_array()) {
      for (std::size_t i = 0; i < items.size(); ++i) {
        const JsonObject it(items[i], scenario.file, "items[" + std::to_string(i) + "]");
        it.only_keys({"peer", "name"});
        const std::uint64_t peer = get_peer_id(it, "peer");
        if (!used.count(peer)) it.fail("peer", "no peer with id " + std::to_string(peer) + " exists in this scenario");
        const std::string name = it.get_string("name");
        if (Catalogue::keywords(name).empty()) it.fail("name", "needs at least one letter or digit");
        w.items.emplace_back(position_of(peer), catalogue.intern(name));
      }
    } else {
      const JsonObject it = top.get_object("items");
      it.only_keys({"count", "replicas"});
      const auto count = it.get_int("count", 0, 10'000'000);
      const auto replicas = it.get_int("replicas", 1, 1, static_cast<std::int64_t>(w.ids.size()));
      Rng rng = Rng::derive(scenario.seed, 0x6974656d73ULL);
      for (std::int64_t k = 0; k < count; ++k) {
        const NameIndex name = catalogue.intern("item-" + std::to_string(k));
        std::set<std::size_t> holders;
        while (static_cast<std::int64_t>(holders.size()) < replicas) holders.insert(rng.below(w.ids.size()));
        for (std::size_t h : holders) w.items.emplace_back(h, name);
      }
    }
  }

  // ---- events ----
  std::set<std::uint64_t> known = used;
  if (scenario.doc.contains("events")) {
    const auto& events = top.get_array("events");
    for (std::size_t i = 0; i < events.size(); ++i) {
      const std::string path = "events[" + std::to_string(i) + "]";
      const JsonObject e(events[i], scenario.file, path);
      const Workload::Op op = parse_event(e, known, !w.items.empty(), catalogue);
      w.ops.push_back(op);
    }
  }
  return w;
}

nlohmann::json queries_json(const QueryLog& log, const Catalogue& catalogue, const std::vector<std::uint64_t>& ids) {
  nlohmann::json out = nlohmann::json::array();
  for (const QueryRecord& r : log.records()) {
    nlohmann::json hits = nlohmann::json::array(), reached = nlohmann::json::array();
    for (PeerIndex p : r.hits) hits.push_back(ids[p]);
    for (PeerIndex p : r.reached) reached.push_back(ids[p]);
    const bool ok = !r.live_hits.empty();
    nlohmann::json j = {{"from", ids[r.from]},
                        {"name", catalogue.name(r.name)},
                        {"hits", hits},
                        {"reached", reached},
                        {"messages", r.messages},
                        {"duplicates", r.duplicates},
                        {"ok", ok},
                        {"false_negative", !ok && r.live_provider_existed},
                        {"start_ms", to_ms(r.start)},
                        {"finished", r.finished}};
    if (r.first_hit_hops >= 0) j["first_hit_hops"] = r.first_hit_hops;
    if (r.finished) j["latency_ms"] = to_ms(r.end - r.start);
    if (r.downloaded_from != kNoPeer) {
      j["downloaded_from"] = ids[r.downloaded_from];
      j["relayed"] = r.relayed;
    }
    out.push_back(std::move(j));
  }
  return out;
}

void describe_hops(TraceVocabulary& vocabulary, bool floods, const std::string& answer) {
  // In the order of HopKind.
  vocabulary.hop_kinds = {"forward", floods ? "duplicate" : "", floods ? "relay leg" : "", answer, "download"};
  vocabulary.hop_styles = {HopStyle::Forward, floods ? HopStyle::Duplicate : HopStyle::Forward,
                           floods ? HopStyle::Transfer : HopStyle::Forward, HopStyle::Answer, HopStyle::Transfer};
  vocabulary.user_purpose = 0;
}

nlohmann::json search_scenario(const ScenarioRequest& request, const std::string& protocol, nlohmann::json params,
                               nlohmann::json capacities) {
  nlohmann::json peers = {{"count", request.peers}};
  if (!capacities.is_null()) peers["capacities"] = std::move(capacities);
  if (request.searches.empty()) {
    return {{"protocol", protocol},
            {"seed", request.seed},
            {"peers", peers},
            {"title", "New " + protocol + " scenario with " + std::to_string(request.peers) + " peers"},
            {"run_ms", 60000},
            {"params", params},
            {"items", {{"count", 20}, {"replicas", 2}}},
            {"events", {{{"at_ms", 1000}, {"op", "queries"}, {"count", 10}, {"spread_ms", 40000}}}}};
  }
  nlohmann::json events = nlohmann::json::array();
  for (std::size_t i = 0; i < request.searches.size(); ++i) {
    events.push_back({{"at_ms", request.first_search_ms + request.search_gap_ms * static_cast<int>(i)},
                      {"op", "query"},
                      {"from", request.searches[i].first},
                      {"name", "item-" + std::to_string(request.searches[i].second)}});
  }
  return {{"protocol", protocol},
          {"seed", request.seed},
          {"params", params},
          {"peers", peers},
          {"items", {{"count", request.items}, {"replicas", request.replicas}}},
          {"events", events}};
}

std::vector<OperationInfo> search_operations() {
  return {
      {"query",
       "query",
       "Search for a file name, starting at the selected peer.",
       "from",
       {{"name", "file name", OperationField::Kind::Name, "Keywords of a shared file name.", "item-7"}}},
      {"fail", "crash", "The peer stops without a word (its neighbours notice by timeouts).", "peer", {}},
      {"leave", "leave", "The peer says goodbye first.", "peer", {}},
  };
}

ParameterInfo ttl_parameter(const std::string& help) { return {"ttl", "TTL", help, 1, 10, 4, true, true, true}; }

double request_param(const ScenarioRequest& request, const std::string& name, double fallback) {
  const auto it = request.params.find(name);
  return it == request.params.end() ? fallback : it->second;
}

}  // namespace p2plab::search
