// Plausible mistakes in chord-routing (mistakes.txt lists them; ../mistake.hpp explains).
#include "logic.hpp"
#include "mistake.hpp"

namespace p2plab::chord::logic {

Contact closest_preceding_finger(const RoutingTable& n, const Id& key) {
  Contact best = n.self;
  const int count = static_cast<int>(n.fingers.size());
  for (int k = 0; k < count; ++k) {
    // Farthest finger first; the mistake scans from the nearest.
    const int i = mistake("nearest-finger-first") ? k : count - 1 - k;
    const Contact& f = n.fingers[static_cast<std::size_t>(i)];
    const bool precedes =
        mistake("finger-may-equal-key") ? in_open_closed(f.id, n.self.id, key) : in_open(f.id, n.self.id, key);
    if (f.known() && f.peer != n.self.peer && precedes) {
      best = f;
      break;
    }
  }
  if (mistake("ignores-successor-list")) return best;
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
  const bool owns = mistake("key-at-successor-not-done") ? in_open(key, n.self.id, successor.id)
                                                         : in_open_closed(key, n.self.id, successor.id);
  if (owns) return {true, successor};
  const Contact next = closest_preceding_finger(n, key);
  if (mistake("answers-the-finger")) return {true, next.peer != n.self.peer ? next : successor};
  return {false, next.peer != n.self.peer ? next : successor};
}

}  // namespace p2plab::chord::logic
