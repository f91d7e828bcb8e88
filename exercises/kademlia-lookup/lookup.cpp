// Exercise kademlia-lookup: whom the iterative node lookup asks in its next round, and when it is
// done. The task, the points and how to test: README.md beside this file. Contract and a worked
// example: protocols/kademlia/logic.hpp. Replace each TODO(student) with your code; remove the
// [[maybe_unused]] of a parameter once you use it.
//
// `seen` comes in the order the lookup heard of the candidates, not by distance: choosing by
// distance (Candidate::distance, compared with <) is part of the exercise. The routing table's
// and the lookup's own code is off limits (off-limits.txt).
#include "logic.hpp"

namespace p2plab::kademlia::logic {

RoundChoice choose_round([[maybe_unused]] std::span<const Candidate> seen,
                         [[maybe_unused]] const std::optional<Id>& closest_before, [[maybe_unused]] std::size_t k,
                         [[maybe_unused]] std::size_t alpha) {
  // TODO(student): among the k closest candidates that have not failed, the NotAsked ones:
  //   none left -> done if none of the k closest is still Asked, else wait (ask nobody);
  //   the first round, or the last round brought something closer than closest_before -> the
  //   alpha closest of them; otherwise all of them. Closest first.
  // Your code here.
  return RoundChoice{true, {}};
}

}  // namespace p2plab::kademlia::logic
