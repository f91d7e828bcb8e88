#pragma once
// Pastry (Rowstron & Druschel, Middleware 2001) as a p2plab protocol module.
//
// Every peer keeps the paper's three tables: the leaf set (the L/2 numerically closest smaller and
// larger ids), the routing table (row i: peers sharing i digits with it, one column per value of
// digit i) and the neighbourhood set (the M peers closest in the underlay). Messages are routed
// hop by hop (the paper's route(msg, key)); each hop is acknowledged, so a peer that does not
// answer is noticed, dropped from the forwarder's state and routed around.
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/item_store.hpp"
#include "common/partition_books.hpp"
#include "p2plab/id.hpp"
#include "p2plab/metrics.hpp"
#include "p2plab/transport.hpp"
#include "pastry_ids.hpp"

namespace p2plab::pastry {

/// Longest list a message carries: a row of 2^b entries (b <= 6), a leaf set (L <= 64), a
/// neighbourhood set (M <= 64).
constexpr int kMaxList = 64;
constexpr int kMaxDigitBits = 6;

struct Params {
  int m = 128;                                            // id bits (a multiple of b)
  int b = 4;                                              // digits in base 2^b
  int leaf_set = 16;                                      // L: L/2 smaller and L/2 larger ids
  int neighbourhood = 32;                                 // M
  SimTime keepalive = from_ms(std::int64_t{1000});        // leaf-set keep-alive period
  SimTime rpc_timeout = from_ms(std::int64_t{500});       // an unanswered hop or ping this old: dead
  SimTime lookup_timeout = from_ms(std::int64_t{20000});  // the requester gives up
  bool maintenance = true;  // false: no keep-alives (a frozen network, e.g. the benchmark)
};

enum class MsgType : std::uint8_t {
  Route,           // route(msg, key): a lookup, put, get or join on its way to the key
  RouteAck,        //   "got it" to the previous hop
  RouteDone,       //   the key's owner to the requester (owner, found, value)
  JoinRow,         // a node on a join's route to the newcomer: one routing-table row
  JoinLeafSet,     // Z (the last node of the join route) to the newcomer: its leaf set
  JoinNeighbours,  // A (the first node) to the newcomer: its neighbourhood set
  Announce,        // the newcomer to every node in its state: "I am here"
  LeafPing,        // keep-alive to a leaf (also the leaf-set repair request)
  LeafPong,        //   with the responder's leaf set
  RowRequest,      // lazy routing-table repair: "your entry in row `row`, column `flag`?"
  RowReply,        //   node = that entry
  Leaving,         // graceful leave, with the leaver's leaf set
  Count
};
const char* to_string(MsgType type);

enum class TimerKind : std::uint16_t { Keepalive, HopTimeout, LookupTimeout, Count };
const char* to_string(TimerKind kind);

enum class Purpose : std::uint8_t { User, Join, Put, Get };
constexpr std::uint32_t kNoValue = 0xffffffffu;
/// A LookupHop's kind (its detail): a forwarding step, or a hop that got no acknowledgement.
constexpr std::uint8_t kStepHop = 0, kTimeoutHop = 1;
/// StateChange fields.
enum class StateField : std::uint8_t { LeafSet, RoutingTable, Count };

struct Message {
  MsgType type = MsgType::Route;
  Purpose purpose = Purpose::User;
  std::uint8_t flag = 0;     // RouteDone: found/stored; RowRequest: the column
  std::uint8_t count = 0;    // valid entries in list
  std::uint16_t hops = 0;    // Route: forwarding steps so far; RouteDone: the route's
  std::uint16_t row = 0;     // JoinRow, RowRequest: the row
  std::uint32_t lookup = 0;  // serial of the lookup (0: none)
  std::uint32_t tag = 0;     // RPC slot (hop and ping acknowledgements)
  PeerIndex origin = kNoPeer;
  PeerIndex node = kNoPeer;
  std::uint32_t value = kNoValue;
  Id key;
  std::array<PeerIndex, kMaxList> list{};
};

struct LookupRecord {
  std::uint32_t serial = 0;
  Purpose purpose = Purpose::User;
  PeerIndex from = kNoPeer;
  Id key;
  PeerIndex owner = kNoPeer;
  std::uint32_t hops = 0;
  std::vector<PeerIndex> path;
  SimTime start = 0, end = 0;
  bool ok = false, completed = false, found = false;
  std::uint32_t value = kNoValue;
  std::uint32_t messages = 0;
};

/// One routing decision (the paper's route procedure at one node).
struct Decision {
  enum class Rule : std::uint8_t { Deliver, LeafSet, Table, RareCase };
  Rule rule = Rule::Deliver;
  PeerIndex next = kNoPeer;   // Deliver: the node itself
  int row = -1, column = -1;  // Table: the entry used; RareCase: the shared prefix length in row
};

/// How the routing decisions of all lookups went (the bench prints them).
struct RouteStats {
  std::uint64_t by_rule[4] = {0, 0, 0, 0};  // Decision::Rule: Deliver, LeafSet, Table, RareCase
  std::uint64_t table_digits_gained = 0;    // over all Table hops: shl(next, key) - shl(node, key)
  /// Adds another partition's counts.
  void add(const RouteStats& other) {
    for (int r = 0; r < 4; ++r) by_rule[r] += other.by_rule[r];
    table_digits_gained += other.table_digits_gained;
  }
};

struct PeerState {
  std::vector<PeerIndex> smaller, larger;  // leaf set, nearest first
  std::vector<PeerIndex> table;            // rows x 2^b, only the rows in use
  std::vector<PeerIndex> neighbours;       // nearest first
  std::vector<PeerIndex> dead;             // peers this one presumes failed
  bool joined = false;
};

class Protocol final : public MessageHandler<Message> {
 public:
  Protocol(Params params, Transport<Message>& transport);

