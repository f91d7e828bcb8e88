// The engine's building blocks against independent oracles: id arithmetic, SHA-1, random
// numbers and distributions, the event queue, and the simulator's delivery rules.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "p2plab/event_queue.hpp"
#include "p2plab/id.hpp"
#include "p2plab/rng.hpp"
#include "p2plab/simulator.hpp"

using namespace p2plab;

__extension__ typedef unsigned __int128 u128;  // an independent oracle for ids up to 128 bits

namespace {

Id from_u128(u128 v) {
  Id id;
  id.limb[0] = static_cast<std::uint64_t>(v);
  id.limb[1] = static_cast<std::uint64_t>(v >> 64);
  return id;
}

bool ring_open(u128 x, u128 a, u128 b) { return a < b ? (a < x && x < b) : (x > a || x < b); }
bool ring_open_closed(u128 x, u128 a, u128 b) { return a < b ? (a < x && x <= b) : (x > a || x <= b); }
bool ring_closed_open(u128 x, u128 a, u128 b) { return a < b ? (a <= x && x < b) : (x >= a || x < b); }

}  // namespace

TEST_CASE("interval membership on small rings equals enumeration") {
  for (const int m : {1, 3, 6}) {
    const std::uint64_t size = std::uint64_t{1} << m;
    for (std::uint64_t a = 0; a < size; ++a) {
      for (std::uint64_t b = 0; b < size; ++b) {
        // Walk clockwise from a (exclusive) to b: everything visited before b is in (a, b).
        std::vector<bool> open(size, false);
        for (std::uint64_t x = (a + 1) % size; x != b; x = (x + 1) % size) open[x] = true;
        if (a == b) std::fill(open.begin(), open.end(), true), open[a] = false;
        for (std::uint64_t x = 0; x < size; ++x) {
          CAPTURE(m);
          CAPTURE(a);
          CAPTURE(b);
          CAPTURE(x);
          REQUIRE(IdSpace::in_open(Id(x), Id(a), Id(b)) == open[x]);
          REQUIRE(IdSpace::in_open_closed(Id(x), Id(a), Id(b)) == (open[x] || x == b || a == b));
          REQUIRE(IdSpace::in_closed_open(Id(x), Id(a), Id(b)) == (open[x] || x == a || a == b));
        }
      }
    }
  }
}

TEST_CASE("id arithmetic mod 2^m agrees with 128-bit integers (m = 32, 64, 100, 127)") {
  Rng rng(123);
  for (const int m : {32, 64, 100, 127}) {
    const IdSpace space(m);
    const u128 mask = (u128{1} << m) - 1;
    for (int t = 0; t < 20000; ++t) {
      const u128 a = ((u128{rng.next_u64()} << 64) | rng.next_u64()) & mask;
      const u128 b = ((u128{rng.next_u64()} << 64) | rng.next_u64()) & mask;
      const u128 x = ((u128{rng.next_u64()} << 64) | rng.next_u64()) & mask;
      const int i = static_cast<int>(rng.below(static_cast<std::uint64_t>(m)));
      REQUIRE(space.add(from_u128(a), from_u128(b)) == from_u128((a + b) & mask));
      REQUIRE(space.sub(from_u128(a), from_u128(b)) == from_u128((a - b) & mask));
      REQUIRE(space.finger_start(from_u128(a), i) == from_u128((a + (u128{1} << i)) & mask));
      REQUIRE((from_u128(a) < from_u128(b)) == (a < b));
      REQUIRE(IdSpace::in_open(from_u128(x), from_u128(a), from_u128(b)) == ring_open(x, a, b));
      REQUIRE(IdSpace::in_open_closed(from_u128(x), from_u128(a), from_u128(b)) == ring_open_closed(x, a, b));
      REQUIRE(IdSpace::in_closed_open(from_u128(x), from_u128(a), from_u128(b)) == ring_closed_open(x, a, b));
      // print() is monotone: distinct prints order like the ids.
      const auto pa = space.print(from_u128(a)), pb = space.print(from_u128(b));
      if (pa != pb) REQUIRE((pa < pb) == (a < b));
    }
  }
}

