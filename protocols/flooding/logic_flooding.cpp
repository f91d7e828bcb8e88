// p2plab: reference-only (tools/make-student-release leaves this file out of the student tree)
// Reference solution of exercise flooding (see logic.hpp for the contract and
// exercises/flooding/README.md for the task). Not part of the student release.
#include "logic.hpp"

namespace p2plab::flooding {

bool GuidCache::first_time(Guid guid) {
  if (guids_.contains(guid)) return false;
  guids_.put(guid, kNoPeer);
  return true;
}

namespace logic {

std::optional<QueryHeader> forward(const QueryHeader& received) {
  if (received.ttl <= 1) return std::nullopt;
  return QueryHeader{static_cast<std::uint8_t>(received.ttl - 1), static_cast<std::uint8_t>(received.hops + 1)};
}

void remember_route(RouteTable& routes, Guid guid, PeerIndex came_from) {
  if (!routes.contains(guid)) routes.put(guid, came_from);
}

PeerIndex reverse_path_next(const RouteTable& routes, Guid guid) {
  const PeerIndex* next = routes.find(guid);
  return next != nullptr ? *next : kNoPeer;
}

std::size_t forward_targets(std::span<const PeerIndex> neighbours, PeerIndex came_from, std::span<PeerIndex> out) {
  std::size_t count = 0;
  for (PeerIndex n : neighbours) {
    if (n != came_from && count < out.size()) out[count++] = n;
  }
  return count;
}

}  // namespace logic
}  // namespace p2plab::flooding
