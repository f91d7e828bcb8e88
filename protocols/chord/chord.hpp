#pragma once
// Chord (Stoica et al., SIGCOMM 2001; IEEE/ACM ToN 2003) as a p2plab protocol module.
//
// The state of every virtual peer lives in flat arrays indexed by PeerIndex (struct of arrays),
// so a million peers cost a few hundred bytes each and no allocation per message. The methods
// keep the paper's names: find_successor, closest_preceding_finger, stabilize, notify,
// fix_fingers, check_predecessor.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/partition_books.hpp"
#include "finger_table.hpp"
#include "logic.hpp"
#include "p2plab/id.hpp"
#include "p2plab/metrics.hpp"
#include "p2plab/peer_array.hpp"
#include "p2plab/transport.hpp"

namespace p2plab::chord {

struct Params {
  int m = 6;               // bits per identifier
  int successors = 3;      // r: length of the successor list
  bool recursive = false;  // lookup style: iterative (default) or recursive
  SimTime stabilize = from_ms(std::int64_t{500});
  SimTime fix_fingers = from_ms(std::int64_t{500});
  SimTime check_predecessor = from_ms(std::int64_t{1000});
  SimTime rpc_timeout = from_ms(std::int64_t{1000});  // an RPC unanswered this long means "dead"
  int lookup_retries = 3;                             // recursive lookups: end-to-end retries after a timeout
  bool maintenance = true;    // false: no periodic timers (a frozen, converged ring: benchmarks)
  std::size_t max_items = 0;  // keys one peer stores at most, own and copies (0: no limit); a put
                              // beyond it is refused (PUT_ACK flag 0), copies beyond it dropped
};

/// An answer the oracle checks later (Protocol::set_batch_oracle): `owner` was given as the
/// successor of `key`.
struct Answer {
  PeerIndex owner = kNoPeer;
  Id key;
};

enum class MsgType : std::uint8_t {
  FindNext,        // iterative step: "is the key yours, or who is closer?"
  FindNextReply,   //   flag = 1: done, node = owner; flag = 0: node = next hop
  FindSuccessor,   // recursive: forwarded hop by hop toward the key
  FoundSuccessor,  //   the answer, sent straight back to the requester
  GetPredecessor,  // stabilize: "who is your predecessor, and your successor list?"
  GetPredecessorReply,
  Notify,  // "I think I am your predecessor"
  Ping,    // check_predecessor
  Pong,
  Put,  // store key -> value at its owner
  PutAck,
  Get,                 // read key at its owner
  GetReply,            //   flag = 1: found, value set
  Replicate,           // owner to its successors: keep a copy
  HandOver,            // keys change owner (join, leave)
  LeaveToSuccessor,    // "I leave; my predecessor becomes yours"
  LeaveToPredecessor,  // "I leave; here is my successor list"
  FetchRange,          // "my range grew to (key, me]: send me the copies you hold of it"
  Count
};
const char* to_string(MsgType type);

constexpr std::uint32_t kNoValue = 0xffffffffu;

/// Every Chord message. Fixed size: the simulator keeps them in a reusable pool.
struct Message {
  MsgType type = MsgType::FindNext;
  std::uint8_t flag = 0;
  std::uint8_t count = 0;    // valid entries in `list`
  std::uint8_t hops = 0;     // recursive lookups: forwarding steps so far
  std::uint32_t lookup = 0;  // the requester's lookup slot (or an RPC tag)
  std::uint32_t tag = 0;     // guards against late replies to an earlier attempt
  PeerIndex origin = kNoPeer;
  PeerIndex node = kNoPeer;
  std::uint32_t value = kNoValue;  // index into the value table
  Id key;
  std::array<PeerIndex, kMaxSuccessors> list{};  // successor list, or peers to avoid, or a recursive lookup's path

