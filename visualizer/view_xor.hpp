#pragma once
// The XOR trie view (Geometry::XorTrie, e.g. Kademlia): the peers as the leaves of a binary trie
// of their ids (every bit of a classroom id space, or the trie compressed to the prefixes that
// tell the peers apart); the selected peer's k-buckets as the subtrees they cover and as rows by
// distance range; the current search as rounds of parallel queries drawn under the leaves, from
// the peer that suggested each contact to the contact asked; the best XOR distance per round as
// a chart. Drawn from the session's trace and the protocol's view model only: the rows are the
// table whose `distance_column` types its XOR distance ranges.
#include <cstddef>
#include <string>
#include <vector>

#include "charts.hpp"
#include "views.hpp"

namespace p2plab::viz {

/// The trie over the peers' ids, rebuilt when peers join or leave: the leaves in id order and
/// the nodes of the trie compressed to the prefixes that tell the peers apart (a node branches
/// where its leaves' ids first differ).
struct TrieLayout {
  struct Node {
    int depth = 0;            ///< the bits of the prefix it stands for (the root: 0; a leaf: m)
    int lo = 0, hi = 0;       ///< the leaves below it: positions [lo, hi) in `leaves`
    int zero = -1, one = -1;  ///< its children (positions in `nodes`); -1 for a leaf
  };
  std::vector<PeerIndex> leaves;  ///< the peers that have not left, by id
  std::vector<Id> ids;            ///< their ids, ascending
  std::vector<Node> nodes;        ///< nodes[0] is the root (empty without peers)
  int deepest = 0;                ///< the deepest branching node's depth
  void reset() { built_for_ = kNever; }
  /// Rebuilds when peers joined or left since the last call.
  void update(const Session& session);

 private:
  static constexpr std::size_t kNever = ~std::size_t{0};
  int build(int lo, int hi, int bits);
  std::size_t built_for_ = kNever, gone_for_ = 0;
};

/// The best (smallest) XOR distance to the key among the peers a search asked, by the end of
/// each round so far (its query hops up to the session's time; a hop's index is its round).
struct RoundBest {
  int round = 0;
  Id distance;
  PeerIndex peer = kNoPeer;  ///< the peer at that distance (the first asked, on a tie)
};
std::vector<RoundBest> best_distance_per_round(const Session& session, const TracedSearch& search);

/// What the legend says about this view's marks (the app adds them to its own entries).
struct ViewLegendEntry {
  ImU32 colour;
  std::string text, name;
};
std::vector<ViewLegendEntry> xor_trie_legend(const Palette& palette, const std::string& search_noun);

/// Draws the view into [origin, origin + size]: the trie (zoomed and panned by `options`), the
/// k-bucket rows of the selected peer on the right, the chart of the best XOR distance per round
/// under the trie (recorded into `chart` when given). Returns the peer under the mouse (a leaf
/// or a contact in the rows), or kNoPeer.
PeerIndex draw_xor_trie(ImDrawList* draw, ImVec2 origin, ImVec2 size, const Session& session, TrieLayout& layout,
                        const std::vector<TracedSearch>& searches, const ViewOptions& options, const Palette& palette,
                        ChartRecord* chart = nullptr);

}  // namespace p2plab::viz
