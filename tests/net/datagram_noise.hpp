#pragma once
// Datagrams no honest peer sends, for tests that feed decoders and peers with noise: random bytes,
// and valid datagrams with a few bytes replaced or cut off.
#include <cstdint>
#include <vector>

#include "p2plab/rng.hpp"

namespace p2plab::test {

/// Up to 1599 random bytes.
inline std::vector<std::uint8_t> random_datagram(Rng& rng) {
  std::vector<std::uint8_t> b(rng.below(1600));
  for (auto& byte : b) byte = static_cast<std::uint8_t>(rng.next_u64());
  return b;
}

/// One of `seeds` (valid datagrams) with 1 to 3 edits: a byte replaced, or (one time in three)
/// the datagram cut off there.
inline std::vector<std::uint8_t> mutated_datagram(Rng& rng, const std::vector<std::vector<std::uint8_t>>& seeds) {
  std::vector<std::uint8_t> b = seeds[rng.below(seeds.size())];
  for (std::uint64_t e = 1 + rng.below(3); e > 0 && !b.empty(); --e) {
    const auto at = rng.below(b.size());
    if (rng.below(3) == 0) {
      b.resize(at);
    } else {
      b[at] = static_cast<std::uint8_t>(rng.next_u64());
    }
  }
  return b;
}

}  // namespace p2plab::test
