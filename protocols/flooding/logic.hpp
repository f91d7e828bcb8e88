#pragma once
// The pieces of Gnutella 0.4 flooding a student writes (exercise flooding), as plain functions
// and one small class over typed values: TTL handling, the GUID cache that drops duplicate
// QUERYs, and the reverse path that QUERYHITs follow back to the requester.
//
// The protocol (flooding.cpp) calls exactly these functions for every decision they name, so the
// same protocol runs on the reference code (logic_flooding.cpp beside this file) or on a student's code
// (exercises/flooding/), chosen when the program is linked (CMake option P2PLAB_CODE). Nothing
// here knows of messages, timers or the simulator.
//
// Vocabulary (lecture, Gnutella 0.4):
//   QUERY     a search, flooded from neighbour to neighbour. It carries a GUID (a number that
//             names this one search), a TTL (how many more hops it may travel) and hops (how
//             many it has travelled).
//   QUERYHIT  "I have it": sent back hop by hop along the path the QUERY came (reverse path).
//   GUID cache  what a peer remembers of the GUIDs it has seen: the first copy of a QUERY is
//             processed, every later copy (it arrives again over another path) is dropped.
//
// How the protocol uses them, at a peer that receives a QUERY from neighbour `from`:
//   if (!cache.first_time(guid)) drop it (a duplicate);
//   remember_route(routes, guid, from);        // the way back for QUERYHITs
//   if I share a match: send QUERYHIT to `from`;
//   if (auto next = forward(header)): send a copy with header *next to each of
//       forward_targets(neighbours, from, ...).
// And at a peer that receives a QUERYHIT: next = reverse_path_next(routes, guid); the peer itself
// means "this is my own query: the hit has arrived", kNoPeer means "no way back: drop it", any
// other peer is the neighbour to pass the hit to.
//
// The protocol runs a million messages in a large lab: nothing here allocates memory per message
// (the tables grow like a std::vector, by doubling, when a peer sees a new GUID).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "common/search.hpp"
#include "p2plab/types.hpp"

namespace p2plab::flooding {

/// The GUID of a QUERY: one number per search (the simulator numbers searches 0, 1, 2, ...).
using Guid = search::QueryIndex;
/// Not a GUID (never used by a search).
constexpr Guid kNoGuid = search::kNoQuery;

/// The hop limit: the protocol forwards no QUERY that has travelled this many hops, whatever
/// its TTL says (a safety net: hops is one byte).
constexpr std::uint8_t kMaxHops = 255;

/// The part of a QUERY's header that changes from hop to hop.
struct QueryHeader {
  std::uint8_t ttl = 0;   // hops the QUERY may still travel, counting the one that brought it here
  std::uint8_t hops = 0;  // hops travelled so far (1 at the requester's neighbours)
  friend bool operator==(const QueryHeader&, const QueryHeader&) = default;
};

/// A table GUID -> peer, of any size, without a heap allocation per entry (open addressing:
/// the storage doubles when it is half full). Given: you use it, you need not change it.
class GuidTable {
 public:
  /// The peer stored for guid, or nullptr if guid is not in the table.
  const PeerIndex* find(Guid guid) const {
    if (slots_.empty() || guid == kNoGuid) return nullptr;
    for (std::size_t i = home(guid);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i].first == guid) return &slots_[i].second;
      if (slots_[i].first == kNoGuid) return nullptr;
    }
  }
  bool contains(Guid guid) const { return find(guid) != nullptr; }
  /// Stores peer for guid (replacing what was stored for it). kNoGuid cannot be stored.
  void put(Guid guid, PeerIndex peer) {
    if (guid == kNoGuid) return;
    if (2 * (count_ + 1) > slots_.size()) grow();
    for (std::size_t i = home(guid);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i].first == guid) {
        slots_[i].second = peer;
        return;
      }
      if (slots_[i].first == kNoGuid) {
        slots_[i] = {guid, peer};
        ++count_;
        return;
      }
    }
  }
  /// Removes guid and what was stored for it, if it is there (a long-running real peer forgets
  /// old queries). Backward-shift deletion: the entries after it move up, no tombstones.
  void erase(Guid guid) {
    if (slots_.empty() || guid == kNoGuid) return;
    const std::size_t mask = slots_.size() - 1;
    std::size_t hole = home(guid);
    while (slots_[hole].first != guid) {
      if (slots_[hole].first == kNoGuid) return;
      hole = (hole + 1) & mask;
    }
    for (std::size_t j = (hole + 1) & mask; slots_[j].first != kNoGuid; j = (j + 1) & mask) {
      const std::size_t k = home(slots_[j].first);
      const bool stays = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j);  // k in (hole, j]
      if (stays) continue;
      slots_[hole] = slots_[j];
      hole = j;
    }
    slots_[hole] = {kNoGuid, kNoPeer};
    --count_;
  }
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  /// A hint that guid is looked up soon: loads its slot into the cache (no effect on contents).
  void prefetch(Guid guid) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[home(guid)]);
  }
  /// Every entry (for inspection; allocates).
  std::vector<std::pair<Guid, PeerIndex>> entries() const {
    std::vector<std::pair<Guid, PeerIndex>> out;
    for (const auto& slot : slots_) {
      if (slot.first != kNoGuid) out.push_back(slot);
    }
    return out;
  }

 private:
  std::size_t home(Guid guid) const {
    return static_cast<std::size_t>((std::uint64_t{guid} * 0x9E3779B97F4A7C15ULL) >> 32) & (slots_.size() - 1);
  }
  void grow() {
    std::vector<std::pair<Guid, PeerIndex>> old(slots_.empty() ? 16 : 2 * slots_.size(), {kNoGuid, kNoPeer});
    old.swap(slots_);
    count_ = 0;
    for (const auto& slot : old) {
      if (slot.first != kNoGuid) put(slot.first, slot.second);
    }
  }
  std::vector<std::pair<Guid, PeerIndex>> slots_;
  std::size_t count_ = 0;
};

