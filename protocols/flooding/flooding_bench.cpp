#include "flooding_bench.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "flooding.hpp"
#include "p2plab/simulator.hpp"

namespace p2plab::flooding {

namespace {

constexpr int kBadInput = 2;
constexpr std::uint16_t kUnreached = 0xffff;  // a depth: the query never came
constexpr std::uint16_t kPending = 0xfffe;    // a depth: reported reached, its first copy not yet seen
constexpr std::size_t kErrorsShown = 5;

/// The overlay as it was frozen after bootstrap: the truth the oracle floods over, in its own
/// arrays (compressed adjacency lists), so that nothing the protocol does later can change it.
class Overlay {
 public:
  Overlay(const Protocol& protocol, std::size_t peers) : start_(peers + 1, 0) {
    for (PeerIndex p = 0; p < peers; ++p) {
      const std::vector<PeerIndex> n = protocol.neighbors(p);
      adjacency_.insert(adjacency_.end(), n.begin(), n.end());
      start_[p + 1] = static_cast<std::uint32_t>(adjacency_.size());
    }
  }
  std::size_t size() const { return start_.size() - 1; }
  std::span<const PeerIndex> neighbours(PeerIndex p) const {
    return {adjacency_.data() + start_[p], adjacency_.data() + start_[p + 1]};
  }
  std::size_t degree(PeerIndex p) const { return start_[p + 1] - start_[p]; }
  bool adjacent(PeerIndex a, PeerIndex b) const {
    if (a >= size()) return false;
    const auto n = neighbours(a);
    return std::find(n.begin(), n.end(), b) != n.end();
  }
  std::size_t links() const { return adjacency_.size(); }  // each undirected link counted twice

  /// Brute force: the peers within `radius` hops of `source` (BFS), their distances in `dist`
  /// (kUnreached beyond), in `order`. `dist` must be all kUnreached before; reset() undoes it.
  void ball(PeerIndex source, int radius, std::vector<std::uint16_t>& dist, std::vector<PeerIndex>& order) const {
    order.clear();
    order.push_back(source);
    dist[source] = 0;
    for (std::size_t head = 0; head < order.size(); ++head) {
      const PeerIndex p = order[head];
      if (dist[p] >= radius) continue;
      for (PeerIndex n : neighbours(p)) {
        if (dist[n] != kUnreached) continue;
        dist[n] = static_cast<std::uint16_t>(dist[p] + 1);
        order.push_back(n);
      }
    }
  }
  static void reset(std::vector<std::uint16_t>& dist, const std::vector<PeerIndex>& order) {
    for (PeerIndex p : order) dist[p] = kUnreached;
  }

 private:
  std::vector<std::uint32_t> start_;
  std::vector<PeerIndex> adjacency_;
};

/// One query while it runs: what the protocol reported of it, checked as it comes.
struct Flight {
  PeerIndex requester = kNoPeer;
  std::uint64_t item = 0;
  std::vector<std::uint16_t> depth;  // per peer: the hops its first copy had travelled
  std::vector<PeerIndex> reached;    // in the order they were reached, the requester first
  std::uint64_t firsts = 0, duplicates = 0, answers = 0;
  std::string error;  // the first disagreement seen while it ran
};

/// Sums over the checked queries.
struct Totals {
  std::uint64_t checked = 0, wrong = 0;
  std::uint64_t reached = 0, ball = 0, ball_equal = 0;
  std::uint64_t messages = 0, copies = 0, duplicates = 0, answers = 0, downloads = 0;
  std::uint64_t hits = 0, ball_holders = 0, false_negatives = 0, found = 0;
  double oracle_s = 0, expiry_s = 0;
  std::vector<std::string> errors;
};

class FloodBench final : public search::QueryObserver {
 public:
  explicit FloodBench(const BenchOptions& o)
      : o_(o),
        sim_(o.seed, dht::workload_network(o)),
        params_(bench_params(o)),
        protocol_(params_, sim_, search::Context{&catalogue_, &log_, &shared_, &capacities_}) {
    sim_.set_handler(&protocol_);
    log_.set_observer(this);
  }

  static Params bench_params(const BenchOptions& o) {
    Params p;
    p.ttl = o.ttl;
    p.degree = o.degree;
    p.max_degree = o.max_degree > 0 ? o.max_degree : 2 * o.degree;
    p.keepalive = 0;  // frozen overlay: nobody leaves, no PINGs
    // Every QUERYHIT must be back before the requester stops collecting (the oracle counts them
    // all): there and back is at most 2 TTL messages of max_ms each.
    p.collect = std::max(p.collect, from_ms(2.0 * o.ttl * o.max_ms + 100.0));
    return p;
  }

