// The engine's building blocks against independent oracles: id arithmetic (enumeration on small
// rings, a separate big-number type and 128-bit integers on large ones), decimal text, SHA-1
// (published test vectors), random numbers and distributions (chi-square, means from
// std::tgamma), portable log/exp (libm), the event queue (a stable sort) and the simulator's
// delivery rules (a tiny protocol defined here).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "p2plab/event_queue.hpp"
#include "p2plab/id.hpp"
#include "p2plab/message_pool.hpp"
#include "p2plab/parallel.hpp"
#include "p2plab/parallel_simulator.hpp"
#include "p2plab/rng.hpp"
#include "p2plab/simulator.hpp"
#include "p2plab/window_barrier.hpp"
#include "test_util.hpp"

using namespace p2plab;
using p2plab::test::Big;

__extension__ typedef unsigned __int128 u128;  // a second oracle for ids up to 128 bits

namespace {

Id id_from_u128(u128 v) {
  Id id;
  id.limb[0] = static_cast<std::uint64_t>(v);
  id.limb[1] = static_cast<std::uint64_t>(v >> 64);
  return id;
}

/// Random m-bit values, often at the edges where carries and wrap-arounds happen: 0, 1, 2^m - 1,
/// powers of two, their neighbours, and values around the limb boundaries.
Big edgy_value(Rng& rng, int m) {
  const Big max = Big::all_ones(m);
  switch (rng.below(8)) {
    case 0:
      return Big();
    case 1:
      return Big(1);
    case 2:
      return max;
    case 3:
      return Big::sub(max, Big(rng.below(3)), m);
    case 4: {
      const int k = static_cast<int>(rng.below(static_cast<std::uint64_t>(m)));
      return Big::add(Big::pow2(k), Big(rng.below(3)), m);  // 2^k, 2^k + 1, 2^k + 2
    }
    case 5: {
      const int k = static_cast<int>(rng.below(static_cast<std::uint64_t>(m)));
      return Big::sub(Big::pow2(k), Big(1 + rng.below(2)), m);  // 2^k - 1, 2^k - 2
    }
    default: {
      Big b;
      for (auto& word : b.w) word = static_cast<std::uint32_t>(rng.next_u64());
      return b.masked(m);
    }
  }
}

/// The clockwise walk from a to b on a small ring: which x lie strictly between them.
std::vector<bool> walk_open(std::uint64_t a, std::uint64_t b, std::uint64_t size) {
  std::vector<bool> open(size, false);
  if (a == b) {
    std::fill(open.begin(), open.end(), true);  // (a, a): once around the circle, all but a
    open[a] = false;
    return open;
  }
  for (std::uint64_t x = (a + 1) % size; x != b; x = (x + 1) % size) open[x] = true;
  return open;
}

double relative_error(double got, double want) { return std::fabs(got - want) / std::fabs(want); }

}  // namespace

// ---- ids -----------------------------------------------------------------------------------------

TEST_CASE("ids on small rings (m = 1, 3, 6): add, sub, pow2 and intervals equal enumeration") {
  for (const int m : {1, 3, 6}) {
    CAPTURE(m);
    const IdSpace space(m);
    const std::uint64_t size = std::uint64_t{1} << m;
    CHECK(space.max_id() == Id(size - 1));
    for (int i = 0; i < m + 3; ++i) {
      // 2^i mod 2^m: zero once i reaches m.
      CHECK(space.pow2(i) == Id(i < m ? (std::uint64_t{1} << i) % size : 0));
    }
    for (std::uint64_t a = 0; a < size; ++a) {
      for (std::uint64_t b = 0; b < size; ++b) {
        CAPTURE(a);
        CAPTURE(b);
        REQUIRE(space.add(Id(a), Id(b)) == Id((a + b) % size));
        REQUIRE(space.sub(Id(a), Id(b)) == Id((a + size - b) % size));
        REQUIRE(space.distance(Id(a), Id(b)) == Id((b + size - a) % size));
        const std::vector<bool> open = walk_open(a, b, size);
        for (std::uint64_t x = 0; x < size; ++x) {
          CAPTURE(x);
          REQUIRE(IdSpace::in_open(Id(x), Id(a), Id(b)) == open[x]);
          // (a, b] adds b; when a == b the walk goes once around: the whole circle.
          REQUIRE(IdSpace::in_open_closed(Id(x), Id(a), Id(b)) == (open[x] || x == b));
          // [a, b) adds a; [a, a) is the whole circle too.
          REQUIRE(IdSpace::in_closed_open(Id(x), Id(a), Id(b)) == (open[x] || x == a));
        }
      }
      for (int i = 0; i < m; ++i) REQUIRE(space.add(Id(a), space.pow2(i)) == Id((a + (std::uint64_t{1} << i)) % size));
    }
  }
  // The header's worked example, m = 3: (6, 1] = {7, 0, 1}; (1, 6) = {2, 3, 4, 5}.
  std::vector<std::uint64_t> in61, in16;
  for (std::uint64_t x = 0; x < 8; ++x) {
    if (IdSpace::in_open_closed(Id(x), Id(6), Id(1))) in61.push_back(x);
    if (IdSpace::in_open(Id(x), Id(1), Id(6))) in16.push_back(x);
  }
  CHECK(in61 == std::vector<std::uint64_t>{0, 1, 7});
  CHECK(in16 == std::vector<std::uint64_t>{2, 3, 4, 5});
}

TEST_CASE("Id's + and - wrap modulo 2^160, as id.hpp and the chord-intervals README say") {
  // A solution trusting the documentation computes (b - a) at m = 160 without low_bits(160).
  const Id top = Id::power_of_two(159);
  CHECK(top + top == Id());
  CHECK(Id() - Id(1) == IdSpace(160).max_id());
  CHECK((Id() - Id(1)).bit_width() == 160);
  CHECK(IdSpace(160).max_id() + Id(5) == Id(4));
}

TEST_CASE("ids with m = 32, 64, 100, 127, 160: arithmetic and intervals agree with a separate big-number oracle") {
  Rng rng(123);
  for (const int m : {32, 64, 100, 127, 160}) {
    CAPTURE(m);
    const IdSpace space(m);
    CHECK(Big::from(space.max_id()) == Big::all_ones(m));
    for (int i = 0; i < m; ++i) REQUIRE(Big::from(space.pow2(i)) == Big::pow2(i));
    CHECK(space.pow2(m) == Id());  // 2^m mod 2^m
    for (int t = 0; t < 30000; ++t) {
      const Big a = edgy_value(rng, m), b = edgy_value(rng, m);
      // x: often one of the interval's ends or their neighbours, the cases that go wrong.
      Big x = edgy_value(rng, m);
      switch (rng.below(6)) {
        case 0:
          x = a;
          break;
        case 1:
          x = b;
          break;
        case 2:
          x = Big::add(a, Big(1), m);
          break;
        case 3:
          x = Big::sub(b, Big(1), m);
          break;
        default:
          break;
      }
      const Big e = rng.chance(0.1) ? a : b;  // the interval (a, e): a == e now and then
      const Id A = a.to_id(), B = e.to_id(), X = x.to_id();
      const int i = static_cast<int>(rng.below(static_cast<std::uint64_t>(m)));
      CAPTURE(a.decimal());
      CAPTURE(e.decimal());
      CAPTURE(x.decimal());
      REQUIRE(Big::from(space.add(A, B)) == Big::add(a, e, m));
      REQUIRE(Big::from(space.sub(A, B)) == Big::sub(a, e, m));
      REQUIRE(Big::from(space.distance(A, B)) == Big::sub(e, a, m));
      REQUIRE(Big::from(space.add(A, space.pow2(i))) == Big::add(a, Big::pow2(i), m));
      REQUIRE((A < B) == (a < e));
      REQUIRE((A == B) == (a == e));
      REQUIRE(IdSpace::in_open(X, A, B) == test::oracle_in_open(x, a, e, m));
      REQUIRE(IdSpace::in_open_closed(X, A, B) == test::oracle_in_open_closed(x, a, e, m));
      REQUIRE(IdSpace::in_closed_open(X, A, B) == test::oracle_in_closed_open(x, a, e, m));
      // reduce keeps the low m bits of any 160-bit value.
      Big wide;
      for (auto& word : wide.w) word = static_cast<std::uint32_t>(rng.next_u64());
      REQUIRE(Big::from(space.reduce(wide.to_id())) == wide.masked(m));
      // print() is monotone: distinct prints order like the ids.
      const auto pa = space.print(A), pb = space.print(B);
      if (pa != pb) REQUIRE((pa < pb) == (a < e));
      if (m <= 127) {  // and a second opinion from the compiler's 128-bit integers
        const u128 mask = (u128{1} << m) - 1;
        const u128 ua = (u128{A.limb[1]} << 64) | A.limb[0], ub = (u128{B.limb[1]} << 64) | B.limb[0];
        REQUIRE(space.add(A, B) == id_from_u128((ua + ub) & mask));
        REQUIRE(space.sub(A, B) == id_from_u128((ua - ub) & mask));
      }
    }
  }
}

