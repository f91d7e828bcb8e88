#pragma once
// SearchRun<P>: runs an unstructured search protocol P through a scenario. See search.hpp for
// what P must provide.
#include <algorithm>
#include <chrono>
#include <memory>

#include "search.hpp"

namespace p2plab::search {

template <class P>
class SearchRun final : public Run {
 public:
  explicit SearchRun(const Scenario& scenario)
      : scenario_(scenario),
        workload_(parse_workload(scenario, catalogue_)),
        params_(P::parse_params(scenario)),
        sim_(scenario.seed, scenario.network),
        protocol_(params_, sim_, Context{&catalogue_, &log_, &shared_, &capacities_}) {
    sim_.set_handler(&protocol_);
    log_.set_liveness([this](PeerIndex p) { return sim_.is_up(p); });
    log_.set_trace(&sim_.event_trace());
  }

  using Run::simulator;
  SimulatorCore& simulator() override { return sim_; }
  const Scenario& scenario() const override { return scenario_; }
  int id_bits() const override { return 53; }
  TraceVocabulary vocabulary() const override {
    TraceVocabulary v = protocol_.vocabulary();
    if (v.hop_kinds.empty()) describe_hops(v);  // a protocol that floods: forwards, duplicates, relay legs
    return v;
  }
  P& protocol() { return protocol_; }
  const P& protocol() const { return protocol_; }
  Simulator<typename P::Message>& sim() { return sim_; }
  const QueryLog& log() const { return log_; }
  const Catalogue& catalogue() const { return catalogue_; }
  /// The names each peer shares (by PeerIndex).
  const std::vector<std::vector<NameIndex>>& shared() const { return shared_; }
  const std::vector<Capacity>& capacities() const { return capacities_; }
  void set_brief(bool brief) override { brief_ = brief; }
  PeerIndex peer_by_id(std::uint64_t id) const {
    for (PeerIndex p = static_cast<PeerIndex>(ids_.size()); p-- > 0;) {
      if (ids_[p] == id && sim_.is_up(p)) return p;
    }
    return kNoPeer;
  }
  std::uint64_t id_of(PeerIndex p) const { return ids_[p]; }

  void start() override {
    if (started_) return;
    started_ = true;
    op_handler_ = sim_.add_handler([this](PeerIndex, std::uint32_t i) { execute(workload_.ops[i]); });
    query_handler_ = sim_.add_handler([this](PeerIndex, std::uint32_t ttl) { random_query(static_cast<int>(ttl)); });
    join_handler_ = sim_.add_handler([this](PeerIndex, std::uint32_t i) {
      // Each newcomer knows one random peer already there (a host cache's answer); the central
      // index ignores it, everyone knows the server.
      const PeerIndex via = i == 0 ? kNoPeer : random_live();
      add_peer(i, via);
    });
    if (scenario_.bootstrap == "oracle") {
      std::vector<PeerIndex> all;
      for (std::size_t i = 0; i < workload_.ids.size(); ++i) all.push_back(add_peer_state(i));
      protocol_.bootstrap(all);
    } else {
      for (std::size_t i = 0; i < workload_.ids.size(); ++i) {
        sim_.schedule_at(static_cast<SimTime>(i) * scenario_.join_interval, join_handler_, kNoPeer,
                         static_cast<std::uint32_t>(i));
      }
    }
    for (std::size_t i = 0; i < workload_.ops.size(); ++i) {
      sim_.schedule_at(workload_.ops[i].at, op_handler_, kNoPeer, static_cast<std::uint32_t>(i));
    }
  }

  void act(const nlohmann::json& op_json) override {
    start();
    nlohmann::json doc = op_json;
    doc["at_ms"] = to_ms(sim_.current_time());
    const JsonObject e(doc, "action", "");
    std::set<std::uint64_t> known(ids_.begin(), ids_.end());
    const Workload::Op op = parse_event(e, known, !workload_.items.empty(), catalogue_);
    if (op.kind == Workload::Op::Kind::Set) {
      const std::string error = protocol_.set_param(op.param, op.number);
      if (!error.empty()) e.fail("param", error);
      return;
    }
    execute(op);
  }

  void run_to_end() override {
    start();
    const auto begin = std::chrono::steady_clock::now();
    sim_.run_until(scenario_.run_time);
    wall_ms_ += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count();
  }

