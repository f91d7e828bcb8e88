// The paper's lookup: n.find_successor(id) and its loop n.find_predecessor(id), run over the
// network either iteratively (the requester asks each n' in turn) or recursively (each n' hands
// the question on); the lookup's end (lookup_answered: the answer goes to the function that
// asked), and what a lookup does when a peer does not answer. The loop's body at one peer,
// closest_preceding_finger included, is next_step in routing_fast.cpp.
#include <algorithm>

#include "chord.hpp"
#include "p2plab/message_pool.hpp"

namespace p2plab::chord {

// The paper, for a lookup started at n:
//
//   n.find_successor(id)                 n.find_predecessor(id)
//     n' = find_predecessor(id)            n' = n
//     return n'.successor                  while id not in (n', n'.successor]
//                                            n' = n'.closest_preceding_finger(id)
//                                          return n'
//
// The loop's body (next_step, routing_fast.cpp) runs here at n first; later iterations run at
// the peers n' asked over the network (find_predecessor below, or forward_recursive). When the
// loop ends, n'.successor is the answer: lookup_answered. A lookup is a slot in its requester's book (its
// requester, key, path, timeout), so that many run at once and replies find their lookup.
// Example (lecture ring, m = 6): find_successor(44) at 52: 44 is not in (52, 54], so n' = 23
// (finger 5), then 39, then 42; 44 is in (42, 45]: the answer is 45, after 3 hops.
std::uint32_t Protocol::find_successor(PeerIndex n, const Id& key, Purpose purpose, std::uint32_t value) {
  const std::uint32_t index = open_lookup(n, key, purpose, value);
  const std::uint32_t serial = lookup_at(index).serial;
  PeerIndex first_hop = kNoPeer;
  if (purpose == Purpose::Join) {
    first_hop = lookup_at(index).bootstrap;  // a joining peer knows nothing yet but its bootstrap peer
  } else if (next_step(n, key, nullptr, 0, first_hop)) {
    lookup_answered(index, first_hop);  // key in (n, n.successor]: 0 hops
    return serial;
  } else if (first_hop == kNoPeer) {
    finish(index, kNoPeer, false);  // no successor known: the peer is not part of a ring
    return serial;
  }
  if (params_.recursive) {
    find_successor_recursive(index, first_hop);
  } else {
    find_predecessor(index, first_hop);
  }
  return serial;
}

// A new lookup slot: who asks, for what, and for which purpose (traced as LookupStart).
std::uint32_t Protocol::open_lookup(PeerIndex n, const Id& key, Purpose purpose, std::uint32_t value) {
  const std::uint32_t index = allocate_lookup(n);
  Lookup& l = lookup_at(index);
  LookupBook& book = book_of(n);
  l.serial = book.next++ * static_cast<std::uint32_t>(books_.size()) + (index >> kBookShift);
  l.purpose = purpose;
  // fix_fingers passes the finger index, join the bootstrap peer where put passes a value.
  l.finger = purpose == Purpose::FixFinger ? static_cast<std::uint8_t>(value) : 0;
  if (purpose == Purpose::FixFinger) value = kNoValue;
  l.timeouts = 0;
  l.origin = n;
  l.key = key;
  l.start = transport_.now();
  l.deadline = -1;
  l.value = purpose == Purpose::Join ? kNoValue : value;
  l.owner = kNoPeer;
  l.bootstrap = purpose == Purpose::Join ? value : kNoPeer;
  l.storage_phase = false;
  l.messages = 0;
  l.path.clear();
  // The path starts with the requester. A recursive user lookup whose record is not kept never
  // reads it (its answer brings the path's length, answer_length; an empty path stands for the
  // requester alone): its buffer, a line of its own in every lookup slot, is left alone (its
  // miss was 2.5 % of the 10^6-peer bench's time).
  if (keep_records_ || !params_.recursive || purpose != Purpose::User) l.path.push_back(n);
  l.answer_length = 0;
  l.last = n;
  l.avoid.clear();
  // A peer joining again may still be known to others: its own id must not come back as its
  // successor.
  if (purpose == Purpose::Join) l.avoid.push_back(n);
  if (purpose == Purpose::User) book.stats.started();
  Trace& trace = transport_.trace();
  if (trace.enabled()) {
    TraceEvent e;
    e.time = transport_.now();
    e.kind = TraceKind::LookupStart;
    e.detail = static_cast<std::uint8_t>(purpose);
    e.peer = n;
    e.lookup = l.serial;
    e.key = key;
    trace.record(e);
  }
  return index;
}

std::uint32_t Protocol::allocate_lookup(PeerIndex requester) {
  const std::uint32_t book_index = transport_.partition_of(requester);
  LookupBook& book = books_[book_index];
  if (!book.free.empty()) {
    const std::uint32_t slot = book.free.back();
    book.free.pop_back();
    return slot;
  }
  const auto index = static_cast<std::uint32_t>(book.slots.size());
  book.slots.emplace_back();
  return book_index << kBookShift | index;
}

void Protocol::check_answers(const LookupBook& book) const {
  if (book.unchecked.empty()) return;
  book.stats.confirmed(batch_oracle_(book.unchecked, book.scratch));
  book.unchecked.clear();
}

LookupStats& Protocol::gather_stats() const {
  for (const LookupBook& book : books_) check_answers(book);
  for (std::size_t b = 1; b < books_.size(); ++b) {
    books_[0].stats.add(books_[b].stats);
    books_[b].stats = LookupStats{};
  }
  return books_[0].stats;
}

// ---- iterative: the requester runs find_predecessor's loop, one RPC per iteration --------------

// One iteration of the loop: ask n' "is id in (n', n'.successor]? If not, what is your
// closest_preceding_finger(id)?" (FIND_NEXT). The message carries the peers this lookup found
// dead, so n' routes around them.
void Protocol::find_predecessor(std::uint32_t index, PeerIndex target) {
  Lookup& l = lookup_at(index);
  if (l.path.size() > static_cast<std::size_t>(2 * params_.m + 16)) {
    lookup_failed(index);  // hop limit: the routing state loops
    return;
  }
  Message m;
  m.type = MsgType::FindNext;
  m.key = l.key;
  m.lookup = index;
  m.tag = ++l.tag;
  m.origin = l.origin;
  m.node = target;
  l.asked = target;
  const std::size_t skip = l.avoid.size() > kMaxSuccessors ? l.avoid.size() - kMaxSuccessors : 0;
  for (std::size_t j = skip; j < l.avoid.size(); ++j) m.list[m.count++] = l.avoid[j];
  send(l.origin, target, m);
  arm_timeout(index);
}

// At n': the loop's body on n''s own routing state (flag = 1: the key is in (n', successor], node
// = the owner; flag = 0: node = the next n').
void Protocol::answer_find_next(PeerIndex self, PeerIndex from, const Message& msg) {
  Message reply;
  reply.type = MsgType::FindNextReply;
  reply.lookup = msg.lookup;
  reply.tag = msg.tag;
  PeerIndex out = kNoPeer;
  reply.flag = next_step(self, msg.key, msg.list.data(), msg.count, out) ? 1 : 0;
  reply.node = out;
  send(self, from, reply);
}

// Back at the requester: the loop ends (the owner is known) or goes on with the next n'.
void Protocol::find_next_reply(PeerIndex self, PeerIndex from, const Message& msg) {
  if (!has_lookup(msg.lookup)) return;
  Lookup& l = lookup_at(msg.lookup);
  if (l.serial == 0 || l.origin != self || l.tag != msg.tag || l.storage_phase || from != l.asked) return;  // stale
  l.deadline = -1;
  if (l.last != from) note_hop(l, l.last, from);
  if (msg.node == kNoPeer) {
    // The peer is alive but knows no way on (it is still joining): route around it.
    l.avoid.push_back(from);
    retry_from_last(msg.lookup);
  } else if (msg.flag != 0) {
    lookup_answered(msg.lookup, msg.node);
  } else {
    find_predecessor(msg.lookup, msg.node);
  }
}

// ---- recursive: each n' runs the loop's body and hands the question on --------------------------

void Protocol::find_successor_recursive(std::uint32_t index, PeerIndex first_hop) {
  Lookup& l = lookup_at(index);
  Message m;
  m.type = MsgType::FindSuccessor;
  m.key = l.key;
  m.origin = l.origin;
  m.lookup = index;
  // The serial names the lookup in the trace; the retry count in the top byte tells a late
  // answer to an earlier attempt from the current one.
  m.tag = l.serial + (static_cast<std::uint32_t>(l.timeouts) << 24);
  m.hops = 1;
  m.list[0] = l.origin;  // the path so far, requester first
  m.count = 1;
  send(l.origin, first_hop, m);
  arm_timeout(index);
}

// At n': the owner is n'.successor (answer the requester directly, FOUND_SUCCESSOR), or the
// question goes on to n'.closest_preceding_finger(id). Example (lecture ring, lookup(44) from
// 52): 23 appends itself to the path [52] and forwards to 39, 39 to 42; 42 finds 44 in (42, 45]
// and sends 45 with the path [52, 23, 39, 42] back to 52.
void Protocol::forward_recursive(PeerIndex self, const Message& msg) {
  Message m;
  copy_message(m, msg);  // the fields and the path so far (not the unused rest of the list)
  if (m.count < kMaxSuccessors) m.list[m.count++] = self;  // the path so far, requester first
  Trace& trace = transport_.trace();
  if (trace.enabled()) {
    TraceEvent e;
    e.time = transport_.now();
    e.kind = TraceKind::LookupHop;
    e.peer = m.count >= 2 ? m.list[m.count - 2] : m.origin;
    e.other = self;
    e.lookup = m.tag & 0xffffffu;
    e.index = m.hops;
    e.key = m.key;
    trace.record(e);
  }
  PeerIndex next = kNoPeer;
  const bool done = next_step(self, m.key, nullptr, 0, next);
  if (done || next == kNoPeer || m.hops >= recursive_hop_limit()) {
    m.type = MsgType::FoundSuccessor;
    m.node = done ? next : kNoPeer;
    send(self, m.origin, m);
    return;
  }
  ++m.hops;
  send(self, next, m);
}

// Back at the requester: the answer of the current attempt, with the path it took.
void Protocol::found_successor(PeerIndex self, const Message& msg) {
  if (!has_lookup(msg.lookup)) return;
  Lookup& l = lookup_at(msg.lookup);
  const std::uint32_t expected = l.serial + (static_cast<std::uint32_t>(l.timeouts) << 24);
  if (l.serial == 0 || l.origin != self || msg.tag != expected || l.storage_phase) return;
  if (msg.count == 0) return;  // (a path starts with its requester: an empty one is no answer)
  l.deadline = -1;
  if (keep_records_ || l.purpose != Purpose::User) {
    l.path.assign(msg.list.begin(), msg.list.begin() + msg.count);
  } else {
    // A user lookup without records ends here: finish() needs the path's length and last, not a
    // copy into the path's own buffer (a cold line at every answer: 3 % of the 10^6-peer bench).
    l.answer_length = msg.count;
  }
  // The list holds a path's first kMaxSuccessors peers; a longer path's length is told by the
  // hop count (the peer that answered is the hops-th after the requester).
  if (msg.count >= kMaxSuccessors) l.answer_length = static_cast<std::uint8_t>(1 + msg.hops);
  l.last = msg.list[msg.count - 1u];
  if (msg.node == kNoPeer) {
    lookup_failed(msg.lookup);
  } else {
    lookup_answered(msg.lookup, msg.node);
  }
}

// ---- the end of a lookup ---------------------------------------------------------------------------

// find_successor returns n'.successor to whoever asked: a user, join, fix_fingers, put or get.
void Protocol::lookup_answered(std::uint32_t index, PeerIndex owner) {
  switch (lookup_at(index).purpose) {
    case Purpose::User:
      finish(index, owner, true);
      return;
    case Purpose::Join:
      join_answered(index, owner);
      return;  // maintenance.cpp
    case Purpose::FixFinger:
      fix_finger_answered(index, owner);
      return;  // maintenance.cpp
    case Purpose::Put:
    case Purpose::Get:
      storage_request(index, owner);
      return;  // storage.cpp
  }
}

std::size_t Protocol::unfinished_lookups() const {
  std::size_t count = 0;
  for (const LookupBook& book : books_) {
    count += static_cast<std::size_t>(std::count_if(book.slots.begin(), book.slots.end(), [](const Lookup& l) {
      return l.serial != 0 && l.purpose == Purpose::User;
    }));
  }
  return count;
}

void Protocol::lookup_failed(std::uint32_t index) { finish(index, kNoPeer, false); }

void Protocol::finish(std::uint32_t index, PeerIndex owner, bool completed, bool found, std::uint32_t value) {
  Lookup& l = lookup_at(index);
  const PeerIndex origin = l.origin;
  const SimTime now = transport_.now();
  // A user lookup's answer waits for the batch oracle, if there is one and no records are kept
  // (its "ok" is only counted in the figures).
  const bool batched = batch_oracle_ && !keep_records_ && l.purpose == Purpose::User && completed;
  const bool owner_correct = !batched && completed && owner != kNoPeer && oracle_ && oracle_(owner, l.key);
  bool ok = owner_correct;
  if (l.purpose == Purpose::Put || l.purpose == Purpose::Get) ok = owner_correct && found;
  const std::size_t length = l.answer_length != 0 ? l.answer_length : std::max<std::size_t>(l.path.size(), 1);
  const auto hops = static_cast<std::uint32_t>(length - 1);
  if (l.purpose == Purpose::User) {
    LookupBook& book = book_of(origin);
    if (!completed) {
      book.stats.failed();
    } else {
      book.stats.finished(hops, now - l.start, ok);  // (false while batched: confirmed later)
      if (batched) {
        book.unchecked.push_back(Answer{owner, l.key});
        if (book.unchecked.size() == kCheckBatch) check_answers(book);
      }
    }
  }
  if (keep_records_ && (l.purpose == Purpose::User || l.purpose == Purpose::Put || l.purpose == Purpose::Get)) {
    LookupRecord r;
    r.serial = l.serial;
    r.purpose = l.purpose;
    r.from = origin;
    r.key = l.key;
    r.owner = owner;
    r.hops = hops;
    r.path = l.path;
    r.start = l.start;
    r.end = now;
    r.ok = ok;
    r.owner_alive = owner != kNoPeer && alive_ && alive_(owner);
    r.completed = completed;
    r.value = l.purpose == Purpose::Put ? l.value : value;
    r.found = found;
    r.messages = l.messages;
    if (!completed) r.silent = l.storage_phase ? l.owner : !l.avoid.empty() ? l.avoid.back() : l.asked;
    records_.push_back(std::move(r));
  }
  Trace& trace = transport_.trace();
  if (trace.enabled()) {
    TraceEvent e;
    e.time = now;
    e.kind = TraceKind::LookupDone;
    e.detail = ok ? 1 : 0;
    e.index = static_cast<std::uint16_t>(hops);
    e.peer = origin;
    e.other = owner;
    e.lookup = l.serial;
    e.key = l.key;
    trace.record(e);
  }
  l.serial = 0;
  l.deadline = -1;
  // The slot is reused only once its timer has fired, so no old timer can hit a new lookup;
  // unless every lookup's timer is armed once, with one delay (reuse_slots_early): then the
  // pending timer fires before any timer of the slot's next lookup, and is counted as an orphan
  // to be ignored. (A recursive lookup's timer is 4 s while it takes 0.56 s: at 10^6 peers
  // 400,000 slots were held for 56,000 lookups in flight.)
  if (l.timer_pending && early_reuse_ && l.orphan_timers < 255) {
    l.timer_pending = false;
    ++l.orphan_timers;
  }
  if (!l.timer_pending) book_of(origin).free.push_back(index);
  if (l.purpose == Purpose::Join && !completed && join_failed_) join_failed_(origin);
}

void Protocol::note_hop(Lookup& l, PeerIndex from, PeerIndex to) {
  l.path.push_back(to);
  l.last = to;
  Trace& trace = transport_.trace();
  if (!trace.enabled()) return;
  TraceEvent e;
  e.time = transport_.now();
  e.kind = TraceKind::LookupHop;
  e.peer = from;
  e.other = to;
  e.lookup = l.serial;
  e.index = static_cast<std::uint16_t>(l.path.size() - 1);
  e.key = l.key;
  trace.record(e);
}

// ---- timeouts: a peer that does not answer ---------------------------------------------------------

void Protocol::arm_timeout(std::uint32_t index) {
  Lookup& l = lookup_at(index);
  // A recursive lookup is answered end to end, after O(log N) forwarding steps that each take
  // a fraction of an RPC timeout: it gets eight.
  const SimTime timeout = params_.recursive && !l.storage_phase ? params_.rpc_timeout * 8 : params_.rpc_timeout;
  l.deadline = transport_.now() + timeout;
  // One timer per lookup, not one per RPC: a timer that fires before the current deadline just
  // re-arms itself (see lookup_timer), which saves most timer events on a healthy ring.
  if (!l.timer_pending) {
    l.timer_pending = true;
    transport_.set_timer(l.origin, timeout, static_cast<std::uint16_t>(TimerKind::LookupTimeout), index);
  }
}

void Protocol::lookup_timer(PeerIndex self, std::uint32_t index) {
  if (!has_lookup(index)) return;
  Lookup& l = lookup_at(index);
  if (l.orphan_timers > 0) {  // the timer of an earlier lookup in this slot (reuse_slots_early)
    --l.orphan_timers;
    return;
  }
  l.timer_pending = false;
  if (l.serial == 0) {
    book_of(self).free.push_back(index);  // finished while its timer was pending
  } else if (l.deadline > transport_.now()) {
    l.timer_pending = true;  // the lookup moved on: wait for its current deadline
    transport_.set_timer(self, l.deadline - transport_.now(), static_cast<std::uint16_t>(TimerKind::LookupTimeout),
                         index);
  } else if (l.deadline >= 0) {
    on_lookup_timeout(index);
  }
}

void Protocol::on_lookup_timeout(std::uint32_t index) {
  Lookup& l = lookup_at(index);
  l.deadline = -1;
  if (l.storage_phase) {
    finish(index, l.owner, false);
    return;
  }
  if (params_.recursive) {
    if (++l.timeouts > params_.lookup_retries) {
      lookup_failed(index);
      return;
    }
    // Start over with a fresh tag: a late answer to the old attempt will be ignored.
    PeerIndex next = l.bootstrap;  // a joining peer can only ask its bootstrap peer again
    if (l.purpose != Purpose::Join && (next_step(l.origin, l.key, nullptr, 0, next) || next == kNoPeer)) {
      lookup_failed(index);
      return;
    }
    l.path.assign(1, l.origin);
    l.last = l.origin;
    find_successor_recursive(index, next);
    return;
  }
  // Iterative: the peer we asked is presumed dead. Forget it, and ask the peer that pointed to
  // it again, this time avoiding it (the ToN paper's recovery).
  if (++l.timeouts > 2 * params_.successors + 8) {
    lookup_failed(index);
    return;
  }
  const PeerIndex dead = pending_target(index);
  Trace& trace = transport_.trace();
  if (trace.enabled()) {  // the step that got no answer, for the views and the story
    TraceEvent e;
    e.time = transport_.now();
    e.kind = TraceKind::LookupHop;
    e.detail = kTimeoutHop;
    e.peer = l.origin;
    e.other = dead;
    e.lookup = l.serial;
    e.index = static_cast<std::uint16_t>(l.path.size() - 1);
    e.key = l.key;
    trace.record(e);
  }
  l.avoid.push_back(dead);
  remove_dead(l.origin, dead);
  retry_from_last(index);
}

PeerIndex Protocol::pending_target(std::uint32_t index) const { return lookup_at(index).asked; }

// Iterative recovery: ask again from the last live peer of the path, avoiding the dead ones.
// Example: lookup(44) from 52 went 52 -> 23 -> 39 and 39 named 42, which did not answer. avoid =
// [42], the path [52, 23, 39] ends in a live peer: 39 is asked again, skips 42 in its successor
// list and, as 44 lies in (39, 45], answers 45. Had 39 died as well (avoid = [42, 39]), the path
// would back up to [52, 23] and ask 23.
void Protocol::retry_from_last(std::uint32_t index) {
  Lookup& l = lookup_at(index);
  while (l.path.size() > 1 && std::find(l.avoid.begin(), l.avoid.end(), l.path.back()) != l.avoid.end()) {
    l.path.pop_back();  // a peer on our path died too: back up further
  }
  l.last = l.path.back();
  const PeerIndex last = l.path.back();
  if (last == l.origin && l.purpose == Purpose::Join) {
    // A newcomer knows only its bootstrap peer: ask it again unless it is the one that is gone.
    if (std::find(l.avoid.begin(), l.avoid.end(), l.bootstrap) == l.avoid.end()) {
      find_predecessor(index, l.bootstrap);
    } else {
      lookup_failed(index);
    }
  } else if (last == l.origin) {
    PeerIndex next = kNoPeer;
    if (next_step(l.origin, l.key, l.avoid.data(), static_cast<int>(l.avoid.size()), next)) {
      lookup_answered(index, next);
    } else if (next == kNoPeer) {
      lookup_failed(index);
    } else {
      find_predecessor(index, next);
    }
  } else {
    find_predecessor(index, last);
  }
}

}  // namespace p2plab::chord