TEST_CASE("160-bit wrap-around: 2^160 - 1 + 1 = 0, 0 - 1 = 2^160 - 1, 2^159 + 2^159 = 0") {
  const IdSpace space(160);
  const Id top = space.max_id();
  CHECK(space.add(top, Id(1)) == Id(0));
  CHECK(space.sub(Id(0), Id(1)) == top);
  CHECK(space.add(space.pow2(159), space.pow2(159)) == Id(0));
  CHECK(space.add(top, space.pow2(0)) == Id(0));
  CHECK(space.add(top, space.pow2(159)) == space.sub(space.pow2(159), Id(1)));
  CHECK(IdSpace::in_open(Id(0), top, Id(1)));  // (2^160 - 1, 1) = {0}
  CHECK_FALSE(IdSpace::in_open(Id(1), top, Id(1)));
  CHECK(IdSpace::in_open_closed(Id(1), top, Id(1)));
  CHECK_FALSE(IdSpace::in_closed_open(Id(1), top, Id(1)));
  CHECK(IdSpace::in_closed_open(top, top, Id(1)));
  CHECK_THROWS(static_cast<void>(IdSpace(0)));
  CHECK_THROWS(static_cast<void>(IdSpace(161)));
}

TEST_CASE("decimal text: round trips, 2^160 - 1, and 2^160 or junk are rejected") {
  const IdSpace space(160);
  const Id top = space.max_id();
  const std::string two_160_minus_1 = "1461501637330902918203684832716283019655932542975";
  CHECK(Big::all_ones(160).decimal() == two_160_minus_1);  // the oracle agrees with the literal
  CHECK(top.to_decimal() == two_160_minus_1);
  CHECK(Id::from_decimal(two_160_minus_1) == top);
  CHECK(Id(0).to_decimal() == "0");
  CHECK(Id(12345).to_decimal() == "12345");
  CHECK(Id(std::numeric_limits<std::uint64_t>::max()).to_decimal() == "18446744073709551615");
  // All three limbs (an id before it is reduced below 2^m): 58 digits, seven steps of nine.
  Id all_ones;
  all_ones.limb = {~std::uint64_t{0}, ~std::uint64_t{0}, ~std::uint64_t{0}};
  CHECK(all_ones.to_decimal() == "6277101735386680763835789423207666416102355444464034512895");  // 2^192 - 1
  CHECK(Id::from_decimal("18446744073709551616") == Big::pow2(64).to_id());  // 2^64: a carry into limb 1
  CHECK(Id::from_decimal("0") == Id(0));
  // Rejected: 2^160 itself, values far beyond it (a naive parser would wrap them around:
  // 2^192 + 5 would come out as 5), signs, spaces, other bases and notations, and nothing.
  for (const char* bad : {"1461501637330902918203684832716283019655932542976",           // 2^160
                          "6277101735386680763835789423207666416102355444464034512901",  // 2^192 + 5
                          "9999999999999999999999999999999999999999999999999",           // 49 digits, > 2^160
                          "99999999999999999999999999999999999999999999999999", "-5", "+5", " 5", "5 ", "12a", "0x10",
                          "1.0", "1e3", ""}) {
    CAPTURE(bad);
    CHECK_FALSE(Id::from_decimal(bad).has_value());
  }
  // Powers of ten and the numbers just below them: where a group of digits is all zeros or all
  // nines (to_decimal writes nine digits per step).
  for (std::size_t digits = 19; digits <= 48; ++digits) {
    for (const std::string& text : {"1" + std::string(digits, '0'), std::string(digits, '9')}) {
      CAPTURE(text);
      const std::optional<Id> id = Id::from_decimal(text);
      REQUIRE(id.has_value());
      CHECK(id->to_decimal() == text);
    }
  }
  Rng rng(5);
  for (int t = 0; t < 5000; ++t) {
    const Big x = edgy_value(rng, 1 + static_cast<int>(rng.below(160)));
    CAPTURE(x.decimal());
    REQUIRE(x.to_id().to_decimal() == x.decimal());
    REQUIRE(Id::from_decimal(x.decimal()) == x.to_id());
  }
}

