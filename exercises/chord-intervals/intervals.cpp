// Exercise chord-intervals: identifier arithmetic modulo 2^m and intervals on the circle.
// The task, the points and how to test: README.md beside this file. Contracts and worked
// examples: protocols/chord/logic.hpp. Replace each TODO(student) with your code; remove the
// [[maybe_unused]] of a parameter once you use it.
//
// What you may use on Id values (engine/include/p2plab/id.hpp):
//   a + b, a - b          wrap around modulo 2^160, like unsigned integers
//   x.low_bits(m)         x mod 2^m
//   Id::power_of_two(i)   2^i
//   a < b, a == b, ...    plain comparison of the numbers
// Not the engine's IdSpace: it is the course's answer to this exercise, and the grader scores a
// file that calls it zero (off-limits.txt).
#include "logic.hpp"

namespace p2plab::chord::logic {

Id add_mod([[maybe_unused]] const Id& a, [[maybe_unused]] const Id& b, [[maybe_unused]] int m) {
  // TODO(student): (a + b) mod 2^m.
  // Your code here.
  return Id{};
}

Id sub_mod([[maybe_unused]] const Id& a, [[maybe_unused]] const Id& b, [[maybe_unused]] int m) {
  // TODO(student): (a - b) mod 2^m. Hint: 4 - 10 on a circle of 64 ids is 58.
  // Your code here.
  return Id{};
}

Id distance([[maybe_unused]] const Id& a, [[maybe_unused]] const Id& b, [[maybe_unused]] int m) {
  // TODO(student): how far a walks clockwise to reach b.
  // Your code here.
  return Id{};
}

Id finger_start([[maybe_unused]] const Id& n, [[maybe_unused]] int i, [[maybe_unused]] int m) {
  // TODO(student): (n + 2^i) mod 2^m.
  // Your code here.
  return Id{};
}

bool in_open([[maybe_unused]] const Id& x, [[maybe_unused]] const Id& a, [[maybe_unused]] const Id& b) {
  // TODO(student): x in (a, b), walking clockwise from a. Hint: the interval either stays below
  // 2^m (a < b) or passes 0 (a >= b; when a == b it is the whole circle but a).
  // Your code here.
  return false;
}

bool in_open_closed([[maybe_unused]] const Id& x, [[maybe_unused]] const Id& a, [[maybe_unused]] const Id& b) {
  // TODO(student): x in (a, b]. (a, a] is the whole circle.
  // Your code here.
  return false;
}

bool in_closed_open([[maybe_unused]] const Id& x, [[maybe_unused]] const Id& a, [[maybe_unused]] const Id& b) {
  // TODO(student): x in [a, b). [a, a) is the whole circle.
  // Your code here.
  return false;
}

bool in_closed([[maybe_unused]] const Id& x, [[maybe_unused]] const Id& a, [[maybe_unused]] const Id& b) {
  // TODO(student): x in [a, b]. [a, a] is the whole circle.
  // Your code here.
  return false;
}

}  // namespace p2plab::chord::logic
