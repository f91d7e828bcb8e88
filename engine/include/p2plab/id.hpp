#pragma once
// Identifiers of an m-bit circular id space (m = 1 .. 160), as Chord, Kademlia and friends use.
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace p2plab {

/// An unsigned integer of up to 160 bits (three 64-bit limbs, least significant first; bits 160 ..
/// 191 stay zero: + and - wrap modulo 2^160).
/// Plain value type: arithmetic modulo 2^m lives in IdSpace.
struct Id {
  std::array<std::uint64_t, 3> limb{0, 0, 0};

  constexpr Id() = default;
  constexpr explicit Id(std::uint64_t low) : limb{low, 0, 0} {}

  // Written out rather than defaulted: the default compares the array with a call to memcmp,
  // which hot loops (Kademlia's bucket and candidate searches) spend most of their time in.
  friend constexpr bool operator==(const Id& a, const Id& b) {
    return ((a.limb[0] ^ b.limb[0]) | (a.limb[1] ^ b.limb[1]) | (a.limb[2] ^ b.limb[2])) == 0;
  }
  friend constexpr std::strong_ordering operator<=>(const Id& a, const Id& b) {
    for (int i = 2; i >= 0; --i) {
      if (a.limb[i] != b.limb[i]) return a.limb[i] <=> b.limb[i];
    }
    return std::strong_ordering::equal;
  }

  /// True if the value fits in 64 bits.
  constexpr bool fits_u64() const { return limb[1] == 0 && limb[2] == 0; }
  constexpr std::uint64_t low64() const { return limb[0]; }
  /// Number of significant bits (0 for zero).
  int bit_width() const {
    for (int i = 2; i >= 0; --i) {
      if (limb[i] != 0) return 64 * i + (64 - __builtin_clzll(limb[i]));
    }
    return 0;
  }
  bool bit(int i) const { return (limb[i / 64] >> (i % 64)) & 1u; }

  /// Decimal representation, e.g. "3107".
  std::string to_decimal() const;
  /// The lowest `bits` bits as bits / digit_bits digits in base 2^digit_bits, most significant
  /// first, zero-padded: Pastry's ids ("65a1" for bits = 16, digit_bits = 4). Digits 0-9 a-z A-Z
  /// + /; bits must be a multiple of digit_bits (1 .. 6).
  std::string to_digits(int bits, int digit_bits) const;
  /// The character to_digits writes for digit value d (0 .. 63): '0'-'9', 'a'-'z', 'A'-'Z', '+', '/'.
  static char digit_char(int d) { return "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/"[d]; }
  /// Digit i (0: the most significant) of the lowest `bits` bits in base 2^digit_bits.
  int digit(int i, int bits, int digit_bits) const {
    const int lo = bits - (i + 1) * digit_bits;
    const auto index = static_cast<std::size_t>(lo / 64);
    const int offset = lo % 64;
    std::uint64_t v = limb[index] >> offset;
    if (offset + digit_bits > 64 && index < 2) v |= limb[index + 1] << (64 - offset);
    return static_cast<int>(v & ((std::uint64_t{1} << digit_bits) - 1));
  }
  /// How many leading digits a and b share (bits / digit_bits when equal).
  static int shared_digits(const Id& a, const Id& b, int bits, int digit_bits) {
    for (int index = 2; index >= 0; --index) {
      const std::uint64_t x = a.limb[static_cast<std::size_t>(index)] ^ b.limb[static_cast<std::size_t>(index)];
      if (x == 0) continue;
      const int top = index * 64 + 63 - __builtin_clzll(x);  // the highest differing bit
      return (bits - 1 - top) / digit_bits;
    }
    return bits / digit_bits;
  }
  /// Parses a non-negative decimal integer below 2^160; nullopt on anything else.
  static std::optional<Id> from_decimal(std::string_view text);
  /// Plain double approximation (for plotting and angles on the ring, never for routing).
  double to_double() const;

  /// 2^i (i = 0 .. 159); 0 for any other i.
  static Id power_of_two(int i);
  /// This value mod 2^m: its lowest m bits (m = 0 .. 160).
  Id low_bits(int m) const;
  /// a + b and a - b modulo 2^160 (wrapping, like unsigned integers). Reduce with low_bits(m).
  /// (Inline, as the interval tests below: every routing step computes a few of them.)
  friend Id operator+(const Id& a, const Id& b) {
    Id r;
    bool carry = false;
    for (std::size_t i = 0; i < 3; ++i) {
      const bool c1 = __builtin_add_overflow(a.limb[i], b.limb[i], &r.limb[i]);
      const bool c2 = __builtin_add_overflow(r.limb[i], std::uint64_t{carry}, &r.limb[i]);
      carry = c1 || c2;
    }
    r.limb[2] &= kTopLimbMask;  // modulo 2^160 (the limbs hold 192 bits)
    return r;
  }
  friend Id operator-(const Id& a, const Id& b) {
    Id r;
    bool borrow = false;
    for (std::size_t i = 0; i < 3; ++i) {
      const bool b1 = __builtin_sub_overflow(a.limb[i], b.limb[i], &r.limb[i]);
      const bool b2 = __builtin_sub_overflow(r.limb[i], std::uint64_t{borrow}, &r.limb[i]);
      borrow = b1 || b2;
    }
    r.limb[2] &= kTopLimbMask;
    return r;
  }

 private:
  static constexpr std::uint64_t kTopLimbMask = 0xffffffffULL;  // bits 128 .. 159
};

/// The circular id space 0 .. 2^m - 1. Every routing decision goes through these functions so
/// that the wrap-around is handled in exactly one place.
class IdSpace {
 public:
  static constexpr int kMaxBits = 160;

  explicit IdSpace(int bits);
  int bits() const { return bits_; }
  /// 2^m - 1.
  const Id& max_id() const { return mask_; }
  bool contains(const Id& x) const { return x <= mask_; }

  Id add(const Id& a, const Id& b) const { return reduce(a + b); }
  Id sub(const Id& a, const Id& b) const { return reduce(a - b); }
  /// 2^i mod 2^m.
  Id pow2(int i) const {  // (inline: a converged ring's installation asks for 20 per peer)
    Id r;
    if (i >= 0 && i < bits_) r.limb[i / 64] = 1ULL << (i % 64);
    return r;
  }
  /// Clockwise distance from a to b: (b - a) mod 2^m.
  Id distance(const Id& a, const Id& b) const { return sub(b, a); }
  /// Reduces an arbitrary 160-bit value to m bits (value mod 2^m).
  Id reduce(const Id& x) const {
    Id r;
    for (std::size_t i = 0; i < 3; ++i) r.limb[i] = x.limb[i] & mask_.limb[i];
    return r;
  }
  /// The top 32 bits of an m-bit id (for m < 32, the id shifted up). Monotone: ids with
  /// distinct prints compare like their prints, so a ring test on three pairwise distinct
  /// prints gives the same answer as on the full ids (used to avoid loading ids).
  std::uint32_t print(const Id& x) const {
    if (bits_ < 32) return static_cast<std::uint32_t>(x.limb[0] << (32 - bits_));
    const int shift = bits_ - 32;
    const int limb = shift / 64, offset = shift % 64;
    std::uint64_t v = x.limb[limb] >> offset;
    if (offset > 32 && limb < 2) v |= x.limb[limb + 1] << (64 - offset);
    return static_cast<std::uint32_t>(v);
  }

  // Interval membership on the circle, walking clockwise from a to b. When a == b, the open
  // interval (a, a) is the whole circle but a, and (a, a] is the whole circle: a node that is
  // its own successor is responsible for every key.
  // Worked example with m = 3 (ids 0..7): (6, 1] = {7, 0, 1}; (1, 6) = {2, 3, 4, 5}.
  static bool in_open(const Id& x, const Id& a, const Id& b) {  // x in (a, b)
    if (a < b) return a < x && x < b;
    return x > a || x < b;  // wraps past zero (or a == b: all but a)
  }
  static bool in_open_closed(const Id& x, const Id& a, const Id& b) {  // x in (a, b]
    if (a < b) return a < x && x <= b;
    return x > a || x <= b;
  }
  static bool in_closed_open(const Id& x, const Id& a, const Id& b) {  // x in [a, b)
    if (a < b) return a <= x && x < b;
    return x >= a || x < b;
  }

  /// SHA-1 of the bytes of `text`, reduced mod 2^m (the 160-bit digest read as a big-endian
  /// number, then its low m bits).
  Id hash(std::string_view text) const;

 private:
  int bits_;
  Id mask_;
};

/// The full 160-bit SHA-1 digest of `text` as a big-endian number.
Id sha1_id(std::string_view text);

}  // namespace p2plab
