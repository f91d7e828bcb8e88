#include "common/dht_bench.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <memory>
#include <set>

#include "common/partition_books.hpp"
#include "p2plab/parallel.hpp"

namespace p2plab::dht {

std::vector<CommandOption> workload_options(const BenchWorkload& d, const std::vector<CommandOption>& own) {
  auto number = [](double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", v);
    return std::string(text);
  };
  std::vector<CommandOption> options = {
      {"peers", "Number of peers N", std::to_string(d.peers), false, "n"},
      {"seconds", "Simulated seconds", number(d.seconds), false, ""},
      {"rate", "Lookups per peer per simulated second", number(d.rate), false, ""},
      {"min-ms", "Minimum per-message latency (ms)", number(d.min_ms), false, ""},
      {"max-ms", "Maximum per-message latency (ms)", number(d.max_ms), false, ""},
      {"bits", "Identifier bits m", std::to_string(d.bits), false, "m"},
  };
  options.insert(options.end(), own.begin(), own.end());
  options.push_back({"seed", "Seed", std::to_string(d.seed), false, ""});
  options.push_back({"json", "Also write the figures to this JSON file", "", false, ""});
  return options;
}

template <class T>
bool read_option(const CommandArgs& args, const std::string& command, const std::string& name, T min, T max, T& out) {
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
    std::fprintf(stderr, "%s: --%s: \"%s\" is not a number in [%s, %s]\n", command.c_str(), name.c_str(), text.c_str(),
                 std::to_string(min).c_str(), std::to_string(max).c_str());
    return false;
  }
  return true;
}

template bool read_option<int>(const CommandArgs&, const std::string&, const std::string&, int, int, int&);
template bool read_option<double>(const CommandArgs&, const std::string&, const std::string&, double, double, double&);
template bool read_option<std::uint64_t>(const CommandArgs&, const std::string&, const std::string&, std::uint64_t,
                                         std::uint64_t, std::uint64_t&);

CommandOption threads_option() {
  return {"threads", "Threads of the parallel simulator (the result is the same for any count)", "1", false, ""};
}

bool read_threads(const CommandArgs& args, const std::string& command, BenchWorkload& out) {
  constexpr int kMaxThreads = static_cast<int>(kMaxPartitions);  // as many as a slot number can name
  int threads = 1;
  if (!read_option(args, command, "threads", 1, kMaxThreads, threads)) return false;
  out.threads = static_cast<unsigned>(threads);
  if (out.threads > 1 && from_ms(out.min_ms) <= 0) {
    std::fprintf(stderr,
                 "%s: --threads %u: --min-ms %g is 0 microseconds (the clock's unit): the threads need a minimum "
                 "latency to run ahead on\n",
                 command.c_str(), out.threads, out.min_ms);
    return false;
  }
  return true;
}

bool read_workload(const CommandArgs& args, const std::string& command, std::uint64_t max_peers, int max_bits,
                   BenchWorkload& w) {
  if (!read_option(args, command, "peers", std::uint64_t{2}, max_peers, w.peers) ||
      !read_option(args, command, "seconds", 0.001, 1e6, w.seconds) ||
      !read_option(args, command, "rate", 1e-6, 1e4, w.rate) ||
      !read_option(args, command, "min-ms", 0.0, 1e6, w.min_ms) ||
      !read_option(args, command, "max-ms", 0.0, 1e6, w.max_ms) ||
      !read_option(args, command, "bits", 8, max_bits, w.bits) ||
      !read_option(args, command, "seed", std::uint64_t{0}, ~std::uint64_t{0}, w.seed)) {
    return false;
  }
  if (w.max_ms < w.min_ms) {
    std::fprintf(stderr, "%s: --max-ms must be at least --min-ms\n", command.c_str());
    return false;
  }
  if (w.bits < 64 && w.peers > (std::uint64_t{1} << w.bits)) {  // (each peer needs an id of its own)
    std::fprintf(stderr, "%s: --peers %llu is more than the 2^%d ids of --bits %d\n", command.c_str(),
                 static_cast<unsigned long long>(w.peers), w.bits, w.bits);
    return false;
  }
  if (const auto it = args.find("json"); it != args.end()) w.json_out = it->second;
  return true;
}

NetworkConfig workload_network(const BenchWorkload& w) {
  NetworkConfig network;
  network.latency.kind = LatencyModel::Kind::Uniform;
  network.latency.min_ms = w.min_ms;
  network.latency.max_ms = w.max_ms;
  return network;
}

