// Exercise chord-failures: successor lists, check_predecessor, recovery after crashes,
// replication. The task, the points and how to test: README.md beside this file. Contracts:
// the comments in protocols/chord/logic.hpp. Replace each TODO(student) with your code; remove
// the [[maybe_unused]] of a parameter once you use it.
//
// You may call the interval functions of exercise chord-intervals (in_open_closed, ...): when
// this exercise is graded, the reference versions of those are linked.
#include "logic.hpp"

namespace p2plab::chord::logic {

ContactList successor_list([[maybe_unused]] const Contact& successor,
                           [[maybe_unused]] const ContactList& list_of_successor, [[maybe_unused]] int r) {
  // TODO(student): the successor, then the successor's own list, r entries in all.
  // Your code here.
  return ContactList{};
}

Contact check_predecessor([[maybe_unused]] const Contact& predecessor, [[maybe_unused]] bool answered) {
  // TODO(student): a predecessor that did not answer the ping is considered failed (nil).
  // Your code here.
  return Contact{};
}

ContactList drop_failed([[maybe_unused]] const Contact& self, [[maybe_unused]] const ContactList& successors,
                        [[maybe_unused]] std::span<const Contact> fingers, [[maybe_unused]] const Contact& failed) {
  // TODO(student): the successor list without `failed`. If nothing is left, the first finger
  // that is known, not failed and not n itself; if none, an empty list.
  // Your code here.
  return ContactList{};
}

bool is_responsible([[maybe_unused]] const Contact& self, [[maybe_unused]] const Contact& predecessor,
                    [[maybe_unused]] const Id& key) {
  // TODO(student): key in (predecessor, n]; without a predecessor, n takes every key.
  // Your code here.
  return false;
}

ContactList replica_holders([[maybe_unused]] const Contact& self, [[maybe_unused]] const ContactList& successors,
                            [[maybe_unused]] int copies) {
  // TODO(student): n's successors in order, skipping n itself and repeats, at most `copies`.
  // Your code here.
  return ContactList{};
}

}  // namespace p2plab::chord::logic
