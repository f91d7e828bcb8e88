// Exercise flooding: Gnutella 0.4's TTL, GUID cache and reverse path.
// The task, the points and how to test: README.md beside this file. Contracts: the comments in
// protocols/flooding/logic.hpp. Replace each TODO(student) with your code; remove the
// [[maybe_unused]] of a parameter once you use it.
#include "flooding/logic.hpp"

namespace p2plab::flooding {

bool GuidCache::first_time([[maybe_unused]] Guid guid) {
  // TODO(student): duplicate suppression. The first copy of a QUERY is processed, every later
  // copy with the same GUID is dropped. Return true if guid was not in the cache yet (and
  // remember it from now on), false if it was.
  // Hint: the cache's storage is the member guids_ (a GuidTable: contains(guid),
  // put(guid, kNoPeer)).
  // Your code here.
  return false;
}

namespace logic {

std::optional<QueryHeader> forward([[maybe_unused]] const QueryHeader& received) {
  // TODO(student): TTL handling. Each hop decrements the TTL; a QUERY is forwarded only while
  // the decremented TTL is still above 0, and each hop adds one to hops.
  // Hint: return QueryHeader{new_ttl, new_hops} to forward, std::nullopt to stop. The fields are
  // std::uint8_t: write static_cast<std::uint8_t>(...) around arithmetic.
  // Your code here.
  return std::nullopt;
}

void remember_route([[maybe_unused]] RouteTable& routes, [[maybe_unused]] Guid guid,
                    [[maybe_unused]] PeerIndex came_from) {
  // TODO(student): the reverse path. Remember that QUERY guid came from neighbour came_from, so
  // that its QUERYHITs can go back there. Keep the first entry if guid is already known.
  // Hint: routes is a GuidTable: contains(guid), put(guid, peer).
  // Your code here.
}

PeerIndex reverse_path_next([[maybe_unused]] const RouteTable& routes, [[maybe_unused]] Guid guid) {
  // TODO(student): where a QUERYHIT for guid goes next: the neighbour stored for guid, or
  // kNoPeer if the table has no entry for it.
  // Hint: routes.find(guid) returns a pointer to the stored peer, or nullptr.
  // Your code here.
  return kNoPeer;
}

std::size_t forward_targets([[maybe_unused]] std::span<const PeerIndex> neighbours,
                            [[maybe_unused]] PeerIndex came_from, [[maybe_unused]] std::span<PeerIndex> out) {
  // TODO(student): flooding sends a copy to every neighbour except the one the QUERY came from.
  // Write them to out[0], out[1], ... in the order of neighbours and return how many.
  // Your code here.
  return 0;
}

}  // namespace logic
}  // namespace p2plab::flooding
