#include "p2plab/rng.hpp"

#include <cmath>
#include <limits>

namespace p2plab {

std::uint64_t Rng::hash_string(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a, then mixed
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  return mix64(h);
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
    // Stop when a term no longer changes the sum: every later one is smaller and of the same
    // sign (s2 >= 0), and rounding is monotonic, so none would (the same result as all 20
    // terms, in about 8: the exponential draws of every arrival pass here).
    const double next = sum + term / k;
    if (next == sum) break;
    sum = next;
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
