#pragma once
// The pieces of Kademlia a student writes (exercises kademlia-buckets and kademlia-lookup), as
// plain functions over the routing table's and the lookup's own small types.
//
// The routing table (routing_table.cpp) and the lookup (traversal.cpp) call exactly these
// functions for every decision they name, so the same protocol runs on the reference code
// (logic_*.cpp beside this file) or on a student's code (exercises/kademlia-*/), chosen when the
// program is linked (CMake option P2PLAB_CODE): in the simulator, the visualizer and the BEP 5
// node alike. Nothing here knows of messages, timers or the simulator: a function gets what one
// node knows and returns what it decides.
//
// Ids are `Id` values below 2^m; the distance between two ids is their XOR (xor_distance in
// routing_table.hpp), compared as a number (a < b).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "routing_table.hpp"
#include "traversal.hpp"

namespace p2plab::kademlia::logic {

// =================================================================================================
// Exercise kademlia-buckets: which k-bucket a contact belongs in, and what a bucket does when a
// contact is heard from, answers a ping, or fails.
//
// A Bucket (routing_table.hpp) holds `entries`, least-recently seen first (front, the "head") to
// most-recently seen (back, the "tail"), at most config.k of them; `replacements`, the newcomers
// that found it full, oldest first, at most config.replacements (the oldest is dropped to make
// room); `ping_pending`, true while its head has been asked to prove it is alive. A BucketEntry
// carries the contact, `failures` (RPCs in a row it did not answer), `stale` and `last_seen`.
// =================================================================================================

/// The bucket that `other` belongs in, in the routing table of `self`: the i such that
/// 2^i <= self XOR other < 2^(i+1) (the index of the highest bit where the two ids differ);
/// -1 when other == self.
/// Example (m = 4): bucket_index(0b0110, 0b0101) = 1 (XOR 0b0011 is in [2, 4));
/// bucket_index(0b0110, 0b1110) = 3 (XOR 0b1000 is in [8, 16)); bucket_index(5, 5) = -1.
int bucket_index(const Id& self, const Id& other);

/// A message (request or reply) arrived from `contact`, whose id belongs in `bucket` (paper 2.2):
///   - in the bucket already: move it to the tail (most recently seen) with its new address,
///     failures 0, not stale, last_seen = now; if it was the head, ping_pending = false (it has
///     just proved itself alive). -> Heard::Refreshed
///   - otherwise it is no longer a replacement candidate (remove it from `replacements`), and
///     - the bucket has room (fewer than config.k entries): append it at the tail, last_seen =
///       now. -> Heard::Added
///     - the bucket is full but holds a stale entry: drop the first stale entry (ping_pending =
///       false if that was the head) and append the newcomer at the tail. -> Heard::ReplacedStale
///     - the bucket is full: the newcomer goes to the tail of the replacement cache (if
///       config.replacements > 0; when the cache is full its oldest is dropped first). Unless a
///       ping is pending already, ask the caller to ping the head (set `ping_oldest` to it and
///       ping_pending = true) -- only if config.ping_after is 0 or the head was last seen at least
///       ping_after ago (now - last_seen >= ping_after). -> Heard::Cached
/// Example (k = 2), head first: bucket [A, B]; hear A -> [B, A] (Refreshed); then hear C ->
/// [B, A] unchanged, replacements [C], ping B (Cached); B fails the ping -> [A, C].
HeardResult heard_from(Bucket& bucket, const Contact& contact, std::int64_t now, const RoutingTableConfig& config);

/// The head answered the ping (or any contact of the bucket did): it is kept -- old contacts are
/// the likeliest to stay -- and moves to the tail as in heard_from (failures 0, not stale,
/// last_seen = now); ping_pending = false. The newcomer stays in the replacement cache.
/// An id not in the bucket: nothing changes.
void ping_answered(Bucket& bucket, const Id& id, std::int64_t now);

/// The ping went unanswered: evict `id` from the bucket (ping_pending = false) and, if the
/// replacement cache is not empty, insert its most recent contact (its tail) at the bucket's tail
/// (failures 0, not stale, last_seen 0: how fresh it is is not known) and remove it from the
/// cache. Returns the contact that took the evicted one's place, if any. An id not in the
/// bucket: nothing changes, std::nullopt.
std::optional<Contact> ping_failed(Bucket& bucket, const Id& id);

/// An RPC to `id` went unanswered (paper 4.1): its failures count one more. When they reach
/// config.stale_after, the contact is stale: if the replacement cache has a contact, remove the
/// stale one (ping_pending = false if it was the head), move the cache's most recent contact in
/// as ping_failed does, and return true; otherwise keep it, mark it `stale` (closest() no longer
/// offers it, the next newcomer replaces it) and return false. Below stale_after, or an id not in
/// the bucket: false.
bool rpc_failed(Bucket& bucket, const Id& id, const RoutingTableConfig& config);

// =================================================================================================
// Exercise kademlia-lookup: the iterative node lookup's choice of whom to ask in the next round,
// and when it is done (paper 2.3).
//
// The lookup (traversal.cpp) keeps every contact it has heard of as a Candidate (traversal.hpp):
// its `contact`, its `distance` to the target (contact.id XOR target) and its `state`: NotAsked,
// Asked (query sent, no answer yet), Answered, Failed (timed out). Rounds are synchronous: the
// lookup calls choose_round when the previous round's queries have all answered or timed out
// (or were given up on as slow: those stay Asked).
// =================================================================================================

/// What the next round does: ask these candidates (indices into `seen`, in the order to ask
/// them), or nothing; done = true ends the lookup.
struct RoundChoice {
  bool done = false;
  std::vector<std::size_t> ask;
};

/// The next round of a lookup with parameters k and alpha. `seen`: every candidate the lookup has
/// heard of, in the order it heard of them (NOT by distance). `closest_before`: the smallest
/// distance seen when the previous round began; std::nullopt before the first round.
///   - The "k closest": the k candidates closest to the target by distance, leaving out the
///     Failed ones (a failed contact makes room for the next closest).
///   - Among them, the NotAsked ones are the ones to ask. If there is none: done when none of the
///     k closest is still Asked (they have all answered); otherwise ask nobody and wait (done =
///     false: the lookup calls again when one of the slow queries ends).
///   - The first round, or a round after one that brought a candidate closer than
///     closest_before: ask the alpha closest NotAsked among the k closest (fewer if there are
///     fewer). After a round that brought nothing closer: ask ALL the NotAsked among the k
///     closest.
///   - Ask them closest first.
/// Example (k = 3, alpha = 2), distances seen 9 (Answered), 4 (NotAsked), 12 (NotAsked),
/// 6 (Failed), 5 (NotAsked), closest_before 9: the k closest are 4, 5, 9; 4 < 9 came in the last
/// round, so ask 4 then 5: {false, [1, 4]}.
RoundChoice choose_round(std::span<const Candidate> seen, const std::optional<Id>& closest_before, std::size_t k,
                         std::size_t alpha);

}  // namespace p2plab::kademlia::logic
