#pragma once
// CAN, the Content-Addressable Network (Ratnasamy, Francis, Handley, Karp, Shenker, SIGCOMM
// 2001), as a p2plab protocol module.
//
// Every peer owns one zone of the d-dimensional unit torus (two or more for a while after it has
// taken over a failed neighbour's) and knows its neighbours: the peers whose zones abut its own,
// with their zones. A key is hashed to a point; the peer whose zone contains the point stores it.
// Messages are routed greedily, hop by hop, to the neighbour whose zone is closest to the point;
// each hop is acknowledged, so a neighbour that does not answer is noticed and routed around.
// A newcomer picks a random point and routes a join request to it; the point's owner splits its
// zone in half and hands over the half with the point. Neighbours exchange periodic updates
// (zones and neighbour lists); a neighbour that stays silent is presumed failed and the neighbour
// of the failed peer with the smallest volume takes over its zone (the paper's takeover timers).
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/item_store.hpp"
#include "common/partition_books.hpp"
#include "p2plab/metrics.hpp"
#include "p2plab/transport.hpp"
#include "zone.hpp"

namespace p2plab::can {

constexpr int kMaxZones = 4;  // zones one peer may hold (after takeovers; buddies merge)
constexpr int kMaxList = 32;  // neighbour entries an update message lists

struct Params {
  int d = 2;                                              // dimensions of the torus
  SimTime keepalive = from_ms(std::int64_t{1000});        // update period (the heartbeat)
  SimTime rpc_timeout = from_ms(std::int64_t{500});       // an unacknowledged hop: the next hop is dead
  SimTime dead_after = from_ms(std::int64_t{3000});       // a neighbour silent this long: failed
  SimTime takeover = from_ms(std::int64_t{1000});         // takeover timer for a volume equal to the failed zone's
  SimTime lookup_timeout = from_ms(std::int64_t{20000});  // the requester gives up
  bool maintenance = true;                                // false: no updates (a frozen network, e.g. the benchmark)
};

enum class MsgType : std::uint8_t {
  Route,      // a lookup, put, get or join request on its way to the key's point
  RouteAck,   //   "got it" to the previous hop
  RouteDone,  //   the point's owner to the requester
  JoinGrant,  // the owner to the newcomer: the half of its zone with the newcomer's point
  Update,     // a peer's zones and neighbour list, to a neighbour (on change and as heartbeat)
  Takeover,   // "I take over node's zone" (with the sender's volume), to the failed peer's neighbours
  Handover,   // a leaving peer to the neighbour that takes its zones (and keys)
  Count
};
const char* to_string(MsgType type);

enum class TimerKind : std::uint16_t { Keepalive, HopTimeout, LookupTimeout, TakeoverTimer, Retry, Count };
const char* to_string(TimerKind kind);

/// Probe: a peer that has lost track of who holds a zone next to it asks the owner of the zone's
/// centre to introduce itself (after several neighbours failed at once).
enum class Purpose : std::uint8_t { User, Join, Put, Get, Probe };
constexpr std::uint32_t kNoValue = 0xffffffffu;
/// A LookupHop's kind: a greedy step, or a hop that got no acknowledgement.
constexpr std::uint8_t kStepHop = 0, kTimeoutHop = 1;
/// StateChange fields (a peer's zones changed; index = what happened). Neighbour tables change
/// with every zone change nearby and are not traced: views outline the zones that changed.
enum class StateField : std::uint8_t { Zones, Count };
enum class ZoneChange : std::uint16_t { Split, Granted, TakenOver, HandedOver, GivenUp };

/// One neighbour zone as a peer knows it (a neighbour holding two zones has two entries).
struct Neighbour {
  PeerIndex peer = kNoPeer;
  Zone zone;
};

struct Message {
  MsgType type = MsgType::Route;
  Purpose purpose = Purpose::User;
  std::uint8_t flag = 0;        // RouteDone: found/stored
  std::uint8_t zone_count = 0;  // valid entries in zones
  std::uint16_t hops = 0;       // Route: forwarding steps so far; RouteDone: the route's
  std::uint32_t lookup = 0;     // serial of the lookup (0: none)
  std::uint32_t tag = 0;        // RPC slot (hop acknowledgements)
  PeerIndex origin = kNoPeer;   // Route: the requester
  PeerIndex node = kNoPeer;     // RouteDone: the owner; Takeover: the failed or leaving peer
  std::uint32_t value = kNoValue;
  double volume = 0;  // Takeover: the sender's volume before it took over
  Id key;
  std::array<Zone, kMaxZones> zones{};
  /// Update, JoinGrant, Takeover, Handover: the sender's neighbour table, at most kMaxList (the
  /// paper's "list of its neighbours and their zone coordinates"); empty in a routed message,
  /// which stays small (its many copies are the benchmark's cost).
  std::vector<Neighbour> entries;
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

struct PeerState {
  std::vector<Zone> zones;
  std::vector<Neighbour> neighbours;  // in the order learnt
  bool joined = false;
};

/// The greedy decision at one peer.
struct Decision {
  PeerIndex next = kNoPeer;  // kNoPeer: deliver here (the point is in one of its zones)
  double distance = 0;       // the chosen zone's torus distance to the point
  bool stuck = false;        // no neighbour is closer than this peer: wait for a takeover
};

class Protocol final : public MessageHandler<Message> {
 public:
  Protocol(Params params, Transport<Message>& transport);

