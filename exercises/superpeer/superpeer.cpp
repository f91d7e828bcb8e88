// Exercise superpeer: the election of superpeers, and leaves announcing their files to their
// superpeer, which answers QUERYs for them (Gnutella 0.6 ultrapeers, Skype supernodes).
// The task, the points and how to test: README.md beside this file. Contracts: the comments in
// protocols/superpeer/logic.hpp. Replace each TODO(student) with your code; remove the
// [[maybe_unused]] of a parameter once you use it.
#include "superpeer/logic.hpp"

namespace p2plab::superpeer::logic {

bool superpeer_capable([[maybe_unused]] const search::Capacity& c, [[maybe_unused]] const ElectionRules& rules) {
  // TODO(student): capable = not behind NAT, bandwidth >= rules.min_bandwidth_kbps and
  // uptime >= rules.min_uptime_h. Hint: c.behind_nat, c.bandwidth_kbps, c.uptime_h.
  // Your code here.
  return false;
}

double superpeer_score([[maybe_unused]] const search::Capacity& c) {
  // TODO(student): bandwidth x uptime, an uptime below 0.01 h counting as 0.01 h.
  // Your code here.
  return 0;
}

std::vector<std::size_t> elect_superpeers([[maybe_unused]] std::span<const search::Capacity> peers,
                                          [[maybe_unused]] const ElectionRules& rules) {
  // TODO(student): the election. wanted = max(1, lround(ratio x peers.size())); rank the capable
  // peers by score (best first, equal scores: lower position first) and take up to `wanted` of
  // them; an incapable peer only if nobody is capable (then the single best-scored peer).
  // Hint: std::vector<std::size_t> positions 0 .. n-1, std::stable_sort with a comparator,
  // std::lround from <cmath>.
  // Your code here.
  return {};
}

bool accept_leaf([[maybe_unused]] std::size_t leaves, [[maybe_unused]] bool newcomer_capable,
                 [[maybe_unused]] const LeafLimits& limits) {
  // TODO(student): refuse when the superpeer has limits.max_leaves leaves, or when the newcomer
  // is capable and the superpeer already has its share (limits.target_leaves); else accept.
  // Your code here.
  return false;
}

std::size_t announcement([[maybe_unused]] std::span<const search::NameIndex> shared,
                         [[maybe_unused]] std::span<search::NameIndex> out) {
  // TODO(student): what a leaf sends its superpeer: each shared name once, in order. Write them
  // to out[0], out[1], ... and return how many.
  // Your code here.
  return 0;
}

void index_announcement([[maybe_unused]] LeafTables& tables, [[maybe_unused]] PeerIndex leaf,
                        [[maybe_unused]] search::NameIndex name) {
  // TODO(student): the superpeer indexes ANNOUNCE(name) from leaf: append name to the leaf's
  // table unless it is there already; ignore peers that have no table (not accepted leaves).
  // Hint: tables.find(leaf); careful, tables[leaf] would create a table for anyone.
  // Your code here.
}

void forget_leaf([[maybe_unused]] LeafTables& tables, [[maybe_unused]] PeerIndex leaf) {
  // TODO(student): the leaf is gone: remove its table.
  // Your code here.
}

std::vector<PeerIndex> leaves_answering([[maybe_unused]] const LeafTables& tables,
                                        [[maybe_unused]] const search::Catalogue& catalogue,
                                        [[maybe_unused]] search::NameIndex query,
                                        [[maybe_unused]] PeerIndex requester) {
  // TODO(student): the leaves this superpeer answers a QUERY for: each leaf (ascending, once)
  // with a name that matches, catalogue.matches(query, name), except the requester.
  // Your code here.
  return {};
}

}  // namespace p2plab::superpeer::logic