TEST_CASE("160-bit ids: wrap-around, decimal text, limits") {
  const IdSpace space(160);
  const Id top = space.max_id();
  CHECK(top.to_decimal() == "1461501637330902918203684832716283019655932542975");  // 2^160 - 1
  CHECK(space.add(top, Id(1)) == Id(0));
  CHECK(space.sub(Id(0), Id(1)) == top);
  CHECK(space.add(space.pow2(159), space.pow2(159)) == Id(0));
  CHECK(Id::from_decimal("1461501637330902918203684832716283019655932542975") == top);
  CHECK_FALSE(Id::from_decimal("1461501637330902918203684832716283019655932542976").has_value());  // 2^160
  CHECK_FALSE(Id::from_decimal("12a").has_value());
  CHECK_FALSE(Id::from_decimal("").has_value());
  CHECK_FALSE(Id::from_decimal("-5").has_value());
  Rng rng(5);
  for (int t = 0; t < 2000; ++t) {
    Id x;
    for (auto& l : x.limb) l = rng.next_u64();
    x = space.reduce(x);
    REQUIRE(Id::from_decimal(x.to_decimal()) == x);
    REQUIRE(space.sub(space.add(x, space.pow2(t % 160)), space.pow2(t % 160)) == x);
  }
  CHECK(Id(12345).to_decimal() == "12345");
}

TEST_CASE("SHA-1 ids: the FIPS 180 test vector") {
  // SHA-1("abc") = a9993e36 4706816a ba3e2571 7850c26c 9cd0d89d
  const Id digest = sha1_id("abc");
  CHECK(digest.limb[2] == 0xa9993e36ULL);
  CHECK(digest.limb[1] == 0x4706816aba3e2571ULL);
  CHECK(digest.limb[0] == 0x7850c26c9cd0d89dULL);
  CHECK(IdSpace(32).hash("abc") == Id(0x9cd0d89dULL));
}

TEST_CASE("random streams: reproducible, independent, portable") {
  Rng a(42), b(42);
  for (int i = 0; i < 1000; ++i) REQUIRE(a.next_u64() == b.next_u64());
  // SplitMix64's published first output for seed 0 (Vigna's reference implementation).
  CHECK(Rng(0).next_u64() == 0xe220a8397b1dcdafULL);
  // Derived streams differ from each other and from the parent.
  Rng s1 = Rng::derive(7, 1), s2 = Rng::derive(7, 2), s1b = Rng::derive(7, 1);
  CHECK(s1.next_u64() != s2.next_u64());
  CHECK(Rng::derive(7, 1).next_u64() == s1b.next_u64());
}

TEST_CASE("uniform integers are unbiased and in range (chi-square)") {
  Rng rng(9);
  const std::uint64_t bound = 37;
  std::vector<int> counts(bound, 0);
  const int samples = 370000;
  for (int i = 0; i < samples; ++i) {
    const auto v = rng.below(bound);
    REQUIRE(v < bound);
    ++counts[v];
  }
  double chi2 = 0;
  const double expected = samples / static_cast<double>(bound);
  for (int c : counts) chi2 += (c - expected) * (c - expected) / expected;
  CHECK(chi2 < 80);  // 36 degrees of freedom: p = 1e-5 at about 80
  for (int i = 0; i < 1000; ++i) {
    const auto v = rng.between(-3, 3);
    REQUIRE(v >= -3);
    REQUIRE(v <= 3);
  }
}

TEST_CASE("exponential and Weibull lifetimes have the right means") {
  Rng rng(77);
  const int n = 200000;
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += rng.exponential(600.0);
  CHECK(sum / n == doctest::Approx(600.0).epsilon(0.02));
  for (const double k : {0.6, 1.0, 2.5}) {
    double total = 0;
    for (int i = 0; i < n; ++i) total += rng.weibull(k, 1000.0);
    CAPTURE(k);
    CHECK(total / n == doctest::Approx(1000.0 * std::tgamma(1.0 + 1.0 / k)).epsilon(0.03));
  }
}

