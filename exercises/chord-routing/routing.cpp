// Exercise chord-routing: closest_preceding_finger and one step of the iterative find_successor.
// The task, the points and how to test: README.md beside this file. Contracts and worked
// examples: protocols/chord/logic.hpp. Replace each TODO(student) with your code; remove the
// [[maybe_unused]] of a parameter once you use it.
//
// You may call the interval functions of exercise chord-intervals (in_open, in_open_closed, ...):
// when this exercise is graded, the reference versions of those are linked, so a mistake there
// does not cost you here.
#include "logic.hpp"

namespace p2plab::chord::logic {

Contact closest_preceding_finger([[maybe_unused]] const RoutingTable& n, [[maybe_unused]] const Id& key) {
  // TODO(student): the paper's loop, for i = m-1 down to 0: the first known finger in
  // (n, key). Then look at the successor list: its farthest entry in (n, key) wins if it lies
  // beyond that finger. Nothing precedes the key: return n.self.
  // Hints: n.fingers[i].known() tells whether finger i is set; compare peers with .peer, ids
  // with .id.
  // Your code here.
  return Contact{};
}

Step find_successor_step([[maybe_unused]] const RoutingTable& n, [[maybe_unused]] const Id& key) {
  // TODO(student): if key lies in (n, successor], the lookup is done: the successor owns it.
  // Otherwise name the next node to ask: closest_preceding_finger(n, key), or the successor if
  // that is n itself. No successor at all: {false, Contact{}}.
  // Your code here.
  return Step{};
}

}  // namespace p2plab::chord::logic
