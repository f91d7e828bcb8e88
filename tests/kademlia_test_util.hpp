#pragma once
// What the Kademlia test files share: reading ids back from a result file and the test's own XOR.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "p2plab/id.hpp"

namespace p2plab::test {

/// An id of the result file (a number for m <= 53, a decimal string above).
inline Id id_of(const nlohmann::json& j) {
  if (j.is_number_unsigned()) return Id(j.get<std::uint64_t>());
  const auto id = Id::from_decimal(j.get<std::string>());
  REQUIRE(id.has_value());
  return *id;
}

/// a XOR b, limb by limb (the test's own; the module has its own too).
inline Id x_or(const Id& a, const Id& b) {
  Id d;
  for (int i = 0; i < 3; ++i) d.limb[i] = a.limb[i] ^ b.limb[i];
  return d;
}

}  // namespace p2plab::test