TEST_CASE("SHA-1: the FIPS 180 test vectors, and hash() keeps the low m bits of the digest") {
  // FIPS 180-2 appendix A and the empty message (digests as sha1sum prints them).
  CHECK(Big::from(sha1_id("abc")) == Big::from_hex("a9993e364706816aba3e25717850c26c9cd0d89d"));
  CHECK(Big::from(sha1_id("")) == Big::from_hex("da39a3ee5e6b4b0d3255bfef95601890afd80709"));
  CHECK(Big::from(sha1_id("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        Big::from_hex("84983e441c3bd26ebaae4aa1f95129e5e54670f1"));
  CHECK(Big::from(sha1_id(std::string(1000000, 'a'))) == Big::from_hex("34aa973cd4c4daa4f61eeb2bdbad27316534016f"));
  // The digest is read big-endian: its first bytes are the id's most significant ones.
  const Id abc = sha1_id("abc");
  CHECK(abc.limb[2] == 0xa9993e36ULL);
  CHECK(abc.limb[1] == 0x4706816aba3e2571ULL);
  CHECK(abc.limb[0] == 0x7850c26c9cd0d89dULL);
  for (const int m : {1, 12, 32, 63, 64, 65, 100, 159, 160}) {
    CAPTURE(m);
    CHECK(Big::from(IdSpace(m).hash("abc")) == Big::from_hex("a9993e364706816aba3e25717850c26c9cd0d89d").masked(m));
  }
}

TEST_CASE("SHA-1 on three threads at once: each thread's digests are the test vectors") {
  // sha1_id keeps one OpenSSL context per thread: threads hashing together must not share one.
  std::vector<int> wrong(3, 0);
  run_on_threads(3, [&](std::size_t t) {
    for (int i = 0; i < 2000; ++i) {
      const bool abc = (i + static_cast<int>(t)) % 2 == 0;
      const Id id = sha1_id(abc ? "abc" : "");
      wrong[t] += Big::from(id) != Big::from_hex(abc ? "a9993e364706816aba3e25717850c26c9cd0d89d"
                                                     : "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }
  });
  CHECK(wrong == std::vector<int>{0, 0, 0});
}

TEST_CASE(
    "run_on_threads: each piece runs once on a thread of its own, the lowest piece's error is rethrown after all") {
  std::vector<std::thread::id> ran_on(4);
  std::vector<int> runs(4, 0);
  run_on_threads(4, [&](std::size_t t) {
    ran_on[t] = std::this_thread::get_id();
    ++runs[t];
  });
  CHECK(runs == std::vector<int>{1, 1, 1, 1});
  CHECK(ran_on[0] == std::this_thread::get_id());
  CHECK(std::set<std::thread::id>(ran_on.begin(), ran_on.end()).size() == 4);
  // Pieces 1 and 3 fail; piece 2 is slow: it has ended before the error reaches the caller.
  std::atomic<bool> slow_done{false};
  auto failing = [&](std::size_t t) {
    if (t == 2) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      slow_done = true;
    }
    if (t == 1 || t == 3) throw std::runtime_error("piece " + std::to_string(t));
  };
  CHECK_THROWS_WITH(run_on_threads(4, failing), "piece 1");
  CHECK(slow_done);
  int calls = 0;
  run_on_threads(0, [&](std::size_t t) { calls += 1 + static_cast<int>(t); });
  CHECK(calls == 1);  // no count: one piece, on the caller
}

TEST_CASE("IdSpace(12).hash(\"my data\") is the low 12 bits of SHA-1(\"my data\")") {
  // printf 'my data' | sha1sum -> fee95d29ae5926af3375e2eb3a688471de0a2c3e (computed outside
  // p2plab). Its low 12 bits are 0xc3e = 3134; the lecture's figure uses 3107 as an example
  // value, which is why the figure-3 lab and test put the key 3107 explicitly.
  const Big digest = Big::from_hex("fee95d29ae5926af3375e2eb3a688471de0a2c3e");
  CHECK(Big::from(sha1_id("my data")) == digest);
  CHECK(Big::from(IdSpace(12).hash("my data")) == digest.masked(12));
  CHECK(IdSpace(12).hash("my data") == Id(0xc3e));
}

// ---- random numbers ------------------------------------------------------------------------------

TEST_CASE("random streams: the same seed gives the same sequence, SplitMix64's published output") {
  Rng a(42), b(42), c(43);
  int differ = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t x = a.next_u64();
    REQUIRE(x == b.next_u64());
    differ += x != c.next_u64();
  }
  CHECK(differ == 1000);
  // SplitMix64's first outputs for seed 0 (Vigna's reference implementation, splitmix64.c).
  Rng zero(0);
  CHECK(zero.next_u64() == 0xe220a8397b1dcdafULL);
  CHECK(zero.next_u64() == 0x6e789e6aa1b965f4ULL);
  CHECK(zero.next_u64() == 0x06c45d188009454fULL);
}

TEST_CASE("derived streams are independent of each other") {
  // Different streams of one seed and the same stream of different seeds all differ...
  std::vector<std::uint64_t> firsts;
  for (std::uint64_t s = 0; s < 2000; ++s) firsts.push_back(Rng::derive(7, s).next_u64());
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    if (seed != 7) firsts.push_back(Rng::derive(seed, 1).next_u64());  // (7, 1) is in the list already
  }
  std::sort(firsts.begin(), firsts.end());
  CHECK(std::adjacent_find(firsts.begin(), firsts.end()) == firsts.end());
  // ... a stream depends on (seed, stream) only ...
  Rng again = Rng::derive(7, 1);
  Rng s1 = Rng::derive(7, 1);
  for (int i = 0; i < 100; ++i) REQUIRE(s1.next_u64() == again.next_u64());
  // ... and neighbouring streams are uncorrelated: Pearson correlation of their uniforms near 0
  // (standard error 1/sqrt(n) = 0.0022), and their bits agree about half of the time.
  for (const auto& [sa, sb] : std::vector<std::pair<std::uint64_t, std::uint64_t>>{{1, 2}, {0, 1}, {1000, 1001}}) {
    CAPTURE(sa);
    CAPTURE(sb);
    Rng x = Rng::derive(7, sa), y = Rng::derive(7, sb);
    const int n = 200000;
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    std::uint64_t same_bits = 0;
    for (int i = 0; i < n; ++i) {
      const std::uint64_t bx = x.next_u64(), by = y.next_u64();
      same_bits += static_cast<std::uint64_t>(64 - __builtin_popcountll(bx ^ by));
      const double u = static_cast<double>(bx >> 11) * 0x1.0p-53, v = static_cast<double>(by >> 11) * 0x1.0p-53;
      sx += u;
      sy += v;
      sxx += u * u;
      syy += v * v;
      sxy += u * v;
    }
    const double cov = sxy / n - (sx / n) * (sy / n);
    const double corr = cov / std::sqrt((sxx / n - (sx / n) * (sx / n)) * (syy / n - (sy / n) * (sy / n)));
    CHECK(std::fabs(corr) < 0.015);
    CHECK(static_cast<double>(same_bits) / (64.0 * n) == doctest::Approx(0.5).epsilon(0.005));
  }
}

TEST_CASE(
    "below(n) is Lemire's draw: the high word of next_u64() * n, redrawn while the low word is under 2^64 mod n") {
  // The values themselves are the contract (every lab's result depends on them, on every
  // machine): checked against the product written out in 32-bit halves and the rejection rule,
  // on a twin stream. Bounds where rejections are rare, and where they are about half the draws.
  auto product = [](std::uint64_t a, std::uint64_t b, std::uint64_t& lo) {
    const std::uint64_t a0 = a & 0xffffffffULL, a1 = a >> 32, b0 = b & 0xffffffffULL, b1 = b >> 32;
    const std::uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    const std::uint64_t middle = (p00 >> 32) + (p01 & 0xffffffffULL) + (p10 & 0xffffffffULL);
    lo = (middle << 32) | (p00 & 0xffffffffULL);
    return p11 + (p01 >> 32) + (p10 >> 32) + (middle >> 32);
  };
  Rng rng(2024), twin(2024);
  int redrawn = 0;
  for (const std::uint64_t bound : {2ULL, 90001ULL, 1000003ULL, (1ULL << 63) + 1, ~0ULL - 5, 3ULL << 62}) {
    CAPTURE(bound);
    const std::uint64_t threshold = (0 - bound) % bound;  // 2^64 mod bound
    for (int i = 0; i < 20000; ++i) {
      std::uint64_t lo = 0;
      std::uint64_t hi = product(twin.next_u64(), bound, lo);
      while (lo < threshold) {
        ++redrawn;
        hi = product(twin.next_u64(), bound, lo);
      }
      REQUIRE(rng.below(bound) == hi);
    }
  }
  CHECK(redrawn > 10000);  // the rejection path ran (2^63 + 1 rejects about half its draws)
}

TEST_CASE("below(n) is never n or more and uniform (chi-square), also where modulo would be biased") {
  Rng rng(9);
  CHECK(rng.below(0) == 0);
  CHECK(rng.below(1) == 0);
  for (const std::uint64_t bound : {2ULL, 3ULL, 37ULL, 1000ULL}) {
    CAPTURE(bound);
    std::vector<double> counts(bound, 0);
    const std::uint64_t samples = 2000 * bound < 200000 ? 200000 : 2000 * bound;
    for (std::uint64_t i = 0; i < samples; ++i) {
      const std::uint64_t v = rng.below(bound);
      REQUIRE(v < bound);
      counts[v] += 1;
    }
    const double expected = static_cast<double>(samples) / static_cast<double>(bound);
    double chi2 = 0;
    for (double c : counts) chi2 += (c - expected) * (c - expected) / expected;
    // Generous: the mean is df = bound - 1 and the standard deviation sqrt(2 df); allow 6 of them.
    const double df = static_cast<double>(bound - 1);
    CHECK(chi2 < df + 6 * std::sqrt(2 * df) + 10);
  }
  // bound = 3 * 2^62: 2^64 mod bound = 2^62, so "next_u64() % bound" would put half of its
  // values in the lowest third. Unbiased, each third gets a third.
  const std::uint64_t bound = 3ULL << 62;
  std::array<int, 3> thirds{};
  const int n = 300000;
  for (int i = 0; i < n; ++i) {
    const std::uint64_t v = rng.below(bound);
    REQUIRE(v < bound);
    ++thirds[v >> 62];
  }
  for (int t : thirds) CHECK(static_cast<double>(t) / n == doctest::Approx(1.0 / 3).epsilon(0.02));
  for (const std::uint64_t big : {(1ULL << 63) + 1, ~0ULL, (1ULL << 32) + 1}) {
    for (int i = 0; i < 10000; ++i) REQUIRE(rng.below(big) < big);
  }
  // between(lo, hi) is inclusive at both ends.
  std::array<int, 7> seen{};
  for (int i = 0; i < 7000; ++i) {
    const auto v = rng.between(-3, 3);
    REQUIRE(v >= -3);
    REQUIRE(v <= 3);
    ++seen[static_cast<std::size_t>(v + 3)];
  }
  for (int s : seen) CHECK(s > 800);
  for (int i = 0; i < 10000; ++i) {
    const double u = rng.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
  }
}

TEST_CASE("exponential and Weibull samples have the right means (Weibull: scale * Gamma(1 + 1/k))") {
  Rng rng(77);
  const int n = 200000;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = rng.exponential(600.0);
    REQUIRE(x >= 0);
    sum += x;
    sum2 += x * x;
  }
  CHECK(std::fabs(sum / n - 600.0) < 0.02 * 600.0);
  // An exponential's standard deviation equals its mean.
  CHECK(std::sqrt(sum2 / n - (sum / n) * (sum / n)) == doctest::Approx(600.0).epsilon(0.03));
  for (const double k : {0.5, 0.7, 1.0, 1.5, 3.0}) {
    CAPTURE(k);
    double total = 0;
    for (int i = 0; i < n; ++i) total += rng.weibull(k, 1000.0);
    const double expected = 1000.0 * std::tgamma(1.0 + 1.0 / k);
    // Standard error of the mean: at most 1.1% of it (k = 0.5, coefficient of variation 2.24).
    CHECK(std::fabs(total / n - expected) < 0.03 * expected);
  }
}

TEST_CASE("portable_log's values are the full 20-term series', bit for bit (they feed every exponential draw)") {
  // Its series stops once a term no longer changes the sum; the values must not move (every
  // lab's arrivals depend on them): checked against all 20 terms, written out here.
  auto full_series = [](double x) {
    int e = 0;
    double f = std::frexp(x, &e);
    if (f < 0.70710678118654752440) {
      f *= 2;
      --e;
    }
    const double s = (f - 1) / (f + 1), s2 = s * s;
    double term = s, sum = 0;
    for (int k = 1; k < 40; k += 2) {
      sum += term / k;
      term *= s2;
    }
    return 2 * sum + e * 0.69314718055994530942;
  };
  Rng rng(77);
  std::vector<double> xs = {1.0,
                            0.5,
                            2.0,
                            0.70710678118654752440,
                            0.7071067811865475,
                            1.4142135623730951,
                            std::nextafter(1.0, 0.0),
                            std::nextafter(1.0, 2.0),
                            1e-300,
                            1e300,
                            4.9e-324};
  for (int i = 0; i < 200000; ++i) xs.push_back(1.0 - rng.uniform());  // the exponential draws' arguments
  for (int i = 0; i < 100000; ++i)
    xs.push_back(std::ldexp(1.0 + rng.uniform(), static_cast<int>(rng.below(200)) - 100));
  for (const double x : xs) {
    CAPTURE(x);
    const double got = portable_log(x), want = full_series(x);
    REQUIRE(std::memcmp(&got, &want, sizeof got) == 0);
  }
}

TEST_CASE("portable_log and portable_exp agree with std::log and std::exp to 1e-14 relative") {
  double worst_log = 0, worst_exp = 0, worst_log_at = 0, worst_exp_at = 0;
  for (double x = 1e-300; x < 1e300; x *= 1.0137) {
    if (x == 1.0) continue;
    const double e = relative_error(portable_log(x), std::log(x));
    if (e > worst_log) worst_log = e, worst_log_at = x;
  }
  for (double x = 0.5; x < 2.0; x += 1.0 / 4096 + 1e-9) {  // near 1, where log is near 0
    if (x == 1.0) continue;
    const double e = relative_error(portable_log(x), std::log(x));
    if (e > worst_log) worst_log = e, worst_log_at = x;
  }
  for (double x = -708; x < 709.7; x += 0.0731) {
    const double e = relative_error(portable_exp(x), std::exp(x));
    if (e > worst_exp) worst_exp = e, worst_exp_at = x;
  }
  CAPTURE(worst_log_at);
  CAPTURE(worst_exp_at);
  CHECK(worst_log < 1e-14);
  CHECK(worst_exp < 1e-14);
  CHECK(portable_log(1.0) == 0.0);
  CHECK(portable_exp(0.0) == 1.0);
  CHECK(portable_log(0.0) == -std::numeric_limits<double>::infinity());
  CHECK(std::isnan(portable_log(-1.0)));
  CHECK(portable_exp(800.0) == std::numeric_limits<double>::infinity());
  CHECK(portable_exp(-800.0) == 0.0);
}

// ---- event queue ---------------------------------------------------------------------------------

namespace {

/// A time for a queued event: many ties, times on and next to bucket and window edges, and some
/// far beyond the calendar's window.
SimTime queue_time(Rng& rng) {
  switch (rng.below(5)) {
    case 0:
      return static_cast<SimTime>(rng.below(40)) * 250;  // ties
    case 1:
      return static_cast<SimTime>(rng.below(20)) * EventQueue::kBucketWidth + rng.between(-1, 1) + 1;
    case 2: {
      const SimTime window = static_cast<SimTime>(EventQueue::kBuckets) * EventQueue::kBucketWidth;
      return window * static_cast<SimTime>(1 + rng.below(3)) + rng.between(-2, 2);
    }
    case 3:
      return static_cast<SimTime>(rng.below(5'000'000));
    default:
      return static_cast<SimTime>(rng.below(1'000'000'000'000ULL));  // up to 11.6 days
  }
}

}  // namespace

TEST_CASE("the event queue pops in time order, equal times in insertion order (vs. a stable sort)") {
  for (const std::uint64_t seed : {1, 2, 3}) {
    CAPTURE(seed);
    Rng rng(seed);
    EventQueue queue;
    std::vector<std::pair<SimTime, std::uint32_t>> pushed;  // (time, insertion number)
    for (std::uint32_t i = 0; i < 60000; ++i) {
      const SimTime t = queue_time(rng);
      queue.push(t, i, 0, 0, i);
      pushed.emplace_back(t, i);
    }
    std::vector<std::pair<SimTime, std::uint32_t>> expected = pushed;
    std::stable_sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    REQUIRE(queue.size() == expected.size());
    std::size_t hints = 0;
    for (std::size_t k = 0; k < expected.size(); ++k) {
      const auto& [time, tag] = expected[k];
      // The prefetch hints, when they answer, name the events that come next, in order.
      queue.top();
      for (std::size_t i = 1; i <= 3; ++i) {
        if (const QueuedEvent* next = queue.ahead(i); next != nullptr) {
          REQUIRE(k + i < expected.size());
          REQUIRE(next->arg == expected[k + i].second);
          ++hints;
        }
      }
      const QueuedEvent got = queue.pop();
      REQUIRE(got.time == time);
      REQUIRE(got.arg == tag);
      REQUIRE(got.peer == tag);
    }
    CHECK(queue.empty());
    CHECK(hints > expected.size());  // they answer for most events
  }
}

TEST_CASE("the event queue interleaving pushes and pops, as a simulation does, matches a stable sort") {
  for (const std::uint64_t seed : {4, 5, 6}) {
    CAPTURE(seed);
    Rng rng(seed);
    EventQueue queue;
    SimTime now = 0;
    std::uint32_t tag = 0;
    // The oracle: a std::set ordered by (time, insertion number), i.e. a stable sort's order;
    // the earliest time first and, among equal times, the first inserted.
    std::set<std::pair<SimTime, std::uint32_t>> pending;
    std::size_t hints = 0;
    auto oracle_pop = [&] {
      const auto e = *pending.begin();
      pending.erase(pending.begin());
      return e;
    };
    for (int round = 0; round < 20000; ++round) {
      const int pushes = static_cast<int>(rng.below(4));
      for (int p = 0; p < pushes; ++p) {
        const SimTime t = now + (rng.chance(0.1) ? queue_time(rng) : static_cast<SimTime>(rng.below(40)) * 250);
        queue.push(t, tag, 0, 0, tag);
        pending.emplace(t, tag);
        ++tag;
      }
      if (!queue.empty() && rng.chance(0.6)) {
        // The prefetch hints, when they answer, name the events the oracle has next (pushes
        // into the current bucket included: then they do not answer).
        queue.top();
        auto next = std::next(pending.begin());
        for (std::size_t i = 1; i <= 3; ++i, next = next == pending.end() ? next : std::next(next)) {
          if (const QueuedEvent* hint = queue.ahead(i); hint != nullptr) {
            REQUIRE(next != pending.end());
            REQUIRE(hint->arg == next->second);
            ++hints;
          }
        }
        const auto want = oracle_pop();
        const QueuedEvent got = queue.pop();
        REQUIRE(got.time == want.first);
        REQUIRE(got.arg == want.second);
        now = got.time;
      }
    }
    while (!queue.empty()) {
      const auto want = oracle_pop();
      const QueuedEvent got = queue.pop();
      REQUIRE(got.time == want.first);
      REQUIRE(got.arg == want.second);
    }
    CHECK(pending.empty());
    CHECK(hints > 1000);
  }
}

TEST_CASE("the event queue's pop_before(end) takes the earliest event only when it is before end") {
  // As the parallel simulator's window loop uses it: ends at, just before and past the next
  // event's time, against the same stable-sort oracle; nothing is taken when the answer is no.
  Rng rng(12);
  EventQueue queue;
  std::set<std::pair<SimTime, std::uint32_t>> pending;
  SimTime now = 0;
  std::uint32_t tag = 0;
  int taken = 0, refused = 0;
  for (int round = 0; round < 30000; ++round) {
    for (int p = static_cast<int>(rng.below(3)); p > 0; --p) {
      const SimTime t = now + (rng.chance(0.1) ? queue_time(rng) : static_cast<SimTime>(rng.below(40)) * 250);
      queue.push(t, tag, 0, 0, tag);
      pending.emplace(t, tag++);
    }
    const SimTime next = pending.empty() ? now : pending.begin()->first;
    const SimTime end = next + rng.between(-1, 1);
    QueuedEvent got{};
    const bool expected = !pending.empty() && next < end;
    REQUIRE(queue.pop_before(end, got) == expected);
    REQUIRE(queue.size() == pending.size() - (expected ? 1 : 0));
    if (!expected) {
      ++refused;
      continue;
    }
    REQUIRE(got.time == pending.begin()->first);
    REQUIRE(got.arg == pending.begin()->second);
    pending.erase(pending.begin());
    now = got.time;
    ++taken;
  }
  CHECK(taken > 5000);
  CHECK(refused > 5000);
}

TEST_CASE("the event queue's prefetch hints see past a bucket's end in a dense run") {
  // A large run as the benchmarks make it: about 30 events per 100-microsecond bucket, each
  // handled event sending a message 10-100 ms ahead. The simulator loads what the events 1 and
  // 2 places ahead need while it handles one; at a bucket's end they lie in the next bucket,
  // which the queue sorts early for that: every hint answers, and names the oracle's next events.
  for (const std::uint64_t seed : {9, 10}) {
    CAPTURE(seed);
    Rng rng(seed);
    EventQueue queue;
    std::set<std::pair<SimTime, std::uint32_t>> pending;  // the oracle: (time, insertion number)
    std::uint32_t tag = 0;
    auto push = [&](SimTime t) {
      queue.push(t, tag, 0, 0, tag);
      pending.emplace(t, tag++);
    };
    for (int i = 0; i < 30000; ++i) push(1000 + static_cast<SimTime>(rng.below(100000)));
    for (int round = 0; round < 60000; ++round) {
      queue.top();
      auto next = pending.begin();
      for (std::size_t i = 1; i <= 2; ++i) {
        ++next;
        const QueuedEvent* hint = queue.ahead(i);
        REQUIRE(hint != nullptr);
        REQUIRE(hint->arg == next->second);
      }
      const QueuedEvent got = queue.pop();
      REQUIRE(got.arg == pending.begin()->second);
      REQUIRE(got.time == pending.begin()->first);
      pending.erase(pending.begin());
      push(got.time + 10000 + static_cast<SimTime>(rng.below(90001)));
      // Now and then a timer of seconds, beyond the calendar: most of one duration (a lookup's
      // timeout), some of any; all come back in order.
      if (rng.chance(0.1)) push(got.time + (rng.chance(0.8) ? 4'000'000 : 200'000 + rng.below(10'000'000)));
    }
    while (!queue.empty()) {
      const QueuedEvent got = queue.pop();
      REQUIRE(got.arg == pending.begin()->second);
      REQUIRE(got.time == pending.begin()->first);
      pending.erase(pending.begin());
    }
    CHECK(pending.empty());
  }
}

TEST_CASE("the event queue orders events numbered elsewhere (push_sequenced, any order) by time, then number") {
  // The parallel simulator inserts events with the tie-break its merge decided, not in that
  // order: the queue must not rely on numbers rising with insertion. Times crowd a few
  // microseconds (many ties inside one bucket) and reach the far heap.
  for (const std::uint64_t seed : {7, 8}) {
    CAPTURE(seed);
    Rng rng(seed);
    EventQueue queue;
    std::vector<std::uint64_t> numbers(30000);
    for (std::size_t i = 0; i < numbers.size(); ++i) numbers[i] = i * 3 + 1;
    for (std::size_t i = numbers.size() - 1; i > 0; --i) std::swap(numbers[i], numbers[rng.below(i + 1)]);
    std::set<std::pair<SimTime, std::uint64_t>> pending;  // the oracle: (time, number)
    for (std::size_t i = 0; i < numbers.size(); ++i) {
      const SimTime t = rng.chance(0.8) ? static_cast<SimTime>(rng.below(8)) * 37 : queue_time(rng);
      queue.push_sequenced(QueuedEvent{t, numbers[i], 0, static_cast<std::uint32_t>(i), 0, 0});
      pending.emplace(t, numbers[i]);
    }
    while (!pending.empty()) {
      const auto want = *pending.begin();
      pending.erase(pending.begin());
      const QueuedEvent got = queue.pop();
      REQUIRE(got.time == want.first);
      REQUIRE(got.seq == want.second);
    }
    CHECK(queue.empty());
  }
}

TEST_CASE("the far events come out in (time, number) order, pushed in order or not") {
  // FarEvents keeps the events pushed in order in a sorted run and the others in a heap: a
  // lookup's timeouts interleaved with a hop's (two delays after a rising now: one stream stays
  // in order, the other goes to the heap), re-armed timers (earlier than the last), ties of time
  // broken by number, pushes between pops. The oracle is a std::set.
  for (const std::uint64_t seed : {11, 12, 13}) {
    CAPTURE(seed);
    Rng rng(seed);
    FarEvents far;
    std::set<std::pair<SimTime, std::uint64_t>> pending;
    SimTime now = 0;
    std::uint64_t number = 0;
    std::size_t popped = 0;
    for (int round = 0; round < 40000; ++round) {
      const int pushes = static_cast<int>(rng.below(3));
      for (int p = 0; p < pushes; ++p) {
        SimTime t = now + (rng.chance(0.5) ? 8'000'000 : 500'000);  // a lookup's timeout, a hop's
        if (rng.chance(0.2)) t = now + static_cast<SimTime>(rng.below(9'000'000));
        if (rng.chance(0.05)) t = now + 8'000'000 - static_cast<SimTime>(rng.below(3));  // ties and near misses
        // Numbers mostly rise; now and then one decided elsewhere is smaller (push_sequenced).
        const std::uint64_t seq = rng.chance(0.05) ? number - std::min<std::uint64_t>(number, rng.below(10)) : number;
        ++number;
        if (pending.count({t, seq}) != 0) continue;  // (a pair the queue never sees twice)
        far.push(QueuedEvent{t, seq, 0, 0, 0, 0});
        pending.emplace(t, seq);
      }
      if (!pending.empty() && rng.chance(0.7)) {
        const auto want = *pending.begin();
        pending.erase(pending.begin());
        REQUIRE(far.top().time == want.first);
        REQUIRE(far.top().seq == want.second);
        const QueuedEvent got = far.pop();
        REQUIRE(got.time == want.first);
        REQUIRE(got.seq == want.second);
        now = std::max(now, got.time - 8'000'000 + static_cast<SimTime>(rng.below(1000)));
        ++popped;
      }
    }
    while (!pending.empty()) {
      const auto want = *pending.begin();
      pending.erase(pending.begin());
      const QueuedEvent got = far.pop();
      REQUIRE(got.time == want.first);
      REQUIRE(got.seq == want.second);
    }
    CHECK(far.empty());
    CHECK(popped > 20000);
  }
}

// ---- the simulator with a tiny protocol ----------------------------------------------------------

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
    log.push_back({sim_.now(), self, from, msg.payload, false});
  }
  void on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) override {
    log.push_back({sim_.now(), self, kNoPeer, static_cast<int>(kind * 1000 + cookie), true});
  }
  struct Entry {
    SimTime time;
    PeerIndex at, from;
    int payload;
    bool timer;
  };
  std::vector<Entry> log;

 private:
  Simulator<PingMsg>& sim_;
};

constexpr SimTime ms(std::int64_t v) { return v * 1000; }

NetworkConfig constant_latency(double latency_ms) {
  NetworkConfig net;
  net.latency.kind = LatencyModel::Kind::Constant;
  net.latency.ms = latency_ms;
  return net;
}

}  // namespace

