// Plausible mistakes in kademlia-lookup (mistakes.txt lists them; ../mistake.hpp explains).
#include <algorithm>
#include <numeric>

#include "logic.hpp"
#include "mistake.hpp"

namespace p2plab::kademlia::logic {

RoundChoice choose_round(std::span<const Candidate> seen, const std::optional<Id>& closest_before, std::size_t k,
                         std::size_t alpha) {
  std::vector<std::size_t> order(seen.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (!mistake("not-sorted")) {
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      if (mistake("sorted-by-id")) return seen[a].contact.id < seen[b].contact.id;
      return seen[a].distance < seen[b].distance;
    });
  }
  RoundChoice choice;
  std::size_t in_k = 0;
  bool out = false;
  for (const std::size_t i : order) {
    const Candidate::State state = seen[i].state;
    if (state == Candidate::State::Failed && !mistake("failed-stay-in-k")) continue;
    if (in_k == k && !mistake("beyond-k-closest")) break;
    const bool among_k = in_k < k;
    ++in_k;
    if (state == Candidate::State::NotAsked || (mistake("asks-already-asked") && among_k)) choice.ask.push_back(i);
    if (state == Candidate::State::Asked && among_k) out = true;
  }
  const bool waiting = out && !mistake("done-while-out");
  if (choice.ask.empty() || (mistake("done-when-alpha-answered") && closest_before && !out)) {
    choice.ask.clear();
    choice.done = !waiting;
    return choice;
  }
  Id closest = seen[0].distance;
  for (const Candidate& c : seen) closest = std::min(closest, c.distance);
  const bool closer =
      !closest_before || closest < *closest_before || (mistake("closer-or-equal") && closest == *closest_before);
  if (!closer && mistake("stops-when-nothing-closer")) return RoundChoice{true, {}};
  const std::size_t limit = mistake("alpha-plus-one") ? alpha + 1 : alpha;
  if (closer && choice.ask.size() > limit) choice.ask.resize(limit);
  return choice;
}

}  // namespace p2plab::kademlia::logic
