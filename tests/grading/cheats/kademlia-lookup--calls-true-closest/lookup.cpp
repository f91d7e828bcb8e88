// A dishonest kademlia-lookup: the k closest found by the engine's kademlia::true_closest (the
// brute force the result's `ok` flag is checked with), the rest written honestly. It scores full
// marks, so only the off-limits check (exercises/kademlia-lookup/off-limits.txt) can score it:
// zero.
#include <algorithm>

#include "logic.hpp"

namespace p2plab::kademlia::logic {

RoundChoice choose_round(std::span<const Candidate> seen, const std::optional<Id>& closest_before, std::size_t k,
                         std::size_t alpha) {
  if (seen.empty()) return {true, {}};
  const Id target = xor_distance(seen[0].contact.id, seen[0].distance);
  std::vector<Id> alive;
  for (const Candidate& c : seen) {
    if (c.state != Candidate::State::Failed) alive.push_back(c.contact.id);
  }
  RoundChoice choice;
  bool out = false;
  for (const Id& id : true_closest(alive, target, k)) {
    const auto at = std::find_if(seen.begin(), seen.end(), [&](const Candidate& c) { return c.contact.id == id; });
    const auto i = static_cast<std::size_t>(at - seen.begin());
    if (at->state == Candidate::State::NotAsked) choice.ask.push_back(i);
    out = out || at->state == Candidate::State::Asked;
  }
  if (choice.ask.empty()) return {!out, {}};
  const Id best = std::min_element(seen.begin(), seen.end(), [](const Candidate& a, const Candidate& b) {
                    return a.distance < b.distance;
                  })->distance;
  if ((!closest_before || best < *closest_before) && choice.ask.size() > alpha) choice.ask.resize(alpha);
  return choice;
}

}  // namespace p2plab::kademlia::logic