  /// The bytes that carry information, the fields and `count` entries of `list`: the simulators
  /// copy only these (a lookup step, with no list or a path of a few hops, fills one or two of
  /// the message's three cache lines; p2plab/message_pool.hpp).
  std::size_t used_bytes() const {
    return offsetof(Message, list) + std::min<std::size_t>(count, kMaxSuccessors) * sizeof(PeerIndex);
  }
  /// What is copied at a fixed size and what a delivery's prefetch loads: the fields and a path
  /// of 14 peers (at 10^6 peers a lookup takes 9.3 hops on average, 14 at the 99th percentile),
  /// 104 bytes: with the pool slot's sender, two cache lines. (Defined below the class, where
  /// offsetof sees the whole of it.)
  static const std::size_t kHotBytes;
};
inline constexpr std::size_t Message::kHotBytes = offsetof(Message, list) + 14 * sizeof(PeerIndex);

enum class TimerKind : std::uint16_t {
  Stabilize,
  FixFingers,
  CheckPredecessor,
  LookupTimeout,
  StabilizeTimeout,
  PingTimeout,
  Count
};
const char* to_string(TimerKind kind);

/// State fields reported in StateChange trace events.
enum class StateField : std::uint8_t { Successor, Predecessor, Finger, Count };

/// Why a lookup was started.
enum class Purpose : std::uint8_t { User, Join, FixFinger, Put, Get };
/// A LookupHop's kind (its detail): a step of the lookup, or a request that got no answer in time.
constexpr std::uint8_t kStepHop = 0, kTimeoutHop = 1;

/// One finished lookup, as the result file reports it.
struct LookupRecord {
  std::uint32_t serial = 0;
  Purpose purpose = Purpose::User;
  PeerIndex from = kNoPeer;
  Id key;
  PeerIndex owner = kNoPeer;  // kNoPeer when the lookup failed
  std::uint32_t hops = 0;
  std::vector<PeerIndex> path;
  SimTime start = 0, end = 0;
  bool ok = false;           // owner is the true successor of key at the end
  bool owner_alive = false;  // when not ok: a crashed owner (stale pointer) or a live wrong one
  bool completed = false;    // false: gave up
  // put/get
  std::uint32_t value = kNoValue;
  bool found = false;
  std::uint32_t messages = 0;  // messages this lookup (and its put/get) caused
  PeerIndex silent = kNoPeer;  // when it gave up: the peer whose answer it waited for last
};

/// A typed snapshot of one peer (libtorrent style): what the inspector shows and tests check.
struct FingerEntry {
  int i = 0;
  Id start;         // n + 2^i
  Id interval_end;  // n + 2^(i+1) (exclusive): finger i covers [start, interval_end)
  PeerIndex node = kNoPeer;
};
struct PeerSnapshot {
  PeerIndex peer = kNoPeer;
  Id id;
  PeerIndex predecessor = kNoPeer;
  std::vector<PeerIndex> successors;
  std::vector<FingerEntry> fingers;
  std::vector<Id> keys;      // stored as primary owner: in (predecessor, id]
  std::vector<Id> replicas;  // copies kept for predecessors
};

class Protocol final : public MessageHandler<Message> {
 public:
  Protocol(Params params, Transport<Message>& transport);

  const Params& params() const { return params_; }
  /// Periods and timeouts may change during a run (not m, not r).
  Params& mutable_params() { return params_; }
  const IdSpace& space() const { return space_; }

  // ---- life cycle (called by the run for scenario operations) --------------------------------
  /// Makes room for state of peers up to `count` (dense indices).
  void reserve(std::size_t count);
  /// The first peer: a ring of one.
  void create(PeerIndex n);
  /// Joins through `bootstrap` with the real protocol (find_successor of the own id).
  void join(PeerIndex n, PeerIndex bootstrap);
  /// Joins with `s` as successor without a lookup (the paper's weakest join: stabilize moves the
  /// successor to the right place). For a peer whose lookup of its own id keeps failing because
  /// the ring still names its previous incarnation as the owner of that id.
  void join_with_successor(PeerIndex n, PeerIndex s);
  /// Graceful leave: hands keys to the successor, links predecessor and successor.
  void leave(PeerIndex n);
  /// Installs converged state computed from the sorted live ids (the "oracle" bootstrap), on
  /// peers without state yet. On as many threads as the transport has partitions.
  void install_converged(const std::vector<std::pair<Id, PeerIndex>>& sorted_live);
  void start_maintenance(PeerIndex n);

  // ---- operations --------------------------------------------------------------------------
  /// Starts a lookup of `key` at peer n; returns its serial number (its name in the trace).
  /// `value`: the value index for Put, the bootstrap peer for Join, the finger index for FixFinger.
  /// The paper's n.find_successor(key) (lookup.cpp), under the name the runs use.
  std::uint32_t lookup(PeerIndex n, const Id& key, Purpose purpose = Purpose::User, std::uint32_t value = kNoValue) {
    return find_successor(n, key, purpose, value);
  }
  std::uint32_t put(PeerIndex n, const Id& key, std::uint32_t value) { return lookup(n, key, Purpose::Put, value); }
  std::uint32_t get(PeerIndex n, const Id& key) { return lookup(n, key, Purpose::Get); }

