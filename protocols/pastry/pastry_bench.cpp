#include "pastry_bench.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <type_traits>

#include "p2plab/simulator.hpp"
#include "pastry.hpp"
#include "pastry_run.hpp"

namespace p2plab::pastry {

namespace {

std::uint64_t peak_rss() {
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
  NetworkConfig network;
  network.latency.kind = LatencyModel::Kind::Uniform;
  network.latency.min_ms = o.min_ms;
  network.latency.max_ms = o.max_ms;
  Simulator<Message> sim(o.seed, network);
  Params params;
  params.m = o.bits;
  params.b = o.digit_bits;
  params.leaf_set = o.leaf_set;
  params.maintenance = false;  // a frozen converged network: routing alone is measured
  params.rpc_timeout = from_ms(4 * o.max_ms + 100);
  Protocol protocol(params, sim);
  sim.set_handler(&protocol);
  protocol.keep_records(false);
  const Digits digits(o.bits, o.digit_bits);
  protocol.set_oracle([&](PeerIndex owner, const Id& key, PeerIndex except) {
    return sim.is_up(owner) && closest_live(sim, digits, key, except) == owner;
  });
  const IdSpace space(o.bits);
  protocol.reserve(o.peers);
  for (std::uint64_t i = 0; i < o.peers; ++i) {
    Id id = space.hash("10." + std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 0xff) + "." +
                       std::to_string(i & 0xff) + ":4000");
    while (o.bits < 64 && sim.peer_count() > 0 && sim.find_live(id) != kNoPeer) id = space.add(id, Id(1));
    sim.add_peer(id);
  }
  protocol.install_converged(sim.live_by_id(), o.seed);
  const auto t_built = clock::now();

  // N Poisson processes of rate `rate` = one of rate N * rate with a uniform requester.
  Rng workload = Rng::derive(o.seed, 0x776f726b6c6f6164ULL);
  const double mean_gap_ms = 1000.0 / (o.rate * static_cast<double>(o.peers));
  double next_ms = workload.exponential(mean_gap_ms);
  std::uint16_t issue = 0;
  issue = sim.add_handler([&](PeerIndex, std::uint32_t) {
    const auto peer = static_cast<PeerIndex>(workload.below(o.peers));
    Id key;
    for (auto& limb : key.limb) limb = workload.next_u64();
    protocol.lookup(peer, space.reduce(key));
    next_ms += workload.exponential(mean_gap_ms);
    sim.schedule_at(from_ms(next_ms), issue, kNoPeer, 0);
  });
  sim.schedule_at(from_ms(next_ms), issue, kNoPeer, 0);
  sim.run_until(from_ms(o.seconds * 1000.0));
  const auto t_end = clock::now();

  const double build_s = std::chrono::duration<double>(t_built - t0).count();
  const double run_s = std::chrono::duration<double>(t_end - t_built).count();
  const LookupStats& st = protocol.stats();
  const double log_n = std::log(static_cast<double>(o.peers)) / std::log(static_cast<double>(1 << o.digit_bits));
  double rows = 0;
  for (PeerIndex p = 0; p < o.peers; ++p) rows += protocol.rows_in_use(p);
  std::printf(
      "p2plab bench pastry: N = %llu, m = %d, b = %d, |L| = %d, %.2f lookups/peer/s, %g s simulated,\n"
      "  latency uniform %g-%g ms per hop, frozen converged network\n",
      static_cast<unsigned long long>(o.peers), o.bits, o.digit_bits, o.leaf_set, o.rate, o.seconds, o.min_ms,
      o.max_ms);
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
  std::printf("  messages       %llu, events %llu\n", static_cast<unsigned long long>(sim.messages().total_sent()),
              static_cast<unsigned long long>(sim.events_processed()));
  std::printf("  peak memory    %.1f MB\n", static_cast<double>(peak_rss()) / 1e6);
  if (!o.json_out.empty()) {
    const nlohmann::json j = {{"peers", o.peers},
                              {"bits", o.bits},
                              {"b", o.digit_bits},
                              {"leaf_set", o.leaf_set},
                              {"lookups", st.started_count()},
                              {"success_rate", st.success_rate()},
                              {"mean_hops", st.mean_hops()},
                              {"log_base_2b_n", log_n},
                              {"p99_hops", st.hops_quantile(0.99)},
                              {"build_s", build_s},
                              {"run_s", run_s},
                              {"mean_latency_ms", st.mean_latency_ms()}};
    std::ofstream out(o.json_out);
    out << j.dump(2) << '\n';
    if (!out) {
      std::fprintf(stderr, "p2plab bench pastry: cannot write %s\n", o.json_out.c_str());
      return 1;
    }
  }
  return st.success_rate() == 1.0 ? 0 : 3;  // a benchmark with wrong answers measures nothing
}

namespace {

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
    std::fprintf(stderr, "p2plab bench pastry: --%s: \"%s\" is not a number in [%s, %s]\n", name.c_str(), text.c_str(),
                 std::to_string(min).c_str(), std::to_string(max).c_str());
    return false;
  }
  return true;
}

int run_bench_command(const CommandArgs& args) {
  BenchOptions o;
  if (!read_option(args, "peers", std::uint64_t{2}, std::uint64_t{10'000'000}, o.peers) ||
      !read_option(args, "seconds", 0.001, 1e6, o.seconds) || !read_option(args, "rate", 1e-6, 1e4, o.rate) ||
      !read_option(args, "min-ms", 0.0, 1e6, o.min_ms) || !read_option(args, "max-ms", 0.0, 1e6, o.max_ms) ||
      !read_option(args, "bits", 8, 160, o.bits) || !read_option(args, "digit-bits", 1, kMaxDigitBits, o.digit_bits) ||
      !read_option(args, "leaf-set", 2, kMaxList, o.leaf_set) ||
      !read_option(args, "seed", std::uint64_t{0}, ~std::uint64_t{0}, o.seed)) {
    return 2;
  }
  if (o.bits % o.digit_bits != 0 || o.leaf_set % 2 != 0 || o.max_ms < o.min_ms) {
    std::fprintf(
        stderr,
        "p2plab bench pastry: --bits must be a multiple of --digit-bits, --leaf-set even, --max-ms >= --min-ms\n");
    return 2;
  }
  if (const auto it = args.find("json"); it != args.end()) o.json_out = it->second;
  return run_bench(o);
}

}  // namespace

ProtocolCommand bench_command() {
  ProtocolCommand command;
  command.summary = "Mean hops and simulator speed on a large converged Pastry network";
  command.options = {
      {"peers", "Number of peers N", "100000", false, "n"},
      {"seconds", "Simulated seconds", "20", false, ""},
      {"rate", "Lookups per peer per simulated second", "0.1", false, ""},
      {"min-ms", "Minimum per-hop latency (ms)", "10", false, ""},
      {"max-ms", "Maximum per-hop latency (ms)", "100", false, ""},
      {"bits", "Identifier bits m", "128", false, "m"},
      {"digit-bits", "Bits per digit b (digits in base 2^b)", "4", false, "b"},
      {"leaf-set", "Leaf set size |L|", "16", false, ""},
      {"seed", "Seed", "1", false, ""},
      {"json", "Also write the figures to this JSON file", "", false, ""},
  };
  command.run = run_bench_command;
  return command;
}

}  // namespace p2plab::pastry
