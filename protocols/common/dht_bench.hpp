#pragma once
// The benchmark workload the structured overlays share (`p2plab bench chord|kademlia|pastry|...`):
// the workload PeerSim's and SimGrid's Chord examples were measured on. N peers with ids from
// SHA-1 of generated addresses, lookups as N Poisson processes of rate `rate` (simulated as one
// process of rate N * rate whose requester is uniform among the peers: one pending event instead
// of N), keys uniform over the id space, latency uniform in [min_ms, max_ms] per message.
// A protocol's bench builds its converged network on these peers and prints its own figures.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "p2plab/arrivals.hpp"
#include "p2plab/metrics.hpp"
#include "p2plab/parallel_simulator.hpp"
#include "p2plab/protocol_command.hpp"
#include "p2plab/simulator.hpp"

namespace p2plab::dht {

struct BenchWorkload {
  std::uint64_t peers = 100'000;
  double seconds = 100;              // simulated time
  double rate = 0.1;                 // lookups per peer per simulated second (Poisson)
  double min_ms = 10, max_ms = 100;  // per-message latency, uniform
  int bits = 160;                    // m
  std::uint64_t seed = 1;
  std::string json_out;  // also write the figures as JSON here
  unsigned threads = 1;  // the parallel simulator's partitions (the benches that run on it)
};

/// The workload's options, with `defaults` as their defaults: peers, seconds, rate, min-ms,
/// max-ms, bits, then the protocol's own options (`own`), then seed and json.
std::vector<CommandOption> workload_options(const BenchWorkload& defaults, const std::vector<CommandOption>& own);

/// Reads option `name` as a number in [min, max] into `out` (left as it is when absent); false
/// after a message naming the option and the command ("p2plab bench chord: --k: ...").
template <class T>
bool read_option(const CommandArgs& args, const std::string& command, const std::string& name, T min, T max, T& out);

/// --threads, for a bench on the parallel simulator.
CommandOption threads_option();
/// Reads --threads into out.threads; false after a message naming it (more than one thread needs
/// a minimum latency of at least the clock's unit to run ahead on).
bool read_threads(const CommandArgs& args, const std::string& command, BenchWorkload& out);

/// Where a parallel run's threads spent their time, per thread (nothing with one thread): what is
/// not "events" is the price of running in parallel.
template <class ParallelSim>
void print_thread_times(const ParallelSim& sim) {
  if (sim.threads() <= 1) return;
  const auto t = sim.phase_times();
  const double n = sim.threads();
  std::printf(
      "  per thread     events %.2f s, transfer %.2f s, waiting %.2f s (for the others' events %.2f s, merge and\n"
      "                 next window %.2f s, for the others' transfers %.2f s; the first thread's merge %.2f s;\n"
      "                 %llu of %llu windows merged by two threads)\n",
      t.events / n, t.transfer / n, t.waiting / n, t.waiting_events / n, t.merging / n, t.waiting_transfer / n, t.merge,
      static_cast<unsigned long long>(t.halved_merges), static_cast<unsigned long long>(t.windows));
  // Each partition's events (a count: the same on every run), and where the partitions start.
  const auto events = sim.partition_events();
  const auto& starts = sim.partition_starts();
  std::uint64_t total = 0, busiest = 0;
  std::string counts, firsts;
  for (std::size_t k = 0; k < events.size(); ++k) {
    total += events[k];
    busiest = std::max(busiest, events[k]);
    char count[32];
    std::snprintf(count, sizeof count, "%s%.2f M", k == 0 ? "" : ", ", static_cast<double>(events[k]) / 1e6);
    counts += count;
    if (k < starts.size()) firsts += (k == 0 ? "" : ", ") + std::to_string(starts[k]);
  }
  std::printf("  per partition  events %s (the busiest %.1f %%), first peers %s\n", counts.c_str(),
              total == 0 ? 0.0 : 100.0 * static_cast<double>(busiest) / static_cast<double>(total), firsts.c_str());
}

/// Reads the workload's options; false after a message naming the bad one.
bool read_workload(const CommandArgs& args, const std::string& command, std::uint64_t max_peers, int max_bits,
                   BenchWorkload& out);

NetworkConfig workload_network(const BenchWorkload& w);

/// Adds the N peers, ids hashed from "10.a.b.c:4000" (below 64 bits an id in use is stepped past),
/// numbered in id order, hashing on `threads` threads: the same peers in the same order with any
/// count.
void add_workload_peers(SimulatorCore& sim, const BenchWorkload& w, unsigned threads = 1);

/// The workload's arrivals in order: each one's time, requester and key (one stream of the
/// seed). The next arrival is kept in double precision so that microsecond rounding never
/// accumulates.
class WorkloadStream {
 public:
  explicit WorkloadStream(const BenchWorkload& w);
  /// The next arrival's time, or -1 once the window has ended.
  SimTime next_time() const { return next_ms_ < end_ms_ ? from_ms(next_ms_) : -1; }
  /// Draws the next arrival's requester and key, and the time of the one after.
  void draw(PeerIndex& requester, Id& key);