  /// The peers, their items, the overlay (the protocol's bootstrap "oracle": each peer in turn
  /// picks random partners that still accept), frozen.
  void build() {
    for (std::uint64_t i = 0; i < o_.peers; ++i) sim_.add_peer(Id(i));
    shared_.assign(o_.peers, {});
    holders_.assign(o_.items, {});
    Rng rng = Rng::derive(o_.seed, 0x6974656d73ULL);  // "items"
    for (std::uint64_t k = 0; k < o_.items; ++k) {
      const NameIndex name = catalogue_.intern("item-" + std::to_string(k));
      auto& h = holders_[k];
      while (h.size() < o_.replicas) {
        const auto p = static_cast<PeerIndex>(rng.below(o_.peers));
        if (std::find(h.begin(), h.end(), p) != h.end()) continue;
        h.push_back(p);
        shared_[p].push_back(name);
      }
      names_.push_back(name);
    }
    std::vector<PeerIndex> all(o_.peers);
    for (PeerIndex p = 0; p < o_.peers; ++p) all[p] = p;
    protocol_.bootstrap(all);
    overlay_ = std::make_unique<Overlay>(protocol_, o_.peers);
    // The oracle floods over the links both ends hold: a one-sided link, a loop or a peer above
    // max_degree would make the overlay itself wrong.
    for (PeerIndex p = 0; p < o_.peers; ++p) {
      if (overlay_->degree(p) > static_cast<std::size_t>(params_.max_degree)) {
        fail_global("peer " + std::to_string(p) + " has " + std::to_string(overlay_->degree(p)) + " neighbours");
      }
      for (PeerIndex n : overlay_->neighbours(p)) {
        if (n == p || !overlay_->adjacent(n, p)) {
          fail_global("the overlay link " + std::to_string(p) + " - " + std::to_string(n) + " is not mutual");
        }
      }
    }
    scratch_.assign(o_.peers, kUnreached);
    check_handler_ = sim_.add_handler([this](PeerIndex, std::uint32_t q) { check(q); });
  }

  /// Queries arrive for o.seconds; the run goes on until the last one has ended.
  void run() {
    dht::schedule_workload_lookups(sim_, o_, [this](PeerIndex from, const Id& key) { start(from, key); });
    sim_.run_until(from_ms(o_.seconds * 1000.0));
    while (active_ > 0 && sim_.events_pending() > 0) sim_.run_until(sim_.current_time() + from_ms(std::int64_t{1000}));
  }

  // ---- what the protocol reports (QueryObserver) ----

  void reached(search::QueryIndex q, PeerIndex peer) override {
    Flight* f = flight(q, "reached");
    if (f == nullptr) return;
    if (peer >= f->depth.size() || f->depth[peer] != kUnreached) {
      note(*f, "peer " + std::to_string(peer) + " processed the query twice");
      return;
    }
    f->depth[peer] = kPending;
    f->reached.push_back(peer);
  }

  void hop(search::QueryIndex q, PeerIndex from, PeerIndex to, int hops, bool duplicate, int kind) override {
    if (!duplicate && kind != search::kForwardHop && kind != search::kAnswerHop) return;  // the download
    Flight* f = flight(q, "hop");
    if (f == nullptr) return;
    if (!overlay_->adjacent(from, to)) {
      note(*f, "a message went from " + std::to_string(from) + " to " + std::to_string(to) +
                   ", which are not neighbours in the overlay");
      return;
    }
    if (kind == search::kAnswerHop) {
      ++f->answers;
      return;
    }
    const std::uint16_t sender = f->depth[from];
    if (sender >= kPending) {
      note(*f, "peer " + std::to_string(from) + " sent a copy without having received the query");
      return;
    }
    if (duplicate) {
      ++f->duplicates;
      if (f->depth[to] == kUnreached) note(*f, "peer " + std::to_string(to) + " dropped its first copy");
      return;
    }
    ++f->firsts;
    if (f->depth[to] != kPending) {
      note(*f, "peer " + std::to_string(to) + " took a copy as new without reporting it reached, or twice");
    } else if (hops != sender + 1) {
      note(*f, "peer " + std::to_string(to) + " got its first copy with hops " + std::to_string(hops) +
                   " from a peer at hop " + std::to_string(sender));
    } else {
      f->depth[to] = static_cast<std::uint16_t>(hops);
    }
  }