  RunSummary summary() const override {
    RunSummary s;
    s.operation = "queries";
    s.peers_total = sim_.peer_count();
    s.peers_live = sim_.live_count();
    double hops = 0, latency = 0;
    std::vector<double> latencies;
    std::vector<int> hop_list;
    for (const QueryRecord& r : log_.records()) {
      ++s.lookups;
      if (!r.finished) {
        ++s.lookups_unfinished;
        continue;
      }
      if (!r.live_hits.empty()) {
        ++s.lookups_ok;
        hops += r.first_hit_hops;
        hop_list.push_back(r.first_hit_hops);
      } else if (r.live_provider_existed) {
        ++s.lookups_wrong;  // a false negative
      } else {
        ++s.lookups_failed;  // nothing to find
      }
      latencies.push_back(to_ms(r.end - r.start));
      latency += latencies.back();
    }
    // Success among the queries that had something to find: ok / (ok + false negatives).
    const std::uint64_t findable = s.lookups_ok + s.lookups_wrong;
    s.success_rate = findable == 0 ? 1.0 : static_cast<double>(s.lookups_ok) / static_cast<double>(findable);
    s.mean_hops = hop_list.empty() ? 0 : hops / static_cast<double>(hop_list.size());
    if (!hop_list.empty()) {
      std::sort(hop_list.begin(), hop_list.end());
      s.p99_hops = static_cast<std::uint32_t>(hop_list[(hop_list.size() * 99 + 99) / 100 - 1]);
    }
    if (!latencies.empty()) {
      std::sort(latencies.begin(), latencies.end());
      s.mean_latency_ms = latency / static_cast<double>(latencies.size());
      s.p99_latency_ms = latencies[(latencies.size() * 99 + 99) / 100 - 1];
    }
    s.messages_sent = sim_.messages().total_sent();
    s.messages_delivered = sim_.messages().total_delivered();
    s.messages_dropped = sim_.messages().total_dropped();
    s.events = sim_.events_processed();
    s.simulated_ms = to_ms(sim_.current_time());
    s.wall_ms = wall_ms_;
    return s;
  }

  nlohmann::json result() const override {
    nlohmann::json out;
    out["protocol"] = scenario_.protocol;
    out["scenario"] = scenario_.file;
    out["seed"] = scenario_.seed;
    out["params"] = protocol_.params_json();
    out["queries"] = brief_ ? nlohmann::json::array() : queries_json(log_, catalogue_, ids_);
    nlohmann::json peers = nlohmann::json::array();
    std::size_t state_total = 0, state_max = 0;
    for (PeerIndex p = 0; p < ids_.size(); ++p) {
      if (!sim_.is_up(p)) continue;
      const std::size_t state = protocol_.state_entries(p);
      state_total += state;
      state_max = std::max(state_max, state);
      if (brief_) continue;
      nlohmann::json neighbors = nlohmann::json::array(), items = nlohmann::json::array();
      for (PeerIndex n : protocol_.neighbors(p)) neighbors.push_back(ids_[n]);
      for (NameIndex n : shared_[p]) items.push_back(catalogue_.name(n));
      peers.push_back(
          {{"id", ids_[p]}, {"role", protocol_.role(p)}, {"neighbors", neighbors}, {"items", items}, {"state", state}});
    }
    out["peers"] = peers;
    nlohmann::json metrics = summary().to_json();
    const auto vocabulary = protocol_.vocabulary();
    nlohmann::json by_type = nlohmann::json::object();
    const MessageStats& ms = sim_.messages();
    for (std::size_t t = 0; t < vocabulary.message_types.size(); ++t) {
      if (ms.sent[t] == 0) continue;
      by_type[vocabulary.message_types[t]] = {
          {"sent", ms.sent[t]}, {"delivered", ms.delivered[t]}, {"lost", ms.lost[t]}, {"to_dead_peer", ms.to_dead[t]}};
    }
    metrics["messages_by_type"] = by_type;
    metrics["mean_state_entries"] =
        sim_.live_count() ? static_cast<double>(state_total) / static_cast<double>(sim_.live_count()) : 0.0;
    metrics["max_state_entries"] = state_max;
    std::uint64_t query_messages = 0;
    for (const auto& r : log_.records()) query_messages += r.messages;
    metrics["mean_messages_per_query"] =
        log_.records().empty() ? 0.0 : static_cast<double>(query_messages) / static_cast<double>(log_.records().size());
    out["metrics"] = metrics;
    out["warnings"] = warnings_;
    if (brief_) out["brief"] = true;
    return out;
  }

