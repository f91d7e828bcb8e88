#pragma once
// Chord's view of the identifier circle: where finger i starts, and the ground truth a run checks
// lookups against (the true successor of a key among the live peers). The truth is computed from
// the engine's sorted list of live ids, never from any peer's routing state.
#include <algorithm>

#include "p2plab/id.hpp"
#include "p2plab/simulator.hpp"

namespace p2plab::chord {

/// (n + 2^i) mod 2^m: the start of finger i of node n (i = 0 .. m-1).
inline Id finger_start(const IdSpace& space, const Id& n, int i) { return space.add(n, space.pow2(i)); }

/// The first live peer clockwise from `key` (id >= key, wrapping around): the true successor;
/// kNoPeer when no peer is alive.
inline PeerIndex true_successor(const SimulatorCore& sim, const Id& key) {
  const auto& live = sim.live_by_id();
  if (live.empty()) return kNoPeer;
  auto it = std::lower_bound(live.begin(), live.end(), std::pair<Id, PeerIndex>{key, 0});
  return it == live.end() ? live.front().second : it->second;
}

/// Whether `peer` is live and the true successor of `key`. O(1) while the live set is unchanged
/// since the engine last rebuilt its sorted list (a benchmark's millions of checks), else a
/// binary search.
inline bool is_true_successor(const SimulatorCore& sim, PeerIndex peer, const Id& key) {
  if (peer == kNoPeer || !sim.is_up(peer)) return false;
  PeerIndex predecessor = kNoPeer;
  if (!sim.live_predecessor(peer, predecessor)) return true_successor(sim, key) == peer;
  if (predecessor == peer) return true;  // alone on the ring
  // peer is key's successor exactly when key lies in (predecessor(peer), peer].
  return IdSpace::in_open_closed(key, sim.peer_id(predecessor), sim.peer_id(peer));
}

}  // namespace p2plab::chord
