// Plausible mistakes in chord-intervals (mistakes.txt lists them; ../mistake.hpp explains).
#include "logic.hpp"
#include "mistake.hpp"

namespace p2plab::chord::logic {

Id add_mod(const Id& a, const Id& b, int m) {
  if (mistake("add-without-mod")) return a + b;
  return (a + b).low_bits(m);
}

Id sub_mod(const Id& a, const Id& b, int m) {
  if (mistake("sub-without-mod")) return a - b;
  return (a - b).low_bits(m);
}

Id distance(const Id& a, const Id& b, int m) {
  if (mistake("distance-reversed")) return sub_mod(a, b, m);
  return sub_mod(b, a, m);
}

Id finger_start(const Id& n, int i, int m) {
  if (mistake("finger-start-one-based")) return add_mod(n, Id::power_of_two(i + 1), m);
  return add_mod(n, Id::power_of_two(i), m);
}

bool in_open(const Id& x, const Id& a, const Id& b) {
  if (mistake("open-equal-ends-empty") && a == b) return false;
  if (mistake("open-no-wrap")) return a < x && x < b;
  if (a < b) return a < x && x < b;
  return x > a || x < b;
}

bool in_open_closed(const Id& x, const Id& a, const Id& b) {
  if (mistake("open-closed-wrong-end")) return in_open(x, a, b) || x == a;
  if (mistake("open-closed-excludes-end")) return in_open(x, a, b);
  if (a < b) return a < x && x <= b;
  return x > a || x <= b;
}

bool in_closed_open(const Id& x, const Id& a, const Id& b) {
  if (mistake("closed-open-equal-ends-point") && a == b) return x == a;
  if (a < b) return a <= x && x < b;
  return x >= a || x < b;
}

bool in_closed(const Id& x, const Id& a, const Id& b) {
  if (mistake("closed-equal-ends-point") && a == b) return x == a;
  if (a < b) return a <= x && x <= b;
  return x >= a || x <= b;
}

}  // namespace p2plab::chord::logic
