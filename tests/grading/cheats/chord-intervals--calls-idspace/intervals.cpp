// A dishonest chord-intervals: every function handed to the engine's IdSpace, which the course
// wrote and which solves the exercise outright. It passes every test, so only the off-limits
// check (exercises/chord-intervals/off-limits.txt) can score it: zero.
#include "logic.hpp"

namespace p2plab::chord::logic {

Id add_mod(const Id& a, const Id& b, int m) { return IdSpace(m).add(a, b); }
Id sub_mod(const Id& a, const Id& b, int m) { return IdSpace(m).sub(a, b); }
Id distance(const Id& a, const Id& b, int m) { return IdSpace(m).distance(a, b); }
Id finger_start(const Id& n, int i, int m) {
  const IdSpace space(m);
  return space.add(n, space.pow2(i));
}
bool in_open(const Id& x, const Id& a, const Id& b) { return IdSpace::in_open(x, a, b); }
bool in_open_closed(const Id& x, const Id& a, const Id& b) { return IdSpace::in_open_closed(x, a, b); }
bool in_closed_open(const Id& x, const Id& a, const Id& b) { return IdSpace::in_closed_open(x, a, b); }
bool in_closed(const Id& x, const Id& a, const Id& b) { return x == a || IdSpace::in_open_closed(x, a, b); }

}  // namespace p2plab::chord::logic
