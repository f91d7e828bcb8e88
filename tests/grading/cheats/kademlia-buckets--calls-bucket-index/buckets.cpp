// A dishonest kademlia-buckets: bucket_index handed to the engine's own kademlia::bucket_index,
// which the course wrote and which answers it outright (the bucket update is left as the stub).
// It passes bucket_index's test (3 points), so only the off-limits check
// (exercises/kademlia-buckets/off-limits.txt) can score it: zero.
#include "logic.hpp"

namespace p2plab::kademlia::logic {

int bucket_index(const Id& self, const Id& other) { return kademlia::bucket_index(self, other); }
HeardResult heard_from(Bucket&, const Contact&, std::int64_t, const RoutingTableConfig&) { return {}; }
void ping_answered(Bucket&, const Id&, std::int64_t) {}
std::optional<Contact> ping_failed(Bucket&, const Id&) { return std::nullopt; }
bool rpc_failed(Bucket&, const Id&, const RoutingTableConfig&) { return false; }

}  // namespace p2plab::kademlia::logic
