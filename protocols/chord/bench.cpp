#include "bench.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <type_traits>

#include "chord.hpp"
#include "p2plab/simulator.hpp"
#include "ring.hpp"

namespace p2plab::chord {

std::uint64_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

int run_bench(const BenchOptions& o) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const std::uint64_t rss_before = peak_rss_bytes();

  NetworkConfig network;
  network.latency.kind = LatencyModel::Kind::Uniform;
  network.latency.min_ms = o.min_ms;
  network.latency.max_ms = o.max_ms;
  Simulator<Message> sim(o.seed, network);
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
  Protocol protocol(params, sim);
  sim.set_handler(&protocol);
  protocol.keep_records(false);
  protocol.set_oracle([&sim](PeerIndex owner, const Id& key) { return is_true_successor(sim, owner, key); });

  // A converged ring of N peers with ids from SHA-1 of their (generated) addresses.
  const IdSpace space(o.bits);
  protocol.reserve(o.peers);
  for (std::uint64_t i = 0; i < o.peers; ++i) {
    Id id = space.hash("10." + std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 0xff) + "." +
                       std::to_string(i & 0xff) + ":4000");
    while (sim.peer_count() > 0 && o.bits < 64 && sim.find_live(id) != kNoPeer) id = space.add(id, Id(1));
    sim.add_peer(id);
  }
  protocol.install_converged(sim.live_by_id());
  for (PeerIndex p = 0; p < o.peers; ++p) protocol.start_maintenance(p);
  const auto t_built = clock::now();

  // Each peer issues lookups as a Poisson process of rate `rate`, keys uniform over the id space.
  // The superposition of N such processes is one Poisson process of rate N * rate whose requester
  // is uniform among the peers: simulated that way, the workload needs one pending event instead
  // of N. The next arrival is kept in double precision so that microsecond rounding never
  // accumulates.
  Rng workload = Rng::derive(o.seed, 0x776f726b6c6f6164ULL);
  const double mean_gap_ms = 1000.0 / (o.rate * static_cast<double>(o.peers));
  double next_arrival_ms = workload.exponential(mean_gap_ms);
  std::uint16_t issue = 0;
  issue = sim.add_handler([&](PeerIndex, std::uint32_t) {
    const auto peer = static_cast<PeerIndex>(workload.below(o.peers));
    Id key;
    for (auto& limb : key.limb) limb = workload.next_u64();
    protocol.lookup(peer, space.reduce(key));
    next_arrival_ms += workload.exponential(mean_gap_ms);
    sim.schedule_at(from_ms(next_arrival_ms), issue, kNoPeer, 0);
  });
  sim.schedule_at(from_ms(next_arrival_ms), issue, kNoPeer, 0);
  const SimTime end = from_ms(o.seconds * 1000.0);
  sim.run_until(end);
  const auto t_end = clock::now();

  const double build_s = std::chrono::duration<double>(t_built - t0).count();
  const double run_s = std::chrono::duration<double>(t_end - t_built).count();
  const double wall_s = std::chrono::duration<double>(t_end - t0).count();
  const std::uint64_t peak = peak_rss_bytes();
  const LookupStats& st = protocol.stats();
  const double events_per_s = static_cast<double>(sim.events_processed()) / run_s;
  const double bytes_per_peer = static_cast<double>(peak - std::min(peak, rss_before)) / static_cast<double>(o.peers);

  std::printf("p2plab bench chord: N = %llu, m = %d, r = %d, %s lookups, %.2f lookups/peer/s, %g s simulated,\n"
              "  latency uniform %g-%g ms per hop, maintenance %s\n",
              static_cast<unsigned long long>(o.peers), o.bits, o.successors, o.recursive ? "recursive" : "iterative",
              o.rate, o.seconds, o.min_ms, o.max_ms,
              o.maintenance_ms > 0 ? (std::to_string(o.maintenance_ms) + " ms").c_str() : "off (frozen converged ring)");
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
  std::printf("  peak memory    %.1f MB (%.0f bytes per peer)\n", static_cast<double>(peak) / 1e6, bytes_per_peer);

  if (!o.json_out.empty()) {
    nlohmann::json j = {{"peers", o.peers}, {"bits", o.bits}, {"successors", o.successors},
                        {"lookup", o.recursive ? "recursive" : "iterative"}, {"rate", o.rate},
                        {"simulated_s", o.seconds}, {"wall_s", wall_s}, {"build_s", build_s}, {"run_s", run_s},
                        {"lookups", st.started_count()}, {"lookups_finished", st.finished_count()},
                        {"success_rate", st.success_rate()}, {"mean_hops", st.mean_hops()},
                        {"p99_hops", st.hops_quantile(0.99)}, {"events", sim.events_processed()},
                        {"events_per_s", events_per_s}, {"messages", sim.messages().total_sent()},
                        {"peak_rss_bytes", peak}, {"bytes_per_peer", bytes_per_peer}};
    std::ofstream out(o.json_out);
    out << j.dump(2) << '\n';
    if (!out) {
      std::fprintf(stderr, "p2plab bench: cannot write %s\n", o.json_out.c_str());
      return 1;
    }
  }
  // A benchmark that gives wrong answers measures nothing.
  return st.success_rate() == 1.0 ? 0 : 3;
}

