#pragma once
// Shared helpers of the graded tests of the unstructured exercises (flooding, superpeer,
// central-index): running a scenario on the real protocol, and independent oracles (BFS over an
// overlay, brute force over what the peers share).
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "common/search_run.hpp"
#include "p2plab/scenario.hpp"

namespace p2plab::grading {

template <class P>
std::unique_ptr<search::SearchRun<P>> make_run(const nlohmann::json& doc) {
  return std::make_unique<search::SearchRun<P>>(parse_scenario(doc, "graded-test.json"));
}

/// Hop distances from `source` over an undirected overlay given as neighbour lists (BFS).
inline std::map<PeerIndex, int> bfs(const std::function<std::vector<PeerIndex>(PeerIndex)>& neighbors,
                                    PeerIndex source) {
  std::map<PeerIndex, int> dist{{source, 0}};
  std::queue<PeerIndex> frontier;
  frontier.push(source);
  while (!frontier.empty()) {
    const PeerIndex p = frontier.front();
    frontier.pop();
    for (PeerIndex n : neighbors(p)) {
      if (dist.count(n)) continue;
      dist[n] = dist[p] + 1;
      frontier.push(n);
    }
  }
  return dist;
}

/// "{3, 7, 12}" for messages.
template <class C>
std::string set_text(const C& items) {
  std::string out = "{";
  for (const auto& x : items) out += (out.size() > 1 ? ", " : "") + std::to_string(x);
  return out + "}";
}

/// The peers (by PeerIndex) that share a name answering query name q, brute force over every
/// peer's own file list.
template <class R>
std::set<PeerIndex> sharers(const R& run, search::NameIndex q) {
  std::set<PeerIndex> out;
  for (PeerIndex p = 0; p < run.shared().size(); ++p) {
    for (search::NameIndex n : run.shared()[p]) {
      if (run.catalogue().matches(q, n)) out.insert(p);
    }
  }
  return out;
}

}  // namespace p2plab::grading
