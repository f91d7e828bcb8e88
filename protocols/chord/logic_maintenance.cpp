// p2plab: reference-only (tools/make-student-release leaves this file out of the student tree)
// Reference solution of exercise chord-maintenance (see logic.hpp for the contract and
// exercises/chord-maintenance/README.md for the task). Not part of the student release.
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
  if (!predecessor.known() || in_open(candidate.id, predecessor.id, self.id)) return candidate;
  return predecessor;
}

int fix_fingers(int& next, int m) {
  const int i = next % m;
  next = (i + 1) % m;
  return i;
}

}  // namespace p2plab::chord::logic