/// One peer's GUID cache: the GUIDs of the QUERYs it has seen.
class GuidCache {
 public:
  /// True the first time a GUID is offered to this cache, false for every later copy of it:
  /// the peer processes the first copy of a QUERY and drops the others. (The requester offers
  /// its own GUID when it starts the search, so that copies coming back to it are dropped too.)
  /// Example: a new cache; first_time(7) -> true; first_time(7) -> false; first_time(3) -> true;
  /// first_time(7) -> false.                                            (exercise flooding)
  bool first_time(Guid guid);

  /// Has this GUID been seen? (Given.)
  bool seen(Guid guid) const { return guids_.contains(guid); }
  /// How many GUIDs the cache holds. (Given.)
  std::size_t size() const { return guids_.size(); }
  /// Forgets a GUID (a long-running real peer reuses the numbers of old queries). (Given.)
  void forget(Guid guid) { guids_.erase(guid); }
  /// A hint that guid is offered soon (the simulator's prefetch). (Given.)
  void prefetch(Guid guid) const { guids_.prefetch(guid); }

 private:
  GuidTable guids_;  // the GUIDs seen (the peer stored with each is not used here: kNoPeer)
};

/// One peer's routing table for QUERYHITs: GUID -> the neighbour the QUERY came from (for the
/// peer's own searches: the peer itself).
using RouteTable = GuidTable;

namespace logic {

/// TTL handling. A peer processed a QUERY whose header is `received`. Returns the header of the
/// copies it forwards: TTL one less, hops one more; or std::nullopt if the QUERY must not travel
/// further: when TTL - 1 would be 0 (a TTL of 1 or 0).
/// Examples: {ttl 7, hops 1} -> {ttl 6, hops 2};  {ttl 2, hops 3} -> {ttl 1, hops 4};
///           {ttl 1, hops 5} -> nullopt;          {ttl 0, hops 2} -> nullopt.
/// (The protocol never forwards a QUERY that has travelled 255 hops, whatever this returns.)
std::optional<QueryHeader> forward(const QueryHeader& received);

/// The reverse path, first half: a peer processed the first copy of QUERY `guid`, which came
/// from neighbour `came_from` (the requester passes itself). Store it in `routes`. A GUID that is
/// already in the table keeps the neighbour stored first.
/// Example: remember_route(r, 7, 12); remember_route(r, 7, 30): r says 7 -> 12.
void remember_route(RouteTable& routes, Guid guid, PeerIndex came_from);

/// The reverse path, second half: where a QUERYHIT for `guid` goes next from this peer: the
/// neighbour stored for guid (the peer itself when it is the requester), or kNoPeer if the table
/// does not know guid (the hit is dropped).
/// Example: routes 7 -> 12, 9 -> 4: reverse_path_next(routes, 7) = 12; (routes, 8) = kNoPeer.
PeerIndex reverse_path_next(const RouteTable& routes, Guid guid);

/// Flooding: the neighbours that get a copy of a QUERY which came from `came_from`: every
/// neighbour except `came_from`, in the order of `neighbours`. Writes them to out[0], out[1], ...
/// (out has room for neighbours.size() peers) and returns how many it wrote.
/// Example: neighbours 4, 9, 12, 30, came from 12: out = 4, 9, 30, returns 3.
/// The requester itself sends to all its neighbours (came_from = kNoPeer: nobody to skip).
std::size_t forward_targets(std::span<const PeerIndex> neighbours, PeerIndex came_from, std::span<PeerIndex> out);

}  // namespace logic
}  // namespace p2plab::flooding