TEST_CASE("simulator: constant latency delivers exactly that much later, in sending order") {
  Simulator<PingMsg> sim(1, constant_latency(25));
  Recorder rec(sim);
  sim.set_handler(&rec);
  const PeerIndex a = sim.add_peer(Id(10)), b = sim.add_peer(Id(20));
  for (int i = 0; i < 5; ++i) sim.send(a, b, {0, i});
  sim.run_until(ms(100));
  REQUIRE(rec.log.size() == 5);
  for (int i = 0; i < 5; ++i) {
    CHECK(rec.log[i].time == ms(25));
    CHECK(rec.log[i].payload == i);
    CHECK(rec.log[i].at == b);
    CHECK(rec.log[i].from == a);
  }
  CHECK(sim.now() == ms(100));
  sim.send(b, a, {0, 99});
  sim.run_until(ms(1000));
  REQUIRE(rec.log.size() == 6);
  CHECK(rec.log[5].time == ms(125));
  CHECK(rec.log[5].at == a);
  CHECK(sim.messages().sent[0] == 6);
  CHECK(sim.messages().delivered[0] == 6);
}

TEST_CASE("simulator: messages to a failed peer are dropped and counted, its timers never fire") {
  Simulator<PingMsg> sim(1, constant_latency(25));
  Recorder rec(sim);
  sim.set_handler(&rec);
  const PeerIndex a = sim.add_peer(Id(10)), b = sim.add_peer(Id(20)), c = sim.add_peer(Id(30));
  sim.set_timer(b, ms(50), 1, 1);  // set before the crash
  sim.set_timer(c, ms(50), 1, 2);  // a left peer's timers die too
  sim.send(a, b, {1, 7});          // in flight when b crashes
  sim.run_until(ms(10));
  sim.mark_failed(b);
  sim.mark_left(c);
  sim.send(a, b, {1, 8});  // sent to a peer already dead
  sim.set_timer(b, ms(5), 2, 3);
  sim.run_until(ms(500));
  CHECK(rec.log.empty());
  CHECK(sim.messages().sent[1] == 2);
  CHECK(sim.messages().to_dead[1] == 2);
  CHECK(sim.messages().delivered[1] == 0);
  CHECK(sim.live_count() == 1);
  CHECK_FALSE(sim.is_up(b));
  CHECK(sim.state(b) == PeerState::Failed);
  CHECK(sim.state(c) == PeerState::Left);
  // The live peer still works.
  sim.set_timer(a, ms(1), 4, 5);
  sim.run_until(ms(600));
  REQUIRE(rec.log.size() == 1);
  CHECK(rec.log[0].timer);
  CHECK(rec.log[0].payload == 4005);
  CHECK(rec.log[0].time == ms(501));
}

