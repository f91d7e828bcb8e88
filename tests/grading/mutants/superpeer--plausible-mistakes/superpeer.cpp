// Plausible mistakes in superpeer (mistakes.txt lists them; ../mistake.hpp explains).
#include "superpeer/logic.hpp"

#include <algorithm>
#include <cmath>

#include "mistake.hpp"

namespace p2plab::superpeer::logic {

bool superpeer_capable(const search::Capacity& c, const ElectionRules& rules) {
  const bool reachable = !c.behind_nat || mistake("nat-peers-capable");
  return reachable && c.bandwidth_kbps >= rules.min_bandwidth_kbps &&
         (c.uptime_h >= rules.min_uptime_h || mistake("uptime-ignored"));
}

double superpeer_score(const search::Capacity& c) {
  if (mistake("score-bandwidth-only")) return c.bandwidth_kbps;
  return c.bandwidth_kbps * std::max(c.uptime_h, 0.01);
}

std::vector<std::size_t> elect_superpeers(std::span<const search::Capacity> peers, const ElectionRules& rules) {
  std::vector<std::size_t> ranked(peers.size());
  for (std::size_t i = 0; i < peers.size(); ++i) ranked[i] = i;
  std::vector<char> capable(peers.size());
  std::vector<double> score(peers.size());
  for (std::size_t i = 0; i < peers.size(); ++i) {
    capable[i] = superpeer_capable(peers[i], rules) ? 1 : 0;
    score[i] = superpeer_score(peers[i]);
  }
  std::stable_sort(ranked.begin(), ranked.end(), [&](std::size_t a, std::size_t b) {
    if (mistake("election-inverted")) return capable[a] != capable[b] ? capable[a] < capable[b] : score[a] < score[b];
    if (capable[a] != capable[b] && !mistake("capability-not-ranked")) return capable[a] > capable[b];
    if (mistake("tie-goes-to-later") && score[a] == score[b]) return a > b;
    return score[a] > score[b];
  });
  std::vector<std::size_t> elected;
  if (peers.empty()) return elected;
  const double wanted_exact = rules.superpeer_ratio * static_cast<double>(peers.size());
  const auto rounded =
      mistake("ratio-rounded-down") ? static_cast<long>(std::floor(wanted_exact)) : std::lround(wanted_exact);
  const auto wanted = std::max<std::size_t>(1, static_cast<std::size_t>(rounded));
  for (std::size_t i : ranked) {
    if (elected.size() >= wanted) break;
    if (!elected.empty() && capable[i] == 0 && !mistake("fills-with-incapable")) break;
    elected.push_back(i);
  }
  return elected;
}

bool accept_leaf(std::size_t leaves, bool newcomer_capable, const LeafLimits& limits) {
  if (mistake("accept-leaf-ignores-capable")) return leaves < limits.max_leaves;
  const bool full = leaves >= limits.max_leaves || (newcomer_capable && leaves >= limits.target_leaves);
  return !full;
}

std::size_t announcement(std::span<const search::NameIndex> shared, std::span<search::NameIndex> out) {
  std::size_t count = 0;
  for (search::NameIndex n : shared) {
    const bool duplicate = std::find(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(count), n) !=
                           out.begin() + static_cast<std::ptrdiff_t>(count);
    if (count < out.size() && (!duplicate || mistake("announcement-duplicates"))) out[count++] = n;
  }
  return count;
}

void index_announcement(LeafTables& tables, PeerIndex leaf, search::NameIndex name) {
  auto it = tables.find(leaf);
  if (it == tables.end()) {
    if (mistake("indexes-unknown-leaves")) tables[leaf].push_back(name);
    return;
  }
  if (std::find(it->second.begin(), it->second.end(), name) == it->second.end()) it->second.push_back(name);
}

void forget_leaf(LeafTables& tables, PeerIndex leaf) {
  if (mistake("forget-leaf-keeps-files")) return;
  tables.erase(leaf);
}

std::vector<PeerIndex> leaves_answering(const LeafTables& tables, const search::Catalogue& catalogue,
                                        search::NameIndex query, PeerIndex requester) {
  std::vector<PeerIndex> out;
  for (const auto& [leaf, table] : tables) {
    if (leaf == requester && !mistake("requester-answers-itself")) continue;
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
