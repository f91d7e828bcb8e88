#pragma once
// What the engine keeps of every peer and reads on almost every event: its id (routing compares
// it) and its random stream (each message sent draws its latency from the sender's stream).
// One 32-byte record, aligned to 32 bytes, so both lie in the same cache line and a record never
// straddles two: a peer's event waits for one line of the engine's, not for two (at 10^6 peers
// neither array fits in the caches, and each read of a peer is a miss).
#include <cstddef>

#include "p2plab/id.hpp"
#include "p2plab/peer_array.hpp"
#include "p2plab/rng.hpp"

namespace p2plab {

struct alignas(32) PeerRecord {
  Id id;
  Rng rng;
};
static_assert(sizeof(PeerRecord) == 32, "a peer's record is half a cache line");

using PeerRecords = PeerArray<PeerRecord>;

}  // namespace p2plab