  // ---- the paper's routing primitives (local computation at peer n) ----------------------------
  /// The finger or successor-list entry of n that most closely precedes `key` (n itself if none),
  /// skipping peers in `avoid` (known dead during this lookup).
  PeerIndex closest_preceding_finger(PeerIndex n, const Id& key, const PeerIndex* avoid = nullptr,
                                     int avoid_count = 0) const;
  /// One routing decision at peer x, as lookups make it: true if x's successor owns key (then
  /// `next` is that successor), else `next` is the next hop (kNoPeer: no way on). Tests compare
  /// it with logic::find_successor_step on the same state.
  bool route_step(PeerIndex x, const Id& key, PeerIndex& next) const { return next_step(x, key, nullptr, 0, next); }
  PeerIndex successor(PeerIndex n) const { return successors_[slot(n, 0)].node; }
  PeerIndex predecessor(PeerIndex n) const { return predecessor_[n]; }
  PeerIndex finger(PeerIndex n, int i) const { return fingers_.get(n, i); }

  // ---- inspection ----------------------------------------------------------------------------
  PeerSnapshot snapshot(PeerIndex n) const;
  const std::vector<LookupRecord>& records() const { return records_; }
  /// Forgets the finished records (a long-running real peer, once it has reported them).
  void clear_records() { records_.clear(); }
  /// Marks (mark[p] = 1) the peers n's state refers to: predecessor, successors, fingers, the
  /// peer it pings, and every peer a running lookup of n waits for or has on its path.
  void mark_peers_in_use(PeerIndex n, std::vector<std::uint8_t>& mark) const;
  /// Sends NOTIFY from n to `to` ("I think I am your predecessor"): harmless to a peer that has
  /// a closer predecessor, and to a peer alone in a ring of its own it is the way into n's ring
  /// (it takes n as predecessor, then its stabilize takes n as successor).
  void send_notify(PeerIndex n, PeerIndex to) {
    Message note;
    note.type = MsgType::Notify;
    send(n, to, note);
  }
  /// Asks n's successor for the copies it holds of n's range (predecessor, n] (FETCH_RANGE): a
  /// peer that came back empty gets its keys back. False when n has no predecessor or successor
  /// other than itself.
  bool fetch_own_range(PeerIndex n);
  /// Keys peer n stores (as owner and as copies).
  std::size_t stored_items(PeerIndex n) const {
    auto it = items_.find(n);
    return it == items_.end() ? 0 : it->second.size();
  }
  std::size_t value_count() const { return values_.size(); }
  /// Drops the values no stored item and no running put refers to any more and renumbers the
  /// rest; returns old index -> new index (kNoValue: dropped). Records must have been cleared.
  std::vector<std::uint32_t> compact_values();
  /// User lookups started but not ended (still running, or their requester crashed).
  std::size_t unfinished_lookups() const;
  /// Hook for owner_alive in records: is this peer up right now (ground truth, not routing).
  void set_liveness_oracle(std::function<bool(PeerIndex)> alive) { alive_ = std::move(alive); }
  /// Called when a peer is out of the ring: its join gave up (the bootstrap peer is gone) or it
  /// lost every successor it knew. The application may let it join again through another peer.
  void on_join_failed(std::function<void(PeerIndex)> hook) { join_failed_ = std::move(hook); }
  /// True once the peer has a successor: it is part of a ring and can serve lookups.
  bool in_ring(PeerIndex n) const { return n < predecessor_.size() && successor(n) != kNoPeer; }
  /// Keeps a record of every finished lookup (the default, except on a parallel simulator:
  /// records are one list, and the threads would share it).
  void keep_records(bool on) {
    if (on && books_.size() > 1) throw std::logic_error("chord: lookup records need a one-partition transport");
    keep_records_ = on;
  }
  /// A lookup's slot is reused as soon as it ends, not when its timer fires. Only for runs in
  /// which every lookup arms its timer once, all with the same delay, and nothing is lost or
  /// retried (a frozen ring with fixed parameters: the benchmark): then the earlier lookup's
  /// timer always fires first, and is ignored. Same events, same results, fewer slots.
  void reuse_slots_early(bool on) { early_reuse_ = on; }
  std::size_t lookup_slots() const {
    std::size_t slots = 0;
    for (const LookupBook& book : books_) slots += book.slots.size();
    return slots;
  }
  /// The user lookups' figures (of every partition's book: call it between runs, not during).
  LookupStats& stats() { return gather_stats(); }
  const LookupStats& stats() const { return gather_stats(); }
  /// Values put into the DHT (Message::value indexes this table).
  std::uint32_t intern_value(std::string value);
  const std::string& value(std::uint32_t index) const { return values_[index]; }
  /// Hook for the oracle check of "ok": is `owner` the true successor of `key` right now?
  void set_oracle(std::function<bool(PeerIndex owner, const Id& key)> oracle) { oracle_ = std::move(oracle); }
  /// For a benchmark whose live set never changes: user lookups' answers wait in their book and
  /// are checked kCheckBatch at a time by `count_correct` (how many of them are right; its
  /// scratch vector is the book's), so the checks' memory reads overlap; the last ones when the
  /// figures are read (stats()). The truth cannot change in between, so the figures are those of
  /// set_oracle. Takes precedence over set_oracle for user lookups while no records are kept.
  using BatchOracle = std::function<std::uint64_t(const std::vector<Answer>&, std::vector<PeerIndex>& scratch)>;
  void set_batch_oracle(BatchOracle count_correct) { batch_oracle_ = std::move(count_correct); }
  static constexpr std::size_t kCheckBatch = 256;
  std::size_t state_bytes() const;
  std::size_t finger_bytes() const { return fingers_.bytes(); }
  /// Routing state entries held by peer n (fingers + successors + predecessor that are set).
  std::size_t state_entries(PeerIndex n) const;

