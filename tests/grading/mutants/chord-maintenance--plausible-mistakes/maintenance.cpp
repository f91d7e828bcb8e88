// Plausible mistakes in chord-maintenance (mistakes.txt lists them; ../mistake.hpp explains).
#include "logic.hpp"
#include "mistake.hpp"

namespace p2plab::chord::logic {

void join(Neighbours& n, const Contact& found) {
  if (!mistake("join-keeps-predecessor")) n.predecessor = Contact{};
  const ContactList old = n.successors;
  n.successors.clear();
  n.successors.push_back(found);
  if (mistake("join-keeps-old-successors")) {
    for (const Contact& c : old) n.successors.push_back(c);
  }
}

Contact stabilize(const Contact& self, const Contact& successor, const Contact& x) {
  if (mistake("stabilize-takes-any-x") && x.known() && x.peer != self.peer) return x;
  if (mistake("stabilize-never-moves")) return successor;
  if (x.known() && x.peer != self.peer && in_open(x.id, self.id, successor.id)) return x;
  return successor;
}

Contact notify(const Contact& self, const Contact& predecessor, const Contact& candidate) {
  if (mistake("notify-only-when-unknown")) return predecessor.known() ? predecessor : candidate;
  if (mistake("notify-always")) return candidate;
  if (!predecessor.known() || in_open(candidate.id, predecessor.id, self.id)) return candidate;
  return predecessor;
}

int fix_fingers(int& next, int m) {
  if (mistake("fix-fingers-skips-first")) {
    next = (next + 1) % m;
    return next;
  }
  if (mistake("fix-fingers-always-first")) return 0;
  const int i = next % m;
  next = (i + 1) % m;
  return i;
}

}  // namespace p2plab::chord::logic