  void finished(search::QueryIndex q) override {
    // Checked after the protocol's call that ended it has returned (the check makes every
    // reached peer forget the query).
    sim_.schedule_at(sim_.current_time(), check_handler_, kNoPeer, q);
  }

  // ---- figures ----
  SimulatorCore& sim() { return sim_; }
  const Totals& totals() const { return totals_; }
  const LookupStats& stats() const { return stats_; }
  const Params& params() const { return params_; }
  const Overlay& overlay() const { return *overlay_; }

 private:
  Flight* flight(search::QueryIndex q, const char* what) {
    if (q < flights_.size() && flights_[q]) return flights_[q].get();
    fail_global(std::string("a ") + what + " report for query " + std::to_string(q) + ", which is not running");
    return nullptr;
  }
  void note(Flight& f, const std::string& error) {
    if (f.error.empty()) f.error = error;
  }
  void fail_global(const std::string& error) {
    ++totals_.wrong;
    if (totals_.errors.size() < kErrorsShown) totals_.errors.push_back(error);
  }

  void start(PeerIndex from, const Id& key) {
    const std::uint64_t item = key.low64() % o_.items;
    const search::QueryIndex q = log_.open(from, names_[item], sim_.current_time(), true);
    if (q >= flights_.size()) flights_.resize(q + 1);
    auto f = std::make_unique<Flight>();
    f->requester = from;
    f->item = item;
    if (pool_.empty()) {
      f->depth.assign(o_.peers, kUnreached);
    } else {
      f->depth = std::move(pool_.back());
      pool_.pop_back();
    }
    f->depth[from] = 0;
    f->reached.push_back(from);
    flights_[q] = std::move(f);
    ++active_;
    stats_.started();
    protocol_.search(from, names_[item], q, 0);
  }

