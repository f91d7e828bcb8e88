#pragma once
// Helpers shared by the test suites: runs built from JSON literals, and independent oracles.
//
// The oracles do not use the library's id arithmetic: Big is a separate big-number type
// (five 32-bit words, where the library uses three 64-bit limbs) with its own schoolbook
// addition, subtraction, comparison, hex parsing and decimal printing, and RingOracle is Chord
// by brute force over the sorted list of ids.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "chord/chord_run.hpp"
#include "p2plab/id.hpp"
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

// ---- Big: an unsigned integer below 2^160, five 32-bit words, least significant first --------

struct Big {
  static constexpr int kWords = 5;
  std::array<std::uint32_t, kWords> w{};

  Big() = default;
  explicit Big(std::uint64_t v) {
    w[0] = static_cast<std::uint32_t>(v);
    w[1] = static_cast<std::uint32_t>(v >> 32);
  }
  static Big from(const Id& id) {
    Big b;
    for (int i = 0; i < kWords; ++i) b.w[i] = static_cast<std::uint32_t>(id.limb[i / 2] >> (32 * (i % 2)));
    return b;
  }
  Id to_id() const {
    Id id;
    for (int i = 0; i < kWords; ++i) id.limb[i / 2] |= static_cast<std::uint64_t>(w[i]) << (32 * (i % 2));
    return id;
  }
  /// 2^i (i < 160).
  static Big pow2(int i) {
    Big b;
    b.w[i / 32] = std::uint32_t{1} << (i % 32);
    return b;
  }
  /// 2^m - 1.
  static Big all_ones(int m) {
    Big b;
    for (int i = 0; i < kWords; ++i) {
      const int bits = std::clamp(m - 32 * i, 0, 32);
      b.w[i] = bits == 32 ? ~std::uint32_t{0} : (std::uint32_t{1} << bits) - 1;
    }
    return b;
  }
  /// Keeps the low m bits (value mod 2^m).
  Big masked(int m) const {
    const Big mask = all_ones(m);
    Big b = *this;
    for (int i = 0; i < kWords; ++i) b.w[i] &= mask.w[i];
    return b;
  }
  bool bit(int i) const { return (w[i / 32] >> (i % 32)) & 1u; }

  friend bool operator==(const Big& a, const Big& b) { return a.w == b.w; }
  friend bool operator!=(const Big& a, const Big& b) { return !(a == b); }
  friend bool operator<(const Big& a, const Big& b) {
    for (int i = kWords - 1; i >= 0; --i) {
      if (a.w[i] != b.w[i]) return a.w[i] < b.w[i];
    }
    return false;
  }
  friend bool operator<=(const Big& a, const Big& b) { return !(b < a); }

  /// (a + b) mod 2^m, word by word with a carry.
  static Big add(const Big& a, const Big& b, int m) {
    Big r;
    std::uint64_t carry = 0;
    for (int i = 0; i < kWords; ++i) {
      const std::uint64_t s = std::uint64_t{a.w[i]} + b.w[i] + carry;
      r.w[i] = static_cast<std::uint32_t>(s);
      carry = s >> 32;
    }
    return r.masked(m);
  }
  /// (a - b) mod 2^m: a + (2^160 - b), the two's complement, then mod 2^m.
  static Big sub(const Big& a, const Big& b, int m) {
    Big r;
    std::int64_t borrow = 0;
    for (int i = 0; i < kWords; ++i) {
      std::int64_t d = std::int64_t{a.w[i]} - b.w[i] - borrow;
      borrow = d < 0 ? 1 : 0;
      if (d < 0) d += std::int64_t{1} << 32;
      r.w[i] = static_cast<std::uint32_t>(d);
    }
    return r.masked(m);
  }