TEST_CASE("simulator: loss = 1 loses every message, loss = 0 none") {
  NetworkConfig lossy = constant_latency(10);
  lossy.loss = 1.0;
  Simulator<PingMsg> sim(3, lossy);
  Recorder rec(sim);
  sim.set_handler(&rec);
  sim.event_trace().keep_in_memory(true);
  const PeerIndex a = sim.add_peer(Id(1)), b = sim.add_peer(Id(2));
  for (int i = 0; i < 100; ++i) sim.send(a, b, {0, i});
  sim.run_until(ms(10000));
  CHECK(rec.log.empty());
  CHECK(sim.messages().lost[0] == 100);
  CHECK(sim.messages().delivered[0] == 0);
  int drops = 0;
  for (const TraceEvent& e : sim.event_trace().events()) {
    if (e.kind == TraceKind::Drop) {
      ++drops;
      CHECK(e.index == static_cast<std::uint16_t>(DropReason::Loss));
    }
    CHECK(e.kind != TraceKind::Deliver);
  }
  CHECK(drops == 100);

  Simulator<PingMsg> clean(3, constant_latency(10));
  Recorder rec2(clean);
  clean.set_handler(&rec2);
  const PeerIndex c = clean.add_peer(Id(1)), d = clean.add_peer(Id(2));
  for (int i = 0; i < 100; ++i) clean.send(c, d, {0, i});
  clean.run_until(ms(10000));
  CHECK(rec2.log.size() == 100);
  CHECK(clean.messages().lost[0] == 0);
}