  /// The query has ended: compare what the protocol did with a brute-force flood over the true
  /// overlay, then let every peer it reached forget it (a real servent's GUID cache expires).
  void check(search::QueryIndex q) {
    const auto begin = std::chrono::steady_clock::now();
    Flight* f = flight(q, "finish");
    if (f == nullptr) return;
    const search::QueryRecord& r = log_.records()[q];
    const int ttl = params_.ttl;
    std::vector<std::uint16_t>& dist = scratch_;
    overlay_->ball(f->requester, ttl, dist, order_);
    std::string error = f->error;
    auto fail = [&](const std::string& e) {
      if (error.empty()) error = e;
    };
    // Every peer reached lies within TTL hops, and got its first copy over no fewer hops than
    // its distance. A peer that forwarded (first copy at hop < TTL) sent to all its neighbours
    // but the one it came from: each neighbour has the query. The QUERY copies sent are
    // therefore the requester's degree plus (degree - 1) for every other forwarding peer.
    std::uint64_t copies = 0;
    for (PeerIndex p : f->reached) {
      const std::uint16_t d = f->depth[p];
      if (d >= kPending) {
        fail("peer " + std::to_string(p) + " was reported reached but never got a first copy");
        continue;
      }
      if (dist[p] == kUnreached || d < dist[p] || d > ttl) {
        fail("peer " + std::to_string(p) + " got its first copy at hop " + std::to_string(d) +
             ", but lies at distance " + (dist[p] == kUnreached ? "> TTL" : std::to_string(dist[p])));
      }
      if (o_.min_ms == o_.max_ms && d != dist[p]) {
        fail("constant latency, yet peer " + std::to_string(p) + " got its first copy at hop " + std::to_string(d) +
             " while it lies at distance " + std::to_string(dist[p]));
      }
      if (d >= ttl) continue;
      copies += overlay_->degree(p) - (p == f->requester ? 0 : 1);
      for (PeerIndex n : overlay_->neighbours(p)) {
        if (f->depth[n] == kUnreached) {
          fail("peer " + std::to_string(n) + " never got the query, although its neighbour " + std::to_string(p) +
               " forwarded it (first copy at hop " + std::to_string(d) + " < TTL " + std::to_string(ttl) + ")");
        }
      }
    }
    const std::uint64_t reached = f->reached.size(), ball = order_.size();
    if (o_.min_ms == o_.max_ms && reached != ball) {
      fail("constant latency, yet " + std::to_string(reached) + " peers reached, not the " + std::to_string(ball) +
           " within " + std::to_string(ttl) + " hops");
    }
    if (f->firsts != reached - 1 || f->duplicates != copies - (reached - 1) || r.duplicates != f->duplicates) {
      fail(std::to_string(f->firsts) + " first copies and " + std::to_string(f->duplicates) + " duplicates (" +
           std::to_string(r.duplicates) + " counted), the overlay predicts " + std::to_string(reached - 1) + " and " +
           std::to_string(copies - (reached - 1)));
    }
    // Hits: exactly the holders the flood reached (but the requester), each QUERYHIT back over
    // as many hops as its QUERY came; the download from the nearest, then lowest-numbered.
    std::set<PeerIndex> expected;
    std::uint64_t ball_holders = 0, answers = 0;
    PeerIndex best = kNoPeer;
    for (PeerIndex h : holders_[f->item]) {
      if (h == f->requester) continue;
      if (dist[h] != kUnreached) ++ball_holders;
      const std::uint16_t d = f->depth[h];
      if (d >= kPending) continue;
      expected.insert(h);
      answers += d;
      if (best == kNoPeer || d < f->depth[best] || (d == f->depth[best] && h < best)) best = h;
    }
    if (r.hits != expected) {
      fail(std::to_string(r.hits.size()) + " hits, but " + std::to_string(expected.size()) +
           " holders got the query (or not the same ones)");
    }
    if (f->answers != answers) {
      fail(std::to_string(f->answers) + " QUERYHIT messages, the reverse paths predict " + std::to_string(answers));
    }
    if (r.downloaded_from != best)
      fail("downloaded from peer " + std::to_string(r.downloaded_from) + ", the nearest hit is " +
           std::to_string(best));
    const std::uint64_t downloads = best == kNoPeer ? 0 : 2;  // DOWNLOAD and DOWNLOAD_OK
    if (r.messages != copies + answers + downloads) {
      fail(std::to_string(r.messages) + " messages, the overlay predicts " +
           std::to_string(copies + answers + downloads));
    }

    Totals& t = totals_;
    ++t.checked;
    t.reached += reached;
    t.ball += ball;
    t.ball_equal += reached == ball ? 1 : 0;
    t.messages += r.messages;
    t.copies += f->firsts + f->duplicates;
    t.duplicates += f->duplicates;
    t.answers += f->answers;
    t.downloads += downloads;
    t.hits += r.hits.size();
    t.ball_holders += ball_holders;
    t.found += r.hits.empty() ? 0 : 1;
    t.false_negatives += r.hits.empty() && ball_holders > 0 ? 1 : 0;
    if (!error.empty())
      fail_global("query " + std::to_string(q) + " from peer " + std::to_string(f->requester) + ": " + error);
    stats_.finished(static_cast<std::uint32_t>(std::max(r.first_hit_hops, 0)), r.end - r.start, error.empty());

    Overlay::reset(dist, order_);
    const auto checked = std::chrono::steady_clock::now();
    t.oracle_s += std::chrono::duration<double>(checked - begin).count();
    // The peers are visited at random: their records and GUID slots are loaded ahead, as the
    // engine does for events.
    constexpr std::size_t kAhead = 16;
    Message hint;
    hint.type = MsgType::Query;
    hint.query = q;
    const std::vector<PeerIndex>& all = f->reached;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (i + 2 * kAhead < all.size()) protocol_.prefetch(all[i + 2 * kAhead]);
      if (i + kAhead < all.size()) protocol_.prefetch_message(all[i + kAhead], hint);
      protocol_.forget_query(all[i], q);
      f->depth[all[i]] = kUnreached;
    }
    pool_.push_back(std::move(f->depth));
    flights_[q].reset();
    --active_;
    t.expiry_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - checked).count();
  }

  const BenchOptions& o_;
  Simulator<Message> sim_;
  Params params_;
  search::Catalogue catalogue_;
  search::QueryLog log_;
  std::vector<std::vector<search::NameIndex>> shared_;
  std::vector<search::Capacity> capacities_;
  Protocol protocol_;
  std::vector<search::NameIndex> names_;
  std::vector<std::vector<PeerIndex>> holders_;  // by item: the peers sharing it
  std::unique_ptr<Overlay> overlay_;
  std::vector<std::unique_ptr<Flight>> flights_;  // by query, while it runs
  std::vector<std::vector<std::uint16_t>> pool_;  // depth arrays of ended queries, all kUnreached
  std::vector<std::uint16_t> scratch_;            // the oracle's distances, all kUnreached between checks
  std::vector<PeerIndex> order_;
  std::uint16_t check_handler_ = 0;
  std::uint64_t active_ = 0;
  LookupStats stats_;
  Totals totals_;
};

