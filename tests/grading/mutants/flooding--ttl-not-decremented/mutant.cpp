// Mutant of exercise flooding: the TTL is never decremented (hops still grow). Must lose points.
#include "flooding/logic.hpp"

namespace p2plab::flooding {

bool GuidCache::first_time(Guid guid) {
  if (guids_.contains(guid)) return false;
  guids_.put(guid, kNoPeer);
  return true;
}

namespace logic {

std::optional<QueryHeader> forward(const QueryHeader& received) {
  if (received.ttl <= 1) return std::nullopt;
  return QueryHeader{received.ttl, static_cast<std::uint8_t>(received.hops + 1)};
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
