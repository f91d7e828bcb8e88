#pragma once
// CAN's coordinate space (Ratnasamy et al. 2001, section 2): the d-dimensional unit torus
// [0, 1)^d, cut into zones by halving. Exact arithmetic: a coordinate is a 64-bit fixed-point
// number (x / 2^64), and a zone is the path of halvings that made it (its code), so zones tile
// the space exactly and two zones are compared, split and merged without rounding.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "p2plab/id.hpp"
#include "p2plab/types.hpp"

namespace p2plab::can {

constexpr int kMaxDims = 8;     // d
constexpr int kMaxDepth = 128;  // halvings from the whole torus to one zone

/// A point of the torus: coordinate i is x[i] / 2^64.
struct Point {
  std::array<std::uint64_t, kMaxDims> x{};
  double coordinate(int i) const { return static_cast<double>(x[static_cast<std::size_t>(i)]) * 0x1.0p-64; }
};

/// A zone: the box reached from the whole torus by `depth` halvings, halving k along dimension
/// k mod d (the paper's "dimensions in turn") and keeping the lower (bit 0) or upper (bit 1)
/// half. Worked example, d = 2: code "1" is [0.5, 1) x [0, 1); "10" is [0.5, 1) x [0, 0.5);
/// "101" is [0.75, 1) x [0, 0.5). The zones of a CAN are the leaves of this binary trie.
struct Zone {
  std::array<std::uint64_t, 2> code{0, 0};  // bit k at code[k / 64], bit 63 - k % 64
  std::uint8_t depth = 0;

  bool bit(int k) const { return (code[static_cast<std::size_t>(k / 64)] >> (63 - k % 64)) & 1u; }
  /// The half with `bit` after one more halving.
  Zone child(int bit) const;
  /// The zone this one was split from (depth > 0).
  Zone parent() const;
  /// The other half of the parent (the paper's zone that "can be merged" into a valid zone).
  Zone buddy() const;
  double volume() const;
  std::string text() const;  // the code as bits, "-" for the whole torus
  friend bool operator==(const Zone&, const Zone&) = default;
  /// Trie order (preorder of the left-aligned codes): a zone's sub-zones follow it.
  friend bool operator<(const Zone& a, const Zone& b) { return a.code != b.code ? a.code < b.code : a.depth < b.depth; }
};

/// A zone as a box: per dimension its low corner and its halvings (side 2^-level).
struct Box {
  std::array<std::uint64_t, kMaxDims> lo{};
  std::array<std::uint8_t, kMaxDims> level{};
  double low(int i) const { return static_cast<double>(lo[static_cast<std::size_t>(i)]) * 0x1.0p-64; }
  double side(int i) const;
  double high(int i) const { return low(i) + side(i); }  // up to 1.0 (the torus wraps there)
};

Box box_of(const Zone& zone, int d);
/// The zone of depth `depth` that contains p (the first `depth` halvings towards p).
Zone zone_at(const Point& p, int d, int depth);
/// The zone's centre.
Point centre_of(const Zone& zone, int d);
bool contains(const Zone& zone, const Point& p, int d);
/// Two zones of one trie overlap exactly when one's code is a prefix of the other's.
bool overlaps(const Zone& a, const Zone& b);
/// `zones` without what `cut` covers: a zone inside `cut` goes, a zone containing `cut` becomes
/// the buddies on the path down to `cut`. Worked example, d = 2: {"1"} minus "101" is
/// {"100", "11"} ("101"'s buddy "100", then "10"'s buddy "11").
void subtract(std::vector<Zone>& zones, const Zone& cut);

/// Squared torus distance from p to the nearest point of the box (0 inside), in units of the
/// unit torus: per dimension the shorter way round to the interval.
double distance2(const Box& box, const Point& p, int d);
/// The paper's neighbours: the boxes overlap along d - 1 dimensions and abut along one (on the
/// torus: the upper face of one touches the lower face of the other, across 1 -> 0 too).
bool adjacent(const Box& a, const Box& b, int d);
/// The paper's mean path length on `zones` equal zones of the d-torus: (d/4) zones^(1/d) hops.
double equal_zones_path(double zones, int d);

/// A key's point: the key's 160 bits read as d coordinates of 160 / d bits each (at most 64),
/// most significant first. Keys are SHA-1 hashes, so their points are uniform on the torus.
Point point_of(const Id& key, int d);
/// The key whose point is (nearest below) the given coordinates in [0, 1): for a scenario that
/// names a point, e.g. [0.71, 0.2].
Id key_at(const std::vector<double>& coordinates, int d);
/// The point's coordinates as doubles in [0, 1).
std::vector<double> coordinates(const Point& p, int d);

/// Point location over a tiling: zones sorted in trie order, the owner of a point found by binary
/// search on the point's interleaved bits (an oracle independent of CAN's greedy routing).
class ZoneIndex {
 public:
  void clear() { entries_.clear(); }
  void add(const Zone& zone, PeerIndex owner) { entries_.push_back({zone, owner}); }
  void build();  // sorts; call after the last add
  /// The owner of the zone that contains p, or kNoPeer (a hole: a zone nobody has taken over yet).
  PeerIndex owner(const Point& p, int d) const;
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Zone zone;
    PeerIndex owner;
  };
  std::vector<Entry> entries_;
};

}  // namespace p2plab::can
