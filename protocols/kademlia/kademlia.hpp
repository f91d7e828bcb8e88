#pragma once
// Kademlia (Maymounkov & Mazieres, IPTPS 2002) as a p2plab protocol module: the nodes of a
// simulation, each with its routing table (routing_table.hpp) and its stored pairs, speaking the
// four RPCs (rpc.hpp) over the engine's transport and running iterative lookups
// (traversal.hpp). README.md maps the paper's sections to the functions here.
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/partition_books.hpp"
#include "p2plab/id.hpp"
#include "p2plab/metrics.hpp"
#include "p2plab/simulator.hpp"
#include "p2plab/transport.hpp"
#include "peer_tables.hpp"
#include "routing_table.hpp"
#include "rpc.hpp"
#include "traversal.hpp"

namespace p2plab::kademlia {

struct Params {
  int m = 160;            // id length in bits
  int k = 20;             // bucket size, replication factor
  int alpha = 3;          // parallel queries per round
  int replacements = 20;  // replacement cache per bucket
  int stale_after = 5;    // failed RPCs in a row before a contact is stale
  SimTime rpc_timeout = from_ms(std::int64_t{1000});
  // 0: synchronous rounds (a round waits for every answer or timeout). Else the paper's looser
  // rounds: after this long the next round starts without the answers still out.
  SimTime round_timeout = 0;
  // A full bucket pings its oldest contact only if not heard from for this long (0: every time,
  // as the paper's 2.2; pings otherwise cascade, each one a newcomer at its receiver).
  SimTime ping_after = from_ms(std::int64_t{60'000});
  // Periodic work (paper 2.3, 2.5); a lab shrinks them to see them happen. 0 switches one off.
  SimTime refresh = from_ms(std::int64_t{3'600'000});              // bucket without lookup this long: refresh
  SimTime republish = from_ms(std::int64_t{3'600'000});            // every node, its stored pairs
  SimTime republish_original = from_ms(std::int64_t{86'400'000});  // the original publisher
  SimTime expire = from_ms(std::int64_t{86'400'000});              // a pair not republished this long is dropped
  // Provider records (libp2p kad-dht): kept 48 h, announced again by the provider every 22 h.
  SimTime provider_expire = from_ms(std::int64_t{48 * 3'600'000});
  SimTime provider_republish = from_ms(std::int64_t{22 * 3'600'000});  // 0: never
  bool cache = true;        // FIND_VALUE caches at the closest node that did not have the value
  bool maintenance = true;  // false: no periodic timers at all (a frozen network: benchmarks)
};

/// Why a lookup was started.
enum class Purpose : std::uint8_t { User, Join, Refresh, Put, Get, Republish, Provide, FindProviders };
const char* to_string(Purpose purpose);
/// A LookupHop's kind (its detail): a query sent, or a query that got no answer in time.
constexpr std::uint8_t kQueryHop = 0, kTimeoutHop = 1;

/// One query of a lookup: who was asked in which round, who had suggested it.
struct PathStep {
  int round = 0;
  PeerIndex asked = kNoPeer;
  PeerIndex suggested_by = kNoPeer;  // the requester itself for round 1's contacts
  bool answered = false;
};

/// One finished lookup, as the result file reports it.
struct LookupRecord {
  std::uint32_t serial = 0;
  Purpose purpose = Purpose::User;
  PeerIndex from = kNoPeer;
  Id key;
  std::vector<PeerIndex> closest;  // the k closest that answered, closest first
  int rounds = 0;
  int round_closest_asked = 0;
  std::uint32_t rpcs = 0;
  std::vector<PathStep> path;
  SimTime start = 0, end = 0;
  bool ok = false;  // closest == the true k closest among the live peers (get: the value was found)
  // put / get
  std::uint32_t value = kNoValue;
  bool found = false;
  PeerIndex found_at = kNoPeer;   // get: the node that returned the value
  PeerIndex cached_at = kNoPeer;  // get: where a copy was cached
  // find_providers: every provider the answers (and the requester's own records) named, in the
  // order first heard; those down when the lookup ended (a fetch from them would fail).
  std::vector<PeerIndex> providers, providers_down;
};

/// A provider record at one node: `provider` announced (ADD_PROVIDER) that it has `key`.
struct ProviderRecord {
  Id key;
  PeerIndex provider = kNoPeer;
  SimTime expires = 0;
};

/// What the run's oracle says of a find_providers result.
struct ProvidersCheck {
  bool ok = false;
  std::vector<PeerIndex> down;  // providers found that are down
};

/// A stored (key, value) pair at one node.
struct Item {
  Id key;
  std::uint32_t value = kNoValue;
  SimTime expires = 0;
  SimTime stored = 0;  // last STORE received (a node skips republishing a pair stored recently)
  bool cached = false;
};

/// A typed snapshot of one node (what the inspector shows and tests check).
struct PeerSnapshot {
  PeerIndex peer = kNoPeer;
  Id id;
  struct BucketSnapshot {
    int index = 0;
    std::vector<PeerIndex> contacts;  // least-recently seen first
    std::vector<std::uint32_t> failures;
    std::vector<bool> stale;
    std::vector<PeerIndex> replacements;
  };
  std::vector<BucketSnapshot> buckets;  // non-empty buckets, index ascending
  std::vector<Item> items;
  std::vector<ProviderRecord> provider_records;  // unexpired
  bool joined = false;
};

/// Lookup statistics beyond the engine's (LookupStats counts rounds as hops).
struct KademliaStats {
  std::uint64_t lookups = 0, rpcs = 0, rounds_to_closest = 0;
  /// Adds another partition's counts.
  void add(const KademliaStats& other) {
    lookups += other.lookups;
    rpcs += other.rpcs;
    rounds_to_closest += other.rounds_to_closest;
  }
};

class Protocol final : public MessageHandler<Message> {
 public:
  Protocol(Params params, Transport<Message>& transport);

  const Params& params() const { return params_; }
  Params& mutable_params() { return params_; }
  /// Called with (requester, key, closest found): true when it is the true k closest (the run's
  /// brute-force oracle over the live peers).
  void set_oracle(std::function<bool(PeerIndex, const Id&, const std::vector<PeerIndex>&)> oracle) {
    oracle_ = std::move(oracle);
  }
  /// Called with (requester, key, providers found) when a find_providers ends.
  void set_providers_oracle(std::function<ProvidersCheck(PeerIndex, const Id&, const std::vector<PeerIndex>&)> oracle) {
    providers_oracle_ = std::move(oracle);
  }
  void keep_records(bool keep) {
    if (keep && books_.size() > 1) throw std::logic_error("kademlia: lookup records need a one-partition transport");
    keep_records_ = keep;
  }
  /// Called with each lookup record once its lookup is over (an application on the DHT, such as
  /// IPFS's block exchange, waits for its find_providers). Needs keep_records (the default).
  void set_on_record(std::function<void(const LookupRecord&)> callback) { on_record_ = std::move(callback); }
  /// A serial number no lookup will use: an application's own search in the trace (an IPFS
  /// fetch) takes one, so the views see one dense sequence of searches.
  std::uint32_t reserve_serial() { return books_[0].next_serial(); }
  void reserve(std::size_t peers) { nodes_.reserve(peers); }

  // ---- membership ----
  /// A node that knows nobody yet (the first one of a network built by joins).
  void create(PeerIndex n);
  /// Join (paper 2.3): insert the known node `via`, look up the own id, then refresh every
  /// bucket farther than the closest neighbour.
  void join(PeerIndex n, PeerIndex via);
  /// Fills n's table from the true network (bootstrap "oracle"): each bucket i gets up to k
  /// random live nodes of its distance range; `live_sorted` is every live node by id.
  void install_oracle_table(PeerIndex n, const std::vector<std::pair<Id, PeerIndex>>& live_sorted);
  /// The same for every node of `live_sorted`, on as many threads as the transport runs
  /// partitions on, each filling its partition's tables (the transport's partitions must be
  /// fixed: a node's buckets are opened in its partition's scratch).
  void install_oracle_tables(const std::vector<std::pair<Id, PeerIndex>>& live_sorted);
  /// Starts n's periodic timers (refresh, republish) if maintenance is on.
  void start_maintenance(PeerIndex n);

  // ---- operations ----
  /// A node lookup for the k closest to key; returns its serial.
  std::uint32_t lookup(PeerIndex n, const Id& key, Purpose purpose = Purpose::User);
  /// Stores key -> value at the k closest to key (a lookup, then STORE to each).
  std::uint32_t put(PeerIndex n, const Id& key, std::uint32_t value);
  /// FIND_VALUE for key.
  std::uint32_t get(PeerIndex n, const Id& key);
  /// kad-dht's provide: n announces it has key's content. A lookup for the k closest to key, then
  /// ADD_PROVIDER to each; again every provider_republish.
  std::uint32_t provide(PeerIndex n, const Id& key);
  /// kad-dht's find providers: a lookup for key whose queries are GET_PROVIDERS; it collects the
  /// provider records of every node that answers (and n's own) and asks the k closest as any lookup.
  std::uint32_t find_providers(PeerIndex n, const Id& key);

  // ---- MessageHandler ----
  void on_message(PeerIndex self, PeerIndex from, const Message& msg) override;
  void on_timer(PeerIndex self, std::uint16_t kind, std::uint32_t cookie) override;
  // What the next events will read, fetched while the current one runs (the engine's hints):
  // the node's table header, then its entries and, for a reply, the RPC it answers.
  void prefetch(PeerIndex peer) const override {
    tables_.prefetch(peer);
    if (peer < nodes_.size()) __builtin_prefetch(&nodes_[peer]);
    // (Not the node's id: the engine prefetches the peer's record, id included, itself.)
  }
  void prefetch_message(PeerIndex peer, const Message& msg) const override {
    tables_.prefetch_entries(peer, msg.key);
    // (A request's RPC is the requester's, maybe another partition's: find() names only peer's.)
    const Book& book = book_of(peer);
    if (const Rpc* rpc = book.rpcs.find(book.partition, msg.rpc)) __builtin_prefetch(rpc);
  }

  // ---- inspection ----
  /// Contacts in n's k-buckets.
  std::size_t table_size(PeerIndex n) const { return tables_.size(n); }
  bool has_node(PeerIndex n) const { return n < nodes_.size(); }
  PeerSnapshot snapshot(PeerIndex n) const;
  const std::vector<LookupRecord>& records() const { return records_; }
  /// The user lookups' figures (of every partition's book: call them between runs, not during).
  const LookupStats& stats() const;
  const KademliaStats& kademlia_stats() const;
  std::size_t unfinished_lookups() const;
  /// The value stored at n under key (not expired), or kNoValue.
  std::uint32_t stored_value(PeerIndex n, const Id& key) const;
  bool joined(PeerIndex n) const { return n < nodes_.size() && nodes_[n].joined; }
  /// The providers of key whose records n holds, unexpired, oldest record first.
  std::vector<PeerIndex> providers_at(PeerIndex n, const Id& key) const;

 private:
  struct Node {
    std::vector<Item> items;
    std::vector<std::pair<Id, std::uint32_t>> published;  // pairs this node published first
    std::vector<ProviderRecord> provider_records;         // ADD_PROVIDERs received
    std::vector<Id> provided;                             // keys this node provides
    std::vector<SimTime> bucket_touched;                  // last lookup into bucket i (refresh)
    bool joined = false;
  };
  enum class RpcPurpose : std::uint8_t { Lookup, PingOldest, Store };
  struct Rpc {
    PeerIndex from = kNoPeer, to = kNoPeer;
    std::uint32_t tag = 0;
    std::uint32_t lookup = 0;  // the lookup slot (Lookup)
    std::uint32_t serial = 0;  // the lookup's serial when asked (a reused slot is another lookup)
    RpcPurpose purpose = RpcPurpose::Lookup;
    bool open = false;
  };
  struct Lookup {
    std::uint32_t serial = 0;  // 0: slot free
    Purpose purpose = Purpose::User;
    PeerIndex origin = kNoPeer;
    std::uint32_t value = kNoValue;  // put: what to store
    SimTime ttl = 0;                 // put, republish: how long the copies live
    SimTime start = 0;
    std::optional<Traversal> traversal;
    std::uint32_t value_found = kNoValue;
    PeerIndex found_at = kNoPeer;
    std::vector<PeerIndex> providers;  // find_providers: found so far
    SimTime round_deadline = -1;       // when the current round's RoundTimeout is due
  };

  Node& node(PeerIndex n);
  Contact contact_of(PeerIndex p) const { return {transport_.id_of(p), p}; }
  void heard_from(PeerIndex self, PeerIndex from);
  std::uint32_t send_rpc(PeerIndex from, PeerIndex to, Message msg, RpcPurpose purpose, std::uint32_t lookup);
  void answer(PeerIndex self, PeerIndex to, const Message& request, Message reply);
  void fill_closest(PeerIndex self, const Id& key, PeerIndex requester, Message& reply) const;

  std::uint32_t start_lookup(PeerIndex n, const Id& key, Purpose purpose, std::uint32_t value, SimTime ttl = 0);
  void next_round(std::uint32_t index);
  void on_lookup_reply(const Rpc& rpc, PeerIndex from, const Message& msg);
  void on_lookup_timeout(const Rpc& rpc);
  void finish(std::uint32_t index);
  void store_at(PeerIndex from, PeerIndex to, const Id& key, std::uint32_t value, SimTime ttl, bool cached);
  void keep_item(PeerIndex n, const Id& key, std::uint32_t value, SimTime ttl, bool cached);
  void offer_items(PeerIndex n, PeerIndex newcomer);
  void add_provider_record(PeerIndex n, const Id& key, PeerIndex provider);
  void note_providers(Lookup& l, const std::vector<PeerIndex>& found);
  void refresh_buckets(PeerIndex n, bool all_above_closest);
  void touch_bucket(PeerIndex n, const Id& key);
  Id random_id_in_bucket(PeerIndex n, int i);
  void trace_hop(const Lookup& l, PeerIndex from, PeerIndex to, int round, std::uint8_t kind);

  Params params_;
  Transport<Message>& transport_;
  PeerTables tables_;  // every node's k-buckets
  std::vector<Node> nodes_;
  // Lookups and RPCs live in books, one per partition of the transport (one, except in a
  // parallel benchmark): a lookup and the RPCs it sends belong to its requester's partition, so
  // no two threads share a book (common/partition_books.hpp).
  struct alignas(64) Book : dht::PartitionBook {  // (its own cache lines: one thread writes each book)
    dht::SlotPool<Rpc> rpcs;
    dht::SlotPool<Lookup> lookups;
    mutable LookupStats stats;
    mutable KademliaStats kstats;
  };
  Book& book_of(PeerIndex peer) { return books_[transport_.partition_of(peer)]; }
  const Book& book_of(PeerIndex peer) const { return books_[transport_.partition_of(peer)]; }
  /// Lookup `index` (its slot number: the book is in it).
  Lookup& lookup_at(std::uint32_t index) {
    return books_[index >> dht::SlotPool<Lookup>::kPartitionShift].lookups.at(index);
  }
  std::vector<Book> books_;
  std::vector<LookupRecord> records_;
  bool keep_records_ = books_.size() == 1;
  std::function<bool(PeerIndex, const Id&, const std::vector<PeerIndex>&)> oracle_;
  std::function<ProvidersCheck(PeerIndex, const Id&, const std::vector<PeerIndex>&)> providers_oracle_;
  std::function<void(const LookupRecord&)> on_record_;
};

/// The true k closest live nodes to `key` by XOR, leaving out `exclude`, closest first, from the
/// live nodes sorted by id (the nodes sharing the longest prefix with key form a contiguous range
/// of that list: O(log N) range searches, not a scan of all N).
std::vector<PeerIndex> true_closest_live(const std::vector<std::pair<Id, PeerIndex>>& live_sorted, int bits,
                                         const Id& key, std::size_t k, PeerIndex exclude, const Id& exclude_id);

/// The oracle of find_providers, by brute force over the true network: `found` is right when its
/// live providers are exactly the live providers whose unexpired records the live nodes among the
/// true k closest to `key` hold; `down` lists the providers found that are down.
ProvidersCheck check_providers(const Protocol& protocol, const SimulatorCore& sim, const Id& key,
                               const std::vector<PeerIndex>& found);

}  // namespace p2plab::kademlia
