#pragma once
// Helpers shared by the test suites: build runs from JSON literals, and an independent oracle
// for Chord computed by brute force from the sorted list of ids.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chord/chord_run.hpp"
#include "p2plab/scenario.hpp"

namespace p2plab::test {

/// "file-7" from ("file-", 7). (Also sidesteps a GCC 12 -Wrestrict false positive on
/// "literal" + std::to_string(k).)
inline std::string numbered(const char* prefix, int k) {
  std::string s(prefix);
  s += std::to_string(k);
  return s;
}

inline std::unique_ptr<chord::ChordRun> make_chord_run(const nlohmann::json& doc) {
  return std::make_unique<chord::ChordRun>(parse_scenario(doc, "test.json"));
}

/// Big-number arithmetic written separately from the library's IdSpace, for oracles:
/// three 64-bit limbs, least significant first, reduced to m bits.
struct Big {
  std::array<std::uint64_t, 3> w{0, 0, 0};
  static Big from(const Id& id) { return Big{id.limb}; }
  Id to_id() const {
    Id id;
    id.limb = w;
    return id;
  }
  bool operator<(const Big& o) const {
    for (int i = 2; i >= 0; --i) {
      if (w[i] != o.w[i]) return w[i] < o.w[i];
    }
    return false;
  }
  bool operator==(const Big& o) const { return w == o.w; }
};

/// (n + 2^i) mod 2^m, by schoolbook addition with carries.
inline Big add_pow2(Big n, int i, int m) {
  std::array<std::uint64_t, 3> add{0, 0, 0};
  add[i / 64] = std::uint64_t{1} << (i % 64);
  std::uint64_t carry = 0;
  for (int k = 0; k < 3; ++k) {
    const unsigned long long a = n.w[k], b = add[k];
    const unsigned long long s1 = a + b;
    const unsigned long long s2 = s1 + carry;
    carry = (s1 < a) || (s2 < s1) ? 1 : 0;
    n.w[k] = s2;
  }
  for (int k = 0; k < 3; ++k) {  // mask to m bits
    const int bits = std::clamp(m - 64 * k, 0, 64);
    n.w[k] &= bits == 64 ? ~0ULL : ((1ULL << bits) - 1);
  }
  return n;
}

/// Brute-force Chord: the sorted ids of live peers and what every pointer must be.
struct RingOracle {
  std::vector<Big> sorted;
  int m = 0;

  RingOracle(std::vector<Id> ids, int bits) : m(bits) {
    for (const Id& id : ids) sorted.push_back(Big::from(id));
    std::sort(sorted.begin(), sorted.end());
  }
  /// The first id >= k, wrapping around to the smallest.
  Big successor_of(const Big& k) const {
    auto it = std::lower_bound(sorted.begin(), sorted.end(), k);
    return it == sorted.end() ? sorted.front() : *it;
  }
  std::size_t index_of(const Big& id) const {
    return static_cast<std::size_t>(std::lower_bound(sorted.begin(), sorted.end(), id) - sorted.begin());
  }
  Big next(const Big& id, std::size_t steps = 1) const { return sorted[(index_of(id) + steps) % sorted.size()]; }
  Big previous(const Big& id) const { return sorted[(index_of(id) + sorted.size() - 1) % sorted.size()]; }
  Big finger(const Big& n, int i) const { return successor_of(add_pow2(n, i, m)); }
};

}  // namespace p2plab::test
