// MUTANT of exercise chord-intervals (a deliberately broken solution; the graded tests must
// catch it). Broken: in_open_closed gets its closed end wrong: it excludes b, as in_open does, so
// key b is not "stored at b" (an off-by-one at the end of the interval). Everything else is the
// reference.
#include "logic.hpp"

namespace p2plab::chord::logic {

Id add_mod(const Id& a, const Id& b, int m) { return (a + b).low_bits(m); }

Id sub_mod(const Id& a, const Id& b, int m) { return (a - b).low_bits(m); }

Id distance(const Id& a, const Id& b, int m) { return sub_mod(b, a, m); }

Id finger_start(const Id& n, int i, int m) { return add_mod(n, Id::power_of_two(i), m); }

// Each test splits on a < b (the interval does not pass 0) or not (it wraps past 0, or a == b
// and it covers the circle). Example, m = 3: (6, 1] wraps, so x is in it when x > 6 or x <= 1.
bool in_open(const Id& x, const Id& a, const Id& b) {
  if (a < b) return a < x && x < b;
  return x > a || x < b;
}

bool in_open_closed(const Id& x, const Id& a, const Id& b) {
  if (a < b) return a < x && x < b;  // BROKEN: should be x <= b
  return x > a || x < b;             // BROKEN: should be x <= b
}

bool in_closed_open(const Id& x, const Id& a, const Id& b) {
  if (a < b) return a <= x && x < b;
  return x >= a || x < b;
}

bool in_closed(const Id& x, const Id& a, const Id& b) {
  // [a, a] is the whole circle (a ring of one node): a == b takes the wrapping branch.
  if (a < b) return a <= x && x <= b;
  return x >= a || x <= b;
}

}  // namespace p2plab::chord::logic