  const Params& params() const { return params_; }
  Params& mutable_params() { return params_; }
  int d() const { return params_.d; }

  void reserve(std::size_t count);
  /// Checks a finished lookup: is `owner` the live peer whose zone contains the key's point?
  void set_oracle(std::function<bool(PeerIndex owner, const Id& key)> f) { oracle_ = std::move(f); }
  /// Without records (benchmarks) a lookup's requester alone touches its state: the forwarders
  /// neither extend its path nor count its messages, and its hops come back in ROUTE_DONE (which
  /// a parallel run needs: the requester may be another thread's peer).
  void keep_records(bool keep) {
    if (keep && books_.size() > 1) throw std::logic_error("can: lookup records need a one-partition transport");
    keep_records_ = keep;
  }
  /// Called when a newcomer's join fails (no grant before the lookup timeout, or a zone too
  /// small to split): the run may try again through another peer.
  void on_join_failed(std::function<void(PeerIndex)> f) { join_failed_ = std::move(f); }

  // ---- life cycle ---------------------------------------------------------------------------
  void create(PeerIndex x);  // the first peer: the whole torus
  /// The paper's join: x picks a random point (its own random stream) and routes a join request
  /// to it through `via`, a peer already in the CAN.
  void join(PeerIndex x, PeerIndex via);
  void leave(PeerIndex x);
  /// The "oracle" bootstrap: zones given per peer (a tiling), neighbour tables computed from them.
  void install(const std::vector<std::vector<Zone>>& zones_by_peer);
  /// The zones N joins at random points would make (the same points join() draws), installed.
  void install_random_joins(const std::vector<PeerIndex>& peers);
  void start_maintenance(PeerIndex x);
  /// The point a newcomer joins at: drawn from its own random stream.
  Point draw_join_point(PeerIndex x);

  // ---- operations ---------------------------------------------------------------------------
  std::uint32_t lookup(PeerIndex x, const Id& key, Purpose purpose = Purpose::User, std::uint32_t value = kNoValue);
  std::uint32_t put(PeerIndex x, const Id& key, std::uint32_t value) { return lookup(x, key, Purpose::Put, value); }
  std::uint32_t get(PeerIndex x, const Id& key) { return lookup(x, key, Purpose::Get); }
  std::uint32_t intern_value(const std::string& v) { return store_.intern(v); }
  const std::string& value(std::uint32_t index) const { return store_.value(index); }