TEST_CASE("portable log and exp agree with libm") {
  for (double x = 1e-300; x < 1e300; x *= 1.37) {
    REQUIRE(portable_log(x) == doctest::Approx(std::log(x)).epsilon(1e-14));
  }
  for (double x = -700; x < 700; x += 0.731) {
    REQUIRE(portable_exp(x) == doctest::Approx(std::exp(x)).epsilon(1e-13));
  }
  CHECK(portable_log(1.0) == 0.0);
  CHECK(portable_exp(0.0) == 1.0);
}

TEST_CASE("the event queue pops in time order, ties in insertion order (vs. a brute-force oracle)") {
  // The oracle's next event: the earliest time, then the earliest insertion (arg grows with it).
  auto oracle_next = [](std::vector<QueuedEvent>& pending) {
    return std::min_element(pending.begin(), pending.end(), [](const QueuedEvent& a, const QueuedEvent& b) {
      return a.time < b.time || (a.time == b.time && a.arg < b.arg);
    });
  };
  for (const std::uint64_t seed : {1, 2, 3}) {
    Rng rng(seed);
    EventQueue queue;
    std::vector<QueuedEvent> expected_all, popped;
    SimTime now = 0;
    std::uint32_t tag = 0;
    std::vector<QueuedEvent> pending;  // oracle: events pushed and not yet popped
    for (int round = 0; round < 20000; ++round) {
      const int pushes = static_cast<int>(rng.below(4));
      for (int p = 0; p < pushes; ++p) {
        // Mostly near-future times with many ties, some far beyond the calendar's window.
        const SimTime delay = rng.chance(0.05) ? static_cast<SimTime>(rng.below(5'000'000))
                                               : static_cast<SimTime>(rng.below(40)) * 250;
        queue.push(now + delay, tag, 0, 0, tag);
        pending.push_back({now + delay, 0, tag, tag, 0, 0});
        ++tag;
      }
      if (!queue.empty() && rng.chance(0.6)) {
        const auto it = oracle_next(pending);
        const QueuedEvent got = queue.pop();
        REQUIRE(got.time == it->time);
        REQUIRE(got.arg == it->arg);
        now = got.time;
        pending.erase(it);
      }
    }
    while (!queue.empty()) {
      const auto it = oracle_next(pending);
      const QueuedEvent got = queue.pop();
      REQUIRE(got.arg == it->arg);
      pending.erase(it);
    }
    CHECK(pending.empty());
  }
}

namespace {

struct PingMsg {
  std::uint8_t type = 0;
  int payload = 0;
};

/// A tiny protocol: every delivery and timer is logged.
class Recorder final : public MessageHandler<PingMsg> {
 public:
  explicit Recorder(Simulator<PingMsg>& sim) : sim_(sim) {}
  void on_message(PeerIndex self, PeerIndex from, const PingMsg& msg) override {
    log.push_back({sim_.now(), self, from, msg.payload});
  }
  void on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) override {
    log.push_back({sim_.now(), self, kNoPeer, static_cast<int>(kind * 1000 + cookie)});
  }
  struct Entry {
    SimTime time;
    PeerIndex at, from;
    int payload;
  };
  std::vector<Entry> log;

 private:
  Simulator<PingMsg>& sim_;
};

}  // namespace

