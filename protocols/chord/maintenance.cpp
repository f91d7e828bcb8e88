// The paper's ring maintenance: n.join(n'), and the periodic n.stabilize(), n.notify(n'),
// n.fix_fingers(), n.check_predecessor(); the ToN version's failure handling (successor lists,
// dead peers dropped) and a graceful leave. Every decision the paper's pseudo-code makes is a
// logic.hpp function (the student's code in exercises chord-maintenance and chord-failures);
// this file adds the messages, timeouts and state updates around them.
#include <algorithm>

#include "chord.hpp"

namespace p2plab::chord {

// ---- create and join ----------------------------------------------------------------------------

// n.create(): predecessor = nil; successor = n.
void Protocol::create(PeerIndex n) {
  reserve(n + 1);
  set_predecessor(n, kNoPeer);
  const PeerIndex self[1] = {n};
  set_successor_list(n, self, 1);
  start_maintenance(n);
}

// n.join(n'): predecessor = nil; successor = n'.find_successor(n). The lookup runs through the
// bootstrap peer n' (lookup.cpp); join_answered below is the assignment.
void Protocol::join(PeerIndex n, PeerIndex bootstrap) {
  reserve(n + 1);
  set_predecessor(n, kNoPeer);
  lookup(n, transport_.id_of(n), Purpose::Join, bootstrap);
}

void Protocol::join_answered(std::uint32_t index, PeerIndex found) {
  const PeerIndex n = lookup_at(index).origin;
  logic::Neighbours joined = neighbours(n);
  logic::join(joined, contact(found));
  apply(n, joined);
  finish(index, found, true);
  start_maintenance(n);
}

void Protocol::join_with_successor(PeerIndex n, PeerIndex s) {
  if (s == kNoPeer || s == n) return;
  logic::Neighbours joined = neighbours(n);
  logic::join(joined, contact(s));
  apply(n, joined);
  start_maintenance(n);
}

void Protocol::start_maintenance(PeerIndex n) {
  if (!params_.maintenance) return;
  Rng& rng = transport_.rng(n);
  // Random phases keep a million peers from stabilizing in lock step.
  auto first = [&](SimTime period) { return static_cast<SimTime>(rng.below(static_cast<std::uint64_t>(period))) + 1; };
  transport_.set_timer(n, first(params_.stabilize), static_cast<std::uint16_t>(TimerKind::Stabilize), 0);
  transport_.set_timer(n, first(params_.fix_fingers), static_cast<std::uint16_t>(TimerKind::FixFingers), 0);
  transport_.set_timer(n, first(params_.check_predecessor), static_cast<std::uint16_t>(TimerKind::CheckPredecessor), 0);
}

// ---- stabilize ------------------------------------------------------------------------------------

// n.stabilize():
//   x = successor.predecessor            (GET_PREDECESSOR, answered below)
//   if x in (n, successor): successor = x
//   successor.notify(n)
// The reply also carries the successor's own successor list (the ToN version): n's list becomes
// its successor followed by that list.
void Protocol::stabilize(PeerIndex n) {
  const PeerIndex s = successor(n);
  if (s == kNoPeer) return;
  if (s == n) {
    // A ring of one is its own successor: its successor's predecessor is its own.
    const Contact chosen = logic::stabilize(contact(n), contact(n), contact(predecessor_[n]));
    if (valid(chosen) && chosen.peer != n) set_successor(n, chosen.peer);
    return;
  }
  // One stabilize at a time: while the last one is unanswered, its timeout decides (a period
  // shorter than rpc_timeout must not keep pushing the timeout away).
  Upkeep& u = upkeep(n);
  if (u.stabilize_deadline >= 0) return;
  Message m;
  m.type = MsgType::GetPredecessor;
  m.tag = ++u.stabilize_tag;
  send(n, s, m);
  u.stabilize_deadline = transport_.now() + params_.rpc_timeout;
  transport_.set_timer(n, params_.rpc_timeout, static_cast<std::uint16_t>(TimerKind::StabilizeTimeout), m.tag);
}

// At the successor: "successor.predecessor", and its successor list.
void Protocol::answer_get_predecessor(PeerIndex self, PeerIndex from, const Message& msg) {
  Message reply;
  reply.type = MsgType::GetPredecessorReply;
  reply.tag = msg.tag;
  reply.node = predecessor_[self];
  fill_successor_list(self, reply);
  send(self, from, reply);
}

// Back at n: the rest of stabilize. Example (lecture ring, r = 3): 42 with successor 45 learns
// x = 44 (a newcomer that just joined with successor 45) and 45's list 49, 52, 54. 42's list
// becomes 45, 49, 52; 44 lies in (42, 45), so 44 goes in front: 44, 45, 49; 42 notifies 44.
void Protocol::stabilize_reply(PeerIndex self, PeerIndex from, const Message& msg) {
  Upkeep& u = upkeep(self);
  if (msg.tag != u.stabilize_tag || u.stabilize_deadline < 0) return;
  u.stabilize_deadline = -1;
  const PeerIndex s = from;
  std::array<PeerIndex, kMaxSuccessors> before{};
  const int old_count = successor_count(self);
  for (int j = 0; j < old_count; ++j) before[j] = successors_[slot(self, j)].node;
  // My successor list: my successor, then its list (minus its last entry).
  ContactList theirs;
  for (int j = 0; j < msg.count; ++j) theirs.push_back(contact(msg.list[j]));
  logic::Neighbours updated = neighbours(self);
  updated.successors = logic::successor_list(contact(s), theirs, params_.successors);
  apply(self, updated);
  // x = successor.predecessor; if x in (n, successor), successor = x.
  const Contact chosen = logic::stabilize(contact(self), contact(s), contact(msg.node));
  if (valid(chosen) && chosen.peer != self && chosen.peer != successor(self)) set_successor(self, chosen.peer);
  // successor.notify(n)
  Message note;
  note.type = MsgType::Notify;
  send(self, successor(self), note);
  // New successors hold no copies of my keys yet: they get them (the others have them).
  const int new_count = successor_count(self);
  bool changed = new_count != old_count;
  for (int j = 0; j < new_count && !changed; ++j) changed = successors_[slot(self, j)].node != before[j];
  if (changed) replicate_all_primary(self, before.data(), old_count);
}

// The successor did not answer within rpc_timeout: it is gone, the next one in the list takes over.
void Protocol::stabilize_timeout(PeerIndex self, std::uint32_t tag) {
  Upkeep& u = upkeep(self);
  if (tag != u.stabilize_tag || u.stabilize_deadline < 0) return;
  u.stabilize_deadline = -1;
  remove_dead(self, successor(self));
}

// ---- notify ---------------------------------------------------------------------------------------

// n.notify(n'): n' thinks it might be n's predecessor.
//   if predecessor is nil or n' in (predecessor, n): predecessor = n'
// The decision is logic::notify; a new predecessor then owns part of n's keys (hand_over_keys,
// storage.cpp).
void Protocol::notify(PeerIndex n, PeerIndex candidate) {
  const PeerIndex old = predecessor_[n];
  if (candidate == n) return;
  const Contact chosen = logic::notify(contact(n), contact(old), contact(candidate));
  if (chosen.peer != candidate || chosen.peer == old) return;  // kept the old one (or nonsense)
  set_predecessor(n, candidate);
  hand_over_keys(n, old, candidate);
  // A ring of one learns its first partner here.
  if (successor(n) == n) set_successor(n, candidate);
}

// ---- fix_fingers ----------------------------------------------------------------------------------

// n.fix_fingers():
//   next = next + 1 (wrapping at m)
//   finger[next] = find_successor(n + 2^next)
// The lookup runs as any other (lookup.cpp); fix_finger_answered below is the assignment.
void Protocol::fix_fingers(PeerIndex n) {
  if (successor(n) == kNoPeer) return;
  std::uint8_t& next_finger = upkeep(n).next_finger;
  int next = next_finger;
  const int i = logic::fix_fingers(next, params_.m);
  next_finger = static_cast<std::uint8_t>(std::clamp(next, 0, params_.m - 1));
  if (i < 0 || i >= params_.m) return;  // not a finger index
  lookup(n, logic::finger_start(transport_.id_of(n), i, params_.m), Purpose::FixFinger, static_cast<std::uint32_t>(i));
}

// Finger i is successor(n + 2^i). The same node is also finger j for every later start that
// does not pass it: e.g. m = 6, n = 52, the owner of start 53 is 54, and start 54 (i = 1) is not
// past 54 (distances from 52: 2 <= 2), so finger 1 = 54 too, with no second lookup; start 56
// (distance 4) is past it. An owner equal to n (a ring of one) is at distance 2^m: it owns every
// start. The round-robin counter then skips the fingers filled this way.
void Protocol::fix_finger_answered(std::uint32_t index, PeerIndex owner) {
  const Lookup& l = lookup_at(index);
  const PeerIndex n = l.origin;
  const int i = l.finger;
  const Id& self = transport_.id_of(n);
  const bool whole_ring = owner == n;
  const Id owner_distance = space_.distance(self, transport_.id_of(owner));
  set_finger(n, i, owner);
  int j = i + 1;
  while (j < params_.m && (whole_ring || space_.pow2(j) <= owner_distance)) {
    set_finger(n, j, owner);
    ++j;
  }
  std::uint8_t& next_finger = upkeep(n).next_finger;
  if (next_finger == (i + 1) % params_.m) next_finger = static_cast<std::uint8_t>(j % params_.m);
  finish(index, owner, true);
}

// ---- check_predecessor ----------------------------------------------------------------------------

// n.check_predecessor(): if predecessor has failed, predecessor = nil. "Has failed" is a PING
// left without PONG for rpc_timeout (ping_timeout below).
void Protocol::check_predecessor(PeerIndex n) {
  const PeerIndex p = predecessor_[n];
  Upkeep& u = upkeep(n);
  if (p == kNoPeer || p == n || u.ping_deadline >= 0) return;  // one ping at a time
  Message m;
  m.type = MsgType::Ping;
  m.tag = ++u.ping_tag;
  send(n, p, m);
  u.ping_target = p;
  u.ping_deadline = transport_.now() + params_.rpc_timeout;
  transport_.set_timer(n, params_.rpc_timeout, static_cast<std::uint16_t>(TimerKind::PingTimeout), m.tag);
}

void Protocol::answer_ping(PeerIndex self, PeerIndex from, const Message& msg) {
  Message reply;
  reply.type = MsgType::Pong;
  reply.tag = msg.tag;
  send(self, from, reply);
}

void Protocol::pong(PeerIndex self, const Message& msg) {
  Upkeep& u = upkeep(self);
  if (msg.tag == u.ping_tag) u.ping_deadline = -1;
}

void Protocol::ping_timeout(PeerIndex self, std::uint32_t tag) {
  Upkeep& u = upkeep(self);
  if (tag != u.ping_tag || u.ping_deadline < 0) return;
  u.ping_deadline = -1;
  if (predecessor_[self] != u.ping_target) return;  // it changed meanwhile: no verdict on the new one
  const Contact kept = logic::check_predecessor(contact(predecessor_[self]), false);
  set_predecessor(self, valid(kept) ? kept.peer : kNoPeer);
  // The failed predecessor's keys are now mine. Without a predecessor every key it holds looks
  // like its own (copies of other peers' keys too): the copies go out once the next predecessor
  // has notified it (hand_over_keys), not all of them now.
  if (predecessor_[self] != kNoPeer) replicate_all_primary(self);
}

// ---- failures and leaving -------------------------------------------------------------------------

// `dead` did not answer: n forgets it everywhere. Its successor list loses it (the next entry
// moves up; logic::drop_failed falls back to a finger if the list runs empty). Example, r = 3:
// 42 with list 45, 49, 52 finds 45 dead: the list becomes 49, 52 (the next stabilize with 49
// fills the third entry again).
void Protocol::remove_dead(PeerIndex n, PeerIndex dead) {
  const Contact failed = contact(dead);
  std::array<Contact, IdSpace::kMaxBits> fingers{};
  for (int i = 0; i < params_.m; ++i) fingers[static_cast<std::size_t>(i)] = contact(finger(n, i));
  const ContactList kept =
      logic::drop_failed(contact(n), neighbours(n).successors,
                         std::span<const Contact>(fingers.data(), static_cast<std::size_t>(params_.m)), failed);
  for (int i = 0; i < params_.m; ++i) {
    if (finger(n, i) == dead) set_finger(n, i, kNoPeer);
  }
  if (predecessor_[n] == dead) set_predecessor(n, kNoPeer);
  std::array<PeerIndex, kMaxSuccessors> list{};
  int count = 0;
  for (const Contact& c : kept) {
    if (valid(c) && c.peer != dead) list[static_cast<std::size_t>(count++)] = c.peer;
  }
  if (count == 0) {
    // Every successor and finger it knew is gone (e.g. it joined through an answer naming a
    // peer that had just crashed): it is out of the ring and must join again.
    for (int j = 0; j < params_.successors; ++j) successors_[slot(n, j)].node = kNoPeer;  // prints unused then
    trace_state(n, StateField::Successor, 0, kNoPeer);
    if (join_failed_) join_failed_(n);
    return;
  }
  set_successor_list(n, list.data(), count);
}

// Graceful leave: n tells its successor its predecessor (LEAVE_TO_SUCCESSOR), hands it its keys,
// and tells its predecessor its successor list (LEAVE_TO_PREDECESSOR): both link up at once.
void Protocol::leave(PeerIndex n) {
  const PeerIndex s = successor(n);
  const PeerIndex p = predecessor_[n];
  if (s != kNoPeer && s != n) {
    Message m;
    m.type = MsgType::LeaveToSuccessor;
    m.node = p;
    send(n, s, m);
    hand_over_all(n, s);
  }
  if (p != kNoPeer && p != n) {
    Message m;
    m.type = MsgType::LeaveToPredecessor;
    fill_successor_list(n, m);
    send(n, p, m);
  }
}

void Protocol::leave_to_successor(PeerIndex self, PeerIndex from, const Message& msg) {
  if (predecessor_[self] == from) {
    set_predecessor(self, msg.node == self ? kNoPeer : msg.node);
  }
}

void Protocol::leave_to_predecessor(PeerIndex self, PeerIndex from, const Message& msg) {
  if (successor(self) != from) return;
  std::array<PeerIndex, kMaxSuccessors> list{};
  int count = 0;
  for (int j = 0; j < msg.count; ++j) {
    if (msg.list[j] != from) list[count++] = msg.list[j];
  }
  if (count == 0) list[count++] = self;  // the leaver was my only partner
  set_successor_list(self, list.data(), count);
}

}  // namespace p2plab::chord
