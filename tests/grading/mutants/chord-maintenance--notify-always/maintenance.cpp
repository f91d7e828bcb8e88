// MUTANT of exercise chord-maintenance (a deliberately broken solution; the graded tests must
// catch it). Broken: notify accepts every candidate as the new predecessor, without checking
// that it lies in (predecessor, n). Everything else is the reference.
#include "logic.hpp"

namespace p2plab::chord::logic {

void join(Neighbours& n, const Contact& found) {
  n.predecessor = Contact{};
  n.successors.clear();
  n.successors.push_back(found);
}

Contact stabilize(const Contact& self, const Contact& successor, const Contact& x) {
  // (n, n) is the whole circle but n: a ring of one takes any other x.
  if (x.known() && x.peer != self.peer && in_open(x.id, self.id, successor.id)) return x;
  return successor;
}

Contact notify(const Contact& self, const Contact& predecessor, const Contact& candidate) {
  (void)self;
  (void)predecessor;
  return candidate;  // BROKEN: should keep the predecessor unless candidate lies in (predecessor, n)
}

int fix_fingers(int& next, int m) {
  const int i = next % m;
  next = (i + 1) % m;
  return i;
}

}  // namespace p2plab::chord::logic