TEST_CASE("simulator: constant latency, drops to dead peers, loss, dead timers, trace order") {
  NetworkConfig net;
  net.latency.kind = LatencyModel::Kind::Constant;
  net.latency.ms = 25;
  Simulator<PingMsg> sim(1, net);
  Recorder rec(sim);
  sim.set_handler(&rec);
  sim.event_trace().keep_in_memory(true);
  const PeerIndex a = sim.add_peer(Id(10)), b = sim.add_peer(Id(20)), c = sim.add_peer(Id(30));
  sim.send(a, b, {0, 1});
  sim.set_timer(c, from_ms(std::int64_t{5}), 2, 7);
  sim.run_until(from_ms(std::int64_t{100}));
  REQUIRE(rec.log.size() == 2);
  CHECK(rec.log[0].time == from_ms(std::int64_t{5}));  // c's timer
  CHECK(rec.log[0].payload == 2007);
  CHECK(rec.log[1].time == from_ms(std::int64_t{125}) - from_ms(std::int64_t{100}));
  CHECK(rec.log[1].at == b);
  CHECK(rec.log[1].from == a);

  // Messages to a crashed peer are dropped and counted; its timers never fire.
  sim.send(a, c, {0, 2});
  sim.set_timer(c, from_ms(std::int64_t{1}), 1, 1);
  sim.mark_failed(c);
  sim.run_until(from_ms(std::int64_t{200}));
  CHECK(rec.log.size() == 2);
  CHECK(sim.messages().to_dead[0] == 1);
  CHECK(sim.messages().delivered[0] == 1);
  CHECK(sim.true_successor(Id(25)) == a);  // 30 is dead: wraps around to 10
  CHECK(sim.true_successor(Id(15)) == b);

  // Trace: join, join, join, send, timer, deliver, send, fail, drop.
  std::vector<TraceKind> kinds;
  for (const auto& e : sim.event_trace().events()) kinds.push_back(e.kind);
  CHECK(kinds == std::vector<TraceKind>{TraceKind::Join, TraceKind::Join, TraceKind::Join, TraceKind::Send,
                                        TraceKind::Timer, TraceKind::Deliver, TraceKind::Send, TraceKind::Fail,
                                        TraceKind::Drop});
}

TEST_CASE("simulator: loss = 1 loses every message, uniform latency stays in its bounds") {
  NetworkConfig lossy;
  lossy.loss = 1.0;
  Simulator<PingMsg> sim(3, lossy);
  Recorder rec(sim);
  sim.set_handler(&rec);
  const PeerIndex a = sim.add_peer(Id(1)), b = sim.add_peer(Id(2));
  for (int i = 0; i < 100; ++i) sim.send(a, b, {0, i});
  sim.run_until(from_ms(std::int64_t{10000}));
  CHECK(rec.log.empty());
  CHECK(sim.messages().lost[0] == 100);

  NetworkConfig uniform;
  uniform.latency.min_ms = 10;
  uniform.latency.max_ms = 100;
  Simulator<PingMsg> sim2(3, uniform);
  Recorder rec2(sim2);
  sim2.set_handler(&rec2);
  const PeerIndex c = sim2.add_peer(Id(1)), d = sim2.add_peer(Id(2));
  for (int i = 0; i < 1000; ++i) sim2.send(c, d, {0, i});
  sim2.run_until(from_ms(std::int64_t{1000}));
  REQUIRE(rec2.log.size() == 1000);
  SimTime lo = rec2.log.front().time, hi = lo;
  for (const auto& e : rec2.log) {
    lo = std::min(lo, e.time);
    hi = std::max(hi, e.time);
  }
  CHECK(lo >= from_ms(std::int64_t{10}));
  CHECK(hi <= from_ms(std::int64_t{100}));
  CHECK(hi - lo > from_ms(std::int64_t{80}));  // spread over the range
}

TEST_CASE("per-peer streams do not depend on other peers") {
  Simulator<PingMsg> one(99, NetworkConfig{}), two(99, NetworkConfig{});
  const PeerIndex p1 = one.add_peer(Id(500));
  two.add_peer(Id(7));  // an extra peer created first
  const PeerIndex p2 = two.add_peer(Id(500));
  for (int i = 0; i < 100; ++i) REQUIRE(one.rng(p1).next_u64() == two.rng(p2).next_u64());
}
