#include "p2plab/rng.hpp"

#include <cmath>
#include <limits>

namespace p2plab {

std::uint64_t Rng::hash_string(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a, then mixed
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  return mix64(h);
}

std::uint64_t Rng::below(std::uint64_t bound) {
  if (bound <= 1) return 0;
  // Lemire 2019: the high word of a 64x64 product, rejecting the few values that would bias it.
  // The 128-bit product is built from 32-bit halves to stay within ISO C++.
  auto mul_hi_lo = [](std::uint64_t a, std::uint64_t b, std::uint64_t& lo) {
    const std::uint64_t a_lo = a & 0xffffffffULL, a_hi = a >> 32;
    const std::uint64_t b_lo = b & 0xffffffffULL, b_hi = b >> 32;
    const std::uint64_t p0 = a_lo * b_lo, p1 = a_lo * b_hi, p2 = a_hi * b_lo, p3 = a_hi * b_hi;
    const std::uint64_t mid = (p0 >> 32) + (p1 & 0xffffffffULL) + (p2 & 0xffffffffULL);
    lo = (mid << 32) | (p0 & 0xffffffffULL);
    return p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
  };
  std::uint64_t lo = 0;
  std::uint64_t hi = mul_hi_lo(next_u64(), bound, lo);
  if (lo < bound) {
    const std::uint64_t threshold = (0 - bound) % bound;
    while (lo < threshold) hi = mul_hi_lo(next_u64(), bound, lo);
  }
  return hi;
}

double Rng::weibull(double shape, double scale) {
  const double e = -portable_log(1.0 - uniform());  // standard exponential
  if (e <= 0) return 0;
  return scale * portable_exp(portable_log(e) / shape);
}

double portable_log(double x) {
  if (!(x > 0)) return x == 0 ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  if (x == std::numeric_limits<double>::infinity()) return x;
  // x = f * 2^e with f in [sqrt(1/2), sqrt(2)); frexp is exact.
  int e = 0;
  double f = std::frexp(x, &e);  // f in [0.5, 1)
  if (f < 0.70710678118654752440) {
    f *= 2;
    --e;
  }
  // ln f = 2 atanh(s), s = (f - 1) / (f + 1), |s| < 0.1716: the series converges fast.
  const double s = (f - 1) / (f + 1);
  const double s2 = s * s;
  double term = s, sum = 0;
  for (int k = 1; k < 40; k += 2) {
    sum += term / k;
    term *= s2;
  }
  constexpr double kLn2 = 0.69314718055994530942;
  return 2 * sum + e * kLn2;
}

double portable_exp(double x) {
  if (x != x) return x;
  if (x > 709.78) return std::numeric_limits<double>::infinity();
  if (x < -745.2) return 0;
  // exp(x) = 2^k * exp(r) with |r| <= ln2/2; Taylor series for exp(r); ldexp is exact.
  // r = x - k ln2 in two steps (Cody and Waite): ln2 = kLn2Hi + kLn2Lo, where kLn2Hi has only
  // 32 significant bits, so k * kLn2Hi and x - k * kLn2Hi are exact. With a single rounded ln2,
  // r would be off by up to |k| ulp(ln2) plus half an ulp of k ln2 (~700): 8e-14 relative error
  // in the result near |x| = 700.
  constexpr double kLn2 = 0.69314718055994530942;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 0x3fe62e42fee00000
  constexpr double kLn2Lo = 1.90821492927058770002e-10;  // 0x3dea39ef35793c76: ln2 - kLn2Hi
  const double kd = x / kLn2;
  const int k = static_cast<int>(kd >= 0 ? kd + 0.5 : kd - 0.5);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;
  double term = 1, sum = 1;
  for (int n = 1; n < 30; ++n) {
    term *= r / n;
    sum += term;
  }
  return std::ldexp(sum, k);
}

}  // namespace p2plab
