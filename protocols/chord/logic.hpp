#pragma once
// The pieces of Chord a student writes (exercises chord-intervals, chord-routing,
// chord-maintenance, chord-failures), as plain functions over small typed values.
//
// The protocol (maintenance.cpp, storage.cpp, and routing_generic.cpp for the routing decisions)
// calls exactly these functions for every decision they name, so the same protocol runs on the
// reference code (logic_*.cpp beside this file) or on a student's code (exercises/chord-*/),
// chosen when the program is linked (CMake option P2PLAB_CODE). Nothing here knows of messages,
// timers or the simulator: a function gets what one node knows and returns what it decides.
//
// Identifiers are `Id` values below 2^m (m = 1 .. 160). Finger indices start at 0, as in the
// lecture: finger i of node n points to successor(n + 2^i), i = 0 .. m-1.
#include <array>
#include <cstdint>
#include <span>

#include "p2plab/id.hpp"
#include "p2plab/types.hpp"

namespace p2plab::chord {

/// Longest successor list a message can carry (r <= 32 covers rings of 2^32 peers).
constexpr int kMaxSuccessors = 32;

/// A peer as one node knows it: its identifier and the handle the node sends messages to.
/// A default Contact is "nobody" (the paper's nil).
struct Contact {
  Id id;
  PeerIndex peer = kNoPeer;

  bool known() const { return peer != kNoPeer; }
  friend bool operator==(const Contact& a, const Contact& b) {
    return a.peer == b.peer && (a.peer == kNoPeer || a.id == b.id);
  }
};

/// A short list of contacts (a successor list), used like a std::vector but without a heap
/// allocation: at most kMaxSuccessors entries; push_back past that is ignored.
class ContactList {
 public:
  ContactList() = default;
  ContactList(std::initializer_list<Contact> contacts) {
    for (const Contact& c : contacts) push_back(c);
  }
  void push_back(const Contact& c) {
    if (count_ < kMaxSuccessors) items_[static_cast<std::size_t>(count_++)] = c;
  }
  int size() const { return count_; }
  bool empty() const { return count_ == 0; }
  bool full() const { return count_ == kMaxSuccessors; }
  void clear() { count_ = 0; }
  const Contact& operator[](int i) const { return items_[static_cast<std::size_t>(i)]; }
  Contact& operator[](int i) { return items_[static_cast<std::size_t>(i)]; }
  const Contact& front() const { return items_[0]; }
  const Contact* begin() const { return items_.data(); }
  const Contact* end() const { return items_.data() + count_; }
  friend bool operator==(const ContactList& a, const ContactList& b) {
    if (a.count_ != b.count_) return false;
    for (int i = 0; i < a.count_; ++i) {
      if (!(a[i] == b[i])) return false;
    }
    return true;
  }