  const Params& params() const { return params_; }
  Params& mutable_params() { return params_; }
  const Digits& digits() const { return digits_; }

  void reserve(std::size_t count);
  /// Proximity metric between two peers (the underlay's distance; smaller is nearer). Without
  /// one every peer is as near as any other.
  void set_proximity(std::function<double(PeerIndex, PeerIndex)> f) { proximity_ = std::move(f); }
  /// Checks a finished lookup: is `owner` the live node numerically closest to key (ignoring
  /// `except`, a newcomer looking up its own id)?
  void set_oracle(std::function<bool(PeerIndex owner, const Id& key, PeerIndex except)> f) { oracle_ = std::move(f); }
  void on_join_failed(std::function<void(PeerIndex)> f) { join_failed_ = std::move(f); }
  /// Without records (benchmarks) a lookup's requester alone touches its state: the forwarders
  /// neither extend its path nor count its messages, and its hops come back in ROUTE_DONE (which
  /// a parallel run needs: the requester may be another thread's peer).
  void keep_records(bool keep) {
    if (keep && books_.size() > 1) throw std::logic_error("pastry: lookup records need a one-partition transport");
    keep_records_ = keep;
  }

  // ---- life cycle ---------------------------------------------------------------------------
  void create(PeerIndex x);                  // the first node
  void join(PeerIndex x, PeerIndex nearby);  // the paper's join through a nearby node A
  void leave(PeerIndex x);
  /// The "oracle" bootstrap: every table filled from the sorted live ids (proximity-aware).
  void install_converged(const std::vector<std::pair<Id, PeerIndex>>& sorted_live, std::uint64_t seed);
  void start_maintenance(PeerIndex x);

  // ---- operations ---------------------------------------------------------------------------
  std::uint32_t lookup(PeerIndex x, const Id& key, Purpose purpose = Purpose::User, std::uint32_t value = kNoValue);
  std::uint32_t put(PeerIndex x, const Id& key, std::uint32_t value) { return lookup(x, key, Purpose::Put, value); }
  std::uint32_t get(PeerIndex x, const Id& key) { return lookup(x, key, Purpose::Get); }
  std::uint32_t intern_value(const std::string& v) { return store_.intern(v); }
  const std::string& value(std::uint32_t index) const { return store_.value(index); }

  /// The routing decision node x makes for key now.
  Decision route(PeerIndex x, const Id& key) const;