TEST_CASE("simulator: uniform latency stays within its bounds and spreads over them") {
  NetworkConfig uniform;
  uniform.latency.kind = LatencyModel::Kind::Uniform;
  uniform.latency.min_ms = 10;
  uniform.latency.max_ms = 100;
  Simulator<PingMsg> sim(3, uniform);
  Recorder rec(sim);
  sim.set_handler(&rec);
  const PeerIndex c = sim.add_peer(Id(1)), d = sim.add_peer(Id(2));
  for (int i = 0; i < 2000; ++i) sim.send(c, d, {0, i});
  sim.run_until(ms(1000));
  REQUIRE(rec.log.size() == 2000);
  double sum = 0;
  SimTime lo = rec.log.front().time, hi = lo;
  for (const auto& e : rec.log) {
    lo = std::min(lo, e.time);
    hi = std::max(hi, e.time);
    sum += to_ms(e.time);
  }
  CHECK(lo >= ms(10));
  CHECK(hi <= ms(100));
  CHECK(hi - lo > ms(85));
  CHECK(sum / 2000 == doctest::Approx(55.0).epsilon(0.05));
}

TEST_CASE("simulator: the trace records Join, Send, Timer, Deliver, Fail and Drop in order") {
  Simulator<PingMsg> sim(1, constant_latency(25));
  Recorder rec(sim);
  sim.set_handler(&rec);
  sim.event_trace().keep_in_memory(true);
  const PeerIndex a = sim.add_peer(Id(10)), b = sim.add_peer(Id(20)), c = sim.add_peer(Id(30));
  sim.send(a, b, {3, 1});
  sim.set_timer(c, ms(5), 2, 7);
  sim.run_until(ms(100));
  sim.send(a, c, {4, 2});
  sim.mark_failed(c);
  sim.run_until(ms(200));
  sim.mark_left(b);

  struct Want {
    TraceKind kind;
    SimTime time;
    PeerIndex peer, other;
    std::uint8_t detail;
  };
  const std::vector<Want> want = {{TraceKind::Join, 0, a, kNoPeer, 0},      {TraceKind::Join, 0, b, kNoPeer, 0},
                                  {TraceKind::Join, 0, c, kNoPeer, 0},      {TraceKind::Send, 0, a, b, 3},
                                  {TraceKind::Timer, ms(5), c, kNoPeer, 2}, {TraceKind::Deliver, ms(25), a, b, 3},
                                  {TraceKind::Send, ms(100), a, c, 4},      {TraceKind::Fail, ms(100), c, kNoPeer, 0},
                                  {TraceKind::Drop, ms(125), a, c, 4},      {TraceKind::Leave, ms(200), b, kNoPeer, 0}};
  const auto& got = sim.event_trace().events();
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i].kind == want[i].kind);
    CHECK(got[i].time == want[i].time);
    CHECK(got[i].peer == want[i].peer);
    if (want[i].other != kNoPeer) CHECK(got[i].other == want[i].other);
    CHECK(got[i].detail == want[i].detail);
  }
  CHECK(got[8].index == static_cast<std::uint16_t>(DropReason::DeadTarget));
  CHECK(got[0].key == Id(10));
  CHECK(got[7].key == Id(30));
}

TEST_CASE("simulator: live_by_id lists the live peers sorted by id and find_live finds them") {
  Simulator<PingMsg> sim(1, NetworkConfig{});
  const PeerIndex p30 = sim.add_peer(Id(30)), p10 = sim.add_peer(Id(10)), p20 = sim.add_peer(Id(20));
  CHECK(sim.live_by_id() == std::vector<std::pair<Id, PeerIndex>>{{Id(10), p10}, {Id(20), p20}, {Id(30), p30}});
  sim.mark_failed(p30);
  CHECK(sim.find_live(Id(30)) == kNoPeer);
  CHECK(sim.find_live(Id(20)) == p20);
  CHECK(sim.live_by_id() == std::vector<std::pair<Id, PeerIndex>>{{Id(10), p10}, {Id(20), p20}});
  sim.mark_failed(p10);
  sim.mark_failed(p20);
  CHECK(sim.live_by_id().empty());
}

TEST_CASE("simulator: the live set stays right through many single and mass changes") {
  // The sorted live list is patched in place for a few changes and rebuilt after bursts: compare
  // it, find_live and live_predecessor (when it answers) with brute force after every step, the list
  // sometimes released in between.
  Simulator<PingMsg> sim(8, NetworkConfig{});
  Rng rng(8);
  std::vector<std::pair<std::uint64_t, PeerIndex>> live;  // oracle
  auto check = [&] {
    std::vector<std::pair<std::uint64_t, PeerIndex>> sorted = live;
    std::sort(sorted.begin(), sorted.end());
    const auto& got = sim.live_by_id();
    REQUIRE(got.size() == sorted.size());
    for (std::size_t i = 0; i < sorted.size(); ++i) {
      REQUIRE(got[i].first == Id(sorted[i].first));
      REQUIRE(got[i].second == sorted[i].second);
    }
    for (int k = 0; k < 20 && !sorted.empty(); ++k) {
      const std::size_t r = rng.below(sorted.size());
      REQUIRE(sim.find_live(Id(sorted[r].first)) == sorted[r].second);
      PeerIndex predecessor = kNoPeer;
      if (sim.live_predecessor(sorted[r].second, predecessor)) {
        REQUIRE(predecessor == sorted[(r + sorted.size() - 1) % sorted.size()].second);
      }
    }
    // Sometimes free the list (as a benchmark does): the next query rebuilds it, and the
    // predecessors still answer until the live set changes.
    if (rng.below(4) == 0) {
      sim.release_live_by_id();
      for (std::size_t r = 0; r < sorted.size(); ++r) {
        PeerIndex predecessor = kNoPeer;
        if (sim.live_predecessor(sorted[r].second, predecessor)) {
          REQUIRE(predecessor == sorted[(r + sorted.size() - 1) % sorted.size()].second);
        }
      }
    }
  };
  for (int round = 0; round < 300; ++round) {
    const auto what = rng.below(10);
    if (what < 5 || live.size() < 5) {
      std::uint64_t id;
      do {
        id = rng.below(1 << 20);
      } while (std::any_of(live.begin(), live.end(), [&](const auto& e) { return e.first == id; }));
      live.emplace_back(id, sim.add_peer(Id(id)));
    } else if (what < 9) {
      const std::size_t k = rng.below(live.size());
      sim.mark_failed(live[k].second);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
    } else {
      // A burst: 100 joins at once.
      for (int j = 0; j < 100; ++j) {
        std::uint64_t id;
        do {
          id = rng.below(1 << 20);
        } while (std::any_of(live.begin(), live.end(), [&](const auto& e) { return e.first == id; }));
        live.emplace_back(id, sim.add_peer(Id(id)));
      }
    }
    check();
  }
  // fail_fraction crashes round(fraction x live) distinct live peers.
  const std::size_t before = sim.live_count();
  sim.fail_fraction(0.25);
  CHECK(sim.live_count() == before - static_cast<std::size_t>(0.25 * static_cast<double>(before) + 0.5));
  std::size_t up = 0;
  for (PeerIndex p = 0; p < sim.peer_count(); ++p) up += sim.is_up(p);
  CHECK(up == sim.live_count());
  CHECK(sim.live_by_id().size() == sim.live_count());
}

TEST_CASE("simulator: a peer's random stream does not depend on the other peers") {
  Simulator<PingMsg> one(99, NetworkConfig{}), two(99, NetworkConfig{}), other_seed(100, NetworkConfig{});
  const PeerIndex p1 = one.add_peer(Id(500));
  two.add_peer(Id(7));  // an extra peer created first
  const PeerIndex p2 = two.add_peer(Id(500));
  const PeerIndex p3 = other_seed.add_peer(Id(500));
  int differ = 0;
  for (int i = 0; i < 100; ++i) {
    const std::uint64_t x = one.rng(p1).next_u64();
    REQUIRE(x == two.rng(p2).next_u64());
    differ += x != other_seed.rng(p3).next_u64();
  }
  CHECK(differ == 100);
}

// ---- the parallel simulator against the sequential one --------------------------------------------

namespace {

/// A busy little protocol whose every step depends on the order of a peer's events: each
/// delivery and timer is logged with the clock, and draws from the peer's random stream whom to
/// tell next (a message, with a time-to-live) and whether to set a timer (0 to 3 ms, often 0: a
/// tie with the event that set it). Peers and messages interleave at equal times a lot when the
/// latency is constant.
struct RumorMsg {
  std::uint8_t type = 0;
  std::uint32_t rumor = 0;
  std::uint8_t ttl = 0;
};

class Rumors : public MessageHandler<RumorMsg> {
 public:
  struct Entry {
    SimTime time;
    PeerIndex from;  // kNoPeer: a timer or a callback
    std::uint32_t rumor;
    std::uint64_t draw;  // the peer's next random number at that point
    bool operator==(const Entry&) const = default;
  };
  Rumors(Transport<RumorMsg>& net, std::size_t peers) : log(peers), net_(net), peers_(peers) {}

  void on_message(PeerIndex self, PeerIndex from, const RumorMsg& msg) override {
    step(self, from, msg.rumor, msg.ttl);
  }
  void on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) override {
    step(self, kNoPeer, cookie, static_cast<std::uint8_t>(kind));
  }
  /// A rumor starts at `self` (a scheduled callback).
  void start(PeerIndex self, std::uint32_t rumor) { step(self, kNoPeer, rumor, 7); }

