#include "bench.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "chord.hpp"
#include "p2plab/simulator.hpp"
#include "ring.hpp"

namespace p2plab::chord {

namespace {

Params bench_params(const BenchOptions& o) {
  Params params;
  params.m = o.bits;
  params.successors = o.successors;
  params.recursive = o.recursive;
  params.maintenance = o.maintenance_ms > 0;
  if (params.maintenance) {
    params.stabilize = params.fix_fingers = from_ms(o.maintenance_ms);
    params.check_predecessor = from_ms(2 * o.maintenance_ms);
  }
  params.rpc_timeout = from_ms(4 * o.max_ms + 100);
  return params;
}

}  // namespace

BenchRing::BenchRing(const BenchOptions& o) : ParallelBench(o, bench_params(o)) {
  // Without maintenance nothing is lost or retried, and every lookup arms one timer of one delay.
  protocol.reuse_slots_early(o.maintenance_ms <= 0);
  protocol.set_oracle([this](PeerIndex owner, const Id& key) { return is_true_successor(sim, owner, key); });
  // The live set never changes here: the answers are checked in batches (their reads overlap).
  protocol.set_batch_oracle([this](const std::vector<Answer>& answers, std::vector<PeerIndex>& scratch) {
    return count_true_successors(sim, answers, scratch);
  });
  protocol.reserve(o.peers);
  dht::add_workload_peers(sim, o, o.threads);
  protocol.install_converged(sim.live_by_id());
  sim.release_live_by_id();  // the oracle's checks need only the order of the live peers
  for (PeerIndex p = 0; p < o.peers; ++p) protocol.start_maintenance(p);
}

int run_bench(const BenchOptions& o) {
  dht::BenchClock clock;
  const auto ring = dht::build_and_run<BenchRing>(o, clock);
  auto& sim = ring->sim;
  Protocol& protocol = ring->protocol;

  const double build_s = clock.build_s(), run_s = clock.run_s(), wall_s = clock.wall_s();
  const std::uint64_t peak = clock.peak_rss();
  const LookupStats& st = protocol.stats();
  const double events_per_s = static_cast<double>(sim.events_processed()) / run_s;
  const double bytes_per_peer = clock.bytes_per_peer(o.peers);

  std::printf(
      "p2plab bench chord: N = %llu, m = %d, r = %d, %s lookups, %.2f lookups/peer/s, %g s simulated,\n"
      "  latency uniform %g-%g ms per hop, maintenance %s, %u thread%s\n",
      static_cast<unsigned long long>(o.peers), o.bits, o.successors, o.recursive ? "recursive" : "iterative", o.rate,
      o.seconds, o.min_ms, o.max_ms,
      o.maintenance_ms > 0 ? (std::to_string(o.maintenance_ms) + " ms").c_str() : "off (frozen converged ring)",
      o.threads, o.threads == 1 ? "" : "s");
  std::printf("  wall time      %.2f s (ring built in %.2f s, simulated in %.2f s)\n", wall_s, build_s, run_s);
  std::printf("  lookups        %llu started, %llu finished, %.4f%% correct, %llu failed\n",
              static_cast<unsigned long long>(st.started_count()), static_cast<unsigned long long>(st.finished_count()),
              100.0 * st.success_rate(), static_cast<unsigned long long>(st.failed_count()));
  std::printf("  hops           mean %.3f (0.5 log2 N = %.3f), p99 %u\n", st.mean_hops(),
              0.5 * std::log2(static_cast<double>(o.peers)), st.hops_quantile(0.99));
  std::printf("  lookup latency mean %.1f ms, p99 %.0f ms\n", st.mean_latency_ms(), st.latency_quantile_ms(0.99));
  std::printf("  messages       %llu\n", static_cast<unsigned long long>(sim.messages().total_sent()));
  std::printf("  events         %llu, %.0f events/s\n", static_cast<unsigned long long>(sim.events_processed()),
              events_per_s);
  dht::print_thread_times(sim);
  std::printf("  peak memory    %.1f MB (%.0f bytes per peer)\n", static_cast<double>(peak) / 1e6, bytes_per_peer);
  const double n = static_cast<double>(o.peers);
  std::printf(
      "  held at end    engine %.0f, routing state %.0f (fingers %.0f), messages in flight %.0f bytes per peer\n",
      static_cast<double>(sim.engine_bytes()) / n, static_cast<double>(protocol.state_bytes()) / n,
      static_cast<double>(protocol.finger_bytes()) / n, static_cast<double>(sim.pool_bytes()) / n);

  nlohmann::json figures = dht::parallel_workload_figures(o, clock, st, sim);
  figures["successors"] = o.successors;
  figures["lookup"] = o.recursive ? "recursive" : "iterative";
  figures["mean_hops"] = st.mean_hops();
  figures["p99_hops"] = st.hops_quantile(0.99);
  if (!dht::write_figures(o, "p2plab bench chord", figures)) return 1;
  // A benchmark that gives wrong answers measures nothing.
  return st.success_rate() == 1.0 ? 0 : 3;
}

namespace {

constexpr int kBadInput = 2;

int run_bench_command(const CommandArgs& args) {
  const std::string command = "p2plab bench chord";
  BenchOptions o;
  if (!dht::read_workload(args, command, 100'000'000, 160, o) ||
      !dht::read_option(args, command, "successors", 1, kMaxSuccessors, o.successors) ||
      !dht::read_option(args, command, "maintenance-ms", 0.0, 1e7, o.maintenance_ms) ||
      !dht::read_threads(args, command, o)) {
    return kBadInput;
  }
  if (o.threads > 1 && o.maintenance_ms > 0) {
    std::fprintf(stderr,
                 "%s: --threads %u: the parallel simulator runs the frozen ring only (maintenance changes state "
                 "peers share); use --threads 1 with --maintenance-ms\n",
                 command.c_str(), o.threads);
    return kBadInput;
  }
  if (const auto it = args.find("lookup"); it != args.end()) {
    if (it->second != "recursive" && it->second != "iterative") {
      std::fprintf(stderr, "%s: --lookup: \"%s\" is neither recursive nor iterative\n", command.c_str(),
                   it->second.c_str());
      return kBadInput;
    }
    o.recursive = it->second == "recursive";
  }
  return run_bench(o);
}

}  // namespace

ProtocolCommand bench_command() {
  ProtocolCommand command;
  command.summary = "Measure simulator speed and memory on a large converged Chord ring";
  command.options = dht::workload_options(
      BenchOptions{},
      {{"successors", "Successor list length r", "8", false, "r"},
       {"lookup", "Lookup style: recursive (as PeerSim's and SimGrid's Chord examples) or iterative", "recursive",
        false, ""},
       {"maintenance-ms", "Run stabilize/fix_fingers with this period (0: frozen converged ring)", "0", false, ""},
       dht::threads_option()});
  command.run = run_bench_command;
  return command;
}

}  // namespace p2plab::chord
