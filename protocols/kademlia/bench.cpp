#include "bench.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "kademlia.hpp"
#include "p2plab/simulator.hpp"

namespace p2plab::kademlia {

namespace {

Params bench_params(const BenchOptions& o) {
  Params params;
  params.m = o.bits;
  params.k = o.k;
  params.alpha = o.alpha;
  params.replacements = 0;  // a frozen network: nobody to replace, no cache to keep
  params.maintenance = false;
  params.ping_after = from_ms(o.seconds * 2000.0);  // a frozen network: every contact answers
  params.rpc_timeout = from_ms(4 * o.max_ms + 100);
  return params;
}

}  // namespace

BenchNetwork::BenchNetwork(const BenchOptions& o) : ParallelBench(o, bench_params(o)), options(o) {
  // Read-only while the run goes on (the live set never changes): the threads may ask at once.
  protocol.set_oracle([this](PeerIndex from, const Id& key, const std::vector<PeerIndex>& closest) {
    return closest == true_closest_live(sim.live_by_id(), options.bits, key, static_cast<std::size_t>(options.k), from,
                                        sim.peer_id(from));
  });
  // N nodes with ids from SHA-1 of their (generated) addresses, as in Chord's benchmark; every
  // bucket filled from the true network.
  protocol.reserve(o.peers);
  dht::add_workload_peers(sim, o, o.threads);
  sim.fix_partitions();  // each thread fills its own partition's tables
  protocol.install_oracle_tables(sim.live_by_id());
}

void BenchNetwork::run() {
  ParallelBench::run();
  const LookupStats& st = protocol.stats();
  while (st.finished_count() < st.started_count() && sim.events_pending() > 0) {
    sim.run_until(sim.current_time() + from_ms(std::int64_t{1000}));
    protocol.stats();  // (folds the partitions' counts into st)
  }
}

int run_bench(const BenchOptions& o) {
  dht::BenchClock clock;
  const auto network = dht::build_and_run<BenchNetwork>(o, clock);
  auto& sim = network->sim;
  Protocol& protocol = network->protocol;

  const LookupStats& st = protocol.stats();
  const double build_s = clock.build_s(), run_s = clock.run_s(), wall_s = clock.wall_s();
  const std::uint64_t peak = clock.peak_rss();
  const KademliaStats& ks = protocol.kademlia_stats();
  const double finished = std::max<double>(1.0, static_cast<double>(ks.lookups));
  const double mean_rpcs = static_cast<double>(ks.rpcs) / finished;
  const double mean_to_closest = static_cast<double>(ks.rounds_to_closest) / finished;
  double table = 0;
  for (PeerIndex p = 0; p < o.peers; ++p) table += static_cast<double>(protocol.table_size(p));
  table /= static_cast<double>(o.peers);
  const double bytes_per_peer = clock.bytes_per_peer(o.peers);

  std::printf(
      "p2plab bench kademlia: N = %llu, m = %d, k = %d, alpha = %d, %.2f lookups/peer/s for %g s (then until the last "
      "ends),\n"
      "  latency uniform %g-%g ms per message, frozen network (buckets filled from the true network), %u thread%s\n",
      static_cast<unsigned long long>(o.peers), o.bits, o.k, o.alpha, o.rate, o.seconds, o.min_ms, o.max_ms, o.threads,
      o.threads == 1 ? "" : "s");
  std::printf("  wall time      %.2f s (tables built in %.2f s, simulated in %.2f s)\n", wall_s, build_s, run_s);
  std::printf("  lookups        %llu started, %llu finished, %.4f%% the true k closest\n",
              static_cast<unsigned long long>(st.started_count()), static_cast<unsigned long long>(st.finished_count()),
              100.0 * st.success_rate());
  std::printf("  rounds/lookup  %.3f until done, p99 %u; %.3f until the closest node was asked\n", st.mean_hops(),
              st.hops_quantile(0.99), mean_to_closest);
  std::printf("  RPCs/lookup    %.2f\n", mean_rpcs);
  std::printf("  lookup latency mean %.1f ms, p99 %.0f ms\n", st.mean_latency_ms(), st.latency_quantile_ms(0.99));
  std::printf("  contacts/node  %.1f (k log2(N/k) = %.1f)\n", table,
              o.k * std::log2(std::max(1.0, static_cast<double>(o.peers) / o.k)));
  std::printf("  messages       %llu, events %llu, %.0f events/s\n",
              static_cast<unsigned long long>(sim.messages().total_sent()),
              static_cast<unsigned long long>(sim.events_processed()),
              static_cast<double>(sim.events_processed()) / run_s);
  dht::print_thread_times(sim);
  std::printf("  peak memory    %.1f MB (%.0f bytes per peer)\n", static_cast<double>(peak) / 1e6, bytes_per_peer);

  nlohmann::json figures = dht::parallel_workload_figures(o, clock, st, sim);
  figures["k"] = o.k;
  figures["alpha"] = o.alpha;
  figures["mean_rounds"] = st.mean_hops();
  figures["mean_rounds_to_closest"] = mean_to_closest;
  figures["mean_rpcs"] = mean_rpcs;
  figures["contacts_per_node"] = table;
  if (!dht::write_figures(o, "p2plab bench kademlia", figures)) return 1;
  return st.success_rate() == 1.0 ? 0 : 3;
}

namespace {

constexpr int kBadInput = 2;

int run_bench_command(const CommandArgs& args) {
  const std::string command = "p2plab bench kademlia";
  BenchOptions o;
  if (!dht::read_workload(args, command, 100'000'000, 160, o) || !dht::read_option(args, command, "k", 1, kMaxK, o.k) ||
      !dht::read_option(args, command, "alpha", 1, kMaxK, o.alpha) || !dht::read_threads(args, command, o)) {
    return kBadInput;
  }
  if (o.alpha > o.k) {
    std::fprintf(stderr, "%s: --alpha must not exceed --k\n", command.c_str());
    return kBadInput;
  }
  return run_bench(o);
}

}  // namespace

ProtocolCommand bench_command() {
  ProtocolCommand command;
  command.summary = "Rounds and RPCs per lookup on a large frozen Kademlia network (Chord's bench workload)";
  command.options = dht::workload_options(BenchOptions{}, {{"k", "Bucket size k", "20", false, ""},
                                                           {"alpha", "Parallel queries per round", "3", false, ""},
                                                           dht::threads_option()});
  command.run = run_bench_command;
  return command;
}

}  // namespace p2plab::kademlia
