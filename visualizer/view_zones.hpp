#pragma once
// The zone map (Geometry::Zones): the unit torus [0, 1)^d of a content-addressable network drawn as
// a square, each peer's zones as rectangles (the first two dimensions; for d > 2 the slice through
// the current key's point), the selected peer's neighbours, the current search's greedy path from
// zone to zone with the key's point marked, zones that changed just now (a split on a join, a
// takeover after a failure) outlined. It reads only the view model (PeerView::zones,
// Run::key_point) and the trace, never a protocol.
#include "views.hpp"

namespace p2plab::viz {

/// Draws the zone map into [origin, origin + size]; returns the peer whose zone is under the
/// mouse, or kNoPeer. With options.segments set it lists each zone drawn (kind "zone", a and b its
/// corners), each hop of the current search (kind: the hop kind's name) and each link of the
/// selected peer (kind: the link kind's name).
PeerIndex draw_zones(ImDrawList* draw, ImVec2 origin, ImVec2 size, const Session& session,
                     const std::vector<TracedSearch>& searches, const ViewOptions& options, const Palette& palette);

}  // namespace p2plab::viz