  /// The greedy decision peer x makes for point p now.
  /// A probe's decision skips `avoid` (its origin) and, at the origin, takes the closest other
  /// neighbour even when it is farther than the origin itself.
  Decision route(PeerIndex x, const Point& p, PeerIndex avoid = kNoPeer) const;

  // ---- inspection ---------------------------------------------------------------------------
  const PeerState& state(PeerIndex x) const { return peers_[x]; }
  bool joined(PeerIndex x) const { return x < peers_.size() && peers_[x].joined; }
  double volume(PeerIndex x) const;
  /// The volume a takeover race compares: x's zones but those it has taken over itself, the same
  /// number in every claim x makes however many zones it takes over at once.
  double base_volume(PeerIndex x) const;
  /// Distinct neighbour peers of x.
  std::vector<PeerIndex> neighbour_peers(PeerIndex x) const;
  const dht::StoredItems* items(PeerIndex x) const { return store_.items(x); }
  const std::vector<LookupRecord>& records() const { return records_; }
  /// The user lookups' figures (of every partition's book: call it between runs, not during).
  const LookupStats& stats() const;
  std::size_t unfinished_lookups() const;
  /// The purpose of a lookup still on its way (Purpose::User if it is not).
  Purpose purpose_of(std::uint32_t serial) const {
    const LookupRecord* r = books_[serial % books_.size()].find_record(serial);  // (serials: partition_books.hpp)
    return r == nullptr ? Purpose::User : r->purpose;
  }
  /// Counts every change of any peer's zones (for an index built over them).
  std::uint64_t zone_version() const { return zone_version_; }

  // ---- MessageHandler -------------------------------------------------------------------------
  void on_message(PeerIndex self, PeerIndex from, const Message& msg) override;
  void on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) override;

 private:
  struct Pending {  // a hop waiting for its acknowledgement, or a message waiting to be routed again
    PeerIndex holder = kNoPeer, target = kNoPeer;
    bool open = false;
    SimTime deadline = 0;  // a timer for an older use of a reused slot fires before it: ignored
    Message msg;
  };
  /// A neighbour x presumes failed: what x knew of it, while the takeover is decided.
  struct Orphan {
    PeerIndex failed = kNoPeer;
    std::vector<Zone> zones;
    std::vector<Neighbour> neighbours;  // the failed peer's neighbours (from its last update)
    bool timer_running = false;
    /// Known only from a neighbour's table: its zone is taken over only if the probe sent to it
    /// (or any update meanwhile) has not shown that a live peer holds it.
    bool second_hand = false;
  };
  struct Extra {  // per peer, only with maintenance
    std::unordered_map<PeerIndex, SimTime> heard;
    std::unordered_map<PeerIndex, std::vector<Neighbour>> their_neighbours;
    std::vector<PeerIndex> dead;
    std::vector<Orphan> orphans;
    double taken = 0;  // volume of the zones it holds by takeover (its base volume is the rest)
  };

  void send(PeerIndex from, PeerIndex to, const Message& msg);
  void handle_route(PeerIndex x, Message msg, bool arrived);
  void forward(PeerIndex x, PeerIndex next, Message msg);
  void deliver(PeerIndex z, const Message& msg);
  /// The requester's end of a lookup; `hops` is what ROUTE_DONE carried (records count the path).
  void finish(PeerIndex requester, std::uint32_t serial, PeerIndex owner, bool found, std::uint32_t value,
              std::uint32_t hops = 0);
  /// A slot for a message waiting `wait` (an acknowledgement, a retry), with its timer of `kind`.
  std::uint32_t open_pending(PeerIndex holder, PeerIndex target, const Message& msg, SimTime wait, TimerKind kind);
  /// The slot's message if its timer is the current one (the slot is closed then), else nullptr.
  const Pending* expire(PeerIndex holder, std::uint32_t slot);

