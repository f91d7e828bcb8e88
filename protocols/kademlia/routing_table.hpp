#pragma once
// Kademlia's routing table (Maymounkov & Mazieres 2002, sections 2.1, 2.2, 4.1): XOR distance,
// one k-bucket per distance range [2^i, 2^(i+1)), least-recently seen first, a replacement cache,
// ping-the-oldest when a bucket is full, failure counts and stale contacts.
//
// No simulator here: a contact is an id and an opaque 64-bit address (a PeerIndex in the
// simulation; an IPv4 address and port in the BEP 5 node), and the table never sends anything.
// It tells its caller what to do ("ping this oldest contact") and the caller reports back
// (ping_answered / ping_failed), so the same table runs over the simulator and over sockets.
// What a bucket does with a contact (heard_from, ping_answered, ping_failed, rpc_failed) and which
// bucket a contact goes to are the functions of exercise kademlia-buckets (logic.hpp): the table
// finds the bucket and hands it to them.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "p2plab/id.hpp"

namespace p2plab::kademlia {

/// a XOR b.
Id xor_distance(const Id& a, const Id& b);

/// The bucket a contact `other` belongs to in the table of `self`: i such that
/// 2^i <= self XOR other < 2^(i+1), i.e. the index of the highest differing bit; -1 if equal.
/// (The engine's own, for bootstrap and refresh; a RoutingTable places its contacts with
/// logic::bucket_index, the function of exercise kademlia-buckets, logic.hpp.)
int bucket_index(const Id& self, const Id& other);

/// True if a is closer to target than b by XOR (ties only for a == b).
inline bool closer(const Id& target, const Id& a, const Id& b) {
  return xor_distance(a, target) < xor_distance(b, target);
}

/// A node as another node knows it: its id and where to reach it.
struct Contact {
  Id id;
  std::uint64_t address = 0;  // PeerIndex in the simulation, packed IPv4:port on a real network
  friend bool operator==(const Contact&, const Contact&) = default;
};

struct RoutingTableConfig {
  int bits = 160;                 // m, the id length (4 .. 160)
  std::size_t k = 20;             // bucket capacity
  std::size_t replacements = 20;  // replacement cache capacity per bucket (0: none)
  std::uint32_t stale_after = 5;  // failed RPCs in a row after which a contact is stale (paper: 5)
  /// A full bucket asks to ping its oldest contact only if that one was last heard from at least
  /// this long ago (in the caller's time unit, e.g. microseconds). 0: always, as the paper's
  /// section 2.2; BEP 5 treats a node heard from within 15 minutes as good, not to be pinged.
  std::int64_t ping_after = 0;
};

/// A contact in a bucket, with what the table knows of its liveness.
struct BucketEntry {
  Contact contact;
  std::uint32_t failures = 0;  // RPCs in a row it did not answer
  bool stale = false;          // failures >= stale_after: replaced by the first newcomer
  std::int64_t last_seen = 0;  // the `now` of the last heard_from (or ping_answered)
};

/// One k-bucket: contacts with distance in [2^i, 2^(i+1)) from the owner, least-recently seen
/// first (front) to most-recently seen (back); newcomers that found it full wait in the
/// replacement cache (oldest first, most recent at the back).
struct Bucket {
  std::vector<BucketEntry> entries;
  std::vector<Contact> replacements;
  bool ping_pending = false;  // the oldest contact has been asked to prove it is alive
};

/// What heard_from did with the contact.
enum class Heard : std::uint8_t {
  Ignored,        // the owner's own id, or an id outside the id space
  Refreshed,      // already in its bucket: moved to the back (most recently seen), failures reset
  Added,          // the bucket had room: appended at the back
  ReplacedStale,  // the bucket was full but held a stale contact: that one was dropped for this
  Cached,         // the bucket was full: the contact waits in the replacement cache
};

struct HeardResult {
  Heard outcome = Heard::Ignored;
  /// When set, the caller should PING this contact (the bucket's least-recently seen) and report
  /// ping_answered(id) or ping_failed(id). Set once per full bucket until the answer comes.
  std::optional<Contact> ping_oldest;
};

class RoutingTable {
 public:
  RoutingTable(const Id& self, const RoutingTableConfig& config);

