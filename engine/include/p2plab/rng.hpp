#pragma once
// p2plab's own random numbers: the same seed gives the same numbers with every compiler and
// standard library (std's distributions are implementation-defined, so they are not used).
#include <cstdint>
#include <string_view>

namespace p2plab {

/// SplitMix64 finaliser: a strong 64-bit mixing function (Steele, Lea, Flood 2014).
constexpr std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// Natural logarithm and exponential built from IEEE-754 +, -, *, / only, which every machine
/// rounds identically; libm's log/exp may differ in the last bit between systems.
double portable_log(double x);
double portable_exp(double x);

/// A random stream: SplitMix64, 8 bytes of state, so a million peers can each own one.
class Rng {
 public:
  constexpr Rng() = default;
  constexpr explicit Rng(std::uint64_t seed) : state_(seed) {}

  /// The stream of a named party (a peer, the scenario, the network) under one run seed: it
  /// depends only on (seed, stream), so adding a peer never changes another peer's stream.
  static Rng derive(std::uint64_t seed, std::uint64_t stream) {
    return Rng(mix64(seed ^ mix64(stream + 0x9e3779b97f4a7c15ULL)));
  }
  static std::uint64_t hash_string(std::string_view text);

  std::uint64_t next_u64() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return mix64(state_);
  }
  /// Uniform integer in [0, bound) without modulo bias (Lemire's multiply-and-reject). Inline:
  /// every message sent draws its latency here (out of line, with the product built from 32-bit
  /// halves, it was 60 of the 1300 instructions of a lookup hop in the 10^6-peer benchmark).
  std::uint64_t below(std::uint64_t bound) {
    if (bound <= 1) return 0;
    // Lemire 2019: the high word of a 64x64 product, rejecting the few values that would bias it.
    std::uint64_t lo = 0;
    std::uint64_t hi = mul_hi_lo(next_u64(), bound, lo);
    if (lo < bound) {
      const std::uint64_t threshold = (0 - bound) % bound;
      while (lo < threshold) hi = mul_hi_lo(next_u64(), bound, lo);
    }
    return hi;
  }
  /// Uniform integer in [lo, hi] (inclusive).
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo) + 1));
  }
  /// Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  bool chance(double probability) { return probability > 0 && uniform() < probability; }
  /// Exponential with the given mean (inverse transform).
  double exponential(double mean) { return -mean * portable_log(1.0 - uniform()); }
  /// Weibull with shape k and scale lambda: lambda * (-ln U)^(1/k).
  double weibull(double shape, double scale);

  std::uint64_t state() const { return state_; }

 private:
  /// The 128-bit product a * b: its high word returned, its low word in `lo`. One instruction
  /// where the compiler has a 128-bit type; otherwise from 32-bit halves (the same value).
  static std::uint64_t mul_hi_lo(std::uint64_t a, std::uint64_t b, std::uint64_t& lo) {
#ifdef __SIZEOF_INT128__
    __extension__ using U128 = unsigned __int128;  // (__extension__: not ISO C++, said so)
    const U128 product = static_cast<U128>(a) * b;
    lo = static_cast<std::uint64_t>(product);
    return static_cast<std::uint64_t>(product >> 64);
#else
    const std::uint64_t a_lo = a & 0xffffffffULL, a_hi = a >> 32;
    const std::uint64_t b_lo = b & 0xffffffffULL, b_hi = b >> 32;
    const std::uint64_t p0 = a_lo * b_lo, p1 = a_lo * b_hi, p2 = a_hi * b_lo, p3 = a_hi * b_hi;
    const std::uint64_t mid = (p0 >> 32) + (p1 & 0xffffffffULL) + (p2 & 0xffffffffULL);
    lo = (mid << 32) | (p0 & 0xffffffffULL);
    return p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
#endif
  }

  std::uint64_t state_ = 0;
};

}  // namespace p2plab
