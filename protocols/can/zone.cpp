#include "zone.hpp"

#include <algorithm>
#include <cmath>

namespace p2plab::can {

namespace {

void set_bit(std::array<std::uint64_t, 2>& code, int k, bool value) {
  const std::uint64_t mask = std::uint64_t{1} << (63 - k % 64);
  auto& word = code[static_cast<std::size_t>(k / 64)];
  word = value ? word | mask : word & ~mask;
}

/// Bits of a coordinate a key contributes (160 / d, at most 64).
int key_bits_per_dimension(int d) { return std::min(64, 160 / d); }

}  // namespace

Zone Zone::child(int b) const {
  Zone z = *this;
  set_bit(z.code, depth, b != 0);
  ++z.depth;
  return z;
}

Zone Zone::parent() const {
  Zone z = *this;
  --z.depth;
  set_bit(z.code, z.depth, false);
  return z;
}

Zone Zone::buddy() const {
  Zone z = *this;
  set_bit(z.code, depth - 1, !bit(depth - 1));
  return z;
}

double Zone::volume() const { return std::ldexp(1.0, -depth); }

std::string Zone::text() const {
  if (depth == 0) return "-";
  std::string s;
  for (int k = 0; k < depth; ++k) s += bit(k) ? '1' : '0';
  return s;
}

double Box::side(int i) const { return std::ldexp(1.0, -level[static_cast<std::size_t>(i)]); }

Box box_of(const Zone& zone, int d) {
  // Halving k, along dimension i = k mod d, appends its bit to that dimension's low corner.
  Box b;
  std::size_t i = 0;
  for (int k = 0; k < zone.depth; ++k) {
    const std::uint64_t bit = (zone.code[static_cast<std::size_t>(k >> 6)] >> (63 - (k & 63))) & 1u;
    b.lo[i] |= bit << (63 - b.level[i]);
    ++b.level[i];
    if (++i == static_cast<std::size_t>(d)) i = 0;
  }
  return b;
}

Zone zone_at(const Point& p, int d, int depth) {
  Zone z;
  for (int k = 0; k < depth; ++k)
    z = z.child(static_cast<int>((p.x[static_cast<std::size_t>(k % d)] >> (63 - k / d)) & 1u));
  return z;
}

Point centre_of(const Zone& zone, int d) {
  const Box b = box_of(zone, d);
  Point p;
  for (std::size_t i = 0; i < static_cast<std::size_t>(d); ++i) {
    p.x[i] = b.lo[i] | (b.level[i] < 64 ? std::uint64_t{1} << (63 - b.level[i]) : 0);
  }
  return p;
}

bool contains(const Zone& zone, const Point& p, int d) {
  for (int k = 0; k < zone.depth; ++k) {
    if (((p.x[static_cast<std::size_t>(k % d)] >> (63 - k / d)) & 1u) != static_cast<std::uint64_t>(zone.bit(k)))
      return false;
  }
  return true;
}

bool overlaps(const Zone& a, const Zone& b) {
  const int common = std::min(a.depth, b.depth);
  for (int k = 0; k < common; ++k) {
    if (a.bit(k) != b.bit(k)) return false;
  }
  return true;
}

void subtract(std::vector<Zone>& zones, const Zone& cut) {
  std::vector<Zone> out;
  for (const Zone& z : zones) {
    if (!overlaps(z, cut)) {
      out.push_back(z);
    } else if (cut.depth > z.depth) {
      for (Zone piece = cut; piece.depth > z.depth; piece = piece.parent()) out.push_back(piece.buddy());
    }  // else z lies inside cut: gone
  }
  zones = std::move(out);
}

double distance2(const Box& box, const Point& p, int d) {
  double sum = 0;
  for (int i = 0; i < d; ++i) {
    const auto s = static_cast<std::size_t>(i);
    if (box.level[s] == 0) continue;  // the box spans the whole axis
    const std::uint64_t side = std::uint64_t{1} << (64 - box.level[s]);
    const std::uint64_t from_lo = p.x[s] - box.lo[s];  // wraps: the way up from lo to p
    if (from_lo < side) continue;                      // inside along this axis
    // Past the upper face by from_lo - side, or short of the lower face by 2^64 - from_lo.
    const std::uint64_t gap = std::min(from_lo - side, std::uint64_t{0} - from_lo);
    const double g = static_cast<double>(gap) * 0x1.0p-64;
    sum += g * g;
  }
  return sum;
}

bool adjacent(const Box& a, const Box& b, int d) {
  int apart = 0;
  for (int i = 0; i < d; ++i) {
    const auto s = static_cast<std::size_t>(i);
    // Dyadic intervals overlap exactly when one contains the other: their lows agree on the
    // coarser one's bits.
    const int common = std::min(a.level[s], b.level[s]);
    const bool overlap = common == 0 || ((a.lo[s] ^ b.lo[s]) >> (64 - common)) == 0;
    if (overlap) continue;
    if (++apart > 1) return false;
    const std::uint64_t a_hi = a.lo[s] + (std::uint64_t{1} << (64 - a.level[s]));  // wraps at 1 -> 0
    const std::uint64_t b_hi = b.lo[s] + (std::uint64_t{1} << (64 - b.level[s]));
    if (a_hi != b.lo[s] && b_hi != a.lo[s]) return false;
  }
  return apart == 1;
}

double equal_zones_path(double zones, int d) { return d / 4.0 * std::pow(zones, 1.0 / d); }

Point point_of(const Id& key, int d) {
  Point p;
  const int w = key_bits_per_dimension(d);
  for (int i = 0; i < d; ++i) {
    // Bits [low, low + w) of the key (bit 159 the most significant), where low = 160 - (i + 1) w.
    const int low = 160 - (i + 1) * w;
    const auto limb = static_cast<std::size_t>(low / 64);
    const int offset = low % 64;
    std::uint64_t x = key.limb[limb] >> offset;
    if (offset > 0 && limb + 1 < key.limb.size()) x |= key.limb[limb + 1] << (64 - offset);
    if (w < 64) x &= (std::uint64_t{1} << w) - 1;
    p.x[static_cast<std::size_t>(i)] = w == 64 ? x : x << (64 - w);
  }
  return p;
}

Id key_at(const std::vector<double>& coordinates, int d) {
  Id key;
  const int w = key_bits_per_dimension(d);
  for (int i = 0; i < d; ++i) {
    const double c = coordinates[static_cast<std::size_t>(i)];
    for (int j = 0; j < w; ++j) {
      // Bit j of the coordinate's binary fraction (exact: halving a double is exact).
      const double scaled = std::ldexp(c, j + 1);
      if (static_cast<std::uint64_t>(std::fmod(std::floor(scaled), 2.0)) != 0) {
        const int bit = 159 - i * w - j;
        key.limb[static_cast<std::size_t>(bit / 64)] |= std::uint64_t{1} << (bit % 64);
      }
    }
  }
  return key;
}

std::vector<double> coordinates(const Point& p, int d) {
  std::vector<double> out;
  for (int i = 0; i < d; ++i) out.push_back(p.coordinate(i));
  return out;
}

void ZoneIndex::build() {
  std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) { return a.zone < b.zone; });
}

PeerIndex ZoneIndex::owner(const Point& p, int d) const {
  // The point as a zone of full depth: its owner's zone is the last one at or before it in
  // trie order (a prefix of it), if the tiling has no hole there.
  const Zone here = zone_at(p, d, std::min(kMaxDepth, 64 * d));
  auto it = std::upper_bound(entries_.begin(), entries_.end(), here,
                             [](const Zone& z, const Entry& e) { return z < e.zone; });
  if (it == entries_.begin()) return kNoPeer;
  --it;
  return contains(it->zone, p, d) ? it->owner : kNoPeer;
}

}  // namespace p2plab::can