  // Lookups and pending hops live in books, one per partition of the transport (one, except in a
  // parallel benchmark): a lookup belongs to its requester's partition, a pending hop to the peer
  // that holds it, so no two threads share a book (common/partition_books.hpp).
  struct alignas(64) Book : dht::HopBook<LookupRecord, Pending> {};  // (one thread writes each book)
  Book& book_of(PeerIndex peer) { return books_[net_.partition_of(peer)]; }
  /// Throws unless `purpose` may run on this transport: on several partitions only lookups do
  /// (puts, gets, joins and probes change state other peers share).
  void check_partitions(Purpose purpose) const;
  /// A new lookup of requester x: its record in x's book, under a fresh serial.
  LookupRecord& start_record(PeerIndex x, Purpose purpose, const Id& key);
  /// The record of a lookup a forwarder handles, when records are kept (one partition).
  LookupRecord* record_on_route(std::uint32_t serial);
  /// Whether a forwarder should still route the lookup's message (without records it cannot
  /// know: the requester ignores a late answer).
  bool still_on(std::uint32_t serial) { return !keep_records_ || record_on_route(serial) != nullptr; }
  Pending* pending_at(PeerIndex holder, std::uint32_t slot) { return book_of(holder).find_pending(slot); }

  /// Splits x's zone holding p (or hands over a whole zone if x holds several); returns the
  /// zone for the newcomer (depth 0 and false if it cannot be split further).
  bool split_for(PeerIndex x, const Point& p, Zone& given);
  void add_zone(PeerIndex x, const Zone& z);     // merging buddies
  void remove_zone(PeerIndex x, const Zone& z);  // also out of a zone it was merged into
  Message update_message(PeerIndex x, MsgType type) const;
  void announce(PeerIndex x, const std::vector<PeerIndex>& also);
  void announce(PeerIndex x, const std::vector<Neighbour>& entries);
  /// x learns that `peer` holds `zones` now: its entries replaced, kept only where adjacent.
  void learn(PeerIndex x, PeerIndex peer, const Zone* zones, int count);
  void forget(PeerIndex x, PeerIndex peer);
  /// x hears second-hand (a neighbour's table) that `n.peer` holds `n.zone`: taken into x's table
  /// if it abuts x and contradicts nothing x knows; heartbeats then confirm it or find it dead.
  void hear_of(PeerIndex x, const Neighbour& n);
  void hear_of_all(PeerIndex x, const std::vector<Neighbour>& entries);
  /// Drops x's neighbour entries that no longer abut x's zones.
  void prune(PeerIndex x);
  void presume_dead(PeerIndex x, PeerIndex p);
  void take_over(PeerIndex x, Orphan& orphan);  // orphan.zones: those it took
  void give_up(PeerIndex x, const std::vector<Zone>& zones, PeerIndex winner);
  /// Two live peers that both took over one zone (neither knew of the other's claim) settle it
  /// when one hears the other's update: the takeover race's rule, the smaller base volume wins.
  void settle_overlap(PeerIndex x, PeerIndex from, const Message& update);
  bool is_dead_to(PeerIndex x, PeerIndex p) const;
  void trace_zones(PeerIndex x, ZoneChange change, PeerIndex other);
  /// Routes a probe from x to the centre of `zone`: its owner sends x an update.
  void probe(PeerIndex x, const Zone& zone);
  void trace_lookup(TraceKind kind, const LookupRecord& r, PeerIndex other);
  void move_items(PeerIndex from, PeerIndex to, const Zone& zone);
  bool abuts(PeerIndex x, const Zone& z) const;

  Params params_;
  Transport<Message>& net_;
  std::vector<PeerState> peers_;
  std::unordered_map<PeerIndex, Extra> extra_;
  std::vector<Book> books_;
  std::vector<LookupRecord> records_;
  dht::ItemStore store_;  // puts' items at their owners, and the values' texts
  std::uint64_t zone_version_ = 0;
  bool keep_records_ = books_.size() == 1;
  std::function<bool(PeerIndex, const Id&)> oracle_;
  std::function<void(PeerIndex)> join_failed_;
};

}  // namespace p2plab::can