 private:
  Rng rng_;
  IdSpace space_;
  std::uint64_t peers_;
  double mean_gap_ms_, next_ms_, end_ms_;
};

/// Schedules the lookups: `lookup(requester, key)` at each arrival until the run ends.
void schedule_workload_lookups(SimulatorCore& sim, const BenchWorkload& w,
                               std::function<void(PeerIndex, const Id&)> lookup);

/// The same arrivals for the parallel simulator, handed out a window ahead: an arrival's arg
/// names its key until the next window's are handed out. Drawing them (a random requester and
/// key, an exponential gap: about 50 ns each, a thousand per window at 10^6 peers) is done
/// early when the simulator offers (draw_one_ahead), on a thread that would otherwise wait.
/// They wait in a ring (no allocation per arrival; handing one out copies nothing but its time,
/// requester and slot: the key is read where it was drawn).
class WorkloadArrivals final : public ArrivalSource {
 public:
  explicit WorkloadArrivals(const BenchWorkload& w) : stream_(w), ring_(kFirstRing) {}
  SimTime next_time() const override { return next_ < drawn_ ? slot(next_).time : stream_.next_time(); }
  void take_before(SimTime end, std::vector<Arrival>& out) override;
  bool draw_one_ahead(SimTime horizon) override;
  const Id& key(std::uint32_t arg) const { return ring_[arg].key; }

 private:
  struct Drawn {
    SimTime time;
    PeerIndex peer;
    Id key;
  };
  static constexpr std::size_t kFirstRing = 4096;  // slots (a power of two)
  Drawn& slot(std::uint64_t i) { return ring_[i & (ring_.size() - 1)]; }
  const Drawn& slot(std::uint64_t i) const { return ring_[i & (ring_.size() - 1)]; }
  void draw_into_ring();
  WorkloadStream stream_;
  // Arrivals [live_, next_) were handed out last (their keys are read until the next take),
  // [next_, drawn_) are drawn ahead; the counts only grow, a slot is its count modulo the size.
  std::vector<Drawn> ring_;
  std::uint64_t live_ = 0, next_ = 0, drawn_ = 0;
};

/// Peak resident memory of this process so far, in bytes (Linux VmHWM).
std::uint64_t peak_rss_bytes();

/// Wall-clock phases of a benchmark: building the network, simulating; and the memory it took.
class BenchClock {
 public:
  BenchClock();
  void built() { built_ = std::chrono::steady_clock::now(); }
  void finished();
  double build_s() const;
  double run_s() const;
  double wall_s() const;
  std::uint64_t peak_rss() const { return peak_; }
  /// Memory the run added over what the process held before, per peer.
  double bytes_per_peer(std::uint64_t peers) const;

 private:
  std::chrono::steady_clock::time_point start_, built_, end_;
  std::uint64_t rss_before_ = 0, peak_ = 0;
};

/// What every bench's network has: the parallel simulator (w.threads partitions; one:
/// sequentially), the protocol on it without records (no history of millions of lookups; a test
/// may turn them on with one thread), and the workload's arrivals. A protocol's bench network
/// derives from it and builds its overlay on the peers.
template <class Msg, class Proto>
struct ParallelBench {
  template <class Params>
  ParallelBench(const BenchWorkload& w, const Params& params)
      : sim(w.seed, workload_network(w), w.threads),
        protocol(params, sim),
        arrivals(w),
        window_end(from_ms(w.seconds * 1000.0)) {
    sim.set_handler(&protocol);
    protocol.keep_records(false);
  }
  ParallelBench(const ParallelBench&) = delete;  // the simulator holds the protocol's address
  ParallelBench& operator=(const ParallelBench&) = delete;

  /// The workload's lookups, protocol.lookup(requester, key), until the window ends.
  void schedule_lookups() {
    sim.set_arrivals(&arrivals, sim.add_handler([this](PeerIndex from, std::uint32_t arg) {
      protocol.lookup(from, arrivals.key(arg));
    }));
  }
  /// Runs the window (a protocol whose figures need every started lookup to end runs on after
  /// it: its network's own run()).
  void run() { sim.run_until(window_end); }

  ParallelSimulator<Msg, Proto> sim;  // (its calls to the protocol are direct: Proto is final)
  Proto protocol;
  WorkloadArrivals arrivals;
  const SimTime window_end;
};

/// Builds a bench's network (timed on `clock` as the build), then runs the workload on it
/// (timed as the run); `records`: the protocol keeps every lookup's record (a test's, on one
/// thread). The network is returned for its figures.
template <class Network, class Options>
std::unique_ptr<Network> build_and_run(const Options& o, BenchClock& clock, bool records = false) {
  auto network = std::make_unique<Network>(o);
  if (records) network->protocol.keep_records(true);
  clock.built();
  network->schedule_lookups();
  network->run();
  clock.finished();
  return network;
}

/// The figures every benchmark reports (the workload, wall clock, lookups, events, messages,
/// memory) as JSON; a protocol adds its own.
nlohmann::json workload_figures(const BenchWorkload& w, const BenchClock& clock, const LookupStats& stats,
                                const SimulatorCore& sim);

/// workload_figures of a bench on the parallel simulator, with its thread count and its
/// partitions: each one's first peer and events (counts, the same on every run, so a test can
/// check how evenly the work was cut).
template <class Msg, class Handler>
nlohmann::json parallel_workload_figures(const BenchWorkload& w, const BenchClock& clock, const LookupStats& stats,
                                         const ParallelSimulator<Msg, Handler>& sim) {
  nlohmann::json figures = workload_figures(w, clock, stats, sim);
  figures["threads"] = sim.threads();
  figures["partitions"] = {{"starts", sim.partition_starts()}, {"events", sim.partition_events()}};
  return figures;
}

/// Writes `figures` to w.json_out when it is set; false after a message naming the file.
bool write_figures(const BenchWorkload& w, const std::string& command, const nlohmann::json& figures);

}  // namespace p2plab::dht