  /// Decimal text by repeated division by 10.
  std::string decimal() const {
    Big x = *this;
    std::string out;
    auto zero = [&] { return std::all_of(x.w.begin(), x.w.end(), [](std::uint32_t v) { return v == 0; }); };
    do {
      std::uint64_t rem = 0;
      for (int i = kWords - 1; i >= 0; --i) {
        const std::uint64_t cur = (rem << 32) | x.w[i];
        x.w[i] = static_cast<std::uint32_t>(cur / 10);
        rem = cur % 10;
      }
      out.insert(out.begin(), static_cast<char>('0' + rem));
    } while (!zero());
    return out;
  }
  /// Parses up to 40 hex digits (a SHA-1 digest as printed by sha1sum).
  static Big from_hex(const std::string& hex) {
    if (hex.size() > 40) throw std::invalid_argument("more than 160 bits of hex");
    Big b;
    int bit = 0;
    for (auto it = hex.rbegin(); it != hex.rend(); ++it, bit += 4) {
      const char c = *it;
      const int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (v < 0) throw std::invalid_argument("not a hex digit");
      b.w[bit / 32] |= static_cast<std::uint32_t>(v) << (bit % 32);
    }
    return b;
  }
};

/// The clockwise distance from a to b on the m-bit circle.
inline Big ring_distance(const Big& a, const Big& b, int m) { return Big::sub(b, a, m); }

// Interval membership defined by clockwise distances (the library uses comparisons instead):
// x in (a, b) when 0 < d(a, x) < d(a, b); an interval from a to itself is the whole circle
// (without a itself when the left end is open).
inline bool oracle_in_open(const Big& x, const Big& a, const Big& b, int m) {
  const Big dx = ring_distance(a, x, m), db = ring_distance(a, b, m);
  if (a == b) return x != a;
  return Big() < dx && dx < db;
}
inline bool oracle_in_open_closed(const Big& x, const Big& a, const Big& b, int m) {
  const Big dx = ring_distance(a, x, m), db = ring_distance(a, b, m);
  if (a == b) return true;
  return Big() < dx && dx <= db;
}
inline bool oracle_in_closed_open(const Big& x, const Big& a, const Big& b, int m) {
  const Big dx = ring_distance(a, x, m), db = ring_distance(a, b, m);
  if (a == b) return true;
  return dx < db;
}

/// An id as it appears in a result file: a number (m <= 53) or a decimal string.
inline Id json_id(const nlohmann::json& v) {
  if (v.is_string()) {
    const std::optional<Id> id = Id::from_decimal(v.get<std::string>());
    if (!id) throw std::invalid_argument("not a decimal id: " + v.dump());
    return *id;
  }
  return Id(v.get<std::uint64_t>());
}

// ---- RingOracle: Chord by brute force ----------------------------------------------------------

/// The sorted ids of the live peers and what every Chord pointer must be.
struct RingOracle {
  std::vector<Big> sorted;
  int m = 0;

  RingOracle(const std::vector<Id>& ids, int bits) : m(bits) {
    for (const Id& id : ids) sorted.push_back(Big::from(id));
    std::sort(sorted.begin(), sorted.end());
  }
  /// successor(k): the first id >= k, wrapping around to the smallest.
  Big successor_of(const Big& k) const {
    const auto it = std::lower_bound(sorted.begin(), sorted.end(), k);
    return it == sorted.end() ? sorted.front() : *it;
  }
  std::size_t index_of(const Big& id) const {
    const auto it = std::lower_bound(sorted.begin(), sorted.end(), id);
    if (it == sorted.end() || *it != id) throw std::invalid_argument("not a live id");
    return static_cast<std::size_t>(it - sorted.begin());
  }
  /// The id `steps` places clockwise from id (1 = its successor).
  Big next(const Big& id, std::size_t steps = 1) const { return sorted[(index_of(id) + steps) % sorted.size()]; }
  Big previous(const Big& id) const { return sorted[(index_of(id) + sorted.size() - 1) % sorted.size()]; }
  /// Finger i of n: successor((n + 2^i) mod 2^m).
  Big finger(const Big& n, int i) const { return successor_of(Big::add(n, Big::pow2(i), m)); }
};