  std::vector<std::vector<Entry>> log;  // per peer: touched only by the peer's own partition
  bool long_timers = false;

 private:
  void step(PeerIndex self, PeerIndex from, std::uint32_t rumor, std::uint8_t ttl) {
    Rng& rng = net_.rng(self);
    log[self].push_back({net_.now(), from, rumor, rng.next_u64()});
    if (ttl == 0) return;
    const auto fanout = 1 + rng.below(3);
    for (std::uint64_t i = 0; i < fanout; ++i) {
      const auto to = static_cast<PeerIndex>(rng.below(peers_));
      net_.send(self, to, RumorMsg{0, rumor * 3 + static_cast<std::uint32_t>(i), static_cast<std::uint8_t>(ttl - 1)});
    }
    if (rng.chance(0.3)) {
      // (long_timers: never inside the window they are set in; else half of them at once)
      const SimTime delay = long_timers ? ms(10) + rng.between(0, 3000) : rng.chance(0.5) ? 0 : rng.between(0, 3000);
      net_.set_timer(self, delay, static_cast<std::uint16_t>(ttl - 1), rumor + 7);
    }
  }

 protected:
  Transport<RumorMsg>& net_;

 private:
  std::size_t peers_;
};

struct RumorRun {
  std::vector<std::vector<Rumors::Entry>> log;
  std::uint64_t events = 0, sent = 0, delivered = 0;
};

/// 97 peers, rumors started by callbacks every 2 ms for 0.2 s, run to 0.6 s in two parts; between
/// them 30 peers join (on the parallel simulator: past the partitions' blocks, the last
/// partition's), messages and a timer are set from outside any event.
template <class Sim>
RumorRun run_rumors(Sim& sim, bool long_timers = false, const std::function<void()>& before_run = {}) {
  constexpr std::size_t kPeers = 97;
  for (std::size_t i = 0; i < kPeers; ++i) sim.add_peer(Id(1000 + 17 * i));
  if (before_run) before_run();
  Rumors rumors(sim, kPeers);
  rumors.long_timers = long_timers;
  sim.set_handler(&rumors);
  const std::uint16_t start = sim.add_handler([&rumors](PeerIndex p, std::uint32_t rumor) { rumors.start(p, rumor); });
  for (std::uint32_t r = 0; r < 100; ++r)
    sim.schedule_at(ms(2 * r), start, static_cast<PeerIndex>((r * 31) % kPeers), r);
  sim.run_until(ms(250));
  for (std::size_t i = 0; i < 30; ++i) sim.add_peer(Id(5000 + i));
  rumors.log.resize(kPeers + 30);
  sim.send(static_cast<PeerIndex>(kPeers), 5, RumorMsg{0, 900, 4});
  sim.send(5, static_cast<PeerIndex>(kPeers + 29), RumorMsg{0, 901, 4});
  sim.send(static_cast<PeerIndex>(kPeers + 29), static_cast<PeerIndex>(kPeers + 1), RumorMsg{0, 903, 4});
  sim.set_timer(40, 0, 3, 902);
  sim.run_until(ms(600));
  RumorRun out;
  out.log = std::move(rumors.log);
  out.events = sim.events_processed();
  out.sent = sim.messages().total_sent();
  out.delivered = sim.messages().total_delivered();
  return out;
}

NetworkConfig uniform_latency(double min_ms, double max_ms) {
  NetworkConfig net;
  net.latency.min_ms = min_ms;
  net.latency.max_ms = max_ms;
  return net;
}

}  // namespace

