// Chord as a p2plab protocol: construction, per-peer state (every change traced), message and
// timer dispatch, inspection. The paper's functions live by concept beside this file:
//   lookup.cpp       find_successor, find_predecessor (iterative and recursive), lookup timeouts
//   routing_fast.cpp closest_preceding_finger and one step of find_predecessor's loop
//                    (routing_generic.cpp: the same through the student's logic.hpp functions)
//   maintenance.cpp  join, stabilize, notify, fix_fingers, check_predecessor, failures, leave
//   storage.cpp      put, get, key hand-over, replication
// README.md beside this file maps each function of the paper to its place here.
#include "chord.hpp"
#include "p2plab/parallel.hpp"
#include "ring.hpp"

#include <algorithm>

namespace p2plab::chord {

const char* to_string(MsgType type) {
  static const char* const names[] = {"FIND_NEXT",
                                      "FIND_NEXT_REPLY",
                                      "FIND_SUCCESSOR",
                                      "FOUND_SUCCESSOR",
                                      "GET_PREDECESSOR",
                                      "GET_PREDECESSOR_REPLY",
                                      "NOTIFY",
                                      "PING",
                                      "PONG",
                                      "PUT",
                                      "PUT_ACK",
                                      "GET",
                                      "GET_REPLY",
                                      "REPLICATE",
                                      "HAND_OVER",
                                      "LEAVE_TO_SUCCESSOR",
                                      "LEAVE_TO_PREDECESSOR",
                                      "FETCH_RANGE"};
  const auto i = static_cast<std::size_t>(type);
  return i < std::size(names) ? names[i] : "?";
}

const char* to_string(TimerKind kind) {
  static const char* const names[] = {"stabilize",      "fix_fingers",       "check_predecessor",
                                      "lookup_timeout", "stabilize_timeout", "ping_timeout"};
  const auto i = static_cast<std::size_t>(kind);
  return i < std::size(names) ? names[i] : "?";
}

Protocol::Protocol(Params params, Transport<Message>& transport)
    : params_(params),
      space_(params.m),
      transport_(transport),
      fingers_(params.m),
      books_(dht::checked_partitions(transport.partitions(), "chord")) {
  keep_records_ = books_.size() == 1;
}

void Protocol::reserve(std::size_t count) {
  if (predecessor_.size() >= count) return;
  predecessor_.resize(count, kNoPeer);
  successors_.resize(count * params_.successors);
  fingers_.resize(count);
  // upkeep_ grows on first use (upkeep()): a frozen ring (a benchmark) never runs maintenance.
}

std::size_t Protocol::state_bytes() const {
  return predecessor_.capacity() * sizeof(PeerIndex) + successors_.capacity() * sizeof(FingerTables::Run) +
         fingers_.bytes() + upkeep_.capacity() * sizeof(Upkeep) + lookup_slots() * sizeof(Lookup);
}

std::size_t Protocol::state_entries(PeerIndex n) const {
  // Distinct peers a node knows (the lecture's O(log N) state): the m fingers hold only about
  // log2 N distinct nodes.
  std::vector<PeerIndex> known;
  if (predecessor_[n] != kNoPeer) known.push_back(predecessor_[n]);
  for (int j = 0; j < params_.successors; ++j) {
    if (successors_[slot(n, j)].node != kNoPeer) known.push_back(successors_[slot(n, j)].node);
  }
  fingers_.for_each_run_down(n, params_.m - 1, [&](const FingerTables::Run& run) {
    if (run.node != kNoPeer) known.push_back(run.node);
    return false;
  });
  std::sort(known.begin(), known.end());
  return static_cast<std::size_t>(std::unique(known.begin(), known.end()) - known.begin());
}

void Protocol::mark_peers_in_use(PeerIndex n, std::vector<std::uint8_t>& mark) const {
  auto use = [&](PeerIndex p) {
    if (p != kNoPeer && p < mark.size()) mark[p] = 1;
  };
  if (n >= predecessor_.size()) return;
  use(predecessor_[n]);
  if (n < upkeep_.size()) use(upkeep_[n].ping_target);
  for (int j = 0; j < params_.successors; ++j) use(successors_[slot(n, j)].node);
  for (int i = 0; i < params_.m; ++i) use(fingers_.get(n, i));
  for (const LookupBook& book : books_) {
    for (const Lookup& l : book.slots) {
      if (l.serial == 0 || l.origin != n) continue;
      for (PeerIndex p : {l.asked, l.last, l.owner, l.bootstrap}) use(p);
      for (PeerIndex p : l.path) use(p);
      for (PeerIndex p : l.avoid) use(p);
    }
  }
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
  if (p == kNoPeer && predecessor_[n] != kNoPeer && predecessor_[n] != n) {
    lost_predecessor_[n] = transport_.id_of(predecessor_[n]);  // dead or gone: see hand_over_keys
  }
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
  for (int j = 0; j < count; ++j) out.successors.push_back(contact(successors_[slot(n, j)].node));
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
  while (count < params_.successors && successors_[slot(n, count)].node != kNoPeer) ++count;
  return count;
}

void Protocol::set_successor_list(PeerIndex n, const PeerIndex* list, int count) {
  // Keeps the order and drops duplicates. In a ring smaller than r+1 the list a successor sends
  // wraps around to n: it ends there, since what follows n is n's own view of the ring again
  // (keeping it would keep a crashed peer at the tail for good: nobody would ever drop it).
  // Example, r = 3, a ring of three peers 8 -> 21 -> 42 -> 8: peer 8 stabilizes with 21, whose
  // list is 42, 8; logic::successor_list makes it 21, 42, 8, and this keeps 21, 42 (the next
  // entry is peer 8 itself: the ring has wrapped).
  std::array<PeerIndex, kMaxSuccessors> clean{};
  int kept = 0;
  for (int j = 0; j < count && kept < params_.successors; ++j) {
    const PeerIndex s = list[j];
    if (s == n && kept > 0) break;
    if (s == kNoPeer) continue;
    if (std::find(clean.begin(), clean.begin() + kept, s) != clean.begin() + kept) continue;
    clean[kept++] = s;
  }
  const PeerIndex old_first = successors_[slot(n, 0)].node;
  for (int j = 0; j < params_.successors; ++j) {
    successors_[slot(n, j)] = j < kept ? FingerTables::Run{clean[j], print_of(clean[j])} : FingerTables::Run{};
  }
  if (successors_[slot(n, 0)].node != old_first) trace_state(n, StateField::Successor, 0, successors_[slot(n, 0)].node);
  if (kept > 0) set_finger(n, 0, clean[0]);  // finger 0 is the successor by definition
}

void Protocol::set_successor(PeerIndex n, PeerIndex s) {
  // A closer successor was found: it goes in front, the rest of the list moves back.
  std::array<PeerIndex, kMaxSuccessors + 1> list{};
  list[0] = s;
  const int count = successor_count(n);
  for (int j = 0; j < count; ++j) list[j + 1] = successors_[slot(n, j)].node;
  set_successor_list(n, list.data(), count + 1);
}

void Protocol::fill_successor_list(PeerIndex n, Message& msg) const {
  msg.count = static_cast<std::uint8_t>(successor_count(n));
  for (int j = 0; j < msg.count; ++j) msg.list[j] = successors_[slot(n, j)].node;
}

// ---- construction: the converged ring of the "oracle" bootstrap ---------------------------------

void Protocol::install_converged(const std::vector<std::pair<Id, PeerIndex>>& ring) {
  if (ring.empty()) return;
  reserve(std::max_element(ring.begin(), ring.end(), [](auto& a, auto& b) { return a.second < b.second; })->second + 1);
  // As many threads as the transport runs partitions on (a parallel benchmark): each installs a
  // stretch of the ring. Every peer's entries are its own; the finger blocks come from each
  // thread's own chunks (FingerTables::Filler).
  const std::size_t threads = std::clamp<std::size_t>(transport_.partitions(), 1, ring.size());
  run_on_threads(threads, [&](std::size_t t) {
    FingerTables::Filler filler(fingers_);
    install_stretch(ring, ring.size() * t / threads, ring.size() * (t + 1) / threads, filler);
  });
}

static_assert(FingerTables::kMaxFingers == IdSpace::kMaxBits);

void Protocol::install_stretch(const std::vector<std::pair<Id, PeerIndex>>& ring, std::size_t begin, std::size_t end,
                               FingerTables::Filler& filler) {
  const std::size_t count = ring.size();
  // successor(key) = the first peer of the ring at or after key (wrapping). Peers are installed in
  // id order, so finger i's start n + 2^i grows from one peer to the next (it wraps past 2^m once)
  // and its successor's position only moves forward: one cursor per finger walks the ring,
  // a step or two per peer instead of a binary search (at 10^6 peers, m = 160, about 20 searches
  // of 20 random reads for every peer: half of building the ring). Far ahead, the rest is searched.
  // One table reused from peer to peer (made afresh, its 160 runs were a tenth of a peer's
  // installation).
  FingerTables::Runs table;
  std::array<std::size_t, IdSpace::kMaxBits> cursor{};
  std::array<Id, IdSpace::kMaxBits> last_start{};
  std::array<bool, IdSpace::kMaxBits> started{};
  auto successor_of = [&](int i, const Id& key) {
    std::size_t& c = cursor[i];
    if (!started[i] || key < last_start[i]) {  // the first search of this finger, or its start wrapped
      c = static_cast<std::size_t>(std::lower_bound(ring.begin(), ring.end(), std::pair<Id, PeerIndex>{key, 0}) -
                                   ring.begin());
      started[i] = true;
    } else {
      for (int steps = 0; c < count && ring[c].first < key; ++c) {
        if (++steps == 8) {  // far ahead: search the rest
          c = static_cast<std::size_t>(std::lower_bound(ring.begin() + static_cast<std::ptrdiff_t>(c), ring.end(),
                                                        std::pair<Id, PeerIndex>{key, 0}) -
                                       ring.begin());
          break;
        }
      }
    }
    last_start[i] = key;
    return c == count ? ring.front() : ring[c];  // (its id too: the print, without a random read)
  };
  for (std::size_t k = begin; k < end; ++k) {
    const auto& [id, n] = ring[k];
    predecessor_[n] = ring[(k + count - 1) % count].second;
    const int r = static_cast<int>(std::min<std::size_t>(params_.successors, count > 1 ? count - 1 : 1));
    for (int j = 0; j < params_.successors; ++j) {
      const auto& [next_id, next_peer] = ring[(k + 1 + j) % count];
      successors_[slot(n, j)] = j < r ? FingerTables::Run{next_peer, space_.print(next_id)} : FingerTables::Run{};
    }
    // Fingers up to the successor's distance all point to the successor; only the rest need a
    // search in the sorted ring.
    // (The table is built as runs: a full table of m fingers, 140 of them equal at 10^6 peers,
    // cost twice the work of the rest of a peer's installation to write and compress.)
    const Id gap = count > 1 ? space_.distance(id, ring[(k + 1) % count].first) : space_.max_id();
    table.count = 0;
    // For i < bit_width(gap), 2^i <= gap: n + 2^i lies in (n, successor].
    const int near_fingers = gap.bit_width();
    if (near_fingers > 0) table.add(0, successors_[slot(n, 0)]);
    for (int i = near_fingers; i < params_.m; ++i) {
      const auto& [finger_id, f] = successor_of(i, finger_start(space_, id, i));
      table.add(i, {f, space_.print(finger_id)});
    }
    filler.store(n, table);
    if (n < upkeep_.size()) upkeep_[n].next_finger = 0;
  }
}

// ---- message and timer dispatch: each message type goes to the paper function it serves --------

void Protocol::on_message(PeerIndex self, PeerIndex from, const Message& msg) {
  switch (msg.type) {
    // lookup.cpp: find_successor. Iterative: the requester asks n' (FIND_NEXT) one step of
    // find_predecessor's loop; recursive: the question travels and the owner's name comes back.
    case MsgType::FindNext:
      answer_find_next(self, from, msg);
      return;
    case MsgType::FindNextReply:
      find_next_reply(self, from, msg);
      return;
    case MsgType::FindSuccessor:
      forward_recursive(self, msg);
      return;
    case MsgType::FoundSuccessor:
      found_successor(self, msg);
      return;
    // maintenance.cpp: stabilize, notify, check_predecessor, leave.
    case MsgType::GetPredecessor:
      answer_get_predecessor(self, from, msg);
      return;
    case MsgType::GetPredecessorReply:
      stabilize_reply(self, from, msg);
      return;
    case MsgType::Notify:
      notify(self, from);
      return;
    case MsgType::Ping:
      answer_ping(self, from, msg);
      return;
    case MsgType::Pong:
      pong(self, msg);
      return;
    case MsgType::LeaveToSuccessor:
      leave_to_successor(self, from, msg);
      return;
    case MsgType::LeaveToPredecessor:
      leave_to_predecessor(self, from, msg);
      return;
    // storage.cpp: put, get, replicas, hand-over.
    case MsgType::Put:
      answer_put(self, from, msg);
      return;
    case MsgType::Get:
      answer_get(self, from, msg);
      return;
    case MsgType::PutAck:
    case MsgType::GetReply:
      storage_reply(self, msg);
      return;
    case MsgType::Replicate:
      store(self, msg.key, msg.value);
      return;
    case MsgType::HandOver:
      take_over(self, msg);
      return;
    case MsgType::FetchRange:
      hand_over_range(self, msg.key, transport_.id_of(from), from);
      return;
    case MsgType::Count:
      return;
  }
}

void Protocol::on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) {
  switch (static_cast<TimerKind>(kind)) {
    // The paper's periodic functions, each re-armed for its next period.
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
    // An RPC that went unanswered (the cookie names the lookup slot or the RPC's tag).
    case TimerKind::LookupTimeout:
      lookup_timer(self, cookie);
      return;
    case TimerKind::StabilizeTimeout:
      stabilize_timeout(self, cookie);
      return;
    case TimerKind::PingTimeout:
      ping_timeout(self, cookie);
      return;
    case TimerKind::Count:
      return;
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
    if (successors_[slot(n, j)].node == kNoPeer) break;
    s.successors.push_back(successors_[slot(n, j)].node);
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
