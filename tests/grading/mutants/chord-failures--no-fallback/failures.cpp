// MUTANT of exercise chord-failures (a deliberately broken solution; the graded tests must catch
// it). Broken: drop_failed has no finger fallback: when every successor is gone it returns an
// empty list (the node gives up on the ring) although it still knows live fingers.
// Everything else is the reference.
#include "logic.hpp"

namespace p2plab::chord::logic {

ContactList successor_list(const Contact& successor, const ContactList& list_of_successor, int r) {
  ContactList list;
  list.push_back(successor);
  for (const Contact& c : list_of_successor) {
    if (list.size() >= r) break;
    list.push_back(c);
  }
  return list;
}

Contact check_predecessor(const Contact& predecessor, bool answered) { return answered ? predecessor : Contact{}; }

ContactList drop_failed(const Contact& self, const ContactList& successors, std::span<const Contact> fingers,
                        const Contact& failed) {
  ContactList kept;
  for (const Contact& s : successors) {
    if (!(s == failed)) kept.push_back(s);
  }
  // BROKEN: no fallback to the first usable finger when the list is empty.
  (void)self;
  (void)fingers;
  return kept;
}

bool is_responsible(const Contact& self, const Contact& predecessor, const Id& key) {
  if (!predecessor.known() || predecessor.peer == self.peer) return true;
  return in_open_closed(key, predecessor.id, self.id);
}

ContactList replica_holders(const Contact& self, const ContactList& successors, int copies) {
  ContactList holders;
  for (const Contact& s : successors) {
    if (holders.size() >= copies) break;
    if (!s.known() || s.peer == self.peer) continue;
    bool seen = false;
    for (const Contact& h : holders) seen = seen || h.peer == s.peer;
    if (!seen) holders.push_back(s);
  }
  return holders;
}

}  // namespace p2plab::chord::logic