  // ---- MessageHandler ------------------------------------------------------------------------
  void on_message(PeerIndex self, PeerIndex from, const Message& msg) override;
  void on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) override;
  void prefetch(PeerIndex peer) const override {
    if (peer >= predecessor_.size()) return;
    // (Not the peer's id: the engine prefetches the peer's record, id included, itself.)
    __builtin_prefetch(&successors_[slot(peer, 0)]);
    fingers_.prefetch(peer);
  }
  void prefetch_timer(PeerIndex peer, std::uint16_t kind, std::uint32_t cookie) const override {
    if (static_cast<TimerKind>(kind) != TimerKind::LookupTimeout) {
      prefetch(peer);
      return;
    }
    // A lookup's timeout reads its lookup (usually finished long before), not the peer's routing
    // state: 8 % of the bench's events, four lines each that were loaded for nothing.
    if (!has_lookup(cookie)) return;
    const char* p = reinterpret_cast<const char*>(&lookup_at(cookie));
    for (std::size_t offset = 0; offset < sizeof(Lookup); offset += 64) __builtin_prefetch(p + offset);
  }
  void prefetch_message(PeerIndex peer, const Message& msg) const override {
    // Only a lookup step reads fingers (its slot was loaded a stage ago): not a reply.
    const bool step = msg.type == MsgType::FindSuccessor || msg.type == MsgType::FindNext;
    if (step && peer < predecessor_.size()) fingers_.prefetch_runs(peer);
    const bool reply = msg.type == MsgType::FindNextReply || msg.type == MsgType::FoundSuccessor ||
                       msg.type == MsgType::PutAck || msg.type == MsgType::GetReply;
    if (!reply && !(step && keep_records_)) return;  // (most hops: their lookup is not read)
    // Only a lookup of the peer's own partition: another partition's book is its thread's.
    if ((msg.lookup >> kBookShift) != transport_.partition_of(peer) || !has_lookup(msg.lookup)) return;
    const Lookup& l = lookup_at(msg.lookup);
    const char* p = reinterpret_cast<const char*>(&l);
    if (reply) {
      for (std::size_t offset = 0; offset < sizeof(Lookup); offset += 64) __builtin_prefetch(p + offset);
    } else {
      // A hop on the way counts its message on the lookup's record (send()): one line.
      __builtin_prefetch(&l.serial);
      __builtin_prefetch(&l.messages);
    }
  }

