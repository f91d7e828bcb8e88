#include "can_bench.hpp"

#include <cmath>
#include <cstdio>

#include "can_run.hpp"

namespace p2plab::can {

namespace {

constexpr double kLongPathHops = 100;  // expected hops per lookup above which the bench says so first

/// Before a long run, on standard error: its expected path length, and the smallest dimension
/// count whose paths are short. (At N = 10^6 and the default d = 2 a lookup takes about 500 hops:
/// a run of 10 simulated seconds took 8 minutes with nothing on the screen; d = 3 takes about 75.)
void warn_of_long_paths(const BenchOptions& o) {
  const auto hops = [&](int d) { return equal_zones_path(static_cast<double>(o.peers), d); };
  if (hops(o.d) <= kLongPathHops) return;
  int better = o.d;
  while (better < kMaxDims && hops(better) > kLongPathHops) ++better;
  std::fprintf(stderr,
               "p2plab bench can: with d = %d a lookup among %llu peers takes about (d/4) N^(1/d) = %.0f hops: "
               "this run may take long",
               o.d, static_cast<unsigned long long>(o.peers), hops(o.d));
  if (hops(better) <= kLongPathHops) std::fprintf(stderr, " (--d %d: about %.0f hops)", better, hops(better));
  std::fprintf(stderr, "\n");
}

Params bench_params(const BenchOptions& o) {
  Params params;
  params.d = o.d;
  params.maintenance = false;  // a frozen network: routing alone is measured
  params.rpc_timeout = from_ms(4 * o.max_ms + 100);
  params.lookup_timeout = from_ms(1e9);  // no lookup gives up: a path of thousands of hops (d = 1) still ends
  return params;
}

}  // namespace

BenchNetwork::BenchNetwork(const BenchOptions& o)
    : ParallelBench(o, bench_params(o)), options(o), oracle(sim, protocol) {
  protocol.set_oracle(
      [this](PeerIndex owner, const Id& key) { return oracle.owner(point_of(key, options.d)) == owner; });
  protocol.reserve(o.peers);
  dht::add_workload_peers(sim, o, o.threads);
  std::vector<PeerIndex> peers(o.peers);
  for (PeerIndex p = 0; p < o.peers; ++p) peers[p] = p;
  protocol.install_random_joins(peers);
  // The threads' partitions at equal expected work, not equal counts: a peer's events grow with
  // its zone's volume, faster than linearly (a large zone is crossed by more routes and has more
  // neighbours), and the first joiners hold the largest zones. Measured at 2 x 10^5 peers, d =
  // 2, 3 and 4: the busier of two threads had 61 % of the events with equal counts, 52-53 % with
  // the volume as weight, 50.1-50.7 % with volume^1.3 (of three: 44 %, 35-36 %, 33.5-34 %).
  std::vector<double> weight(o.peers);
  for (PeerIndex p = 0; p < o.peers; ++p) weight[p] = std::pow(protocol.volume(p), 1.3);
  sim.partition_by_weight(weight);
  // The oracle's zone index, built now: the zones never change, so the threads only read it.
  (void)oracle.owner(Point{});
}

void BenchNetwork::run() {
  ParallelBench::run();
  while (protocol.unfinished_lookups() > 0) sim.run_until(sim.current_time() + from_ms(std::int64_t{10000}));
}

int run_bench(const BenchOptions& o) {
  warn_of_long_paths(o);
  dht::BenchClock clock;
  const auto network = dht::build_and_run<BenchNetwork>(o, clock);
  auto& sim = network->sim;
  Protocol& protocol = network->protocol;

  const LookupStats& st = protocol.stats();
  const double n = static_cast<double>(o.peers);
  const double paper = equal_zones_path(n, o.d);
  double neighbours = 0;
  for (PeerIndex p = 0; p < o.peers; ++p) neighbours += static_cast<double>(protocol.neighbour_peers(p).size());
  std::printf(
      "p2plab bench can: N = %llu, d = %d, %.2f lookups/peer/s for %g s (%.1f s simulated until the last\n"
      "  arrived), latency uniform %g-%g ms per hop, frozen network of random joins, %u thread%s\n",
      static_cast<unsigned long long>(o.peers), o.d, o.rate, o.seconds, to_ms(sim.current_time()) / 1000.0, o.min_ms,
      o.max_ms, o.threads, o.threads == 1 ? "" : "s");
  std::printf("  wall time      %.2f s (network built in %.2f s, simulated in %.2f s)\n", clock.wall_s(),
              clock.build_s(), clock.run_s());
  std::printf("  lookups        %llu started, %llu finished, %.4f%% correct, %llu failed\n",
              static_cast<unsigned long long>(st.started_count()), static_cast<unsigned long long>(st.finished_count()),
              100.0 * st.success_rate(), static_cast<unsigned long long>(st.failed_count()));
  std::printf("  hops           mean %.3f ((d/4) N^(1/d) = %.3f on equal zones), p99 %u\n", st.mean_hops(), paper,
              st.hops_quantile(0.99));
  std::printf("  neighbours     %.2f per peer (2d = %d on equal zones)\n", neighbours / n, 2 * o.d);
  std::printf("  lookup latency mean %.1f ms, p99 %.0f ms\n", st.mean_latency_ms(), st.latency_quantile_ms(0.99));
  std::printf("  messages       %llu, events %llu, %.0f events/s\n",
              static_cast<unsigned long long>(sim.messages().total_sent()),
              static_cast<unsigned long long>(sim.events_processed()),
              static_cast<double>(sim.events_processed()) / clock.run_s());
  dht::print_thread_times(sim);
  std::printf("  peak memory    %.1f MB (%.0f bytes per peer)\n", static_cast<double>(clock.peak_rss()) / 1e6,
              clock.bytes_per_peer(o.peers));
  nlohmann::json figures = dht::parallel_workload_figures(o, clock, st, sim);
  figures["d"] = o.d;
  figures["mean_hops"] = st.mean_hops();
  figures["equal_zones_path"] = paper;
  figures["p99_hops"] = st.hops_quantile(0.99);
  figures["neighbours"] = neighbours / n;
  if (!dht::write_figures(o, "p2plab bench can", figures)) return 1;
  return st.success_rate() == 1.0 ? 0 : 3;  // a benchmark with wrong answers measures nothing
}

namespace {

int run_bench_command(const CommandArgs& args) {
  const std::string command = "p2plab bench can";
  BenchOptions o;
  if (!dht::read_workload(args, command, 10'000'000, 160, o) ||
      !dht::read_option(args, command, "d", 1, kMaxDims, o.d) || !dht::read_threads(args, command, o)) {
    return 2;
  }
  if (o.bits != kIdBits) {
    std::fprintf(stderr, "%s: --bits: keys are SHA-1's 160 bits (a key's point is read from them)\n", command.c_str());
    return 2;
  }
  return run_bench(o);
}

}  // namespace

ProtocolCommand bench_command() {
  ProtocolCommand command;
  command.summary = "Mean hops and simulator speed on a large CAN (random joins)";
  command.options = dht::workload_options(BenchOptions{},
                                          {{"d", "Dimensions d of the torus", "2", false, ""}, dht::threads_option()});
  command.run = run_bench_command;
  return command;
}

}  // namespace p2plab::can