double per(std::uint64_t total, std::uint64_t count) {
  return count == 0 ? 0.0 : static_cast<double>(total) / static_cast<double>(count);
}

}  // namespace

int run_bench(const BenchOptions& o) {
  dht::BenchClock clock;
  FloodBench bench(o);
  bench.build();
  clock.built();
  bench.run();
  clock.finished();

  const Totals& t = bench.totals();
  const LookupStats& st = bench.stats();
  const Params& p = bench.params();
  const SimulatorCore& sim = bench.sim();
  const std::uint64_t n = o.peers, q = t.checked;
  const double sim_s = std::max(clock.run_s() - t.oracle_s, 1e-9);
  const double events_per_s = static_cast<double>(sim.events_processed()) / sim_s;
  std::uint64_t min_degree = ~std::uint64_t{0}, max_degree = 0;
  for (PeerIndex x = 0; x < n; ++x) {
    min_degree = std::min<std::uint64_t>(min_degree, bench.overlay().degree(x));
    max_degree = std::max<std::uint64_t>(max_degree, bench.overlay().degree(x));
  }
  const double mean_degree = per(bench.overlay().links(), n);

  std::printf(
      "p2plab bench flooding: N = %llu, TTL %d, degree %d (max %d), %llu items on %llu peers each,\n"
      "  %g queries/peer/s for %g s (%.1f s simulated until the last ended), latency uniform %g-%g ms per\n"
      "  message, hits collected for %g ms; frozen random overlay (built directly: no join traffic, no keepalive)\n",
      static_cast<unsigned long long>(n), p.ttl, p.degree, p.max_degree, static_cast<unsigned long long>(o.items),
      static_cast<unsigned long long>(o.replicas), o.rate, o.seconds, to_ms(sim.current_time()) / 1000.0, o.min_ms,
      o.max_ms, to_ms(p.collect));
  std::printf("  wall time      %.2f s (overlay built in %.2f s, simulated in %.2f s)\n", clock.wall_s(),
              clock.build_s(), clock.run_s());
  std::printf("                 of the simulation: oracle checks %.2f s, GUID expiry at the reached peers %.2f s\n",
              t.oracle_s, t.expiry_s);
  std::printf("  overlay        mean degree %.2f (min %llu, max %llu), %llu links\n", mean_degree,
              static_cast<unsigned long long>(min_degree), static_cast<unsigned long long>(max_degree),
              static_cast<unsigned long long>(bench.overlay().links() / 2));
  std::printf("  queries        %llu started, %llu finished, %llu checked against the oracle, %llu disagree\n",
              static_cast<unsigned long long>(st.started_count()), static_cast<unsigned long long>(st.finished_count()),
              static_cast<unsigned long long>(q), static_cast<unsigned long long>(t.wrong));
  std::printf("  reached/query  %.1f peers; oracle (BFS ball of radius %d) %.1f: %.4f%%, equal in %llu of %llu\n",
              per(t.reached, q), p.ttl, per(t.ball, q), t.ball == 0 ? 100.0 : 100.0 * per(t.reached, t.ball),
              static_cast<unsigned long long>(t.ball_equal), static_cast<unsigned long long>(q));
  std::printf("  messages/query %.1f: QUERY %.1f (%.1f of them duplicates), QUERYHIT %.1f, DOWNLOAD(_OK) %.1f\n",
              per(t.messages, q), per(t.copies, q), per(t.duplicates, q), per(t.answers, q), per(t.downloads, q));
  std::printf(
      "  hits           %.3f per query (holders within %d hops: %.3f), %llu queries found the item,"
      " %llu false negatives\n",
      per(t.hits, q), p.ttl, per(t.ball_holders, q), static_cast<unsigned long long>(t.found),
      static_cast<unsigned long long>(t.false_negatives));
  std::printf("  query time     mean %.1f ms (collecting hits, then the download)\n", st.mean_latency_ms());
  std::printf("  events         %llu, %.0f events/s (without the oracle checks)\n",
              static_cast<unsigned long long>(sim.events_processed()), events_per_s);
  std::printf("  peak memory    %.1f MB (%.0f bytes per peer)\n", static_cast<double>(clock.peak_rss()) / 1e6,
              clock.bytes_per_peer(n));
  for (const std::string& e : t.errors) std::printf("  WRONG          %s\n", e.c_str());

  nlohmann::json figures = dht::workload_figures(o, clock, st, sim);
  figures.erase("bits");
  figures["events_per_s"] = events_per_s;
  figures["oracle_s"] = t.oracle_s;
  figures["expiry_s"] = t.expiry_s;
  figures["ttl"] = p.ttl;
  figures["degree"] = p.degree;
  figures["max_degree"] = p.max_degree;
  figures["mean_degree"] = mean_degree;
  figures["items"] = o.items;
  figures["replicas"] = o.replicas;
  figures["collect_ms"] = to_ms(p.collect);
  figures["checked"] = q;
  figures["wrong"] = t.wrong;
  figures["mean_reached"] = per(t.reached, q);
  figures["mean_oracle_reached"] = per(t.ball, q);
  figures["reached_equal_oracle"] = t.ball_equal;
  figures["mean_messages"] = per(t.messages, q);
  figures["mean_query_copies"] = per(t.copies, q);
  figures["mean_duplicates"] = per(t.duplicates, q);
  figures["mean_queryhits"] = per(t.answers, q);
  figures["hits"] = t.hits;
  figures["oracle_holders_in_reach"] = t.ball_holders;
  figures["found"] = t.found;
  figures["false_negatives"] = t.false_negatives;
  if (!dht::write_figures(o, "p2plab bench flooding", figures)) return 1;
  // A benchmark that gives wrong answers measures nothing: every query ended and agreed with the
  // oracle, and every message the network carried belonged to one of them (no keepalive here).
  const bool all_ended = st.finished_count() == st.started_count();
  if (!all_ended)
    std::printf("  WRONG          %llu queries never ended\n",
                static_cast<unsigned long long>(st.started_count() - st.finished_count()));
  const bool all_counted = sim.messages().total_sent() == t.messages;
  if (!all_counted)
    std::printf("  WRONG          %llu messages sent, %llu of them counted against a query\n",
                static_cast<unsigned long long>(sim.messages().total_sent()),
                static_cast<unsigned long long>(t.messages));
  return t.wrong == 0 && all_ended && all_counted ? 0 : 3;
}

