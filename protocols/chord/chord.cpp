// Chord's whole protocol logic: routing, maintenance, failures, storage. See README.md beside
// this file for the algorithm in the lecture's words.
#include "chord.hpp"
#include "ring.hpp"

#include <algorithm>

namespace p2plab::chord {

const char* to_string(MsgType type) {
  static const char* const names[] = {"FIND_NEXT",  "FIND_NEXT_REPLY", "FIND_SUCCESSOR", "FOUND_SUCCESSOR",
                                      "GET_PREDECESSOR", "GET_PREDECESSOR_REPLY", "NOTIFY", "PING", "PONG",
                                      "PUT", "PUT_ACK", "GET", "GET_REPLY", "REPLICATE", "HAND_OVER",
                                      "LEAVE_TO_SUCCESSOR", "LEAVE_TO_PREDECESSOR", "FETCH_RANGE"};
  const auto i = static_cast<std::size_t>(type);
  return i < std::size(names) ? names[i] : "?";
}

const char* to_string(TimerKind kind) {
  static const char* const names[] = {"stabilize",         "fix_fingers",  "check_predecessor", "lookup_timeout",
                                      "stabilize_timeout", "ping_timeout"};
  const auto i = static_cast<std::size_t>(kind);
  return i < std::size(names) ? names[i] : "?";
}

Protocol::Protocol(Params params, Transport<Message>& transport)
    : params_(params), space_(params.m), transport_(transport), fingers_(params.m) {}

void Protocol::reserve(std::size_t count) {
  if (predecessor_.size() >= count) return;
  predecessor_.resize(count, kNoPeer);
  successors_.resize(count * params_.successors, kNoPeer);
  successor_prints_.resize(count * params_.successors, 0);
  fingers_.resize(count);
  next_finger_.resize(count, 0);
  stabilize_tag_.resize(count, 0);
  ping_tag_.resize(count, 0);
  stabilize_deadline_.resize(count, -1);
  ping_deadline_.resize(count, -1);
  ping_target_.resize(count, kNoPeer);
}

std::size_t Protocol::state_bytes() const {
  return predecessor_.capacity() * sizeof(PeerIndex) + successors_.capacity() * sizeof(PeerIndex) +
         successor_prints_.capacity() * 4 + fingers_.bytes() + next_finger_.capacity() + stabilize_tag_.capacity() * 4 +
         ping_tag_.capacity() * 4 + stabilize_deadline_.capacity() * sizeof(SimTime) +
         ping_deadline_.capacity() * sizeof(SimTime) + ping_target_.capacity() * sizeof(PeerIndex) +
         lookups_.capacity() * sizeof(Lookup);
}

std::size_t Protocol::state_entries(PeerIndex n) const {
  // Distinct peers a node knows (the lecture's O(log N) state): the m fingers hold only about
  // log2 N distinct nodes.
  std::vector<PeerIndex> known;
  if (predecessor_[n] != kNoPeer) known.push_back(predecessor_[n]);
  for (int j = 0; j < params_.successors; ++j) {
    if (successors_[slot(n, j)] != kNoPeer) known.push_back(successors_[slot(n, j)]);
  }
  fingers_.for_each_run_down(n, params_.m - 1, [&](const FingerTables::Run& run) {
    if (run.node != kNoPeer) known.push_back(run.node);
    return false;
  });
  std::sort(known.begin(), known.end());
  return static_cast<std::size_t>(std::unique(known.begin(), known.end()) - known.begin());
}

void Protocol::send(PeerIndex from, PeerIndex to, const Message& msg) {
  // Measurement: messages that belong to a lookup (its steps, and the put or get at the owner)
  // are counted on it, for "messages per search".
  switch (msg.type) {
    case MsgType::FindNext: case MsgType::FindNextReply: case MsgType::FindSuccessor: case MsgType::FoundSuccessor:
    case MsgType::Put: case MsgType::PutAck: case MsgType::Get: case MsgType::GetReply:
      if (msg.lookup < lookups_.size() && lookups_[msg.lookup].serial != 0) ++lookups_[msg.lookup].messages;
      break;
    default: break;
  }
  transport_.send(from, to, msg);
}

// ---- state updates (every change goes through here, so the trace sees it) ----------------------

void Protocol::trace_state(PeerIndex n, StateField field, int index, PeerIndex value) {
  Trace& trace = transport_.trace();
  if (!trace.enabled()) return;
  TraceEvent e;
  e.time = transport_.now();
  e.kind = TraceKind::StateChange;
  e.detail = static_cast<std::uint8_t>(field);
  e.index = static_cast<std::uint16_t>(index);
  e.peer = n;
  e.other = value;
  trace.record(e);
}

void Protocol::set_finger(PeerIndex n, int i, PeerIndex node) {
  if (fingers_.get(n, i) == node) return;
  fingers_.set(n, i, {node, print_of(node)});
  trace_state(n, StateField::Finger, i, node);
}

void Protocol::set_predecessor(PeerIndex n, PeerIndex p) {
  if (predecessor_[n] == p) return;
  predecessor_[n] = p;
  trace_state(n, StateField::Predecessor, 0, p);
}

// ---- the bridge to the exercised functions (logic.hpp) -----------------------------------------

Contact Protocol::contact(PeerIndex p) const { return p == kNoPeer ? Contact{} : Contact{transport_.id_of(p), p}; }

bool Protocol::valid(const Contact& c) const {
  // Student code may return anything: only a peer this protocol knows, with its true id, counts.
  return c.peer != kNoPeer && c.peer < predecessor_.size() && c.id == transport_.id_of(c.peer);
}

logic::Neighbours Protocol::neighbours(PeerIndex n) const {
  logic::Neighbours out;
  out.self = contact(n);
  out.predecessor = contact(predecessor_[n]);
  const int count = successor_count(n);
  for (int j = 0; j < count; ++j) out.successors.push_back(contact(successors_[slot(n, j)]));
  return out;
}

void Protocol::apply(PeerIndex n, const logic::Neighbours& updated) {
  const Contact p = updated.predecessor;
  set_predecessor(n, valid(p) && p.peer != n ? p.peer : kNoPeer);
  std::array<PeerIndex, kMaxSuccessors> list{};
  int count = 0;
  for (const Contact& c : updated.successors) {
    if (valid(c) && count < params_.successors) list[static_cast<std::size_t>(count++)] = c.peer;
  }
  if (count > 0) set_successor_list(n, list.data(), count);
}

int Protocol::successor_count(PeerIndex n) const {
  int count = 0;
  while (count < params_.successors && successors_[slot(n, count)] != kNoPeer) ++count;
  return count;
}

void Protocol::set_successor_list(PeerIndex n, const PeerIndex* list, int count) {
  // Keeps the order and drops duplicates. In a ring smaller than r+1 the list a successor sends
  // wraps around to n: it ends there, since what follows n is n's own view of the ring again
  // (keeping it would keep a crashed peer at the tail for good: nobody would ever drop it).
  std::array<PeerIndex, kMaxSuccessors> clean{};
  int kept = 0;
  for (int j = 0; j < count && kept < params_.successors; ++j) {
    const PeerIndex s = list[j];
    if (s == n && kept > 0) break;
    if (s == kNoPeer) continue;
    if (std::find(clean.begin(), clean.begin() + kept, s) != clean.begin() + kept) continue;
    clean[kept++] = s;
  }
  const PeerIndex old_first = successors_[slot(n, 0)];
  for (int j = 0; j < params_.successors; ++j) {
    successors_[slot(n, j)] = j < kept ? clean[j] : kNoPeer;
    successor_prints_[slot(n, j)] = j < kept ? print_of(clean[j]) : 0;
  }
  if (successors_[slot(n, 0)] != old_first) trace_state(n, StateField::Successor, 0, successors_[slot(n, 0)]);
  if (kept > 0) set_finger(n, 0, clean[0]);  // finger 0 is the successor by definition
}

void Protocol::set_successor(PeerIndex n, PeerIndex s) {
  // A closer successor was found: it goes in front, the rest of the list moves back.
  std::array<PeerIndex, kMaxSuccessors + 1> list{};
  list[0] = s;
  const int count = successor_count(n);
  for (int j = 0; j < count; ++j) list[j + 1] = successors_[slot(n, j)];
  set_successor_list(n, list.data(), count + 1);
}

void Protocol::remove_dead(PeerIndex n, PeerIndex dead) {
  const Contact failed = contact(dead);
  std::array<Contact, IdSpace::kMaxBits> fingers{};
  for (int i = 0; i < params_.m; ++i) fingers[static_cast<std::size_t>(i)] = contact(finger(n, i));
  const ContactList kept = logic::drop_failed(contact(n), neighbours(n).successors,
                                              std::span<const Contact>(fingers.data(), static_cast<std::size_t>(params_.m)),
                                              failed);
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
    for (int j = 0; j < params_.successors; ++j) successors_[slot(n, j)] = kNoPeer;  // prints unused then
    trace_state(n, StateField::Successor, 0, kNoPeer);
    if (join_failed_) join_failed_(n);
    return;
  }
  set_successor_list(n, list.data(), count);
}

