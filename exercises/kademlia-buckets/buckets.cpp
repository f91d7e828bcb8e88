// Exercise kademlia-buckets: which k-bucket a contact belongs in, and the bucket's update when a
// contact is heard from, answers a ping, or fails. The task, the points and how to test:
// README.md beside this file. Contracts and worked examples: protocols/kademlia/logic.hpp.
// Replace each TODO(student) with your code; remove the [[maybe_unused]] of a parameter once you
// use it.
//
// You may use xor_distance(a, b) and Id's own operations (bit_width, <, ==) from
// routing_table.hpp and p2plab/id.hpp; the routing table's own code is off limits
// (off-limits.txt).
#include "logic.hpp"

namespace p2plab::kademlia::logic {

int bucket_index([[maybe_unused]] const Id& self, [[maybe_unused]] const Id& other) {
  // TODO(student): the i such that 2^i <= self XOR other < 2^(i+1); -1 when other == self.
  // Your code here.
  return 0;
}

HeardResult heard_from([[maybe_unused]] Bucket& bucket, [[maybe_unused]] const Contact& contact,
                       [[maybe_unused]] std::int64_t now, [[maybe_unused]] const RoutingTableConfig& config) {
  // TODO(student): already in the bucket -> to the tail (Refreshed); room -> append (Added); full
  // with a stale entry -> replace it (ReplacedStale); full -> into the replacement cache, and ask
  // to ping the head unless a ping is pending (Cached).
  // Your code here.
  return HeardResult{};
}

void ping_answered([[maybe_unused]] Bucket& bucket, [[maybe_unused]] const Id& id, [[maybe_unused]] std::int64_t now) {
  // TODO(student): the head answered: keep it, move it to the tail; no ping pending any more.
  // Your code here.
}

std::optional<Contact> ping_failed([[maybe_unused]] Bucket& bucket, [[maybe_unused]] const Id& id) {
  // TODO(student): the head did not answer: evict it; the most recent replacement takes its
  // place at the tail. Return that replacement, if any.
  // Your code here.
  return std::nullopt;
}

bool rpc_failed([[maybe_unused]] Bucket& bucket, [[maybe_unused]] const Id& id,
                [[maybe_unused]] const RoutingTableConfig& config) {
  // TODO(student): one more failure; at config.stale_after the contact is stale: replaced by the
  // most recent replacement (return true) or, with an empty cache, kept and marked stale.
  // Your code here.
  return false;
}

}  // namespace p2plab::kademlia::logic
