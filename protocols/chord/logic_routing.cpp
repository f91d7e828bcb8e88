// p2plab: reference-only (tools/make-student-release leaves this file out of the student tree)
// Reference solution of exercise chord-routing (see logic.hpp for the contract and
// exercises/chord-routing/README.md for the task). Not part of the student release.
#include "logic.hpp"

namespace p2plab::chord::logic {

Contact closest_preceding_finger(const RoutingTable& n, const Id& key) {
  Contact best = n.self;
  for (int i = static_cast<int>(n.fingers.size()) - 1; i >= 0; --i) {
    const Contact& f = n.fingers[static_cast<std::size_t>(i)];
    if (f.known() && f.peer != n.self.peer && in_open(f.id, n.self.id, key)) {
      best = f;
      break;
    }
  }
  // The successor list is ordered by distance from n: its farthest entry before the key is the
  // only candidate. It wins if the finger found lies between n and it.
  for (int j = static_cast<int>(n.successors.size()) - 1; j >= 0; --j) {
    const Contact& s = n.successors[static_cast<std::size_t>(j)];
    if (!s.known() || s.peer == n.self.peer || !in_open(s.id, n.self.id, key)) continue;
    if (best.peer == n.self.peer || in_open(best.id, n.self.id, s.id)) best = s;
    break;
  }
  return best;
}

Step find_successor_step(const RoutingTable& n, const Id& key) {
  if (n.successors.empty() || !n.successors[0].known()) return {false, Contact{}};
  const Contact& successor = n.successors[0];
  if (in_open_closed(key, n.self.id, successor.id)) return {true, successor};
  const Contact next = closest_preceding_finger(n, key);
  return {false, next.peer != n.self.peer ? next : successor};
}

}  // namespace p2plab::chord::logic