// ---- routing -----------------------------------------------------------------------------------

std::uint32_t Protocol::allocate_lookup() {
  std::uint32_t index;
  if (!free_lookups_.empty()) {
    index = free_lookups_.back();
    free_lookups_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(lookups_.size());
    lookups_.emplace_back();
  }
  return index;
}

std::uint32_t Protocol::lookup(PeerIndex n, const Id& key, Purpose purpose, std::uint32_t value) {
  const std::uint32_t index = allocate_lookup();
  Lookup& l = lookups_[index];
  l.serial = next_serial_++;
  l.purpose = purpose;
  // fix_fingers passes the finger index where other purposes pass a value.
  l.finger = purpose == Purpose::FixFinger ? static_cast<std::uint8_t>(value) : 0;
  if (purpose == Purpose::FixFinger) value = kNoValue;
  l.timeouts = 0;
  l.origin = n;
  l.key = key;
  l.start = transport_.now();
  l.deadline = -1;
  l.value = value;
  l.owner = kNoPeer;
  l.bootstrap = purpose == Purpose::Join ? value : kNoPeer;
  l.storage_phase = false;
  l.messages = 0;
  l.path.clear();
  l.path.push_back(n);
  l.last = n;
  l.avoid.clear();
  // A peer joining again may still be known to others: its own id must not come back as its
  // successor.
  if (purpose == Purpose::Join) l.avoid.push_back(n);
  if (purpose == Purpose::User) stats_.started();
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
  const std::uint32_t serial = l.serial;
  PeerIndex first_hop = kNoPeer;
  if (purpose == Purpose::Join) {
    // A joining peer knows nothing yet: its first step is the bootstrap peer (passed as value).
    l.value = kNoValue;
    first_hop = value;
  } else if (next_step(n, key, nullptr, 0, first_hop)) {
    lookup_answered(index, first_hop);  // the requester's own successor holds the key: 0 hops
    return serial;
  } else if (first_hop == kNoPeer) {
    finish(index, kNoPeer, false);  // no successor known: the peer is not part of a ring
    return serial;
  }
  if (params_.recursive) {
    recursive_send(index, first_hop);
  } else {
    iterative_ask(index, first_hop);
  }
  return serial;
}