 private:
  struct Lookup {
    std::uint32_t serial = 0;  // 0: slot free
    Purpose purpose = Purpose::User;
    std::uint8_t finger = 0;  // fix_fingers: which finger
    std::uint8_t timeouts = 0;
    PeerIndex origin = kNoPeer;
    Id key;
    SimTime start = 0, deadline = -1;
    std::uint32_t tag = 0;
    std::uint32_t value = kNoValue;
    PeerIndex owner = kNoPeer;       // found owner (put/get in their second phase)
    PeerIndex asked = kNoPeer;       // iterative: the peer whose answer we wait for
    PeerIndex last = kNoPeer;        // path.back(), kept here so the hot path need not read the path
    PeerIndex bootstrap = kNoPeer;   // join: the known peer the newcomer asks first
    bool storage_phase = false;      // put/get: lookup done, now talking to the owner
    bool timer_pending = false;      // its timeout timer is in the event queue
    std::uint8_t orphan_timers = 0;  // timers of earlier lookups in this slot still to fire
    std::uint8_t answer_length = 0;  // the answer's path length when the path was not copied (0: see path)
    std::uint32_t messages = 0;      // measurement: messages sent for this lookup
    std::vector<PeerIndex> path;     // path[0] = origin; iterative: nodes that answered, in order
    std::vector<PeerIndex> avoid;    // peers that timed out during this lookup
  };

  // ---- chord.cpp: state, every change traced; the bridge to logic.hpp; sending ---------------
  std::size_t slot(PeerIndex n, int j) const { return static_cast<std::size_t>(n) * params_.successors + j; }
  int successor_count(PeerIndex n) const;
  void set_successor_list(PeerIndex n, const PeerIndex* list, int count);
  void set_successor(PeerIndex n, PeerIndex s);
  void set_predecessor(PeerIndex n, PeerIndex p);
  void set_finger(PeerIndex n, int i, PeerIndex node);
  void trace_state(PeerIndex n, StateField field, int index, PeerIndex value);
  std::uint32_t print_of(PeerIndex p) const { return p == kNoPeer ? 0 : space_.print(transport_.id_of(p)); }
  // The bridge to the exercised functions (logic.hpp): a peer as a Contact, the node's
  // neighbours as logic::Neighbours, and back. valid() rejects contacts the protocol does not
  // know (student code may return anything).
  Contact contact(PeerIndex p) const;
  bool valid(const Contact& c) const;
  logic::Neighbours neighbours(PeerIndex n) const;
  void apply(PeerIndex n, const logic::Neighbours& updated);
  /// install_converged for ring positions [begin, end).
  void install_stretch(const std::vector<std::pair<Id, PeerIndex>>& ring, std::size_t begin, std::size_t end,
                       FingerTables::Filler& filler);
  void fill_successor_list(PeerIndex n, Message& msg) const;
  /// Every message leaves through here: the ones that belong to a lookup (its steps, and the put
  /// or get at the owner) are counted on it, for "messages per search".
  void send(PeerIndex from, PeerIndex to, const Message& msg) {
    switch (msg.type) {
      case MsgType::FindNext:
      case MsgType::FindNextReply:
      case MsgType::FindSuccessor:
      case MsgType::FoundSuccessor:
      case MsgType::Put:
      case MsgType::PutAck:
      case MsgType::Get:
      case MsgType::GetReply:
        // (Counted for the record only: a benchmark keeps none, and its hops never touch the
        // requester's lookup, which may belong to another thread's partition.)
        if (keep_records_ && has_lookup(msg.lookup) && lookup_at(msg.lookup).serial != 0)
          ++lookup_at(msg.lookup).messages;
        break;
      default:
        break;
    }
    transport_.send(from, to, msg);
  }

  // ---- routing_fast.cpp or routing_generic.cpp: one node's routing decision -------------------
  /// x in (a, b) on the circle, decided on 32-bit prints unless they tie (then on full ids).
  bool in_open_fast(PeerIndex x, std::uint32_t px, const Id& a, std::uint32_t pa, const Id& b, std::uint32_t pb) const;
  /// closest_preceding_finger with n's id and the prints of n and key already at hand (next_step
  /// has them): routing_fast.cpp only.
  PeerIndex closest_preceding(PeerIndex n, const Id& self, std::uint32_t p_self, const Id& key, std::uint32_t p_key,
                              const PeerIndex* avoid, int avoid_count) const;
  struct RoutingScratch;  // routing_generic.cpp
  void routing_table(PeerIndex n, const PeerIndex* avoid, int avoid_count, RoutingScratch& out) const;
  /// The body of the paper's find_predecessor loop, evaluated at x: true if key lies in
  /// (x, x.successor] (then `out` is that successor, the owner), else `out` is
  /// x.closest_preceding_finger(key) (or x's successor if no finger precedes the key; kNoPeer:
  /// no way on).
  bool next_step(PeerIndex x, const Id& key, const PeerIndex* avoid, int avoid_count, PeerIndex& out) const;
  /// next_step with nobody to avoid (every recursive hop), on prints: routing_fast.cpp only.
  /// False when a tie of prints needs the full ids (then next_step decides).
  bool step_on_prints(PeerIndex x, const Id& key, bool& done, PeerIndex& out) const;

