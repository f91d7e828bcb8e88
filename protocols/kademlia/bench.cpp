#include "bench.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <type_traits>

#include "kademlia.hpp"
#include "p2plab/simulator.hpp"

namespace p2plab::kademlia {

namespace {

std::uint64_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

}  // namespace

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
  params.k = o.k;
  params.alpha = o.alpha;
  params.replacements = 0;  // a frozen network: nobody to replace, no cache to keep
  params.maintenance = false;
  params.ping_after = from_ms(o.seconds * 2000.0);  // a frozen network: every contact answers
  params.rpc_timeout = from_ms(4 * o.max_ms + 100);
  Protocol protocol(params, sim);
  sim.set_handler(&protocol);
  protocol.keep_records(false);
  protocol.set_oracle([&](PeerIndex from, const Id& key, const std::vector<PeerIndex>& closest) {
    return closest ==
           true_closest_live(sim.live_by_id(), o.bits, key, static_cast<std::size_t>(o.k), from, sim.peer_id(from));
  });

  // N nodes with ids from SHA-1 of their (generated) addresses, as in Chord's benchmark; every
  // bucket filled from the true network.
  const IdSpace space(o.bits);
  protocol.reserve(o.peers);
  for (std::uint64_t i = 0; i < o.peers; ++i) {
    Id id = space.hash("10." + std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 0xff) + "." +
                       std::to_string(i & 0xff) + ":4000");
    while (sim.peer_count() > 0 && o.bits < 64 && sim.find_live(id) != kNoPeer) id = space.add(id, Id(1));
    sim.add_peer(id);
  }
  const auto& live = sim.live_by_id();
  for (PeerIndex p = 0; p < o.peers; ++p) protocol.install_oracle_table(p, live);
  const auto t_built = clock::now();

  // Chord's workload: lookups as one Poisson process of rate N * rate, requester uniform, keys
  // uniform over the id space.
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
  sim.run_until(from_ms(o.seconds * 1000.0));
  const auto t_end = clock::now();

  const double build_s = std::chrono::duration<double>(t_built - t0).count();
  const double run_s = std::chrono::duration<double>(t_end - t_built).count();
  const double wall_s = std::chrono::duration<double>(t_end - t0).count();
  const std::uint64_t peak = peak_rss_bytes();
  const LookupStats& st = protocol.stats();
  const KademliaStats& ks = protocol.kademlia_stats();
  const double finished = std::max<double>(1.0, static_cast<double>(ks.lookups));
  const double mean_rpcs = static_cast<double>(ks.rpcs) / finished;
  const double mean_to_closest = static_cast<double>(ks.rounds_to_closest) / finished;
  double table = 0;
  for (PeerIndex p = 0; p < o.peers; ++p) table += static_cast<double>(protocol.table(p).size());
  table /= static_cast<double>(o.peers);
  const double bytes_per_peer = static_cast<double>(peak - std::min(peak, rss_before)) / static_cast<double>(o.peers);

  std::printf(
      "p2plab bench kademlia: N = %llu, m = %d, k = %d, alpha = %d, %.2f lookups/peer/s, %g s simulated,\n"
      "  latency uniform %g-%g ms per message, frozen network (buckets filled from the true network)\n",
      static_cast<unsigned long long>(o.peers), o.bits, o.k, o.alpha, o.rate, o.seconds, o.min_ms, o.max_ms);
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
  std::printf("  messages       %llu, events %llu\n", static_cast<unsigned long long>(sim.messages().total_sent()),
              static_cast<unsigned long long>(sim.events_processed()));
  std::printf("  peak memory    %.1f MB (%.0f bytes per peer)\n", static_cast<double>(peak) / 1e6, bytes_per_peer);

  if (!o.json_out.empty()) {
    nlohmann::json j = {{"peers", o.peers},
                        {"bits", o.bits},
                        {"k", o.k},
                        {"alpha", o.alpha},
                        {"rate", o.rate},
                        {"simulated_s", o.seconds},
                        {"wall_s", wall_s},
                        {"build_s", build_s},
                        {"run_s", run_s},
                        {"lookups", st.started_count()},
                        {"lookups_finished", st.finished_count()},
                        {"success_rate", st.success_rate()},
                        {"mean_rounds", st.mean_hops()},
                        {"mean_rounds_to_closest", mean_to_closest},
                        {"mean_rpcs", mean_rpcs},
                        {"mean_latency_ms", st.mean_latency_ms()},
                        {"contacts_per_node", table},
                        {"messages", sim.messages().total_sent()},
                        {"events", sim.events_processed()},
                        {"peak_rss_bytes", peak},
                        {"bytes_per_peer", bytes_per_peer}};
    std::ofstream out(o.json_out);
    out << j.dump(2) << '\n';
    if (!out) {
      std::fprintf(stderr, "p2plab bench: cannot write %s\n", o.json_out.c_str());
      return 1;
    }
  }
  return st.success_rate() == 1.0 ? 0 : 3;
}

namespace {

constexpr int kBadInput = 2;

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
    std::fprintf(stderr, "p2plab bench kademlia: --%s: \"%s\" is not a number in [%s, %s]\n", name.c_str(),
                 text.c_str(), std::to_string(min).c_str(), std::to_string(max).c_str());
    return false;
  }
  return true;
}

int run_bench_command(const CommandArgs& args) {
  BenchOptions o;
  if (!read_option(args, "peers", std::uint64_t{2}, std::uint64_t{100'000'000}, o.peers) ||
      !read_option(args, "seconds", 0.001, 1e6, o.seconds) || !read_option(args, "rate", 1e-6, 1e4, o.rate) ||
      !read_option(args, "min-ms", 0.0, 1e6, o.min_ms) || !read_option(args, "max-ms", 0.0, 1e6, o.max_ms) ||
      !read_option(args, "bits", 8, 160, o.bits) || !read_option(args, "k", 1, kMaxK, o.k) ||
      !read_option(args, "alpha", 1, kMaxK, o.alpha) ||
      !read_option(args, "seed", std::uint64_t{0}, ~std::uint64_t{0}, o.seed)) {
    return kBadInput;
  }
  if (const auto it = args.find("json"); it != args.end()) o.json_out = it->second;
  if (o.max_ms < o.min_ms) {
    std::fprintf(stderr, "p2plab bench: --max-ms must be at least --min-ms\n");
    return kBadInput;
  }
  if (o.alpha > o.k) {
    std::fprintf(stderr, "p2plab bench kademlia: --alpha must not exceed --k\n");
    return kBadInput;
  }
  return run_bench(o);
}

}  // namespace

ProtocolCommand bench_command() {
  ProtocolCommand command;
  command.summary = "Rounds and RPCs per lookup on a large frozen Kademlia network (Chord's bench workload)";
  command.options = {
      {"peers", "Number of peers N", "100000", false, "n"},
      {"seconds", "Simulated seconds", "100", false, ""},
      {"rate", "Lookups per peer per simulated second", "0.1", false, ""},
      {"min-ms", "Minimum per-message latency (ms)", "10", false, ""},
      {"max-ms", "Maximum per-message latency (ms)", "100", false, ""},
      {"bits", "Identifier bits m", "160", false, "m"},
      {"k", "Bucket size k", "20", false, ""},
      {"alpha", "Parallel queries per round", "3", false, ""},
      {"seed", "Seed", "1", false, ""},
      {"json", "Also write the figures to this JSON file", "", false, ""},
  };
  command.run = run_bench_command;
  return command;
}

}  // namespace p2plab::kademlia