void Protocol::arm_timeout(std::uint32_t index) {
  Lookup& l = lookups_[index];
  // A recursive lookup is answered end to end, after O(log N) forwarding steps that each take
  // a fraction of an RPC timeout: it gets eight.
  const SimTime timeout = params_.recursive && !l.storage_phase ? params_.rpc_timeout * 8 : params_.rpc_timeout;
  l.deadline = transport_.now() + timeout;
  // One timer per lookup, not one per RPC: a timer that fires before the current deadline just
  // re-arms itself (see on_timer), which saves most timer events on a healthy ring.
  if (!l.timer_pending) {
    l.timer_pending = true;
    transport_.set_timer(l.origin, timeout, static_cast<std::uint16_t>(TimerKind::LookupTimeout), index);
  }
}

void Protocol::recursive_send(std::uint32_t index, PeerIndex first_hop) {
  Lookup& l = lookups_[index];
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

void Protocol::iterative_ask(std::uint32_t index, PeerIndex target) {
  Lookup& l = lookups_[index];
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

void Protocol::on_lookup_timeout(std::uint32_t index) {
  Lookup& l = lookups_[index];
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
    l.path.resize(1);
    l.last = l.origin;
    recursive_send(index, next);
    return;
  }
  // Iterative: the peer we asked is presumed dead. Forget it, and ask the peer that pointed to
  // it again, this time avoiding it (the ToN paper's recovery).
  if (++l.timeouts > 2 * params_.successors + 8) {
    lookup_failed(index);
    return;
  }
  const PeerIndex dead = pending_target(index);
  l.avoid.push_back(dead);
  remove_dead(l.origin, dead);
  retry_from_last(index);
}

PeerIndex Protocol::pending_target(std::uint32_t index) const { return lookups_[index].asked; }

void Protocol::retry_from_last(std::uint32_t index) {
  Lookup& l = lookups_[index];
  while (l.path.size() > 1 && std::find(l.avoid.begin(), l.avoid.end(), l.path.back()) != l.avoid.end()) {
    l.path.pop_back();  // a peer on our path died too: back up further
  }
  l.last = l.path.back();
  const PeerIndex last = l.path.back();
  if (last == l.origin && l.purpose == Purpose::Join) {
    // A newcomer knows only its bootstrap peer: ask it again unless it is the one that is gone.
    if (std::find(l.avoid.begin(), l.avoid.end(), l.bootstrap) == l.avoid.end()) {
      iterative_ask(index, l.bootstrap);
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
      iterative_ask(index, next);
    }
  } else {
    iterative_ask(index, last);
  }
}

void Protocol::lookup_answered(std::uint32_t index, PeerIndex owner) {
  Lookup& l = lookups_[index];
  const PeerIndex n = l.origin;
  switch (l.purpose) {
    case Purpose::User: finish(index, owner, true); return;
    case Purpose::Join: {
      // The paper's join: predecessor = nil, successor = the answer.
      logic::Neighbours joined = neighbours(n);
      logic::join(joined, contact(owner));
      apply(n, joined);
      finish(index, owner, true);
      start_maintenance(n);
      return;
    }
    case Purpose::FixFinger: {
      // Finger i is successor(n + 2^i). The same node is also finger j for every later start
      // that does not pass it: e.g. m = 6, n = 52, the owner of start 53 is 54, and start 54
      // (i = 1) is not past 54 (distances from 52: 2 <= 2), so finger 1 = 54 too, with no
      // second lookup; start 56 (distance 4) is past it. An owner equal to n (a ring of one)
      // is at distance 2^m: it owns every start.
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
      if (next_finger_[n] == (i + 1) % params_.m) next_finger_[n] = static_cast<std::uint8_t>(j % params_.m);
      finish(index, owner, true);
      return;
    }
    case Purpose::Put:
    case Purpose::Get: {
      l.storage_phase = true;
      l.owner = owner;
      if (owner == n) {
        if (l.purpose == Purpose::Put) {
          store(n, l.key, l.value);
          replicate(n, l.key, l.value);
          finish(index, owner, true, true, l.value);
        } else {
          auto& items = items_[n];
          auto it = items.find(l.key);
          finish(index, owner, true, it != items.end(), it != items.end() ? it->second : kNoValue);
        }
        return;
      }
      Message m;
      m.type = l.purpose == Purpose::Put ? MsgType::Put : MsgType::Get;
      m.key = l.key;
      m.value = l.value;
      m.lookup = index;
      m.tag = ++l.tag;
      send(n, owner, m);
      arm_timeout(index);
      return;
    }
  }
}

std::size_t Protocol::unfinished_lookups() const {
  return static_cast<std::size_t>(std::count_if(lookups_.begin(), lookups_.end(), [](const Lookup& l) {
    return l.serial != 0 && l.purpose == Purpose::User;
  }));
}

void Protocol::lookup_failed(std::uint32_t index) { finish(index, kNoPeer, false); }

void Protocol::finish(std::uint32_t index, PeerIndex owner, bool completed, bool found, std::uint32_t value) {
  Lookup& l = lookups_[index];
  const PeerIndex origin = l.origin;
  const SimTime now = transport_.now();
  const bool owner_correct = completed && owner != kNoPeer && oracle_ && oracle_(owner, l.key);
  bool ok = owner_correct;
  if (l.purpose == Purpose::Put || l.purpose == Purpose::Get) ok = owner_correct && found;
  const auto hops = static_cast<std::uint32_t>(l.path.size() - 1);
  if (l.purpose == Purpose::User) {
    if (completed) {
      stats_.finished(hops, now - l.start, ok);
    } else {
      stats_.failed();
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
  // The slot is reused only once its timer has fired, so no old timer can hit a new lookup.
  if (!l.timer_pending) free_lookups_.push_back(index);
  if (l.purpose == Purpose::Join && !completed && join_failed_) join_failed_(origin);
}

void Protocol::forward_recursive(PeerIndex self, const Message& msg) {
  Message m = msg;
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
  if (done || next == kNoPeer || m.hops >= 2 * params_.m + 16) {
    m.type = MsgType::FoundSuccessor;
    m.node = done ? next : kNoPeer;
    send(self, m.origin, m);
    return;
  }
  ++m.hops;
  send(self, next, m);
}

// ---- maintenance (the paper's periodic functions) ----------------------------------------------

void Protocol::create(PeerIndex n) {
  reserve(n + 1);
  set_predecessor(n, kNoPeer);
  const PeerIndex self[1] = {n};
  set_successor_list(n, self, 1);
  start_maintenance(n);
}

void Protocol::join(PeerIndex n, PeerIndex bootstrap) {
  reserve(n + 1);
  set_predecessor(n, kNoPeer);
  lookup(n, transport_.id_of(n), Purpose::Join, bootstrap);
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
  if (stabilize_deadline_[n] >= 0) return;
  Message m;
  m.type = MsgType::GetPredecessor;
  m.tag = ++stabilize_tag_[n];
  send(n, s, m);
  stabilize_deadline_[n] = transport_.now() + params_.rpc_timeout;
  transport_.set_timer(n, params_.rpc_timeout, static_cast<std::uint16_t>(TimerKind::StabilizeTimeout), m.tag);
}

void Protocol::notify(PeerIndex s, PeerIndex candidate) {
  const PeerIndex old = predecessor_[s];
  if (candidate == s) return;
  const Contact chosen = logic::notify(contact(s), contact(old), contact(candidate));
  if (chosen.peer != candidate || chosen.peer == old) return;  // kept the old one (or nonsense)
  set_predecessor(s, candidate);
  if (old != kNoPeer && old != s) {
    // A newcomer between old and s: it now owns (old, candidate]. s keeps copies as replicas.
    hand_over_range(s, transport_.id_of(old), transport_.id_of(candidate), candidate);
  } else {
    // s had no predecessor (it failed): s owns the failed peer's range now; copy it onward. The
    // newcomer may own part of that range, and s cannot tell where it begins: it hands over
    // everything it holds outside (candidate, s]; the newcomer keeps what is not its own as
    // extra copies.
    hand_over_range(s, transport_.id_of(s), transport_.id_of(candidate), candidate);
    replicate_all_primary(s);
    // Its own range grew to (candidate, s]: keys of the failed predecessor that s never held
    // (it joined after they were put) are still copied on s's successors. Fetch them.
    if (successor(s) != kNoPeer && successor(s) != s) {
      Message fetch;
      fetch.type = MsgType::FetchRange;
      fetch.key = transport_.id_of(candidate);
      send(s, successor(s), fetch);
    }
  }
  // A ring of one learns its first partner here.
  if (successor(s) == s) set_successor(s, candidate);
}

void Protocol::fix_fingers(PeerIndex n) {
  if (successor(n) == kNoPeer) return;
  int next = next_finger_[n];
  const int i = logic::fix_fingers(next, params_.m);
  next_finger_[n] = static_cast<std::uint8_t>(std::clamp(next, 0, params_.m - 1));
  if (i < 0 || i >= params_.m) return;  // not a finger index
  lookup(n, logic::finger_start(transport_.id_of(n), i, params_.m), Purpose::FixFinger, static_cast<std::uint32_t>(i));
}

void Protocol::check_predecessor(PeerIndex n) {
  const PeerIndex p = predecessor_[n];
  if (p == kNoPeer || p == n || ping_deadline_[n] >= 0) return;  // one ping at a time
  Message m;
  m.type = MsgType::Ping;
  m.tag = ++ping_tag_[n];
  send(n, p, m);
  ping_target_[n] = p;
  ping_deadline_[n] = transport_.now() + params_.rpc_timeout;
  transport_.set_timer(n, params_.rpc_timeout, static_cast<std::uint16_t>(TimerKind::PingTimeout), m.tag);
}

void Protocol::leave(PeerIndex n) {
  const PeerIndex s = successor(n);
  const PeerIndex p = predecessor_[n];
  if (s != kNoPeer && s != n) {
    Message m;
    m.type = MsgType::LeaveToSuccessor;
    m.node = p;
    send(n, s, m);
    if (auto it = items_.find(n); it != items_.end()) {
      for (const auto& [key, value] : it->second) {
        if (!is_primary(n, key)) continue;
        Message h;
        h.type = MsgType::HandOver;
        h.key = key;
        h.value = value;
        send(n, s, h);
      }
      items_.erase(it);
    }
  }
  if (p != kNoPeer && p != n) {
    Message m;
    m.type = MsgType::LeaveToPredecessor;
    fill_successor_list(n, m);
    send(n, p, m);
  }
}

void Protocol::install_converged(const std::vector<std::pair<Id, PeerIndex>>& ring) {
  if (ring.empty()) return;
  reserve(std::max_element(ring.begin(), ring.end(), [](auto& a, auto& b) { return a.second < b.second; })->second + 1);
  const std::size_t count = ring.size();
  auto successor_of = [&](const Id& key) {
    auto it = std::lower_bound(ring.begin(), ring.end(), std::pair<Id, PeerIndex>{key, 0});
    return it == ring.end() ? ring.front().second : it->second;
  };
  for (std::size_t k = 0; k < count; ++k) {
    const auto& [id, n] = ring[k];
    predecessor_[n] = ring[(k + count - 1) % count].second;
    const int r = static_cast<int>(std::min<std::size_t>(params_.successors, count > 1 ? count - 1 : 1));
    for (int j = 0; j < params_.successors; ++j) {
      successors_[slot(n, j)] = j < r ? ring[(k + 1 + j) % count].second : kNoPeer;
      successor_prints_[slot(n, j)] = j < r ? space_.print(ring[(k + 1 + j) % count].first) : 0;
    }
    // Fingers up to the successor's distance all point to the successor; only the rest need a
    // search in the sorted ring.
    const PeerIndex succ = successors_[slot(n, 0)];
    const Id gap = count > 1 ? space_.distance(id, ring[(k + 1) % count].first) : space_.max_id();
    std::array<FingerTables::Run, IdSpace::kMaxBits> table;
    for (int i = 0; i < params_.m; ++i) {
      const PeerIndex f = (space_.pow2(i) <= gap) ? succ : successor_of(finger_start(space_, id, i));
      table[i] = {f, f == succ ? successor_prints_[slot(n, 0)] : print_of(f)};
    }
    fingers_.store(n, table.data());
    next_finger_[n] = 0;
  }
}

// ---- storage -----------------------------------------------------------------------------------

bool Protocol::is_primary(PeerIndex n, const Id& key) const {
  return logic::is_responsible(contact(n), contact(predecessor_[n]), key);
}

void Protocol::store(PeerIndex n, const Id& key, std::uint32_t value) { items_[n][key] = value; }

void Protocol::replicate(PeerIndex n, const Id& key, std::uint32_t value) {
  const ContactList holders = logic::replica_holders(contact(n), neighbours(n).successors, params_.successors);
  for (const Contact& holder : holders) {
    if (!valid(holder) || holder.peer == n) continue;
    const PeerIndex s = holder.peer;
    Message m;
    m.type = MsgType::Replicate;
    m.key = key;
    m.value = value;
    send(n, s, m);
  }
}

void Protocol::replicate_all_primary(PeerIndex n) {
  auto it = items_.find(n);
  if (it == items_.end()) return;
  for (const auto& [key, value] : it->second) {
    if (is_primary(n, key)) replicate(n, key, value);
  }
}

void Protocol::hand_over_range(PeerIndex n, const Id& from_exclusive, const Id& to_inclusive, PeerIndex to) {
  auto it = items_.find(n);
  if (it == items_.end()) return;
  for (const auto& [key, value] : it->second) {
    if (!logic::in_open_closed(key, from_exclusive, to_inclusive)) continue;
    Message m;
    m.type = MsgType::HandOver;
    m.key = key;
    m.value = value;
    send(n, to, m);
  }
}

std::uint32_t Protocol::intern_value(std::string value) {
  values_.push_back(std::move(value));
  return static_cast<std::uint32_t>(values_.size() - 1);
}

void Protocol::fill_successor_list(PeerIndex n, Message& msg) const {
  msg.count = static_cast<std::uint8_t>(successor_count(n));
  for (int j = 0; j < msg.count; ++j) msg.list[j] = successors_[slot(n, j)];
}

// ---- message and timer dispatch ----------------------------------------------------------------

void Protocol::on_message(PeerIndex self, PeerIndex from, const Message& msg) {
  switch (msg.type) {
    case MsgType::FindNext: {
      Message reply;
      reply.type = MsgType::FindNextReply;
      reply.lookup = msg.lookup;
      reply.tag = msg.tag;
      PeerIndex out = kNoPeer;
      reply.flag = next_step(self, msg.key, msg.list.data(), msg.count, out) ? 1 : 0;
      reply.node = out;
      send(self, from, reply);
      return;
    }
    case MsgType::FindNextReply: {
      if (msg.lookup >= lookups_.size()) return;
      Lookup& l = lookups_[msg.lookup];
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
        iterative_ask(msg.lookup, msg.node);
      }
      return;
    }
    case MsgType::FindSuccessor: forward_recursive(self, msg); return;
    case MsgType::FoundSuccessor: {
      if (msg.lookup >= lookups_.size()) return;
      Lookup& l = lookups_[msg.lookup];
      const std::uint32_t expected = l.serial + (static_cast<std::uint32_t>(l.timeouts) << 24);
      if (l.serial == 0 || l.origin != self || msg.tag != expected || l.storage_phase) return;
      l.deadline = -1;
      l.path.assign(msg.list.begin(), msg.list.begin() + msg.count);
      l.last = l.path.back();
      if (msg.node == kNoPeer) {
        lookup_failed(msg.lookup);
      } else {
        lookup_answered(msg.lookup, msg.node);
      }
      return;
    }
    case MsgType::GetPredecessor: {
      Message reply;
      reply.type = MsgType::GetPredecessorReply;
      reply.tag = msg.tag;
      reply.node = predecessor_[self];
      fill_successor_list(self, reply);
      send(self, from, reply);
      return;
    }
    case MsgType::GetPredecessorReply: {
      if (msg.tag != stabilize_tag_[self] || stabilize_deadline_[self] < 0) return;
      stabilize_deadline_[self] = -1;
      const PeerIndex s = from;
      std::array<PeerIndex, kMaxSuccessors> before{};
      const int old_count = successor_count(self);
      for (int j = 0; j < old_count; ++j) before[j] = successors_[slot(self, j)];
      // My successor list: my successor, then its list (minus its last entry).
      ContactList theirs;
      for (int j = 0; j < msg.count; ++j) theirs.push_back(contact(msg.list[j]));
      logic::Neighbours updated = neighbours(self);
      updated.successors = logic::successor_list(contact(s), theirs, params_.successors);
      apply(self, updated);
      // The paper's stabilize: x = successor.predecessor; if x in (n, successor), successor = x.
      const Contact chosen = logic::stabilize(contact(self), contact(s), contact(msg.node));
      if (valid(chosen) && chosen.peer != self && chosen.peer != successor(self)) set_successor(self, chosen.peer);
      Message note;
      note.type = MsgType::Notify;
      send(self, successor(self), note);
      const int new_count = successor_count(self);
      bool changed = new_count != old_count;
      for (int j = 0; j < new_count && !changed; ++j) changed = successors_[slot(self, j)] != before[j];
      if (changed) replicate_all_primary(self);
      return;
    }
    case MsgType::Notify: notify(self, from); return;
    case MsgType::Ping: {
      Message reply;
      reply.type = MsgType::Pong;
      reply.tag = msg.tag;
      send(self, from, reply);
      return;
    }
    case MsgType::Pong:
      if (msg.tag == ping_tag_[self]) ping_deadline_[self] = -1;
      return;
    case MsgType::Put: {
      store(self, msg.key, msg.value);
      replicate(self, msg.key, msg.value);
      Message ack;
      ack.type = MsgType::PutAck;
      ack.lookup = msg.lookup;
      ack.tag = msg.tag;
      ack.flag = 1;
      send(self, from, ack);
      return;
    }
    case MsgType::Get: {
      Message reply;
      reply.type = MsgType::GetReply;
      reply.lookup = msg.lookup;
      reply.tag = msg.tag;
      auto& items = items_[self];
      auto it = items.find(msg.key);
      reply.flag = it != items.end() ? 1 : 0;
      reply.value = it != items.end() ? it->second : kNoValue;
      if (items.empty()) items_.erase(self);
      send(self, from, reply);
      return;
    }
    case MsgType::PutAck:
    case MsgType::GetReply: {
      if (msg.lookup >= lookups_.size()) return;
      Lookup& l = lookups_[msg.lookup];
      if (l.serial == 0 || l.origin != self || l.tag != msg.tag || !l.storage_phase) return;
      finish(msg.lookup, l.owner, true, msg.flag != 0, msg.type == MsgType::GetReply ? msg.value : l.value);
      return;
    }
    case MsgType::Replicate: store(self, msg.key, msg.value); return;
    case MsgType::HandOver:
      store(self, msg.key, msg.value);
      if (is_primary(self, msg.key)) replicate(self, msg.key, msg.value);
      return;
    case MsgType::LeaveToSuccessor:
      if (predecessor_[self] == from) {
        set_predecessor(self, msg.node == self ? kNoPeer : msg.node);
      }
      return;
    case MsgType::LeaveToPredecessor:
      if (successor(self) == from) {
        std::array<PeerIndex, kMaxSuccessors> list{};
        int count = 0;
        for (int j = 0; j < msg.count; ++j) {
          if (msg.list[j] != from) list[count++] = msg.list[j];
        }
        if (count == 0) list[count++] = self;  // the leaver was my only partner
        set_successor_list(self, list.data(), count);
      }
      return;
    case MsgType::FetchRange:
      hand_over_range(self, msg.key, transport_.id_of(from), from);
      return;
    case MsgType::Count: return;
  }
}

void Protocol::on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) {
  switch (static_cast<TimerKind>(kind)) {
    case TimerKind::Stabilize:
      stabilize(self);
      transport_.set_timer(self, params_.stabilize, kind, 0);
      return;
    case TimerKind::FixFingers:
      fix_fingers(self);
      transport_.set_timer(self, params_.fix_fingers, kind, 0);
      return;
    case TimerKind::CheckPredecessor:
      check_predecessor(self);
      transport_.set_timer(self, params_.check_predecessor, kind, 0);
      return;
    case TimerKind::LookupTimeout: {
      if (cookie >= lookups_.size()) return;
      Lookup& l = lookups_[cookie];
      l.timer_pending = false;
      if (l.serial == 0) {
        free_lookups_.push_back(cookie);  // finished while its timer was pending
      } else if (l.deadline > transport_.now()) {
        l.timer_pending = true;  // the lookup moved on: wait for its current deadline
        transport_.set_timer(self, l.deadline - transport_.now(), kind, cookie);
      } else if (l.deadline >= 0) {
        on_lookup_timeout(cookie);
      }
      return;
    }
    case TimerKind::StabilizeTimeout:
      if (cookie == stabilize_tag_[self] && stabilize_deadline_[self] >= 0) {
        stabilize_deadline_[self] = -1;
        remove_dead(self, successor(self));  // the successor did not answer: it is gone
      }
      return;
    case TimerKind::PingTimeout:
      if (cookie == ping_tag_[self] && ping_deadline_[self] >= 0) {
        ping_deadline_[self] = -1;
        if (predecessor_[self] == ping_target_[self]) {
          const Contact kept = logic::check_predecessor(contact(predecessor_[self]), false);
          set_predecessor(self, valid(kept) ? kept.peer : kNoPeer);
          replicate_all_primary(self);  // the failed predecessor's keys are now mine
        }
      }
      return;
    case TimerKind::Count: return;
  }
}

// ---- inspection --------------------------------------------------------------------------------

PeerSnapshot Protocol::snapshot(PeerIndex n) const {
  PeerSnapshot s;
  s.peer = n;
  s.id = transport_.id_of(n);
  if (n >= predecessor_.size()) return s;
  s.predecessor = predecessor_[n];
  for (int j = 0; j < params_.successors; ++j) {
    if (successors_[slot(n, j)] == kNoPeer) break;
    s.successors.push_back(successors_[slot(n, j)]);
  }
  for (int i = 0; i < params_.m; ++i) {
    FingerEntry f;
    f.i = i;
    f.start = finger_start(space_, s.id, i);
    f.interval_end = i + 1 < params_.m ? finger_start(space_, s.id, i + 1) : s.id;
    f.node = finger(n, i);
    s.fingers.push_back(f);
  }
  if (auto it = items_.find(n); it != items_.end()) {
    for (const auto& [key, value] : it->second) {
      (void)value;
      (is_primary(n, key) ? s.keys : s.replicas).push_back(key);
    }
  }
  return s;
}

}  // namespace p2plab::chord
