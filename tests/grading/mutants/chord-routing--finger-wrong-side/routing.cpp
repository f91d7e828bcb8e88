// MUTANT of exercise chord-routing (a deliberately broken solution; the graded tests must catch
// it). Broken: closest_preceding_finger scans the fingers upward (i = 0 .. m-1) and so takes the
// NEAREST finger before the key instead of the farthest. Lookups still end at the right owner,
// but take O(N)-like paths instead of O(log N), and the lecture's route 52 -> 23 -> 39 -> 42
// is not followed. Everything else is the reference.
#include "logic.hpp"

namespace p2plab::chord::logic {

Contact closest_preceding_finger(const RoutingTable& n, const Id& key) {
  Contact best = n.self;
  for (int i = 0; i < static_cast<int>(n.fingers.size()); ++i) {  // BROKEN: should scan from m-1 down
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