  const Id& self() const { return self_; }
  const RoutingTableConfig& config() const { return config_; }

  /// Any message (request or reply) arrived from `contact` (paper 2.2): refresh, add, replace a
  /// stale contact, or cache it and ask the caller to ping the oldest.
  /// `now`: the caller's clock (only compared with ping_after; 0 when it does not matter).
  HeardResult heard_from(const Contact& contact, std::int64_t now = 0);
  /// The oldest contact answered the ping: it moves to the back (kept: old contacts are the
  /// likeliest to stay); the newcomer stays in the replacement cache.
  void ping_answered(const Id& id, std::int64_t now = 0);
  /// The oldest contact did not answer the ping: evicted, and the most recent replacement takes
  /// its place at the back. Returns the contact that took its place, if any.
  std::optional<Contact> ping_failed(const Id& id);
  /// An RPC to `id` went unanswered (paper 4.1). After stale_after failures in a row the contact
  /// is stale: replaced at once by the most recent replacement if the cache has one, else kept
  /// (so that a node that was cut off for a while does not flush its table) but no longer
  /// offered by closest(). Returns true if the contact was removed.
  bool rpc_failed(const Id& id);
  /// Removes `id` from its bucket (a graceful leave), promoting a replacement. True if found.
  bool remove(const Id& id);

  /// Up to `count` contacts closest to `target` by XOR, closest first; stale contacts left out.
  std::vector<Contact> closest(const Id& target, std::size_t count) const;

  bool contains(const Id& id) const;
  /// The entry of `id`, or nullptr.
  const BucketEntry* find(const Id& id) const;
  /// Bucket i (0 .. bits-1); buckets never filled are empty.
  const Bucket& bucket(int i) const;
  /// Number of buckets: m.
  int bucket_count() const { return config_.bits; }
  /// Contacts in all buckets (stale ones included).
  std::size_t size() const;
  /// Every contact, bucket 0 first, each bucket least-recently seen first.
  std::vector<Contact> contacts() const;
  /// Index of the lowest bucket that holds a contact, or bits if the table is empty. The
  /// buckets below it are the ones a join refreshes (paper 2.3: "farther away than its closest
  /// neighbor" are the buckets above; below are empty).
  int lowest_nonempty() const;

 private:
  // Buckets are stored from the farthest (i = m-1) down to the lowest ever used, so a table of
  // a node in an N-node network holds about log2(N) buckets, not m.
  Bucket* bucket_for(int i, bool create);
  /// The bucket `id` is placed in (logic::bucket_index), -1 if none (own id, out of range).
  int placement(const Id& id) const;
  /// The bucket `id` would be in, if that bucket exists.
  Bucket* bucket_holding(const Id& id);
  const Bucket* bucket_at(int i) const;
  BucketEntry* find_entry(const Id& id, Bucket** bucket_out);
  void promote_replacement(Bucket& bucket);

  Id self_;
  RoutingTableConfig config_;
  std::vector<Bucket> buckets_;  // buckets_[j] is bucket m-1-j
};

/// Visits the buckets of a table in increasing distance from a target, a whole group at a time,
/// until enough(): with b the bucket the target falls in (-1: the target is the owner), bucket b's
/// contacts are below 2^b from the target, every bucket j < b's in [2^b, 2^(b+1)), and bucket
/// j > b's in [2^j, 2^(j+1)). So the groups {b}, {b-1 .. lowest}, {b+1}, {b+2}, ... come in
/// increasing distance; `lowest` is the lowest bucket stored (the ones below were never used).
/// Example (m = 4, b = 2, lowest = 0): take(2), take(1), take(0), take(3), each group only while
/// !enough().
template <class Take, class Enough>
void visit_buckets_by_distance(int b, int lowest, int bits, Take take, Enough enough) {
  if (b >= 0) {
    take(b);
    if (!enough()) {
      for (int j = b - 1; j >= lowest; --j) take(j);
    }
  }
  for (int j = b + 1; j < bits && !enough(); ++j) take(j);
}

/// The `count` ids closest to `target` by XOR among `ids`, closest first (brute force: the
/// oracle tests and the result's `ok` check against).
std::vector<Id> true_closest(const std::vector<Id>& ids, const Id& target, std::size_t count);

}  // namespace p2plab::kademlia
