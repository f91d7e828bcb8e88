// p2plab: reference-only (tools/make-student-release leaves this file out of the student tree)
// Reference solution of exercise kademlia-lookup (see logic.hpp for the contract and
// exercises/kademlia-lookup/README.md for the task). Not part of the student release.
#include <algorithm>
#include <numeric>

#include "logic.hpp"

namespace p2plab::kademlia::logic {

RoundChoice choose_round(std::span<const Candidate> seen, const std::optional<Id>& closest_before, std::size_t k,
                         std::size_t alpha) {
  // Closest first (distances differ: one candidate per id).
  std::vector<std::size_t> by_distance(seen.size());
  std::iota(by_distance.begin(), by_distance.end(), std::size_t{0});
  std::sort(by_distance.begin(), by_distance.end(),
            [&](std::size_t a, std::size_t b) { return seen[a].distance < seen[b].distance; });
  // The k closest that have not failed: the ones not asked yet, and whether any is still out.
  RoundChoice choice;
  std::size_t counted = 0;
  bool waiting = false;
  for (const std::size_t i : by_distance) {
    if (counted == k) break;
    if (seen[i].state == Candidate::State::Failed) continue;
    ++counted;
    if (seen[i].state == Candidate::State::NotAsked) choice.ask.push_back(i);
    if (seen[i].state == Candidate::State::Asked) waiting = true;
  }
  if (choice.ask.empty()) {
    choice.done = !waiting;
    return choice;
  }
  // A round that brought nothing closer is followed by one that asks all the rest of the k
  // closest; otherwise alpha of them (the first round: alpha).
  const bool improved = !closest_before || seen[by_distance.front()].distance < *closest_before;
  if (improved && choice.ask.size() > alpha) choice.ask.resize(alpha);
  return choice;
}

}  // namespace p2plab::kademlia::logic
