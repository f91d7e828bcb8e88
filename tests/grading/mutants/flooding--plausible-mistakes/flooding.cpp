// Plausible mistakes in flooding (mistakes.txt lists them; ../mistake.hpp explains).
#include "flooding/logic.hpp"
#include "mistake.hpp"

namespace p2plab::flooding {

bool GuidCache::first_time(Guid guid) {
  if (mistake("cache-never-remembers")) return !guids_.contains(guid);
  if (guids_.contains(guid)) return mistake("cache-answers-seen-as-new");
  guids_.put(guid, kNoPeer);
  return !mistake("cache-answers-seen-as-new");
}

namespace logic {

std::optional<QueryHeader> forward(const QueryHeader& received) {
  const int last = mistake("forwards-at-ttl-1") ? 0 : 1;
  if (received.ttl <= last) return std::nullopt;
  if (mistake("drops-at-ttl-2") && received.ttl <= 2) return std::nullopt;
  const auto hops = static_cast<std::uint8_t>(received.hops + (mistake("hops-not-counted") ? 0 : 1));
  const int ttl = received.ttl - (mistake("ttl-not-decremented") ? 0 : 1);
  return QueryHeader{static_cast<std::uint8_t>(ttl), hops};
}

void remember_route(RouteTable& routes, Guid guid, PeerIndex came_from) {
  if (!routes.contains(guid) || mistake("route-overwritten-by-copies")) routes.put(guid, came_from);
}

PeerIndex reverse_path_next(const RouteTable& routes, Guid guid) {
  const PeerIndex* next = routes.find(guid);
  return next != nullptr ? *next : kNoPeer;
}

std::size_t forward_targets(std::span<const PeerIndex> neighbours, PeerIndex came_from, std::span<PeerIndex> out) {
  std::size_t count = 0;
  for (PeerIndex n : neighbours) {
    if ((n != came_from || mistake("sends-back-to-sender")) && count < out.size()) out[count++] = n;
    if (mistake("forwards-to-one-neighbour") && count == 1) break;
  }
  return count;
}

}  // namespace logic
}  // namespace p2plab::flooding