namespace {

constexpr int kBadInput = 2;

/// Reads option `name` as a number in [min, max]; false (after a message naming it) if it is not.
template <class T>
bool read_option(const CommandArgs& args, const std::string& name, T min, T max, T& out) {
  const auto it = args.find(name);
  if (it == args.end()) return true;
  const std::string& text = it->second;
  std::size_t used = 0;
  bool ok = !text.empty();
  try {
    if constexpr (std::is_floating_point_v<T>) {
      out = static_cast<T>(std::stod(text, &used));
    } else if constexpr (std::is_unsigned_v<T>) {
      ok = ok && text[0] != '-';
      out = static_cast<T>(std::stoull(text, &used));
    } else {
      out = static_cast<T>(std::stoll(text, &used));
    }
  } catch (const std::exception&) {
    ok = false;
  }
  ok = ok && used == text.size();
  if (!ok || out < min || out > max) {
    std::fprintf(stderr, "p2plab bench chord: --%s: \"%s\" is not a number in [%s, %s]\n", name.c_str(), text.c_str(),
                 std::to_string(min).c_str(), std::to_string(max).c_str());
    return false;
  }
  return true;
}

int run_bench_command(const CommandArgs& args) {
  BenchOptions o;
  if (!read_option(args, "peers", std::uint64_t{2}, std::uint64_t{100'000'000}, o.peers) ||
      !read_option(args, "seconds", 0.001, 1e6, o.seconds) || !read_option(args, "rate", 1e-6, 1e4, o.rate) ||
      !read_option(args, "min-ms", 0.0, 1e6, o.min_ms) || !read_option(args, "max-ms", 0.0, 1e6, o.max_ms) ||
      !read_option(args, "bits", 8, 160, o.bits) || !read_option(args, "successors", 1, kMaxSuccessors, o.successors) ||
      !read_option(args, "maintenance-ms", 0.0, 1e7, o.maintenance_ms) ||
      !read_option(args, "seed", std::uint64_t{0}, ~std::uint64_t{0}, o.seed)) {
    return kBadInput;
  }
  if (const auto it = args.find("lookup"); it != args.end()) {
    if (it->second != "recursive" && it->second != "iterative") {
      std::fprintf(stderr, "p2plab bench chord: --lookup: \"%s\" is neither recursive nor iterative\n", it->second.c_str());
      return kBadInput;
    }
    o.recursive = it->second == "recursive";
  }
  if (const auto it = args.find("json"); it != args.end()) o.json_out = it->second;
  if (o.max_ms < o.min_ms) {
    std::fprintf(stderr, "p2plab bench: --max-ms must be at least --min-ms\n");
    return kBadInput;
  }
  return run_bench(o);
}

}  // namespace

ProtocolCommand bench_command() {
  ProtocolCommand command;
  command.summary = "Measure simulator speed and memory on a large converged Chord ring";
  command.options = {
      {"peers", "Number of peers N", "100000", false, "n"},
      {"seconds", "Simulated seconds", "100", false, ""},
      {"rate", "Lookups per peer per simulated second", "0.1", false, ""},
      {"min-ms", "Minimum per-hop latency (ms)", "10", false, ""},
      {"max-ms", "Maximum per-hop latency (ms)", "100", false, ""},
      {"bits", "Identifier bits m", "160", false, "m"},
      {"successors", "Successor list length r", "8", false, "r"},
      {"lookup", "Lookup style: recursive (as PeerSim's and SimGrid's Chord examples) or iterative", "recursive", false, ""},
      {"maintenance-ms", "Run stabilize/fix_fingers with this period (0: frozen converged ring)", "0", false, ""},
      {"seed", "Seed", "1", false, ""},
      {"json", "Also write the figures to this JSON file", "", false, ""},
  };
  command.run = run_bench_command;
  return command;
}

}  // namespace p2plab::chord
