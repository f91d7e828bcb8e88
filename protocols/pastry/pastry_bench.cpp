#include "pastry_bench.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <string>

#include "pastry_run.hpp"

namespace p2plab::pastry {

namespace {

Params bench_params(const BenchOptions& o) {
  Params params;
  params.m = o.bits;
  params.b = o.digit_bits;
  params.leaf_set = o.leaf_set;
  params.maintenance = false;  // a frozen converged network: routing alone is measured
  params.rpc_timeout = from_ms(4 * o.max_ms + 100);
  return params;
}

}  // namespace

BenchNetwork::BenchNetwork(const BenchOptions& o) : ParallelBench(o, bench_params(o)), digits(o.bits, o.digit_bits) {
  // Read-only while the run goes on: the threads may ask at once.
  protocol.set_oracle([this](PeerIndex owner, const Id& key, PeerIndex except) {
    return sim.is_up(owner) && closest_live(sim, digits, key, except) == owner;
  });
  protocol.reserve(o.peers);
  dht::add_workload_peers(sim, o, o.threads);
  protocol.install_converged(sim.live_by_id(), o.seed);
}

int run_bench(const BenchOptions& o) {
  dht::BenchClock clock;
  const auto network = dht::build_and_run<BenchNetwork>(o, clock);
  auto& sim = network->sim;
  Protocol& protocol = network->protocol;

  const double build_s = clock.build_s(), run_s = clock.run_s();
  const LookupStats& st = protocol.stats();
  const double log_n = std::log(static_cast<double>(o.peers)) / std::log(static_cast<double>(1 << o.digit_bits));
  double rows = 0;
  for (PeerIndex p = 0; p < o.peers; ++p) rows += protocol.rows_in_use(p);
  std::printf(
      "p2plab bench pastry: N = %llu, m = %d, b = %d, |L| = %d, %.2f lookups/peer/s, %g s simulated,\n"
      "  latency uniform %g-%g ms per hop, frozen converged network, %u thread%s\n",
      static_cast<unsigned long long>(o.peers), o.bits, o.digit_bits, o.leaf_set, o.rate, o.seconds, o.min_ms, o.max_ms,
      o.threads, o.threads == 1 ? "" : "s");
  std::printf("  wall time      %.2f s (network built in %.2f s, simulated in %.2f s)\n", build_s + run_s, build_s,
              run_s);
  std::printf("  lookups        %llu started, %llu finished, %.4f%% correct, %llu failed\n",
              static_cast<unsigned long long>(st.started_count()), static_cast<unsigned long long>(st.finished_count()),
              100.0 * st.success_rate(), static_cast<unsigned long long>(st.failed_count()));
  std::printf("  hops           mean %.3f (log_%d N = %.3f), p99 %u\n", st.mean_hops(), 1 << o.digit_bits, log_n,
              st.hops_quantile(0.99));
  const auto& histogram = st.hop_histogram();
  std::printf("  hop histogram ");
  for (std::size_t h = 0; h < histogram.size(); ++h) {
    std::printf(
        " %zu:%.4f", h,
        static_cast<double>(histogram[h]) / static_cast<double>(std::max<std::uint64_t>(1, st.finished_count())));
  }
  std::printf("\n  routing rows   %.2f per peer in use\n", rows / static_cast<double>(o.peers));
  // Where the hops came from: the leaf set (rule 1), the routing table (rule 2: how many digits
  // each such hop gained), the rare case (rule 3).
  const RouteStats& rs = protocol.route_stats();
  const double finished = static_cast<double>(std::max<std::uint64_t>(1, st.finished_count()));
  std::printf(
      "  hops by rule   leaf set %.3f, table %.3f (%.3f digits gained each), rare case %.4f per lookup\n",
      static_cast<double>(rs.by_rule[1]) / finished, static_cast<double>(rs.by_rule[2]) / finished,
      static_cast<double>(rs.table_digits_gained) / static_cast<double>(std::max<std::uint64_t>(1, rs.by_rule[2])),
      static_cast<double>(rs.by_rule[3]) / finished);
  std::printf("  lookup latency mean %.1f ms, p99 %.0f ms\n", st.mean_latency_ms(), st.latency_quantile_ms(0.99));
  std::printf("  messages       %llu, events %llu, %.0f events/s\n",
              static_cast<unsigned long long>(sim.messages().total_sent()),
              static_cast<unsigned long long>(sim.events_processed()),
              static_cast<double>(sim.events_processed()) / run_s);
  dht::print_thread_times(sim);
  std::printf("  peak memory    %.1f MB (%.0f bytes per peer)\n", static_cast<double>(clock.peak_rss()) / 1e6,
              clock.bytes_per_peer(o.peers));
  nlohmann::json figures = dht::parallel_workload_figures(o, clock, st, sim);
  figures["b"] = o.digit_bits;
  figures["leaf_set"] = o.leaf_set;
  figures["mean_hops"] = st.mean_hops();
  figures["log_base_2b_n"] = log_n;
  figures["p99_hops"] = st.hops_quantile(0.99);
  if (!dht::write_figures(o, "p2plab bench pastry", figures)) return 1;
  return st.success_rate() == 1.0 ? 0 : 3;  // a benchmark with wrong answers measures nothing
}

namespace {

int run_bench_command(const CommandArgs& args) {
  const std::string command = "p2plab bench pastry";
  BenchOptions o;
  if (!dht::read_workload(args, command, 10'000'000, 160, o) ||
      !dht::read_option(args, command, "digit-bits", 1, kMaxDigitBits, o.digit_bits) ||
      !dht::read_option(args, command, "leaf-set", 2, kMaxList, o.leaf_set) || !dht::read_threads(args, command, o)) {
    return 2;
  }
  if (o.bits % o.digit_bits != 0 || o.leaf_set % 2 != 0) {
    std::fprintf(stderr, "%s: --bits must be a multiple of --digit-bits, --leaf-set even\n", command.c_str());
    return 2;
  }
  return run_bench(o);
}

}  // namespace

ProtocolCommand bench_command() {
  ProtocolCommand command;
  command.summary = "Mean hops and simulator speed on a large converged Pastry network";
  command.options =
      dht::workload_options(BenchOptions{}, {{"digit-bits", "Bits per digit b (digits in base 2^b)", "4", false, "b"},
                                             {"leaf-set", "Leaf set size |L|", "16", false, ""},
                                             dht::threads_option()});
  command.run = run_bench_command;
  return command;
}

}  // namespace p2plab::pastry