TEST_CASE(
    "parallel simulator: with 1, 2, 3 and 5 threads every peer sees the sequential simulator's events, in its order") {
  // Constant latency: every message of a step arrives at one instant (ties everywhere); uniform
  // over a few microseconds: ties between peers of different partitions; and a wide spread.
  for (const NetworkConfig& net : {constant_latency(10), uniform_latency(10, 10.004), uniform_latency(10, 100)}) {
    CAPTURE(net.latency.describe());
    Simulator<RumorMsg> sequential(7, net);
    const RumorRun truth = run_rumors(sequential);
    std::size_t entries = 0;
    for (const auto& peer_log : truth.log) entries += peer_log.size();
    CHECK(entries > 20'000);  // a busy run, or the comparison proves little
    for (unsigned threads : {1u, 2u, 3u, 5u}) {
      CAPTURE(threads);
      ParallelSimulator<RumorMsg> parallel(7, net, threads);
      const RumorRun run = run_rumors(parallel);
      CHECK(run.events == truth.events);
      CHECK(run.sent == truth.sent);
      CHECK(run.delivered == truth.delivered);
      std::size_t differing = 0;
      for (std::size_t p = 0; p < truth.log.size(); ++p) differing += run.log[p] == truth.log[p] ? 0 : 1;
      CHECK(differing == 0);
    }
  }
}

TEST_CASE("parallel simulator: two threads that share the merge number every event as the sequential run") {
  // No event is caused for the window it is caused in (timers of 10 ms or more, the lookahead):
  // then two threads number a window's events at once, each half of it (prepare_merge). Constant
  // latency puts many events at one instant, at both partitions: ties across the halves' border.
  for (const NetworkConfig& net : {constant_latency(10), uniform_latency(10, 10.004), uniform_latency(10, 100)}) {
    CAPTURE(net.latency.describe());
    Simulator<RumorMsg> sequential(7, net);
    const RumorRun truth = run_rumors(sequential, true);
    ParallelSimulator<RumorMsg> parallel(7, net, 2);
    const RumorRun run = run_rumors(parallel, true);
    CHECK(run.events == truth.events);
    std::size_t differing = 0;
    for (std::size_t p = 0; p < truth.log.size(); ++p) differing += run.log[p] == truth.log[p] ? 0 : 1;
    CHECK(differing == 0);
    const auto phases = parallel.phase_times();
    CAPTURE(phases.windows);
    CHECK(phases.halved_merges * 4 > phases.windows);  // the busy windows, at least
  }
}

TEST_CASE("parallel simulator: partitions cut at equal weight keep the sequential order, and count their events") {
  {  // The comment's example: weights 3, 1, 1, 1 on two threads.
    ParallelSimulator<RumorMsg> sim(1, constant_latency(10), 2);
    for (std::uint64_t i = 0; i < 4; ++i) sim.add_peer(Id(i + 1));
    const std::vector<double> weight{3, 1, 1, 1};
    sim.partition_by_weight(weight);
    CHECK(sim.partition_starts() == std::vector<PeerIndex>{0, 1});
    CHECK(sim.partition_of(0) == 0);
    CHECK(sim.partition_of(1) == 1);
    CHECK(sim.partition_of(3) == 1);
    CHECK_THROWS_AS(sim.partition_by_weight(weight), std::logic_error);  // cut once
  }
  {  // Bad weights are refused and cut nothing; weights all 0 cut equal counts.
    ParallelSimulator<RumorMsg> sim(1, constant_latency(10), 2);
    for (std::uint64_t i = 0; i < 4; ++i) sim.add_peer(Id(i + 1));
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    for (const std::vector<double>& bad :
         {std::vector<double>{1, 1, 1}, std::vector<double>{1, -1, 1, 1}, std::vector<double>{1, nan, 1, 1},
          std::vector<double>{inf, 1, 1, 1}, std::vector<double>{1e308, 1e308, 1e308, 1}}) {
      CHECK_THROWS_AS(sim.partition_by_weight(bad), std::invalid_argument);
      CHECK(sim.partition_starts().empty());
    }
    sim.partition_by_weight(std::vector<double>{0, 0, 0, 0});
    CHECK(sim.partition_starts() == std::vector<PeerIndex>{0, 2});
  }
  {  // Cut after the first run: refused.
    ParallelSimulator<RumorMsg> sim(1, constant_latency(10), 2);
    for (std::uint64_t i = 0; i < 4; ++i) sim.add_peer(Id(i + 1));
    sim.run_until(ms(10));
    CHECK_THROWS_AS(sim.partition_by_weight(std::vector<double>{1, 1, 1, 1}), std::logic_error);
  }
  // The rumors on partitions of very unequal sizes: the first 10 of 97 peers weigh 20 each.
  const NetworkConfig net = uniform_latency(10, 100);
  Simulator<RumorMsg> sequential(7, net);
  const RumorRun truth = run_rumors(sequential);
  std::vector<double> weight(97, 1.0);
  for (std::size_t i = 0; i < 10; ++i) weight[i] = 20;
  const double total = 10 * 20 + 87;
  for (unsigned threads : {2u, 3u, 5u}) {
    CAPTURE(threads);
    ParallelSimulator<RumorMsg> parallel(7, net, threads);
    const RumorRun run = run_rumors(parallel, false, [&] { parallel.partition_by_weight(weight); });
    const std::vector<PeerIndex>& starts = parallel.partition_starts();
    REQUIRE(starts.size() == threads);
    CHECK(starts[0] == 0);
    // Partition k starts at the first peer whose predecessors weigh k/threads of the total.
    for (unsigned k = 1; k < threads; ++k) {
      CAPTURE(k);
      const double share = total * k / threads;
      double before = 0;
      for (PeerIndex i = 0; i < starts[k]; ++i) before += weight[i];
      CHECK(before >= share);
      CHECK(before - weight[starts[k] - 1] < share);
    }
    CHECK(starts[1] <= 10);  // the heavy peers are spread, not one thread's
    CHECK(run.events == truth.events);
    std::size_t differing = 0;
    for (std::size_t p = 0; p < truth.log.size(); ++p) differing += run.log[p] == truth.log[p] ? 0 : 1;
    CHECK(differing == 0);
    const std::vector<std::uint64_t> per_partition = parallel.partition_events();
    REQUIRE(per_partition.size() == threads);
    std::uint64_t sum = 0;
    for (const std::uint64_t n : per_partition) sum += n;
    CHECK(sum == parallel.events_processed());
    for (const std::uint64_t n : per_partition) CHECK(n > 0);
  }
}

TEST_CASE("window barrier: nobody goes on before all arrived, the last runs the step first, and all see it") {
  // Each round every thread writes its slot, meets the others, then checks that the step saw
  // every slot written (what a thread wrote before arriving is visible to the step) and that it
  // sees the step's count (what the step wrote is visible after). 3 threads, 1 more than cores
  // here: some waits outlast the spin and sleep. Then again with idle work at every first
  // meeting that never runs out (the parallel simulator's drawing ahead): a waiter must still go
  // on once the last has arrived (a waiter that did not look between its idle calls would hang
  // here), and the meetings mean the same.
  for (const bool idle_work : {false, true}) {
    CAPTURE(idle_work);
    constexpr std::uint32_t kThreads = 3;
    const std::uint32_t kRounds = idle_work ? 200 : 1500;  // (idle waiters never rest: CPU)
    WindowBarrier meeting(kThreads);
    std::vector<std::uint32_t> slot(kThreads, 0);
    std::uint32_t steps = 0, incomplete_steps = 0;
    std::vector<std::uint32_t> stale(kThreads, 0);
    std::atomic<std::uint64_t> idle_calls{0};
    auto idle = [&] {
      if (!idle_work) return false;
      idle_calls.fetch_add(1, std::memory_order_relaxed);
      return true;
    };
    auto run = [&](std::uint32_t me) {
      for (std::uint32_t round = 1; round <= kRounds; ++round) {
        slot[me] = round;
        meeting.arrive_and_wait(
            [&] {
              ++steps;
              for (std::uint32_t s : slot) incomplete_steps += s == round ? 0 : 1;
            },
            idle);
        stale[me] += steps == round ? 0 : 1;
        meeting.arrive_and_wait();  // nobody writes the next round's slot before all have checked
      }
    };
    std::vector<std::thread> others;
    for (std::uint32_t t = 1; t < kThreads; ++t) others.emplace_back(run, t);
    run(0);
    for (std::thread& t : others) t.join();
    CHECK(steps == kRounds);
    CHECK(incomplete_steps == 0);
    for (std::uint32_t t = 0; t < kThreads; ++t) CHECK(stale[t] == 0);
    if (idle_work) CHECK(idle_calls.load() > kRounds);  // two of three threads wait at every meeting
  }
}

namespace {
/// Rumors whose handler throws at chosen peers from a chosen time on (a student's code that
/// fails, in whichever partition's thread).
class FailingRumors : public Rumors {
 public:
  FailingRumors(Transport<RumorMsg>& net, std::size_t peers, std::vector<PeerIndex> failing, SimTime from)
      : Rumors(net, peers), failing_(std::move(failing)), from_(from) {}
  void on_message(PeerIndex self, PeerIndex from, const RumorMsg& msg) override {
    if (net_.now() >= from_ && std::find(failing_.begin(), failing_.end(), self) != failing_.end()) {
      throw std::runtime_error("peer " + std::to_string(self) + " failed at " + std::to_string(net_.now()));
    }
    Rumors::on_message(self, from, msg);
  }

 private:
  std::vector<PeerIndex> failing_;
  SimTime from_;
};

/// The message of what run_until threw ("" if it returned).
template <class Sim>
std::string failure_of_rumors(Sim& sim, const std::vector<PeerIndex>& failing) {
  for (std::size_t i = 0; i < 97; ++i) sim.add_peer(Id(1000 + 17 * i));
  FailingRumors rumors(sim, 97, failing, ms(120));
  sim.set_handler(&rumors);
  const std::uint16_t start = sim.add_handler([&rumors](PeerIndex p, std::uint32_t rumor) { rumors.start(p, rumor); });
  for (std::uint32_t r = 0; r < 100; ++r) sim.schedule_at(ms(2 * r), start, static_cast<PeerIndex>((r * 31) % 97), r);
  try {
    sim.run_until(ms(600));
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("parallel simulator: a handler that throws on any thread stops the run, and run_until throws it") {
  // Before: a worker thread's exception ended the whole process (std::terminate). Peer 90 is in
  // the last partition (a worker's), peer 3 in the first (the caller's thread); with both, the
  // sequential run's failure is the earlier one, and so must the parallel run's be.
  for (const std::vector<PeerIndex>& failing : {std::vector<PeerIndex>{90}, std::vector<PeerIndex>{3},
                                                std::vector<PeerIndex>{3, 90}, std::vector<PeerIndex>{40, 60, 90}}) {
    Simulator<RumorMsg> sequential(7, uniform_latency(10, 100));
    const std::string truth = failure_of_rumors(sequential, failing);
    CAPTURE(truth);
    REQUIRE(truth.find("failed at") != std::string::npos);
    for (unsigned threads : {2u, 3u}) {
      CAPTURE(threads);
      ParallelSimulator<RumorMsg> parallel(7, uniform_latency(10, 100), threads);
      CHECK(failure_of_rumors(parallel, failing) == truth);
      // The run's state is lost: a later run is refused, clearly.
      CHECK_THROWS_WITH_AS(parallel.run_until(ms(700)), doctest::Contains("failed in an earlier run"),
                           std::logic_error);
    }
  }
}

TEST_CASE("parallel simulator: a trace, a network without lookahead and a callback across partitions are refused") {
  {
    ParallelSimulator<RumorMsg> sim(1, constant_latency(10), 2);
    sim.event_trace().keep_in_memory(true);
    CHECK_THROWS_AS(sim.run_until(ms(10)), std::logic_error);
  }
  {
    ParallelSimulator<RumorMsg> sim(1, constant_latency(0), 2);
    CHECK_THROWS_AS(sim.run_until(ms(10)), std::logic_error);
  }
  {
    // A callback run at peer 0 that schedules one at the last peer (another partition) 1 ms later.
    ParallelSimulator<RumorMsg> sim(1, constant_latency(10), 2);
    Rumors rumors(sim, 4);
    sim.set_handler(&rumors);
    for (std::uint64_t i = 0; i < 4; ++i) sim.add_peer(Id(i + 1));
    std::string error;
    std::uint16_t far = 0;
    far = sim.add_handler([&](PeerIndex, std::uint32_t) {
      try {
        sim.schedule_at(sim.now() + ms(1), far, 3, 0);
      } catch (const std::logic_error& e) {
        error = e.what();
      }
    });
    sim.schedule_at(ms(1), far, 0, 0);
    sim.run_until(ms(5));
    CHECK(error.find("another partition") != std::string::npos);
  }
}

namespace {

/// A message with a list at its end, of which `count` entries are used (as Chord's).
struct ListMessage {
  std::uint32_t kind = 0;
  std::uint8_t count = 0;
  std::array<std::uint32_t, 40> list{};
  std::size_t used_bytes() const { return offsetof(ListMessage, list) + count * sizeof(std::uint32_t); }
  static constexpr std::size_t kHotBytes = 8 + 8 * sizeof(std::uint32_t);
};
static_assert(p2plab::SizedMessage<ListMessage>);

}  // namespace

TEST_CASE("message pool: a message that says its used bytes is stored with exactly those, the rest never copied") {
  for (const std::uint8_t count :
       {std::uint8_t{0}, std::uint8_t{3}, std::uint8_t{8}, std::uint8_t{9}, std::uint8_t{40}}) {
    CAPTURE(int{count});
    ListMessage from;
    from.kind = 7;
    from.count = count;
    for (std::uint32_t j = 0; j < from.list.size(); ++j) from.list[j] = 100 + j;
    ListMessage to;
    to.list.fill(0xdead);
    p2plab::copy_message(to, from);
    CHECK(to.kind == 7);
    CHECK(to.count == count);
    for (std::size_t j = 0; j < to.list.size(); ++j) {
      // The first kHotBytes are copied whole (a size known when compiling), then the used rest.
      const bool copied = j < count || offsetof(ListMessage, list) + (j + 1) * 4 <= ListMessage::kHotBytes;
      CHECK(to.list[j] == (copied ? 100 + j : 0xdead));
    }
    p2plab::MessagePool<ListMessage> pool;
    const std::uint32_t slot = pool.store(from, 5);
    CHECK(pool.sender(slot) == 5);
    const ListMessage& stored = pool.message(slot);
    for (std::size_t j = 0; j < count; ++j) CHECK(stored.list[j] == 100 + j);
  }
}
