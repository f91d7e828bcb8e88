#pragma once
// Pastry's view of an identifier: m bits read as m / b digits in base 2^b (most significant
// first), shared prefixes, and numeric closeness on the circle modulo 2^m. Every routing decision
// and every oracle goes through these functions.
#include <cstdint>
#include <string>

#include "p2plab/id.hpp"

namespace p2plab::pastry {

class Digits {
 public:
  Digits(int m, int b) : m_(m), b_(b), space_(m) {}
  int bits() const { return m_; }
  int digit_bits() const { return b_; }
  int count() const { return m_ / b_; }    ///< digits per id: the routing table's rows
  int columns() const { return 1 << b_; }  ///< 2^b
  const IdSpace& space() const { return space_; }

  /// Digit i of x (i = 0: the most significant).
  int digit(const Id& x, int i) const { return x.digit(i, m_, b_); }

  /// How many leading digits a and b share (count() when equal).
  int shared_prefix(const Id& a, const Id& b) const { return Id::shared_digits(a, b, m_, b_); }

  /// |a - b| on the circle: min((a - b), (b - a)) mod 2^m.
  Id distance(const Id& a, const Id& b) const {
    const Id up = space_.sub(a, b), down = space_.sub(b, a);
    return up < down ? up : down;
  }

  /// Whether a is numerically closer to key than b; equal distances: the smaller id wins (one
  /// total order, so that every peer and the oracle pick the same owner).
  bool closer(const Id& a, const Id& b, const Id& key) const {
    const Id da = distance(a, key), db = distance(b, key);
    if (da != db) return da < db;
    return a < b;
  }

  /// The id as m / b digits ("65a1" for m = 16, b = 4): base 16 for b = 4.
  std::string text(const Id& x) const { return x.to_digits(m_, b_); }

 private:
  int m_, b_;
  IdSpace space_;
};

}  // namespace p2plab::pastry