  std::vector<std::uint32_t> messages_per_search() const override {
    std::vector<std::uint32_t> out;
    for (const QueryRecord& r : log_.records()) {
      if (r.finished) out.push_back(static_cast<std::uint32_t>(r.messages));
    }
    return out;
  }

  StateSize state_size() const override {
    StateSize size;
    std::size_t total = 0, most = 0;
    for (PeerIndex p = 0; p < ids_.size(); ++p) {
      if (!sim_.is_up(p)) continue;
      const std::size_t state = protocol_.state_entries(p);
      total += state;
      most = std::max(most, state);
    }
    size.mean = sim_.live_count() ? static_cast<double>(total) / static_cast<double>(sim_.live_count()) : 0.0;
    size.max = static_cast<double>(most);
    return size;
  }

  std::vector<SearchOutcome> requested_searches() const override {
    // make_scenario turns each requested search into one query, and nothing else queries.
    std::vector<SearchOutcome> out;
    for (const QueryRecord& r : log_.records()) {
      SearchOutcome o;
      o.messages = static_cast<double>(r.messages);
      o.has_hops = r.first_hit_hops >= 0;
      o.hops = o.has_hops ? r.first_hit_hops : 0;
      o.has_latency = r.finished;
      o.latency_ms = r.finished ? to_ms(r.end - r.start) : 0;
      o.found = !r.live_hits.empty();
      o.false_negative = !o.found && r.live_provider_existed;
      out.push_back(o);
    }
    return out;
  }

  PeerView inspect_links(PeerIndex peer) const override {
    PeerView v = protocol_.inspect_links(peer);
    v.peer = peer;
    v.id = Id(ids_[peer]);
    v.state = sim_.state(peer);
    return v;
  }

  /// A query's step in the lecture's words: "7 gets the query from 0 (hop 1): it holds
  /// \"item-7\" and answers", "12 drops a duplicate from 3 (its GUID was seen before)",
  /// "5 passes the answer back to 0", "0 downloads \"item-7\" from 7, peer to peer".
  std::string narrate(const TraceEvent& e) const override {
    if (e.lookup >= log_.records().size()) return "";
    const QueryRecord& r = log_.records()[e.lookup];
    const auto id = [&](PeerIndex p) { return p < ids_.size() ? std::to_string(ids_[p]) : std::string("?"); };
    const std::string name = "\"" + catalogue_.name(r.name) + "\"";
    switch (e.kind) {
      case TraceKind::LookupStart:
        return id(e.peer) + " asks for " + name;
      case TraceKind::LookupHop:
        switch (e.detail) {
          case kForwardHop:
            return id(e.other) + " gets the query from " + id(e.peer) + " (hop " + std::to_string(e.index) + ")" +
                   (holds(e.other, Id(r.name)) ? ": it holds " + name + " and answers" : "");
          case kDuplicateHop:
            return id(e.other) + " drops a duplicate from " + id(e.peer) + " (its GUID was seen before)";
          case kRelayLeg:
            return id(e.peer) + " relays the transfer to " + id(e.other);
          case kAnswerHop:
            return id(e.peer) + " passes the answer back to " + id(e.other);
          case kDownloadHop:
            return id(e.other) + " downloads " + name + " from " + id(e.peer) + ", peer to peer";
          default:
            return "";
        }
      case TraceKind::LookupDone:
        if (e.detail != 0) return id(e.peer) + " has its answer: " + name + " found";
        return id(e.peer) + " has no answer: " + name + " NOT found" +
               (r.live_provider_existed ? ", although a live peer holds it (a false negative)" : "");
      default:
        return "";
    }
  }

  /// A query's key is its name's index in the catalogue (QueryLog::open): the holders are the
  /// peers sharing a file that name matches.
  bool holds(PeerIndex peer, const Id& key) const override {
    return key.fits_u64() && key.low64() < catalogue_.size() && peer < shared_.size() &&
           protocol_context().has_match(peer, static_cast<NameIndex>(key.low64()));
  }

  PeerView inspect(PeerIndex peer) const override {
    PeerView v = protocol_.inspect(peer);
    v.peer = peer;
    v.id = Id(ids_[peer]);
    v.state = sim_.state(peer);
    return v;
  }

 private:
  /// Creates the engine peer and its shared items and capacity (no protocol action yet).
  PeerIndex add_peer_state(std::size_t position, std::uint64_t id_override = ~0ULL) {
    const std::uint64_t id = id_override != ~0ULL ? id_override : workload_.ids[position];
    const PeerIndex p = sim_.add_peer(Id(id));
    ids_.push_back(id);
    shared_.emplace_back();
    capacities_.push_back(position < workload_.capacities.size() ? workload_.capacities[position] : Capacity{});
    if (position < workload_.ids.size() && id_override == ~0ULL) {
      for (const auto& [pos, name] : workload_.items) {
        if (pos == position) shared_[p].push_back(name);
      }
    }
    return p;
  }

