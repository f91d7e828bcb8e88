// Mutant of exercise superpeer: equal scores go to the later position (the tie broken the wrong
// way). Must lose points.
#include "superpeer/logic.hpp"

#include <algorithm>
#include <cmath>

namespace p2plab::superpeer::logic {

bool superpeer_capable(const search::Capacity& c, const ElectionRules& rules) {
  return !c.behind_nat && c.bandwidth_kbps >= rules.min_bandwidth_kbps && c.uptime_h >= rules.min_uptime_h;
}

double superpeer_score(const search::Capacity& c) { return c.bandwidth_kbps * std::max(c.uptime_h, 0.01); }

std::vector<std::size_t> elect_superpeers(std::span<const search::Capacity> peers, const ElectionRules& rules) {
  std::vector<std::size_t> ranked(peers.size());
  for (std::size_t i = 0; i < peers.size(); ++i) ranked[i] = i;
  std::vector<char> capable(peers.size());
  std::vector<double> score(peers.size());
  for (std::size_t i = 0; i < peers.size(); ++i) {
    capable[i] = superpeer_capable(peers[i], rules) ? 1 : 0;
    score[i] = superpeer_score(peers[i]);
  }
  // Capable peers first, then by score, best first; equal: the later position first (the mistake).
  std::stable_sort(ranked.begin(), ranked.end(), [&](std::size_t a, std::size_t b) {
    if (capable[a] != capable[b]) return capable[a] > capable[b];
    if (score[a] != score[b]) return score[a] > score[b];
    return a > b;
  });
  std::vector<std::size_t> elected;
  if (peers.empty()) return elected;
  const auto wanted = std::max<std::size_t>(
      1, static_cast<std::size_t>(std::lround(rules.superpeer_ratio * static_cast<double>(peers.size()))));
  for (std::size_t i : ranked) {
    if (elected.size() >= wanted || (!elected.empty() && capable[i] == 0)) break;
    elected.push_back(i);
  }
  return elected;
}

bool accept_leaf(std::size_t leaves, bool newcomer_capable, const LeafLimits& limits) {
  const bool full = leaves >= limits.max_leaves || (newcomer_capable && leaves >= limits.target_leaves);
  return !full;
}

std::size_t announcement(std::span<const search::NameIndex> shared, std::span<search::NameIndex> out) {
  std::size_t count = 0;
  for (search::NameIndex n : shared) {
    if (count < out.size() && std::find(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(count), n) ==
                                  out.begin() + static_cast<std::ptrdiff_t>(count)) {
      out[count++] = n;
    }
  }
  return count;
}

void index_announcement(LeafTables& tables, PeerIndex leaf, search::NameIndex name) {
  auto it = tables.find(leaf);
  if (it == tables.end()) return;
  if (std::find(it->second.begin(), it->second.end(), name) == it->second.end()) it->second.push_back(name);
}

void forget_leaf(LeafTables& tables, PeerIndex leaf) { tables.erase(leaf); }

std::vector<PeerIndex> leaves_answering(const LeafTables& tables, const search::Catalogue& catalogue,
                                        search::NameIndex query, PeerIndex requester) {
  std::vector<PeerIndex> out;
  for (const auto& [leaf, table] : tables) {
    if (leaf == requester) continue;
    for (search::NameIndex n : table) {
      if (catalogue.matches(query, n)) {
        out.push_back(leaf);
        break;
      }
    }
  }
  return out;
}

}  // namespace p2plab::superpeer::logic