 private:
  std::array<Contact, kMaxSuccessors> items_{};
  int count_ = 0;
};

namespace logic {

// =================================================================================================
// Exercise chord-intervals: identifier arithmetic modulo 2^m and intervals on the circle.
// Helpers you may use (engine, id.hpp): a + b and a - b wrap modulo 2^160, Id::power_of_two(i),
// x.low_bits(m) = x mod 2^m, comparisons a < b, a == b.
// =================================================================================================

/// (a + b) mod 2^m. Example, m = 6: add_mod(60, 10, 6) = 6.
Id add_mod(const Id& a, const Id& b, int m);
/// (a - b) mod 2^m. Example, m = 6: sub_mod(4, 10, 6) = 58.
Id sub_mod(const Id& a, const Id& b, int m);
/// Clockwise distance from a to b on the circle of 2^m ids: how far a walks to reach b.
/// Example, m = 6: distance(52, 8, 6) = 20; distance(8, 52, 6) = 44; distance(5, 5, 6) = 0.
Id distance(const Id& a, const Id& b, int m);
/// (n + 2^i) mod 2^m: the start of finger i of node n (i = 0 .. m-1).
/// Example, m = 6, n = 52: starts 53, 54, 56, 60, 4, 20.
Id finger_start(const Id& n, int i, int m);

// Interval membership walking clockwise from a to b. When a == b, (a, a) is the whole circle but
// a; (a, a], [a, a) and [a, a] are the whole circle (a node that is its own successor is
// responsible for every key). Worked example with m = 3 (ids 0..7):
//   (6, 1] = {7, 0, 1}    (1, 6) = {2, 3, 4, 5}    [6, 1) = {6, 7, 0}    [1, 6] = {1, ..., 6}
/// x in (a, b)
bool in_open(const Id& x, const Id& a, const Id& b);
/// x in (a, b]: "is key x stored at b, whose predecessor is a?"
bool in_open_closed(const Id& x, const Id& a, const Id& b);
/// x in [a, b): "does finger interval [start_i, start_i+1) contain x?"
bool in_closed_open(const Id& x, const Id& a, const Id& b);
/// x in [a, b]
bool in_closed(const Id& x, const Id& a, const Id& b);

// =================================================================================================
// Exercise chord-routing: the paper's closest_preceding_finger and one step of the iterative
// find_successor.
// =================================================================================================

/// What node n knows when it routes a lookup.
struct RoutingTable {
  int m = 0;
  Contact self;
  /// finger[i] = the node n believes is successor(n + 2^i), i = 0 .. m-1; !known() if unknown.
  std::span<const Contact> fingers;
  /// The successor list, nearest first: successors[0] is n's successor. May be empty.
  std::span<const Contact> successors;
};

/// The paper's n.closest_preceding_finger(key): for i = m-1 down to 0, the first known finger in
/// (n, key). Then, as in the journal version, the successor list counts too: its farthest entry
/// in (n, key) wins if it lies beyond that finger (if the finger is in (n, entry)).
/// Returns n itself (routing.self) if nothing precedes the key.
/// Example (lecture, m = 6): node 52 with fingers 54, 54, 56, 60, 4, 23 and key 44: finger 5 = 23
/// lies in (52, 44), so the answer is 23.
Contact closest_preceding_finger(const RoutingTable& n, const Id& key);

/// The answer node n gives in an iterative lookup for key:
///   done = true,  node = n's successor       if key in (n, successor]   (n is key's predecessor)
///   done = false, node = the next node to ask: closest_preceding_finger(key), or the successor
///                 when no finger precedes the key.
/// A node without any successor answers {false, nobody}.
/// Example (lecture, m = 6): lookup(44) at 52 -> {false, 23}; at 23 -> {false, 39};
/// at 39 -> {false, 42}; at 42 (successor 45) -> {true, 45}.
struct Step {
  bool done = false;
  Contact node;
};
Step find_successor_step(const RoutingTable& n, const Id& key);

// =================================================================================================
// Exercise chord-maintenance: join, stabilize, notify, fix_fingers (the paper's Figure 7).
// =================================================================================================

/// What a node knows of its neighbours on the ring.
struct Neighbours {
  Contact self;
  Contact predecessor;     // !known(): nil
  ContactList successors;  // nearest first
};

/// n.join(n'): the lookup of n's own id through the known peer n' answered `found`.
/// Afterwards: predecessor = nil, successor = found (a successor list of just `found`).
void join(Neighbours& n, const Contact& found);

/// n.stabilize(): n asked its successor for its predecessor x (x may be nobody).
/// Returns the node n should take as successor: x if x lies in (n, successor), else successor.
/// (n then notifies the returned node.) A ring of one is its own successor: then any x other than
/// n is a better successor.
Contact stabilize(const Contact& self, const Contact& successor, const Contact& x);

/// n.notify(candidate): candidate thinks it might be n's predecessor.
/// Returns n's new predecessor: candidate if n has none or if candidate lies in
/// (predecessor, n); otherwise the old predecessor.
Contact notify(const Contact& self, const Contact& predecessor, const Contact& candidate);

/// n.fix_fingers(): which finger to refresh now. `next` is the node's round-robin counter
/// (starts at 0); return the finger index to refresh and advance `next` so that repeated calls
/// visit 0, 1, ..., m-1, 0, 1, ...  The node then looks up finger_start(n, i, m).
int fix_fingers(int& next, int m);

// =================================================================================================
// Exercise chord-failures: successor lists, check_predecessor, recovery, replication.
// =================================================================================================

/// Stabilize's second half: n's successor s sent its own successor list. n's new list is s
/// followed by s's list, cut to r entries. Example (lecture ring), r = 3: s = 45, its list
/// 49, 52, 54 -> 45, 49, 52.
ContactList successor_list(const Contact& successor, const ContactList& list_of_successor, int r);

/// check_predecessor(): n pinged its predecessor. Returns the predecessor n keeps: nil if the
/// ping went unanswered, else the predecessor unchanged.
Contact check_predecessor(const Contact& predecessor, bool answered);

/// Recovery: `failed` stopped answering. Returns n's successor list without it (every entry
/// equal to failed removed, order kept). If nothing is left, fall back to the first finger
/// (lowest i) that is known, not failed and not n itself; if there is none, an empty list (n
/// has lost the ring and must join again).
ContactList drop_failed(const Contact& self, const ContactList& successors, std::span<const Contact> fingers,
                        const Contact& failed);

/// Storage: is n (with this predecessor) responsible for key? Yes if key lies in
/// (predecessor, n]; a node without a predecessor takes every key it is asked to store.
bool is_responsible(const Contact& self, const Contact& predecessor, const Id& key);

/// Replication: the peers that keep a copy of the keys n is responsible for: n's successors in
/// order, without n itself and without duplicates, at most `copies` of them.
ContactList replica_holders(const Contact& self, const ContactList& successors, int copies);

}  // namespace logic
}  // namespace p2plab::chord