/// The oracle over the peers that are alive in a run right now (ground truth from the engine's
/// list of live peers; everything else is computed here).
inline RingOracle live_oracle(const chord::ChordRun& run) {
  std::vector<Id> ids;
  for (PeerIndex p = 0; p < run.simulator().peer_count(); ++p) {
    if (run.simulator().is_up(p)) ids.push_back(run.simulator().peer_id(p));
  }
  return RingOracle(ids, run.protocol().params().m);
}

/// Every disagreement between the routing state of the live peers and the brute-force answer
/// (successor list of length min(r, N - 1), predecessor, all m fingers), as readable lines.
inline std::vector<std::string> routing_state_errors(const chord::ChordRun& run) {
  const RingOracle oracle = live_oracle(run);
  const int m = oracle.m;
  const int r = run.protocol().params().successors;
  std::vector<std::string> errors;
  auto name = [&](PeerIndex p) {
    return p == kNoPeer ? std::string("none") : Big::from(run.simulator().peer_id(p)).decimal();
  };
  auto is = [&](PeerIndex p, const Big& expected) {
    return p != kNoPeer && run.simulator().is_up(p) && Big::from(run.simulator().peer_id(p)) == expected;
  };
  for (PeerIndex p = 0; p < run.simulator().peer_count(); ++p) {
    if (!run.simulator().is_up(p)) continue;
    const chord::PeerSnapshot s = run.protocol().snapshot(p);
    const Big n = Big::from(run.simulator().peer_id(p));
    const std::string who = "peer " + n.decimal() + ": ";
    const std::size_t want = std::min<std::size_t>(static_cast<std::size_t>(r), oracle.sorted.size() - 1);
    if (oracle.sorted.size() == 1) {
      if (s.successors.size() != 1 || s.successors[0] != p)
        errors.push_back(who + "a ring of one must be its own successor");
    } else if (s.successors.size() != want) {
      errors.push_back(who + "successor list has " + std::to_string(s.successors.size()) + " entries, expected " +
                       std::to_string(want));
    } else {
      for (std::size_t j = 0; j < want; ++j) {
        if (!is(s.successors[j], oracle.next(n, j + 1))) {
          errors.push_back(who + "successor " + std::to_string(j) + " is " + name(s.successors[j]) + ", expected " +
                           oracle.next(n, j + 1).decimal());
        }
      }
    }
    if (oracle.sorted.size() > 1 && !is(s.predecessor, oracle.previous(n))) {
      errors.push_back(who + "predecessor is " + name(s.predecessor) + ", expected " + oracle.previous(n).decimal());
    }
    if (s.fingers.size() != static_cast<std::size_t>(m)) {
      errors.push_back(who + "has " + std::to_string(s.fingers.size()) + " fingers, expected " + std::to_string(m));
      continue;
    }
    for (int i = 0; i < m; ++i) {
      if (Big::from(s.fingers[i].start) != Big::add(n, Big::pow2(i), m)) {
        errors.push_back(who + "finger " + std::to_string(i) + " starts at " + Big::from(s.fingers[i].start).decimal());
      }
      if (!is(s.fingers[i].node, oracle.finger(n, i))) {
        errors.push_back(who + "finger " + std::to_string(i) + " is " + name(s.fingers[i].node) + ", expected " +
                         oracle.finger(n, i).decimal());
      }
    }
  }
  return errors;
}

/// The first few lines of a list of errors, for a failure message.
inline std::string first_errors(const std::vector<std::string>& errors, std::size_t count = 8) {
  std::string out;
  for (std::size_t i = 0; i < errors.size() && i < count; ++i) out += "\n  " + errors[i];
  if (errors.size() > count) out += "\n  ... and " + std::to_string(errors.size() - count) + " more";
  return out;
}

}  // namespace p2plab::test