  void add_peer(std::size_t position, PeerIndex via) {
    const PeerIndex p = add_peer_state(position);
    protocol_.join(p, via);
  }

  PeerIndex first_live() const {
    for (PeerIndex p = 0; p < ids_.size(); ++p) {
      if (sim_.is_up(p)) return p;
    }
    return kNoPeer;
  }

  PeerIndex random_live() {
    const auto& live = sim_.live_by_id();
    if (live.empty()) return kNoPeer;
    return live[sim_.scenario_rng().below(live.size())].second;
  }

  bool live_provider_exists(NameIndex name) const {
    for (PeerIndex p = 0; p < shared_.size(); ++p) {
      if (sim_.is_up(p) && protocol_context().has_match(p, name)) return true;
    }
    return false;
  }
  Context protocol_context() const { return Context{&catalogue_, nullptr, &shared_, &capacities_}; }

  void query(PeerIndex from, NameIndex name, int ttl) {
    const QueryIndex q = log_.open(from, name, sim_.current_time(), live_provider_exists(name));
    log_.reached(q, from);
    protocol_.search(from, name, q, ttl);
  }

  void random_query(int ttl) {
    const PeerIndex from = random_live();
    if (from == kNoPeer || workload_.items.empty()) return;
    const NameIndex name = workload_.items[sim_.scenario_rng().below(workload_.items.size())].second;
    query(from, name, ttl);
  }

  void execute(const Workload::Op& op) {
    auto live = [&](std::uint64_t id) {
      const PeerIndex p = peer_by_id(id);
      if (p == kNoPeer) {
        warnings_.push_back(op.field + ": peer " + std::to_string(id) + " is not alive at " +
                            std::to_string(to_ms(sim_.current_time())) + " ms; skipped");
      }
      return p;
    };
    using Kind = Workload::Op::Kind;
    switch (op.kind) {
      case Kind::Query:
        if (const PeerIndex p = live(op.from); p != kNoPeer) query(p, op.name, op.ttl);
        return;
      case Kind::Queries:
        for (std::int64_t i = 0; i < op.count; ++i) {
          const SimTime offset =
              op.spread > 0 ? static_cast<SimTime>(sim_.scenario_rng().below(static_cast<std::uint64_t>(op.spread)))
                            : 0;
          sim_.schedule_at(sim_.current_time() + offset, query_handler_, kNoPeer, static_cast<std::uint32_t>(op.ttl));
        }
        return;
      case Kind::Fail:
        if (const PeerIndex p = live(op.peer); p != kNoPeer) sim_.mark_failed(p);
        return;
      case Kind::Leave:
        if (const PeerIndex p = live(op.peer); p != kNoPeer) {
          protocol_.leave(p);
          sim_.mark_left(p);
        }
        return;
      case Kind::FailFraction:
        sim_.fail_fraction(op.fraction);
        return;
      case Kind::Set:
        if (const std::string error = protocol_.set_param(op.param, op.number); !error.empty()) {
          warnings_.push_back(op.field + ".param: " + error);
        }
        return;
      case Kind::Join: {
        std::uint64_t id = op.has_id ? op.id : 0;
        if (!op.has_id) {
          for (std::uint64_t used : ids_) id = std::max(id, used + 1);
        }
        if (peer_by_id(id) != kNoPeer) {
          warnings_.push_back(op.field + ": a live peer already has id " + std::to_string(id) + "; join skipped");
          return;
        }
        const PeerIndex via = random_live();
        const PeerIndex p = add_peer_state(workload_.ids.size(), id);
        protocol_.join(p, via);
        return;
      }
    }
  }

  Scenario scenario_;
  Catalogue catalogue_;
  Workload workload_;
  typename P::Params params_;
  Simulator<typename P::Message> sim_;
  QueryLog log_;
  std::vector<std::vector<NameIndex>> shared_;
  std::vector<Capacity> capacities_;
  std::vector<std::uint64_t> ids_;
  P protocol_;
  std::uint16_t op_handler_ = 0, query_handler_ = 0, join_handler_ = 0;
  std::vector<std::string> warnings_;
  bool started_ = false, brief_ = false;
  double wall_ms_ = 0;
};

}  // namespace p2plab::search