  // ---- inspection ---------------------------------------------------------------------------
  const PeerState& state(PeerIndex x) const { return peers_[x]; }
  /// Routing-table entry (kNoPeer if empty or beyond the rows in use).
  PeerIndex entry(PeerIndex x, int row, int column) const;
  int rows_in_use(PeerIndex x) const { return static_cast<int>(peers_[x].table.size()) / digits_.columns(); }
  bool joined(PeerIndex x) const { return x < peers_.size() && peers_[x].joined; }
  const dht::StoredItems* items(PeerIndex x) const { return store_.items(x); }
  const std::vector<LookupRecord>& records() const { return records_; }
  /// The user lookups' figures and the routing decisions' (of every partition's book: call them
  /// between runs, not during).
  const LookupStats& stats() const;
  const RouteStats& route_stats() const;
  std::size_t unfinished_lookups() const;
  std::size_t state_entries(PeerIndex x) const;  // distinct peers x knows

  // ---- MessageHandler -------------------------------------------------------------------------
  void on_message(PeerIndex self, PeerIndex from, const Message& msg) override;
  void on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) override;

 private:
  struct Pending {  // a hop or ping waiting for its acknowledgement
    PeerIndex holder = kNoPeer, target = kNoPeer;
    bool open = false;
    SimTime deadline = 0;
    Message msg;  // a hop: the message, to route again around a silent next hop
  };

  void send(PeerIndex from, PeerIndex to, Message msg);
  void handle_route(PeerIndex x, Message msg, bool arrived);
  void forward(PeerIndex x, PeerIndex next, Message msg);
  void deliver(PeerIndex z, const Message& msg);
  /// The requester's end of a lookup; `hops` is what ROUTE_DONE carried (records count the path).
  void finish(PeerIndex requester, std::uint32_t serial, PeerIndex owner, bool found, std::uint32_t value,
              std::uint32_t hops = 0);
  void send_rows(PeerIndex node, PeerIndex newcomer, int from_row, std::uint32_t serial);
  Message leaf_set_message(PeerIndex x, MsgType type) const;
  std::uint32_t open_pending(PeerIndex holder, PeerIndex target, const Message& msg);
  void ping(PeerIndex x, PeerIndex leaf);

  /// Learns of peer p: into x's leaf set, routing table and neighbourhood set where it belongs.
  /// Returns which of x's tables changed (kLeafSetChanged | kTableChanged | kNeighboursChanged).
  static constexpr int kLeafSetChanged = 1, kTableChanged = 2, kNeighboursChanged = 4;
  int consider(PeerIndex x, PeerIndex p);
  void consider_list(PeerIndex x, const Message& msg, PeerIndex sender);
  /// x presumes p failed: drops it everywhere and starts the repairs.
  void presume_dead(PeerIndex x, PeerIndex p);
  bool is_dead_to(PeerIndex x, PeerIndex p) const;
  double proximity(PeerIndex a, PeerIndex b) const { return proximity_ ? proximity_(a, b) : 0.0; }
  PeerIndex& cell(PeerIndex x, int row, int column);
  Id shifted_size(int row) const;
  void trace_state(PeerIndex x, StateField field, PeerIndex value);

  // Lookups and pending hops live in books, one per partition of the transport (one, except in a
  // parallel benchmark): a lookup belongs to its requester's partition, a pending hop to the peer
  // that sent it, so no two threads share a book (common/partition_books.hpp).
  struct alignas(64) Book : dht::HopBook<LookupRecord, Pending> {  // (one thread writes each book)
    mutable RouteStats route_stats;
  };
  Book& book_of(PeerIndex peer) { return books_[net_.partition_of(peer)]; }
  /// A new lookup of requester x: its record in x's book, under a fresh serial.
  LookupRecord& start_record(PeerIndex x, Purpose purpose, const Id& key);
  /// The record of a lookup a forwarder handles, when records are kept (one partition).
  LookupRecord* record_on_route(std::uint32_t serial);
  Pending* pending_at(PeerIndex holder, std::uint32_t slot) { return book_of(holder).find_pending(slot); }

  Params params_;
  Digits digits_;
  Transport<Message>& net_;
  std::vector<PeerState> peers_;
  std::vector<Book> books_;
  std::vector<LookupRecord> records_;
  dht::ItemStore store_;  // puts' items at their owners, and the values' texts
  bool keep_records_ = books_.size() == 1;
  std::function<double(PeerIndex, PeerIndex)> proximity_;
  std::function<bool(PeerIndex, const Id&, PeerIndex)> oracle_;
  std::function<void(PeerIndex)> join_failed_;
};

}  // namespace p2plab::pastry
