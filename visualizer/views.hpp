#pragma once
// Drawing the ring view (Geometry::Ring: peers at their ids on the identifier circle) and the
// graph view (Geometry::Graph: a free overlay) with Dear ImGui's draw lists. Pure drawing from the
// session's state, trace and the protocol's view model: link kinds and roles are drawn as the
// model says (LinkKindInfo, RoleInfo), hops as the trace vocabulary's hop styles.
#include <imgui.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "session.hpp"

namespace p2plab::viz {

/// A theme's colours: fixed ones for what every view draws, and one colour per colour class
/// (Colour) for the roles and link kinds a protocol declares.
struct Palette {
  ImU32 background, ring, peer_dead, selected, key, path, marker, text, text_dim, wave_far, duplicate, relay, reference;
  ImU32 answer;               ///< the answer's way back (a QUERYHIT on the reverse path)
  std::array<ImU32, 8> hops;  ///< a flood's rings: the peers reached at hop 0, 1, ..., 7 and beyond
  ImU32 hop(int h) const { return hops[static_cast<std::size_t>(std::clamp(h, 0, 7))]; }
  std::array<ImU32, 8> roles;  ///< a peer's dot, by Colour
  std::array<ImU32, 8> links;  ///< a link's line, by Colour
  int mark_alpha = 160;        ///< a marked id (a finger's start) in its link's colour, lighter
  ImU32 role(Colour c) const { return roles[static_cast<std::size_t>(c) % roles.size()]; }
  ImU32 link(Colour c) const { return links[static_cast<std::size_t>(c) % links.size()]; }
  static Palette dark();
  static Palette light();  // the projector's high-contrast theme
};

/// `colour` with its opacity replaced by `alpha` (0 .. 255).
inline ImU32 with_alpha(ImU32 colour, unsigned alpha) {
  return (colour & ~IM_COL32_A_MASK) | (static_cast<ImU32>(alpha & 0xffu) << IM_COL32_A_SHIFT);
}

/// True when the protocol's searches flood (its trace has duplicate hops): the views and the
/// legend speak of a wave, hop rings and duplicates then.
inline bool floods(const TraceVocabulary& vocabulary) {
  return std::find(vocabulary.hop_styles.begin(), vocabulary.hop_styles.end(), HopStyle::Duplicate) !=
         vocabulary.hop_styles.end();
}

/// Where a view wrote one label (a peer's id, a key, a finger's row), as its box in pixels.
struct DrawnLabel {
  std::string text;
  ImVec2 min, max;
  std::size_t highlighted = 0;  ///< leading characters drawn on a highlight band (shared digits)
};

/// Where a view drew one peer (for tests and tools: `p2plab-viz --positions`).
struct DrawnPeer {
  PeerIndex peer = kNoPeer;
  ImVec2 at;
  float radius = 0;
  int hop = -1;  ///< a flood: the hop ring it was drawn in (0: the source), or -1 when not reached
};

/// One leg of the current search's answer or transfer, or a stale pointer, as drawn (for tests:
/// `--positions`).
struct DrawnSegment {
  std::string kind;  ///< the hop kind's name in the vocabulary ("QUERYHIT", "download", "relay leg"), or
                     ///< "stale": a pointer to a crashed peer
  PeerIndex from = kNoPeer, to = kNoPeer;
  ImVec2 a, b;     ///< its ends on the picture
  int index = -1;  ///< a search's hop: its index in the trace (Kademlia: the round), else -1
};

struct ViewOptions {
  PeerIndex selected = kNoPeer;
  bool projector = false;
  bool show_all_fingers = false;
  /// Draws the reference route (Run::reference_route: the protocol's ideal route on the live
  /// peers) beside the current search's own route, and says where they part.
  bool compare_reference = false;
  float label_scale = 1.0f;
  /// False when the caller has cleared the frame in the palette's background colour already
  /// (the window: a full-view fill costs a software renderer several ms a frame).
  bool paint_background = true;
  /// Zoom (1: the whole network fits the view) and pan (pixels) of the view.
  float zoom = 1.0f;
  ImVec2 pan{0, 0};
  /// When set, the view lists every peer it drew here (cleared first).
  std::vector<DrawnPeer>* drawn = nullptr;
  /// When set, the view lists every label it wrote on the geometry here (cleared first).
  std::vector<DrawnLabel>* labels = nullptr;
  /// When set, the legs of the current search's answer and transfer it drew (cleared first).
  std::vector<DrawnSegment>* segments = nullptr;
  /// When set, turned true if the view drew a stale pointer (to a crashed peer) or a message lost
  /// just now (for the legend: those entries only when there is something to explain).
  bool* drew_stale = nullptr;
  bool* drew_loss = nullptr;
  /// When set, the tags (PeerView::tag) of the peers the view ringed, each once.
  std::vector<std::string>* drew_tags = nullptr;
  /// When set, the sentence the view wrote over the picture (the current search's state), or "".
  std::string* header = nullptr;
  /// When set, the sentence under it: the search's latest step in the protocol's words, or "".
  std::string* story = nullptr;
  /// A box the caller draws over the view afterwards (the legend in the lower right corner),
  /// window pixels: the view keeps its chart and the sentences beside it out of it. Empty
  /// (min == max): none.
  ImVec2 covered_min{0, 0}, covered_max{0, 0};
  bool covers(ImVec2 lo, ImVec2 hi) const {
    return covered_min.x < covered_max.x && covered_min.y < covered_max.y && lo.x < covered_max.x &&
           covered_min.x < hi.x && lo.y < covered_max.y && covered_min.y < hi.y;
  }
};

/// Where each peer sits on the identifier circle, as (cos, sin) of its angle: ids never change,
/// so this is computed once per peer. Reset it when another lab is opened.
struct RingLayout {
  std::vector<ImVec2> unit;
  void reset() { unit.clear(); }
};

/// The ring view's circle lies below the two lines of text over the view (the search's header and
/// its story): the band it leaves at the top, and the circle's centre.
float ring_top(ImVec2 size);
ImVec2 ring_centre(ImVec2 origin, ImVec2 size);

// Parts every view draws alike (views.cpp).

/// A view's first strokes: its background (when the caller has not cleared the frame in it), a
/// clip to its rectangle (the caller pops it), the recorded segments cleared.
void begin_view(ImDrawList* draw, ImVec2 origin, ImVec2 size, const ViewOptions& options, const Palette& palette);
/// A crashed peer where it lived: a hollow circle crossed out.
void draw_crashed(ImDrawList* draw, ImVec2 at, float radius, float thick, const Palette& palette);
/// An X centred at `at`, each arm reaching `arm` pixels along both axes.
void draw_cross(ImDrawList* draw, ImVec2 at, float arm, ImU32 colour);
void dashed_line(ImDrawList* draw, ImVec2 a, ImVec2 b, ImU32 colour, float thickness);
/// The current search's header over the view and its story (Run::narrate) under it, wrapped to
/// the view's width; records both in `options`; returns where the text ends (the y below it).
float draw_header(ImDrawList* draw, ImVec2 origin, ImVec2 size, const std::string& header, const Session& session,
                  const TracedSearch& search, const ViewOptions& options, const Palette& palette);

/// Draws the view into the rectangle [origin, origin + size]; returns the peer under the mouse
/// (for clicks and tooltips), or kNoPeer.
PeerIndex draw_ring(ImDrawList* draw, ImVec2 origin, ImVec2 size, const Session& session, RingLayout& layout,
                    const std::vector<TracedSearch>& searches, const ViewOptions& options, const Palette& palette);

class GraphLayout {
 public:
  /// Force-directed layout (Fruchterman-Reingold) over the peers' links, deterministic. A
  /// simulated run is laid out once, from the links of the whole run: a peer keeps its place at
  /// every moment (a crash leaves it where it was). Peers the user adds are placed next to a
  /// neighbour. Live runs relax again as peers and links arrive.
  void update(const Session& session);
  const std::vector<ImVec2>& positions() const { return positions_; }  // in [0, 1]^2

 private:
  static constexpr std::size_t kMostRelaxed = 3000;  // beyond: a circle (every pair would cost too much)
  void lay_out_whole_run(const Session& session);
  void place_newcomers(std::size_t n, const std::vector<std::vector<PeerIndex>>& adjacency);
  void relax(const std::vector<std::vector<PeerIndex>>& adjacency, int iterations);

  std::vector<ImVec2> positions_;
  bool whole_run_laid_out_ = false;
  std::size_t relaxed_for_ = 0;
  std::size_t links_for_ = 0;  // live runs: links arrive after their peers, so relax again when they change
};

PeerIndex draw_graph(ImDrawList* draw, ImVec2 origin, ImVec2 size, const Session& session, GraphLayout& layout,
                     const std::vector<TracedSearch>& searches, const ViewOptions& options, const Palette& palette);

}  // namespace p2plab::viz
