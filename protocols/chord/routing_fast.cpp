// p2plab: reference-only (tools/make-student-release leaves this file out of the student tree)
// Chord's routing decisions, optimized: the same answers as logic::find_successor_step and
// logic::closest_preceding_finger (logic_routing.cpp), computed on 32-bit id prints and finger
// runs so that a lookup step rarely loads a full id (a million peers do not fit in cache).
// tests/test_chord_oracle.cpp checks that both give the same step on every peer of real rings.
// Part of the reference code: linked only when chord-intervals and chord-routing both use the
// reference (P2PLAB_CODE=reference); otherwise routing_generic.cpp calls the student's code.
#include <algorithm>

#include "chord.hpp"

namespace p2plab::chord {

namespace {
// x in (a, b) on the 32-bit circle, for three different values: x is nearer to a, going round,
// than b is (one subtraction each, no case for the wrap). Example: a 90, b 10, x 5: from a, x is
// at 2^32 - 85 and b at 2^32 - 80, so x lies in (90, 10).
bool in_open_u32(std::uint32_t x, std::uint32_t a, std::uint32_t b) { return x - a < b - a; }

// The bit width of distance(n, key) - 1 = key - n - 1 = key + ~n (mod 2^m, `mask` = 2^m - 1):
// one addition; a key equal to n is the whole circle away (2^m - 1: width m). Example, m = 6,
// n = 52 (110100), key 44: 44 + 11 = 55 (110111), width 6. Scalar limbs from the top down: as
// an Id (IdSpace::add) GCC stored the sum's limbs to the stack and loaded them back as one
// vector to mask them, a store-forwarding stall that took a third of this function's time.
int distance_minus_one_width(const Id& n, const Id& key, const Id& mask) {
  std::uint64_t low = 0, middle = 0;
  const bool carry_low = __builtin_add_overflow(key.limb[0], ~n.limb[0], &low);
  const bool carry_middle = __builtin_add_overflow(key.limb[1], ~n.limb[1], &middle);
  const bool carry_again = __builtin_add_overflow(middle, std::uint64_t{carry_low}, &middle);
  const std::uint64_t high = (key.limb[2] + ~n.limb[2] + std::uint64_t{carry_middle || carry_again}) & mask.limb[2];
  if (high != 0) return 128 + 64 - __builtin_clzll(high);
  middle &= mask.limb[1];
  if (middle != 0) return 64 + 64 - __builtin_clzll(middle);
  low &= mask.limb[0];
  return low != 0 ? 64 - __builtin_clzll(low) : 0;
}
}  // namespace

bool Protocol::in_open_fast(PeerIndex x, std::uint32_t px, const Id& a, std::uint32_t pa, const Id& b,
                            std::uint32_t pb) const {
  if (px != pa && px != pb && pa != pb) return in_open_u32(px, pa, pb);
  return logic::in_open(transport_.id_of(x), a, b);
}

PeerIndex Protocol::closest_preceding_finger(PeerIndex n, const Id& key, const PeerIndex* avoid,
                                             int avoid_count) const {
  const Id& self = transport_.id_of(n);
  return closest_preceding(n, self, space_.print(self), key, space_.print(key), avoid, avoid_count);
}

PeerIndex Protocol::closest_preceding(PeerIndex n, const Id& self, std::uint32_t p_self, const Id& key,
                                      std::uint32_t p_key, const PeerIndex* avoid, int avoid_count) const {
  auto usable = [&](PeerIndex f) {  // (recursive lookups avoid nobody: no search then)
    return f != kNoPeer && f != n &&
           (avoid_count == 0 || std::find(avoid, avoid + avoid_count, f) == avoid + avoid_count);
  };
  // The paper: for i = m downto 1, if finger[i] in (n, key) return finger[i].
  // Finger i lies at or past its start n + 2^i, so a finger whose start is not before the key
  // cannot precede it: the scan begins at the highest i with 2^i < distance(n, key). Example,
  // m = 6, n = 52, key 44: distance 56, so i = 5 (start 20) is the first finger worth looking at.
  // Runs of equal fingers are looked at once.
  // 2^i < distance means i < bit_width(distance - 1) (a key equal to n: every finger).
  const int top = std::min(params_.m - 1, distance_minus_one_width(self, key, space_.max_id()) - 1);
  PeerIndex best = n;
  std::uint32_t p_best = p_self;
  fingers_.for_each_run_down(n, top, [&](const FingerTables::Run& run) {
    if (!usable(run.node) || !in_open_fast(run.node, run.print, self, p_self, key, p_key)) return false;
    best = run.node;
    p_best = run.print;
    return true;
  });
  // ToN version: the successor list is routing state too; take an entry if it is closer to key.
  // The list is ordered by distance from n, so the farthest usable entry before the key is the
  // only candidate: scan it from the end.
  // (An unused entry is kNoPeer, and the used ones come first: usable() skips the rest.)
  for (int j = params_.successors - 1; j >= 0; --j) {
    const PeerIndex s = successors_[slot(n, j)].node;
    const std::uint32_t p_s = successors_[slot(n, j)].print;
    if (!usable(s) || !in_open_fast(s, p_s, self, p_self, key, p_key)) continue;
    // s is farther from n than best exactly when best lies in (n, s). (Often s is best itself,
    // the finger that is n's successor: then s's id is not needed.)
    if (best == n || (best != s && in_open_fast(best, p_best, self, p_self, transport_.id_of(s), p_s))) best = s;
    break;
  }
  return best;
}

// The same step as next_step below with nobody to avoid, in about half the instructions (it
// was a third of a recursive hop's): every position is a clockwise distance from x on the
// prints, d(v) = print(v) - print(x), so "v in (x, key)" is 0 < d(v) < d(key), one subtraction
// and one comparison; a print equal to x's or the key's (d(v) 0 or d(key)) is a tie that only
// full ids decide, left to next_step. Example, prints x 100, key 40 (d(key) = 2^32 - 60):
// a finger at 20 has d = 2^32 - 80, inside; one at 60 has d = 2^32 - 40, past the key.
bool Protocol::step_on_prints(PeerIndex x, const Id& key, bool& done, PeerIndex& out) const {
  const FingerTables::Run* list = &successors_[slot(x, 0)];
  const PeerIndex s = list[0].node;
  const Id& self = transport_.id_of(x);
  const std::uint32_t p_x = space_.print(self);
  const std::uint32_t d_key = space_.print(key) - p_x;
  const std::uint32_t d_s = list[0].print - p_x;
  if (s == kNoPeer || d_key == 0 || d_s == 0 || d_s == d_key) return false;
  if (d_key < d_s) {  // key in (x, s]: x is key's predecessor, its successor the answer
    done = true;
    out = s;
    return true;
  }
  // closest_preceding_finger: the highest finger in (x, key), from the top one whose start
  // precedes the key (see closest_preceding); then the farthest successor before the key.
  bool tie = false;
  auto inside = [&](PeerIndex v, std::uint32_t d) {  // v in (x, key), v usable
    if (v == kNoPeer || v == x) return false;
    if (d - 1 < d_key - 1) return true;
    tie = tie || d == 0 || d == d_key;
    return false;
  };
  const int top = std::min(params_.m - 1, distance_minus_one_width(self, key, space_.max_id()) - 1);
  PeerIndex best = x;
  std::uint32_t d_best = 0;
  fingers_.for_each_run_down(x, top, [&](const FingerTables::Run& run) {
    const std::uint32_t d = run.print - p_x;
    if (!inside(run.node, d)) return false;
    best = run.node;
    d_best = d;
    return true;
  });
  for (int j = params_.successors - 1; j >= 0; --j) {
    const PeerIndex v = list[j].node;
    const std::uint32_t d = list[j].print - p_x;
    if (!inside(v, d)) continue;
    // v is farther from x than best exactly when best lies in (x, v) (both lie inside, so only
    // equal prints tie).
    if (best == x) {
      best = v;
    } else if (best != v) {
      tie = tie || d_best == d;
      if (d_best < d) best = v;
    }
    break;
  }
  if (tie) return false;  // some print tied: the full ids decide (next_step)
  done = false;
  out = best != x ? best : s;  // no finger precedes the key: step to the successor
  return true;
}

bool Protocol::next_step(PeerIndex x, const Id& key, const PeerIndex* avoid, int avoid_count, PeerIndex& out) const {
  if (avoid_count == 0) {
    bool done = false;
    if (step_on_prints(x, key, done, out)) return done;
  }
  // The first successor not known to be dead is the one responsible for keys up to its id.
  PeerIndex s = kNoPeer;
  std::uint32_t p_s = 0;
  for (int j = 0; j < params_.successors; ++j) {
    const PeerIndex c = successors_[slot(x, j)].node;
    if (c == kNoPeer) break;
    if (avoid_count == 0 || std::find(avoid, avoid + avoid_count, c) == avoid + avoid_count) {
      s = c;
      p_s = successors_[slot(x, j)].print;
      break;
    }
  }
  const Id& self = transport_.id_of(x);
  const std::uint32_t p_x = space_.print(self), p_key = space_.print(key);
  auto key_in_range = [&] {  // key in (x, s], on prints unless they tie
    if (p_key != p_x && p_key != p_s && p_x != p_s) return in_open_u32(p_key, p_x, p_s);
    return logic::in_open_closed(key, self, transport_.id_of(s));
  };
  if (s != kNoPeer && key_in_range()) {
    out = s;  // x = predecessor(key): the answer is x's successor
    return true;
  }
  const PeerIndex c = closest_preceding(x, self, p_x, key, p_key, avoid, avoid_count);
  out = c != x ? c : s;  // no finger precedes the key: step to the successor
  return false;
}

}  // namespace p2plab::chord
