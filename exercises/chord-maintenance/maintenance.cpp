// Exercise chord-maintenance: join, stabilize, notify and fix_fingers (the paper's Figure 7).
// The task, the points and how to test: README.md beside this file. Contracts: the comments in
// protocols/chord/logic.hpp. Replace each TODO(student) with your code; remove the
// [[maybe_unused]] of a parameter once you use it.
//
// You may call the interval functions of exercise chord-intervals (in_open, ...): when this
// exercise is graded, the reference versions of those are linked.
#include "logic.hpp"

namespace p2plab::chord::logic {

void join([[maybe_unused]] Neighbours& n, [[maybe_unused]] const Contact& found) {
  // TODO(student): n.join(n'): predecessor = nil; successor = n'.find_successor(n), which
  // answered `found`. Hint: Contact{} is nil; n.successors is a ContactList (clear, push_back).
  // Your code here.
}

Contact stabilize([[maybe_unused]] const Contact& self, [[maybe_unused]] const Contact& successor,
                  [[maybe_unused]] const Contact& x) {
  // TODO(student): x = successor.predecessor; if x in (n, successor) then successor = x.
  // Return the successor n keeps. x may be nil (x.known() is false).
  // Your code here.
  return Contact{};
}

Contact notify([[maybe_unused]] const Contact& self, [[maybe_unused]] const Contact& predecessor,
               [[maybe_unused]] const Contact& candidate) {
  // TODO(student): if predecessor is nil or candidate in (predecessor, n) then
  // predecessor = candidate. Return n's predecessor afterwards.
  // Your code here.
  return Contact{};
}

int fix_fingers([[maybe_unused]] int& next, [[maybe_unused]] int m) {
  // TODO(student): return the finger to refresh now and advance next, round robin over
  // 0 .. m-1. (The node then looks up finger_start(n, i, m) and stores the answer as finger i.)
  // Your code here.
  return -1;
}

}  // namespace p2plab::chord::logic