// (Sorting a million ids took 0.1 s of a 0.85-s ring build on one core.)
constexpr std::size_t kSortInHalvesFrom = 1 << 16;

void add_workload_peers(SimulatorCore& sim, const BenchWorkload& w, unsigned threads) {
  const IdSpace space(w.bits);
  // Peer i's address "10.a.b.c:4000" (a = i / 2^16, b and c its next two bytes), written into
  // a buffer: built from std::strings, its three numbers and four concatenations cost as much
  // as its SHA-1 (half of the hashing's 0.25 s at 10^6 peers on two threads).
  auto id_of = [&](std::uint64_t i) {
    char text[64] = "10.";  // (at most 3 + 15 + 1 + 3 + 1 + 3 + 5 characters)
    char* end = text + 3;
    auto put = [&](std::uint64_t number, char after) {  // (20 digits at most: room left after them)
      end = std::to_chars(end, end + 20, number).ptr;
      *end++ = after;
    };
    put(i >> 16, '.');
    put((i >> 8) & 0xff, '.');
    put(i & 0xff, ':');
    for (const char c : {'4', '0', '0', '0'}) *end++ = c;
    return space.hash(std::string_view(text, static_cast<std::size_t>(end - text)));
  };
  std::vector<Id> ids(w.peers);
  if (w.bits < 64) {  // ids may collide: each is stepped past the ones drawn before it
    std::set<Id> taken;
    for (std::uint64_t i = 0; i < w.peers; ++i) {
      Id id = id_of(i);
      while (taken.count(id) != 0 || (sim.peer_count() > 0 && sim.find_live(id) != kNoPeer)) id = space.add(id, Id(1));
      taken.insert(id);
      ids[i] = id;
    }
  } else {  // hashing is most of the work (a million SHA-1s): each thread hashes a slice
    const std::size_t slices = std::clamp<std::size_t>(threads, 1, std::max<std::uint64_t>(w.peers, 1));
    run_on_threads(slices, [&](std::size_t t) {
      for (std::uint64_t i = w.peers * t / slices; i < w.peers * (t + 1) / slices; ++i) ids[i] = id_of(i);
    });
  }
  // Peers are numbered in id order. The parallel simulator's partitions are ranges of peer
  // numbers, so each is then an arc of the id space, and a lookup, whose hops close in on its
  // key, crosses between partitions mostly on its first hops: Chord at 10^6 on two threads
  // handed 35 % fewer events from one thread to the other (docs/benchmarks.md).
  if (threads > 1 && ids.size() >= kSortInHalvesFrom) {  // two halves at once, then merged
    const auto middle = ids.begin() + static_cast<std::ptrdiff_t>(ids.size() / 2);
    run_on_threads(2, [&](std::size_t t) { std::sort(t == 0 ? ids.begin() : middle, t == 0 ? middle : ids.end()); });
    std::inplace_merge(ids.begin(), middle, ids.end());
  } else {
    std::sort(ids.begin(), ids.end());
  }
  sim.reserve_peers(sim.peer_count() + w.peers);
  for (const Id& id : ids) sim.add_peer(id);
}

WorkloadStream::WorkloadStream(const BenchWorkload& w)
    : rng_(Rng::derive(w.seed, 0x776f726b6c6f6164ULL)),
      space_(w.bits),
      peers_(w.peers),
      mean_gap_ms_(1000.0 / (w.rate * static_cast<double>(w.peers))),
      // Arrivals end with the window: a bench that runs on until the last lookup has ended
      // (Kademlia's, CAN's) must not keep starting new ones.
      end_ms_(w.seconds * 1000.0) {
  next_ms_ = rng_.exponential(mean_gap_ms_);
}

void WorkloadStream::draw(PeerIndex& requester, Id& key) {
  requester = static_cast<PeerIndex>(rng_.below(peers_));
  for (auto& limb : key.limb) limb = rng_.next_u64();
  key = space_.reduce(key);
  next_ms_ += rng_.exponential(mean_gap_ms_);
}