  // ---- lookup.cpp: find_successor, iterative and recursive --------------------------------------
  std::uint32_t find_successor(PeerIndex n, const Id& key, Purpose purpose, std::uint32_t value);
  std::uint32_t open_lookup(PeerIndex n, const Id& key, Purpose purpose, std::uint32_t value);
  std::uint32_t allocate_lookup(PeerIndex requester);
  void find_predecessor(std::uint32_t slot_index, PeerIndex n_prime);         // iterative: ask n'
  void answer_find_next(PeerIndex self, PeerIndex from, const Message& msg);  // n' answers
  void find_next_reply(PeerIndex self, PeerIndex from, const Message& msg);   // the requester goes on
  void find_successor_recursive(std::uint32_t slot_index, PeerIndex first_hop);
  void forward_recursive(PeerIndex self, const Message& msg);
  /// A recursive lookup gives up after this many hops (the routing state loops): 2m + 16 as an
  /// iterative one, but at most 254, so that the message's one-byte hop count never wraps.
  int recursive_hop_limit() const { return std::min(2 * params_.m + 16, 254); }
  void found_successor(PeerIndex self, const Message& msg);
  void lookup_answered(std::uint32_t slot_index, PeerIndex owner);
  void lookup_failed(std::uint32_t slot_index);
  void finish(std::uint32_t slot_index, PeerIndex owner, bool completed, bool found = false,
              std::uint32_t value = kNoValue);
  void note_hop(Lookup& l, PeerIndex from, PeerIndex to);
  void arm_timeout(std::uint32_t slot_index);
  void lookup_timer(PeerIndex self, std::uint32_t slot_index);
  void on_lookup_timeout(std::uint32_t slot_index);
  PeerIndex pending_target(std::uint32_t slot_index) const;
  void retry_from_last(std::uint32_t slot_index);

  // ---- maintenance.cpp: join, stabilize, notify, fix_fingers, check_predecessor, failures ------
  void join_answered(std::uint32_t slot_index, PeerIndex found);
  void stabilize(PeerIndex n);
  void answer_get_predecessor(PeerIndex self, PeerIndex from, const Message& msg);
  void stabilize_reply(PeerIndex self, PeerIndex from, const Message& msg);
  void stabilize_timeout(PeerIndex self, std::uint32_t tag);
  void notify(PeerIndex n, PeerIndex candidate);
  void fix_fingers(PeerIndex n);
  void fix_finger_answered(std::uint32_t slot_index, PeerIndex owner);
  void check_predecessor(PeerIndex n);
  void answer_ping(PeerIndex self, PeerIndex from, const Message& msg);
  void pong(PeerIndex self, const Message& msg);
  void ping_timeout(PeerIndex self, std::uint32_t tag);
  void remove_dead(PeerIndex n, PeerIndex dead);
  void leave_to_successor(PeerIndex self, PeerIndex from, const Message& msg);
  void leave_to_predecessor(PeerIndex self, PeerIndex from, const Message& msg);

  // ---- storage.cpp: put, get, key hand-over, replication ---------------------------------------
  bool is_primary(PeerIndex n, const Id& key) const;
  /// Stores key -> value at n; false when n is at max_items and the key is new.
  bool store(PeerIndex n, const Id& key, std::uint32_t value);
  void storage_request(std::uint32_t slot_index, PeerIndex owner);
  void answer_put(PeerIndex self, PeerIndex from, const Message& msg);
  void answer_get(PeerIndex self, PeerIndex from, const Message& msg);
  void storage_reply(PeerIndex self, const Message& msg);
  void replicate(PeerIndex n, const Id& key, std::uint32_t value, bool fresh = true);
  /// Keys in (after, last] on the circle.
  struct KeyRange {
    Id after, last;
  };
  /// Copies every key n owns (or only those in `only`) to its replica holders, except those in
  /// `skip` (they have them).
  void replicate_all_primary(PeerIndex n, const PeerIndex* skip = nullptr, int skip_count = 0,
                             const KeyRange* only = nullptr);
  void take_over(PeerIndex self, const Message& msg);
  void hand_over_keys(PeerIndex n, PeerIndex old, PeerIndex newcomer);
  void hand_over_all(PeerIndex n, PeerIndex to);
  void hand_over_range(PeerIndex n, const Id& from_exclusive, const Id& to_inclusive, PeerIndex to);

