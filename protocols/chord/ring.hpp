#pragma once
// Chord's view of the identifier circle: where finger i starts, and the ground truth a run checks
// lookups against (the true successor of a key among the live peers). The truth is computed from
// the engine's sorted list of live ids, never from any peer's routing state.
#include <algorithm>

#include "chord.hpp"
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

/// Whether live `peer`, whose live predecessor is `predecessor`, is the successor of `key`:
/// exactly when key lies in (predecessor, peer], or peer is alone on the ring.
inline bool succeeds_after(const SimulatorCore& sim, PeerIndex peer, PeerIndex predecessor, const Id& key) {
  return predecessor == peer || IdSpace::in_open_closed(key, sim.peer_id(predecessor), sim.peer_id(peer));
}

/// Whether `peer` is live and the true successor of `key`. O(1) while the live set is unchanged
/// since the engine last rebuilt its sorted list (a benchmark's millions of checks), else a
/// binary search.
inline bool is_true_successor(const SimulatorCore& sim, PeerIndex peer, const Id& key) {
  if (peer == kNoPeer || !sim.is_up(peer)) return false;
  PeerIndex predecessor = kNoPeer;
  if (!sim.live_predecessor(peer, predecessor)) return true_successor(sim, key) == peer;
  return succeeds_after(sim, peer, predecessor, key);
}

/// How many of `answers` name their key's true successor (is_true_successor of each), with
/// the reads of different answers overlapping: first every answer's owner is asked for (its
/// state, id and rank), then each owner's live predecessor is looked up and its id asked for,
/// then the intervals are tested on what is in cache by then. One answer alone waits for four
/// reads in turn (about 7 % of a 10^6-peer benchmark's time, checked one by one).
inline std::uint64_t count_true_successors(const SimulatorCore& sim, const std::vector<Answer>& answers,
                                           std::vector<PeerIndex>& predecessors) {
  for (const Answer& a : answers) {
    if (a.owner != kNoPeer) sim.prefetch_truth(a.owner);
  }
  predecessors.assign(answers.size(), kNoPeer);
  for (std::size_t i = 0; i < answers.size(); ++i) {
    PeerIndex& predecessor = predecessors[i];
    if (answers[i].owner != kNoPeer && sim.live_predecessor(answers[i].owner, predecessor)) {
      __builtin_prefetch(&sim.peer_id(predecessor));
    }
  }
  std::uint64_t correct = 0;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const PeerIndex owner = answers[i].owner, predecessor = predecessors[i];
    if (owner == kNoPeer || !sim.is_up(owner)) continue;
    correct += predecessor == kNoPeer ? is_true_successor(sim, owner, answers[i].key)  // the live set changed
                                      : succeeds_after(sim, owner, predecessor, answers[i].key);
  }
  return correct;
}

}  // namespace p2plab::chord
