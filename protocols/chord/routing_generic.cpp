// Chord's routing decisions through the exercised functions: every lookup step builds node n's
// routing table as logic::RoutingTable and asks logic::find_successor_step (the student's code
// in a student build). Linked when chord-intervals or chord-routing is the student's code; the
// reference build links routing_fast.cpp instead (same answers, faster).
#include <algorithm>

#include "chord.hpp"

namespace p2plab::chord {

namespace {
bool avoided(PeerIndex p, const PeerIndex* avoid, int avoid_count) {
  return avoid != nullptr && std::find(avoid, avoid + avoid_count, p) != avoid + avoid_count;
}
}  // namespace

// What n knows, minus the peers this lookup found dead (they are left out as if unknown).
struct Protocol::RoutingScratch {
  std::array<Contact, IdSpace::kMaxBits> fingers{};
  std::array<Contact, kMaxSuccessors> successors{};
  logic::RoutingTable table;
};

void Protocol::routing_table(PeerIndex n, const PeerIndex* avoid, int avoid_count, RoutingScratch& out) const {
  const auto m = static_cast<std::size_t>(params_.m);
  for (std::size_t i = 0; i < m; ++i) {
    const PeerIndex f = finger(n, static_cast<int>(i));
    out.fingers[i] = avoided(f, avoid, avoid_count) ? Contact{} : contact(f);
  }
  std::size_t count = 0;
  for (int j = 0; j < params_.successors; ++j) {
    const PeerIndex s = successors_[slot(n, j)].node;
    if (s == kNoPeer) break;
    if (!avoided(s, avoid, avoid_count)) out.successors[count++] = contact(s);
  }
  out.table.m = params_.m;
  out.table.self = contact(n);
  out.table.fingers = std::span<const Contact>(out.fingers.data(), m);
  out.table.successors = std::span<const Contact>(out.successors.data(), count);
}

PeerIndex Protocol::closest_preceding_finger(PeerIndex n, const Id& key, const PeerIndex* avoid,
                                             int avoid_count) const {
  RoutingScratch scratch;
  routing_table(n, avoid, avoid_count, scratch);
  const Contact c = logic::closest_preceding_finger(scratch.table, key);
  return valid(c) && !avoided(c.peer, avoid, avoid_count) ? c.peer : n;
}

bool Protocol::next_step(PeerIndex x, const Id& key, const PeerIndex* avoid, int avoid_count, PeerIndex& out) const {
  RoutingScratch scratch;
  routing_table(x, avoid, avoid_count, scratch);
  const logic::Step step = logic::find_successor_step(scratch.table, key);
  // An answer naming no peer, a peer unknown to the protocol or the node itself as next hop is
  // "no way on": the lookup routes around this node or gives up (its hop limit stops loops).
  if (!valid(step.node) || avoided(step.node.peer, avoid, avoid_count) || (!step.done && step.node.peer == x)) {
    out = kNoPeer;
    return false;
  }
  out = step.node.peer;
  return step.done;
}

}  // namespace p2plab::chord