  Params params_;
  IdSpace space_;
  Transport<Message>& transport_;

  // Per-peer state, struct of arrays.
  PeerArray<PeerIndex> predecessor_;
  // The id of a predecessor n found dead, until a new predecessor notifies n: the keys n gained
  // are (new predecessor, that id], and only those need copies (few peers at a time, so a map).
  std::unordered_map<PeerIndex, Id> lost_predecessor_;
  // r entries per peer (node kNoPeer past the known ones), each with its node's IdSpace::print:
  // routing reads both, on one cache line at r = 8 (two arrays cost a line more per hop).
  PeerArray<FingerTables::Run> successors_;
  FingerTables fingers_;  // m fingers per peer, as runs; kNoPeer = not yet known
  // What stabilize, check_predecessor and fix_fingers keep between their steps.
  struct Upkeep {
    std::uint32_t stabilize_tag = 0, ping_tag = 0;
    SimTime stabilize_deadline = -1, ping_deadline = -1;  // -1: no answer awaited
    PeerIndex ping_target = kNoPeer;
    std::uint8_t next_finger = 0;
  };
  PeerArray<Upkeep> upkeep_;  // empty until maintenance first runs (32 bytes per peer a frozen ring saves)
  /// Peer n's entry, growing the array on first use: a reference stays valid until the next call
  /// for a peer past its end (none happens within one maintenance step).
  Upkeep& upkeep(PeerIndex n) {
    if (n >= upkeep_.size()) upkeep_.resize(std::max<std::size_t>(predecessor_.size(), n + 1));
    return upkeep_[n];
  }
  // Stored items of the (few) peers that hold any: key -> value index.
  std::unordered_map<PeerIndex, std::map<Id, std::uint32_t>> items_;

  // Lookups live in books, one per partition of the transport (one, except in a parallel
  // benchmark): a lookup belongs to its requester's partition, so no two threads share a book.
  // A lookup's slot number carries its book in the top bits (book 0: slot = index).
  static constexpr int kBookShift = 27;
  static_assert(dht::kMaxPartitions == 1u << (32 - kBookShift));  // (dht::checked_partitions)
  static constexpr std::uint32_t kSlotMask = (1u << kBookShift) - 1;
  struct alignas(64) LookupBook {  // (its own cache lines: one thread writes each book)
    PeerArray<Lookup> slots;       // (huge pages: read at random, as the peers' state)
    std::vector<std::uint32_t> free;
    std::uint32_t next = 1;  // serials of this book: next * books + book (one book: 1, 2, 3, ...)
    mutable LookupStats stats;
    mutable std::vector<Answer> unchecked;   // answers for the batch oracle
    mutable std::vector<PeerIndex> scratch;  // its working space
  };
  /// The batch oracle's verdict on a book's waiting answers, counted in its figures.
  void check_answers(const LookupBook& book) const;
  std::vector<LookupBook> books_;
  bool has_lookup(std::uint32_t slot) const {
    const std::uint32_t book = slot >> kBookShift;
    return book < books_.size() && (slot & kSlotMask) < books_[book].slots.size();
  }
  Lookup& lookup_at(std::uint32_t slot) { return books_[slot >> kBookShift].slots[slot & kSlotMask]; }
  const Lookup& lookup_at(std::uint32_t slot) const { return books_[slot >> kBookShift].slots[slot & kSlotMask]; }
  LookupBook& book_of(PeerIndex requester) { return books_[transport_.partition_of(requester)]; }
  /// Folds the other books' figures into the first one's and returns it.
  LookupStats& gather_stats() const;
  std::vector<LookupRecord> records_;
  bool keep_records_ = true;
  bool early_reuse_ = false;
  std::vector<std::string> values_;
  std::function<bool(PeerIndex, const Id&)> oracle_;
  BatchOracle batch_oracle_;
  std::function<bool(PeerIndex)> alive_;
  std::function<void(PeerIndex)> join_failed_;
};

}  // namespace p2plab::chord