namespace {

int run_bench_command(const CommandArgs& args) {
  const std::string command = "p2plab bench flooding";
  BenchOptions o;
  if (!dht::read_workload(args, command, 10'000'000, 160, o) ||
      !dht::read_option(args, command, "ttl", 1, 255, o.ttl) ||
      !dht::read_option(args, command, "degree", 1, 1000, o.degree) ||
      !dht::read_option(args, command, "max-degree", o.degree, 10000, o.max_degree) ||
      !dht::read_option(args, command, "items", std::uint64_t{1}, std::uint64_t{1'000'000}, o.items) ||
      !dht::read_option(args, command, "replicas", std::uint64_t{1}, o.peers, o.replicas)) {
    return kBadInput;
  }
  return run_bench(o);
}

}  // namespace

ProtocolCommand bench_command() {
  ProtocolCommand command;
  command.summary = "Messages, reach and simulator speed of Gnutella floods on a large random overlay (checked by BFS)";
  std::vector<CommandOption> options = dht::workload_options(
      BenchOptions{}, {{"ttl", "Hops a query may travel (Gnutella's default 7)", "7", false, ""},
                       {"degree", "Neighbours a peer tries to keep", "4", false, ""},
                       {"max-degree", "Neighbours a peer accepts at most (default 2 x degree)", "", false, ""},
                       {"items", "Distinct shared items (a query asks for a uniform random one)", "100", false, ""},
                       {"replicas", "Random peers sharing each item", "3", false, ""}});
  // Flooding has no identifier space.
  options.erase(std::remove_if(options.begin(), options.end(), [](const CommandOption& x) { return x.name == "bits"; }),
                options.end());
  for (CommandOption& x : options) {
    if (x.name == "rate") x.help = "Queries per peer per simulated second (Poisson; 10 per second at N = 10^5)";
    if (x.name == "seconds") {
      x.help =
          "Simulated seconds in which queries arrive, then the run goes on until they end (default: about 500 "
          "floods at N = 10^5, 10-15 s in Release)";
    }
  }
  command.options = std::move(options);
  command.run = run_bench_command;
  return command;
}

}  // namespace p2plab::flooding
