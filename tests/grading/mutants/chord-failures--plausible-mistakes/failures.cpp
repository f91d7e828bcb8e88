// Plausible mistakes in chord-failures (mistakes.txt lists them; ../mistake.hpp explains).
#include "logic.hpp"
#include "mistake.hpp"

namespace p2plab::chord::logic {

ContactList successor_list(const Contact& successor, const ContactList& list_of_successor, int r) {
  ContactList list;
  if (!mistake("successor-list-without-successor")) list.push_back(successor);
  const int limit = r + (mistake("successor-list-one-too-long") ? 1 : 0);
  for (const Contact& c : list_of_successor) {
    if (list.size() >= limit) break;
    list.push_back(c);
  }
  return list;
}

Contact check_predecessor(const Contact& predecessor, bool answered) {
  if (mistake("predecessor-kept-when-silent")) return predecessor;
  return answered ? predecessor : Contact{};
}

ContactList drop_failed(const Contact& self, const ContactList& successors, std::span<const Contact> fingers,
                        const Contact& failed) {
  ContactList kept;
  for (const Contact& s : successors) {
    if (mistake("drop-failed-drops-first") ? &s == &successors.front() : s == failed) continue;
    kept.push_back(s);
  }
  if (kept.empty() && !mistake("no-finger-fallback")) {
    for (const Contact& f : fingers) {
      if (f.known() && !(f == failed) && (mistake("fallback-to-self") || f.peer != self.peer)) {
        kept.push_back(f);
        break;
      }
    }
  }
  return kept;
}

bool is_responsible(const Contact& self, const Contact& predecessor, const Id& key) {
  if (!predecessor.known() || predecessor.peer == self.peer) return true;
  if (mistake("responsible-open-interval")) return in_open(key, predecessor.id, self.id);
  if (mistake("responsible-wrong-side")) return in_closed_open(key, predecessor.id, self.id);
  return in_open_closed(key, predecessor.id, self.id);
}

ContactList replica_holders(const Contact& self, const ContactList& successors, int copies) {
  ContactList holders;
  for (const Contact& s : successors) {
    if (holders.size() >= copies) break;
    if (!s.known() || (s.peer == self.peer && !mistake("replicas-on-self"))) continue;
    bool seen = false;
    for (const Contact& h : holders) seen = seen || h.peer == s.peer;
    if (!seen || mistake("replicas-not-deduplicated")) holders.push_back(s);
  }
  return holders;
}

}  // namespace p2plab::chord::logic