void schedule_workload_lookups(SimulatorCore& sim, const BenchWorkload& w,
                               std::function<void(PeerIndex, const Id&)> lookup) {
  // One pending arrival event at a time, which schedules the next (N Poisson processes as one).
  struct Arrivals {
    WorkloadStream stream;
    std::function<void(PeerIndex, const Id&)> lookup;
    std::uint16_t handler = 0;
  };
  auto a = std::make_shared<Arrivals>(Arrivals{WorkloadStream(w), std::move(lookup)});
  a->handler = sim.add_handler([&sim, a](PeerIndex, std::uint32_t) {
    PeerIndex requester = kNoPeer;
    Id key;
    a->stream.draw(requester, key);
    a->lookup(requester, key);
    if (a->stream.next_time() >= 0) sim.schedule_at(a->stream.next_time(), a->handler, kNoPeer, 0);
  });
  if (a->stream.next_time() >= 0) sim.schedule_at(a->stream.next_time(), a->handler, kNoPeer, 0);
}

void WorkloadArrivals::take_before(SimTime end, std::vector<Arrival>& out) {
  live_ = next_;  // the last window's arrivals are over: their slots are free
  // What was not drawn ahead is drawn now (after any drawn ahead: the stream goes on after them);
  // the ring may grow here, where no handler reads a key.
  for (SimTime at = stream_.next_time(); at >= 0 && at < end; at = stream_.next_time()) {
    if (drawn_ - live_ == ring_.size()) {
      std::vector<Drawn> larger(ring_.size() * 2);
      for (std::uint64_t i = live_; i < drawn_; ++i) larger[i & (larger.size() - 1)] = slot(i);
      ring_.swap(larger);
    }
    draw_into_ring();
  }
  for (; next_ < drawn_ && slot(next_).time < end; ++next_) {
    const Drawn& d = slot(next_);
    out.push_back(Arrival{d.time, d.peer, static_cast<std::uint32_t>(next_ & (ring_.size() - 1))});
  }
}

bool WorkloadArrivals::draw_one_ahead(SimTime horizon) {
  const SimTime at = stream_.next_time();
  // (A full ring waits for take_before to grow it: handlers may be reading keys meanwhile.)
  if (at < 0 || at >= horizon || drawn_ - live_ == ring_.size()) return false;
  draw_into_ring();
  return true;
}

void WorkloadArrivals::draw_into_ring() {
  Drawn& d = slot(drawn_++);
  d.time = stream_.next_time();
  stream_.draw(d.peer, d.key);
}

std::uint64_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

BenchClock::BenchClock() : start_(std::chrono::steady_clock::now()), rss_before_(peak_rss_bytes()) {
  built_ = end_ = start_;
}

void BenchClock::finished() {
  end_ = std::chrono::steady_clock::now();
  peak_ = peak_rss_bytes();
}

double BenchClock::build_s() const { return std::chrono::duration<double>(built_ - start_).count(); }
double BenchClock::run_s() const { return std::chrono::duration<double>(end_ - built_).count(); }
double BenchClock::wall_s() const { return std::chrono::duration<double>(end_ - start_).count(); }

double BenchClock::bytes_per_peer(std::uint64_t peers) const {
  return static_cast<double>(peak_ - std::min(peak_, rss_before_)) / static_cast<double>(peers);
}

nlohmann::json workload_figures(const BenchWorkload& w, const BenchClock& clock, const LookupStats& stats,
                                const SimulatorCore& sim) {
  return {{"peers", w.peers},
          {"bits", w.bits},
          {"rate", w.rate},
          {"simulated_s", w.seconds},
          {"wall_s", clock.wall_s()},
          {"build_s", clock.build_s()},
          {"run_s", clock.run_s()},
          {"lookups", stats.started_count()},
          {"lookups_finished", stats.finished_count()},
          {"success_rate", stats.success_rate()},
          {"mean_latency_ms", stats.mean_latency_ms()},
          {"events", sim.events_processed()},
          {"events_per_s", static_cast<double>(sim.events_processed()) / std::max(clock.run_s(), 1e-9)},
          {"messages", sim.messages().total_sent()},
          {"peak_rss_bytes", clock.peak_rss()},
          {"bytes_per_peer", clock.bytes_per_peer(w.peers)}};
}

bool write_figures(const BenchWorkload& w, const std::string& command, const nlohmann::json& figures) {
  if (w.json_out.empty()) return true;
  std::ofstream out(w.json_out);
  out << figures.dump(2) << '\n';
  if (!out) {
    std::fprintf(stderr, "%s: cannot write %s\n", command.c_str(), w.json_out.c_str());
    return false;
  }
  return true;
}

}  // namespace p2plab::dht
