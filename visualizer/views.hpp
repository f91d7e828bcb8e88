#pragma once
// Drawing the ring view (Chord) and the graph view (central index, flooding, superpeers) with
// Dear ImGui's draw lists. Pure drawing from the session's state, trace and inspection.
#include <imgui.h>

#include <vector>

#include "session.hpp"

namespace p2plab::viz {

struct Palette {
  ImU32 background, ring, peer, peer_dead, selected, successor, finger, finger_start, key, path, marker, text,
      text_dim, server, superpeer, leaf, edge, wave_far, duplicate, relay, reference;
  static Palette dark();
  static Palette light();  // the projector's high-contrast theme
};

struct ViewOptions {
  PeerIndex selected = kNoPeer;
  bool projector = false;
  bool show_all_fingers = false;
  /// Draws the reference route (Run::reference_route: ideal Chord on the live peers) beside the
  /// current lookup's own route, and says where they part.
  bool compare_reference = false;
  float label_scale = 1.0f;
};

/// Where each peer sits on the identifier circle, as (cos, sin) of its angle: ids never change,
/// so this is computed once per peer. Reset it when another lab is opened.
struct RingLayout {
  std::vector<ImVec2> unit;
  void reset() { unit.clear(); }
};

/// Draws the view into the rectangle [origin, origin + size]; returns the peer under the mouse
/// (for clicks and tooltips), or kNoPeer.
PeerIndex draw_ring(ImDrawList* draw, ImVec2 origin, ImVec2 size, const Session& session, RingLayout& layout,
                    const std::vector<TracedSearch>& searches, const ViewOptions& options, const Palette& palette);

class GraphLayout {
 public:
  /// Force-directed layout (Fruchterman-Reingold) over the peers' links, deterministic; peers
  /// that appear later are placed next to a neighbour and relaxed in.
  void update(const Session& session);
  const std::vector<ImVec2>& positions() const { return positions_; }  // in [0, 1]^2

 private:
  std::vector<ImVec2> positions_;
  std::size_t relaxed_for_ = 0;
  std::size_t links_for_ = 0;  // live runs: links arrive after their peers, so relax again when they change
};

PeerIndex draw_graph(ImDrawList* draw, ImVec2 origin, ImVec2 size, const Session& session, GraphLayout& layout,
                     const std::vector<TracedSearch>& searches, const ViewOptions& options, const Palette& palette);

}  // namespace p2plab::viz
