#pragma once
// The routing tables of every simulated Kademlia node, stored compactly: the same k-buckets as
// RoutingTable (routing_table.hpp), run by the same functions of exercise kademlia-buckets
// (logic.hpp), in about a third of the memory, so that a 10^6-node benchmark fits.
//
// A simulated contact's id is always its peer's id (the simulator's table), and its address is
// its PeerIndex. So a bucket entry keeps the 4-byte PeerIndex instead of the 32-byte Contact,
// plus the top 64 bits of the id (enough to order contacts by XOR distance without loading
// ids), and the liveness fields. The logic functions take a `Bucket` of whole BucketEntries:
// the bucket they work on is expanded into one (ids read from the simulator) and written back
// compact when the next bucket is opened or anything is read. Opening the same bucket again
// costs nothing, so filling a table contact by contact (install_oracle_table) stays linear.
// The round trip keeps everything a bucket function can do with the contacts it was given; it
// keeps an entry's address and reads its id anew, so a function that rewrote an entry's id
// (no contract allows it) would see the peer's true id next time.
//
// The BEP 5 node keeps whole contacts (RoutingTable): a real contact's id is not known from its
// address.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "p2plab/peer_array.hpp"
#include "p2plab/transport.hpp"
#include "routing_table.hpp"
#include "rpc.hpp"

namespace p2plab::kademlia {

class PeerTables {
 public:
  /// `ids`: where a peer's id is read (the simulator).
  PeerTables(const RoutingTableConfig& config, const Transport<Message>& ids);

  const RoutingTableConfig& config() const { return config_; }
  /// Makes room for the tables of peers 0 .. n (empty until heard_from).
  void add_through(PeerIndex n);
  /// Room for `contacts` entries in n's table (before it is filled at once).
  void reserve(PeerIndex n, std::size_t contacts);
  /// Gives back n's spare capacity (after a table is filled at once).
  void shrink(PeerIndex n);
  /// A hint that n's table is used next (engine prefetch, see MessageHandler::prefetch).
  void prefetch(PeerIndex n) const {
    if (n < tables_.size()) __builtin_prefetch(&tables_[n]);
  }
  /// One stage later (the header has arrived): its farthest buckets, where a random contact
  /// falls (the sender of a request), and the bucket of `key`, which closest() reads.
  void prefetch_entries(PeerIndex n, const Id& key) const;

  // The operations of RoutingTable, on peer n's table; contacts are peers.
  HeardResult heard_from(PeerIndex n, PeerIndex from, std::int64_t now) {
    return heard_from(n, Contact{ids_.id_of(from), from}, now);
  }
  /// The same, when the caller has the id at hand (`contact`: the peer's id and its index).
  HeardResult heard_from(PeerIndex n, const Contact& contact, std::int64_t now);
  void ping_answered(PeerIndex n, PeerIndex who, std::int64_t now);
  void ping_failed(PeerIndex n, PeerIndex who);
  void rpc_failed(PeerIndex n, PeerIndex who);
  /// Up to `count` contacts of n closest to `target` by XOR, closest first; stale ones left out.
  std::vector<Contact> closest(PeerIndex n, const Id& target, std::size_t count) const;
  /// The same as peers, ids not loaded (a FIND_NODE answer carries only those). Valid until the
  /// next call.
  const std::vector<PeerIndex>& closest_peers(PeerIndex n, const Id& target, std::size_t count) const;
  /// Contacts in n's buckets (stale ones included).
  std::size_t size(PeerIndex n) const;
  /// The lowest bucket of n that holds a contact, or m if none.
  int lowest_nonempty(PeerIndex n) const;
  /// Bucket i of n, expanded (a copy: what the inspector shows).
  Bucket bucket(PeerIndex n, int i) const;

 private:
  /// A BucketEntry without its id: 24 bytes instead of 48.
  struct Slot {
    std::uint64_t order = 0;  // top64(id): the order of XOR distances (see top64)
    std::int64_t last_seen = 0;
    PeerIndex peer = kNoPeer;
    std::uint32_t failures : 31 = 0;  // saturates at 2^31 - 1 (far beyond any stale_after)
    std::uint32_t stale : 1 = 0;
  };
  /// One node's buckets, from the farthest (i = m-1, j = 0) down to the lowest ever used (as
  /// RoutingTable stores them: about log2(N) of them, not m): every entry in one array, the
  /// counts inline, so that reading a bucket follows one pointer. The slots pointer and the
  /// first heads share a cache line.
  struct Table {
    std::vector<Slot> slots;                               // the entries of bucket j = 0, then j = 1, ...
    std::uint8_t stored = 0;                               // buckets j = 0 .. stored-1 exist
    std::array<std::uint16_t, IdSpace::kMaxBits> heads{};  // bucket j's count (bits 0-14), ping_pending (bit 15)
    std::vector<std::vector<PeerIndex>> replacements;      // [j]; sized only once a bucket has one
  };
  // A correct bucket holds at most k <= kMaxK; a student's heard_from that never stops adding
  // gets an error at kCountMask, not a corrupt table.
  static constexpr std::uint16_t kCountMask = 0x7fff, kPingPending = 0x8000;
  /// Where bucket j's entries begin in slots: the counts of the buckets before it.
  static std::size_t first_slot(const Table& table, std::size_t j);

  /// The top 64 bits of an m-bit id (the whole id for m <= 64). XOR commutes with the shift, so
  /// top64(a) ^ top64(t) orders distances to t as the full distances do, ties aside.
  std::uint64_t top64(const Id& id) const;
  /// The bucket of n that `id` is placed in (logic::bucket_index), -1 if none.
  int placement(PeerIndex n, const Id& id) const;
  /// Bucket i of n as the logic functions take it (expanded; written back by flush).
  Bucket& open(PeerIndex n, int i) const;
  /// Bucket i's position j in n's arrays, or -1 if not stored.
  std::ptrdiff_t stored(PeerIndex n, int i) const;

  struct Near {
    std::uint64_t order;
    PeerIndex peer;
  };
  // The open bucket is a cache of one stored bucket's expanded form, written back before anything
  // of its node is read, so the tables' observable state is always the stored one. One per
  // partition of the transport: a partition's thread opens and reads only its own peers'
  // buckets. (The partitions must not change while a bucket is open: a parallel simulator's take
  // effect at its first run, after the tables were filled and written back.)
  struct alignas(64) Scratch {  // (its own cache lines: one thread writes each)
    Bucket open_bucket;
    PeerIndex open_node = kNoPeer;
    int open_index = -1;
    std::vector<Near> near;  // closest()'s scratch, kept to save an allocation per call
    std::vector<PeerIndex> closest;
  };
  Scratch& scratch_of(PeerIndex n) const {
    return scratch_.size() == 1 ? scratch_[0] : scratch_[ids_.partition_of(n)];  // (one: no call)
  }
  /// Writes a partition's open bucket back to its compact form.
  void flush(Scratch& scratch) const;
  /// Writes n's partition's open bucket back (n's own, if one of its buckets is open).
  void flush_for(PeerIndex n) const { flush(scratch_of(n)); }

  RoutingTableConfig config_;
  const Transport<Message>& ids_;
  mutable PeerArray<Table> tables_;  // read at random: on huge pages
  mutable std::vector<Scratch> scratch_;
};

}  // namespace p2plab::kademlia
