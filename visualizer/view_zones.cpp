#include "view_zones.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace p2plab::viz {

namespace {

/// Zones that changed this recently (simulated time) are outlined: 1.5 s, a few seconds of play.
constexpr SimTime kRecentChange = 1'500'000;

std::string fixed2(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", v);
  return text;
}

/// "(0.71, 0.20)" or, for d > 2, "(0.71, 0.20, 0.43)".
std::string point_text(const std::vector<double>& point) {
  std::string s = "(";
  for (std::size_t i = 0; i < point.size(); ++i) s += (i ? ", " : "") + fixed2(point[i]);
  return s + ")";
}

/// The picture: the unit square in pixels, y upwards as on the slides.
struct Square {
  float left = 0, bottom = 0, side = 1;
  ImVec2 at(double x, double y) const {
    return ImVec2(left + static_cast<float>(x) * side, bottom - static_cast<float>(y) * side);
  }
};

/// The end a line from a to b aims at to go the shorter way round the torus (both points inside
/// the square): b itself, or b shifted by the side across the nearer edge. Worked example, side
/// 100: a.x = 10, b.x = 95: straight is 85 long, round the left edge 15, so the end is x = -5.
ImVec2 torus_end(const Square& sq, ImVec2 a, ImVec2 b) {
  const auto nearer = [&](float from, float to) {
    float delta = to - from;
    if (delta > sq.side / 2) delta -= sq.side;
    if (delta < -sq.side / 2) delta += sq.side;
    return from + delta;
  };
  return ImVec2(nearer(a.x, b.x), nearer(a.y, b.y));
}

/// A point off the square moved back into it across the edges (the torus wraps).
ImVec2 wrapped(const Square& sq, ImVec2 p) {
  const float right = sq.left + sq.side, top = sq.bottom - sq.side;
  if (p.x < sq.left) p.x += sq.side;
  if (p.x >= right) p.x -= sq.side;
  if (p.y < top) p.y += sq.side;
  if (p.y >= sq.bottom) p.y -= sq.side;
  return p;
}

/// Draws a link from a to b the shorter way round: one that crosses an edge leaves the square by
/// that edge and comes back by the opposite one (two pieces, clipped to the square), instead of
/// a line through the middle that would tell the class the zones are far apart.
template <class Piece>
void torus_line(ImDrawList* draw, const Square& sq, ImVec2 a, ImVec2 b, Piece&& piece) {
  const ImVec2 end = torus_end(sq, a, b);
  if (end.x == b.x && end.y == b.y) {
    piece(a, b);
    return;
  }
  // Where the way leaves the square: the first edge it meets (a fraction t of the way).
  const ImVec2 way(end.x - a.x, end.y - a.y);
  const float right = sq.left + sq.side, top = sq.bottom - sq.side;
  float t = 1;
  if (end.x < sq.left) t = std::min(t, (sq.left - a.x) / way.x);
  if (end.x > right) t = std::min(t, (right - a.x) / way.x);
  if (end.y < top) t = std::min(t, (top - a.y) / way.y);
  if (end.y > sq.bottom) t = std::min(t, (sq.bottom - a.y) / way.y);
  // (Across a corner the second piece crosses a second edge: the clip keeps it in the square.)
  draw->PushClipRect(sq.at(0, 1), sq.at(1, 0), true);
  piece(a, ImVec2(a.x + way.x * t, a.y + way.y * t));
  piece(ImVec2(b.x - way.x * (1 - t), b.y - way.y * (1 - t)), b);
  draw->PopClipRect();
}

/// A zone projected to the first two dimensions (a 1-D torus spans the square's height).
struct Drawn {
  PeerIndex peer;
  double x0, y0, x1, y1;
  bool in_slice;
};

double coordinate(const std::vector<double>& v, std::size_t i, double fallback) {
  return i < v.size() ? v[i] : fallback;
}

}  // namespace

PeerIndex draw_zones(ImDrawList* draw, ImVec2 origin, ImVec2 size, const Session& session,
                     const std::vector<TracedSearch>& searches, const ViewOptions& options, const Palette& palette) {
  const SimulatorCore& sim = session.sim();
  const Run& run = session.run();
  const ProtocolModel& model = session.model();
  const TraceVocabulary& vocabulary = session.vocabulary();
  if (options.paint_background)
    draw->AddRectFilled(origin, ImVec2(origin.x + size.x, origin.y + size.y), palette.background);
  draw->PushClipRect(origin, ImVec2(origin.x + size.x, origin.y + size.y), true);
  if (options.segments != nullptr) options.segments->clear();
  if (options.labels != nullptr) options.labels->clear();
  if (options.drawn != nullptr) options.drawn->clear();
  const float top = ring_top(size), margin = ImGui::GetFontSize() * 2.5f;
  Square sq;
  sq.side = std::max(40.0f, std::min(size.x - 2 * margin, size.y - top - 2 * margin)) * options.zoom;
  sq.left = origin.x + (size.x - sq.side) / 2 + options.pan.x;
  sq.bottom = origin.y + top + (size.y - top - sq.side) / 2 + sq.side + options.pan.y;
  const float thick = options.projector ? 2.5f : 1.5f;

  // Every peer's zones, crashed peers' too (the zones they held: a hole until someone takes over).
  std::vector<std::vector<ZoneBox>> zones(sim.peer_count());
  std::size_t d = 0, live = 0;
  for (PeerIndex p = 0; p < sim.peer_count(); ++p) {
    if (sim.state(p) == PeerState::Left) continue;
    zones[p] = run.inspect_links(p).zones;
    if (!zones[p].empty()) d = std::max(d, zones[p].front().lo.size());
    live += sim.is_up(p) ? 1 : 0;
  }
  const TracedSearch* current = session.current_search(searches);
  const std::vector<double> key_point = current != nullptr ? run.key_point(current->key) : std::vector<double>{};
  // For d > 2 the picture is the slice through the current key's point (else the selected peer's
  // zone's centre, else the middle) along dimensions 3 .. d: the zones it crosses tile the square.
  std::vector<double> slice(d, 0.5);
  if (options.selected < sim.peer_count() && !zones[options.selected].empty()) {
    const ZoneBox& z = zones[options.selected].front();
    for (std::size_t i = 0; i < d && i < z.lo.size(); ++i) slice[i] = (z.lo[i] + z.hi[i]) / 2;
  }
  for (std::size_t i = 0; i < d && i < key_point.size(); ++i) slice[i] = key_point[i];
  std::vector<Drawn> boxes;
  for (PeerIndex p = 0; p < sim.peer_count(); ++p) {
    for (const ZoneBox& z : zones[p]) {
      bool in_slice = true;
      for (std::size_t i = 2; i < z.lo.size(); ++i) in_slice = in_slice && z.lo[i] <= slice[i] && slice[i] < z.hi[i];
      boxes.push_back({p, z.lo[0], coordinate(z.lo, 1, 0.0), z.hi[0], coordinate(z.hi, 1, 1.0), in_slice});
    }
  }
  // A peer's place: the centre of its first zone in the slice (else of its first zone).
  std::vector<ImVec2> where(sim.peer_count(), sq.at(0.5, 0.5));
  std::vector<char> placed(sim.peer_count(), 0), in_slice(sim.peer_count(), 0);
  for (int pass = 0; pass < 2; ++pass) {
    for (const Drawn& b : boxes) {
      if (placed[b.peer] || (pass == 0 && !b.in_slice)) continue;
      where[b.peer] = sq.at((b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2);
      placed[b.peer] = 1;
      in_slice[b.peer] = pass == 0 ? 1 : 0;
    }
  }
  // Off the slice (d > 2), a peer is drawn only where the story needs it: on the current path.
  std::vector<char> on_path(sim.peer_count(), 0);
  const auto corner_lo = [&](const Drawn& b) { return sq.at(b.x0, b.y1); };  // top left on screen
  const auto corner_hi = [&](const Drawn& b) { return sq.at(b.x1, b.y0); };  // bottom right

  // Zones changed just now (the trace's state changes of each peer).
  std::vector<char> changed(sim.peer_count(), 0);
  const auto& trace = session.trace();
  for (auto it = trace.rbegin(); it != trace.rend() && it->time + kRecentChange >= session.now(); ++it) {
    if (it->kind == TraceKind::StateChange && it->time <= session.now() && it->peer < sim.peer_count())
      changed[it->peer] = 1;
  }

  // The zones: crashed peers' first (a red hole), then the live peers' in shades, outlined.
  draw->AddRectFilled(sq.at(0, 1), sq.at(1, 0), with_alpha(palette.role(Colour::Blue), 20));
  for (int crashed = 1; crashed >= 0; --crashed) {
    for (const Drawn& b : boxes) {
      if (!b.in_slice || sim.is_up(b.peer) != (crashed == 0)) continue;
      const ImU32 fill =
          crashed ? with_alpha(palette.path, 70)
                  : with_alpha(palette.role(Colour::Blue), 30 + 25 * static_cast<unsigned>((b.peer * 7) % 4));
      draw->AddRectFilled(corner_lo(b), corner_hi(b), fill);
      draw->AddRect(corner_lo(b), corner_hi(b), crashed ? palette.path : palette.ring, 0, 0, thick * 0.7f);
      if (options.segments != nullptr)
        options.segments->push_back({"zone", b.peer, b.peer, corner_lo(b), corner_hi(b)});
    }
  }
  for (const Drawn& b : boxes) {
    if (b.in_slice && changed[b.peer] && sim.is_up(b.peer))
      draw->AddRect(corner_lo(b), corner_hi(b), palette.key, 0, 0, thick + 2.0f);
  }

  // The selected peer: its zones outlined, a line to each neighbour's zone (its links).
  if (options.selected < sim.peer_count() && sim.state(options.selected) != PeerState::Left) {
    const PeerView v = run.inspect_links(options.selected);
    for (const Link& link : v.links) {
      if (link.target >= sim.peer_count() || link.kind >= model.link_kinds.size()) continue;
      if (model.link_kinds[link.kind].drawing == LinkDrawing::Hidden) continue;
      const ImU32 colour = palette.link(model.link_kinds[link.kind].colour);
      for (const Drawn& b : boxes) {
        if (b.peer == link.target && b.in_slice) draw->AddRect(corner_lo(b), corner_hi(b), colour, 0, 0, thick + 1.0f);
      }
      const bool up = sim.is_up(link.target);
      // Each piece is a segment of the link's kind (two when it crosses an edge).
      torus_line(draw, sq, where[options.selected], where[link.target], [&](ImVec2 p, ImVec2 q) {
        if (up) {
          draw->AddLine(p, q, colour, thick + 1.0f);
        } else {
          dashed_line(draw, p, q, palette.path, thick + 1.0f);
        }
        if (options.segments != nullptr)
          options.segments->push_back({model.link_kinds[link.kind].name, options.selected, link.target, p, q});
      });
    }
    for (const Drawn& b : boxes) {
      if (b.peer == options.selected && b.in_slice)
        draw->AddRect(corner_lo(b), corner_hi(b), palette.selected, 0, 0, thick + 2.5f);
    }
  }

  // A peer's dot and name (the name under the dot), also where the key point's label must not go.
  const float dot = live <= 64 ? (options.projector ? 8.0f : 6.0f) : live <= 1000 ? 3.0f : 1.5f;
  const auto peer_label = [&](PeerIndex p) {
    std::string text = run.id_text(sim.peer_id(p));
    if (zones[p].size() > 1) text += " (" + std::to_string(zones[p].size()) + " zones)";
    return text;
  };
  const auto peer_label_at = [&](PeerIndex p, const std::string& text) {
    const ImVec2 extent = ImGui::CalcTextSize(text.c_str());
    return ImVec2(where[p].x - extent.x / 2, where[p].y + dot + 2);
  };

  // The current search: the key's point, the greedy path hop by hop, the answer's zone.
  std::string header;
  if (current != nullptr) {
    int hops = 0;
    for (const auto& hop : current->hops) {
      // A newcomer has no zone before its join is granted: its first hop is not drawn.
      if (hop.time > session.now() || hop.from >= sim.peer_count() || hop.to >= sim.peer_count() || !placed[hop.from] ||
          !placed[hop.to])
        continue;
      const ImVec2 a = where[hop.from], b = where[hop.to];
      on_path[hop.from] = on_path[hop.to] = 1;
      if (hop.style == HopStyle::Timeout) {
        torus_line(draw, sq, a, b, [&](ImVec2 p, ImVec2 q) { dashed_line(draw, p, q, palette.path, thick + 1.0f); });
        draw_cross(draw, b, 7.0f, palette.path);
      } else {
        torus_line(draw, sq, a, b, [&](ImVec2 p, ImVec2 q) { draw->AddLine(p, q, palette.path, thick + 2.5f); });
        // An arrow head two thirds along the way (round the torus), and the hop's number beside it.
        const ImVec2 end = torus_end(sq, a, b);
        const float dx = end.x - a.x, dy = end.y - a.y, len = std::max(1.0f, std::sqrt(dx * dx + dy * dy));
        const ImVec2 tip = wrapped(sq, ImVec2(a.x + dx * 0.66f, a.y + dy * 0.66f)), ux(dx / len * 12, dy / len * 12);
        draw->AddTriangleFilled(tip, ImVec2(tip.x - ux.x - ux.y * 0.6f, tip.y - ux.y + ux.x * 0.6f),
                                ImVec2(tip.x - ux.x + ux.y * 0.6f, tip.y - ux.y - ux.x * 0.6f), palette.path);
        if (hop.forward()) hops = std::max(hops, hop.index);
        const std::string number = std::to_string(hop.index);
        draw->AddText(ImVec2(tip.x + 6, tip.y - ImGui::GetFontSize() - 2), palette.path, number.c_str());
      }
      if (options.segments != nullptr) {
        const auto kind = static_cast<std::size_t>(hop.kind);
        options.segments->push_back(
            {kind < vocabulary.hop_kinds.size() ? vocabulary.hop_kinds[kind] : "hop", hop.from, hop.to, a, b});
      }
    }
    const bool finished = current->end >= 0 && session.now() >= current->end;
    if (finished && current->owner < sim.peer_count()) {
      for (const Drawn& b : boxes) {
        if (b.peer == current->owner && b.in_slice)
          draw->AddRect(corner_lo(b), corner_hi(b), palette.path, 0, 0, thick + 3.0f);
      }
    }
    if (key_point.size() >= 1) {
      const ImVec2 k = sq.at(key_point[0], coordinate(key_point, 1, 0.5));
      const float r = options.projector ? 11.0f : 8.0f;
      draw->AddQuadFilled(ImVec2(k.x, k.y - r), ImVec2(k.x + r, k.y), ImVec2(k.x, k.y + r), ImVec2(k.x - r, k.y),
                          palette.path);
      draw->AddQuad(ImVec2(k.x, k.y - r), ImVec2(k.x + r, k.y), ImVec2(k.x, k.y + r), ImVec2(k.x - r, k.y),
                    palette.text, 1.5f);
      const std::string text = "key point " + point_text(key_point);
      const ImVec2 extent = ImGui::CalcTextSize(text.c_str());
      // Right of the diamond, else left, above or below: where no peer's dot or name is.
      std::vector<std::pair<ImVec2, ImVec2>> taken;
      for (PeerIndex p = 0; p < sim.peer_count(); ++p) {
        if (zones[p].empty() || sim.state(p) == PeerState::Left || !placed[p]) continue;
        taken.push_back({ImVec2(where[p].x - dot, where[p].y - dot), ImVec2(where[p].x + dot, where[p].y + dot)});
        if (live > 256) continue;
        const std::string name = peer_label(p);
        const ImVec2 at = peer_label_at(p, name), name_size = ImGui::CalcTextSize(name.c_str());
        taken.push_back({at, ImVec2(at.x + name_size.x, at.y + name_size.y)});
      }
      // Beside the diamond, right or left, then a line higher or lower, then above or below it.
      std::vector<ImVec2> candidates;
      for (const float dy : {0.0f, -1.2f, 1.2f, -2.4f, 2.4f}) {
        const float y = k.y - extent.y / 2 + dy * extent.y;
        candidates.push_back(ImVec2(k.x + r + 4, y));
        candidates.push_back(ImVec2(k.x - r - 4 - extent.x, y));
      }
      candidates.push_back(ImVec2(k.x - extent.x / 2, k.y - r - 2 - extent.y));
      candidates.push_back(ImVec2(k.x - extent.x / 2, k.y + r + 2));
      // The first inside the view that covers nothing; else the one that covers least.
      ImVec2 at = candidates[0];
      std::size_t best = SIZE_MAX;
      for (const ImVec2& c : candidates) {
        if (c.x < origin.x || c.x + extent.x > origin.x + size.x || c.y < origin.y ||
            c.y + extent.y > origin.y + size.y)
          continue;
        const auto covered = static_cast<std::size_t>(std::count_if(taken.begin(), taken.end(), [&](const auto& t) {
          return c.x < t.second.x && t.first.x < c.x + extent.x && c.y < t.second.y && t.first.y < c.y + extent.y;
        }));
        if (covered < best) {
          best = covered;
          at = c;
        }
        if (covered == 0) break;
      }
      draw->AddText(at, palette.path, text.c_str());
      if (options.labels != nullptr) options.labels->push_back({text, at, ImVec2(at.x + extent.x, at.y + extent.y)});
    }
    const std::string noun = session.search_noun(*current);
    header = noun + " of point " + point_text(key_point) + " from " + run.id_text(sim.peer_id(current->from)) +
             (placed[current->from] ? "" : " (a newcomer, no zone yet)") + ": " + std::to_string(hops) + " hop" +
             (hops == 1 ? "" : "s");
    if (finished) {
      header += current->owner < sim.peer_count()
                    ? " -> " + run.id_text(sim.peer_id(current->owner)) + (current->ok ? " (correct)" : " (WRONG)")
                    : " (failed)";
    }
  }

  // Peers: a dot at the centre of their zone, named; the one under the mouse.
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  PeerIndex hovered = kNoPeer;
  for (PeerIndex p = 0; p < sim.peer_count(); ++p) {
    if (zones[p].empty() || sim.state(p) == PeerState::Left) continue;
    if (!in_slice[p] && !on_path[p] && p != options.selected) continue;
    const bool up = sim.is_up(p);
    const ImU32 colour = p == options.selected ? palette.selected : up ? palette.role(Colour::Blue) : palette.peer_dead;
    if (up && !in_slice[p]) {
      draw->AddCircle(where[p], dot, colour, 0, thick);  // hollow: its zone does not cross the slice
    } else if (up) {
      draw->AddCircleFilled(where[p], dot, colour);
    } else {
      draw_crashed(draw, where[p], dot, thick, palette);
    }
    if (options.drawn != nullptr) options.drawn->push_back({p, where[p], dot});
    if (live <= 256) {
      const std::string text = peer_label(p);
      const ImVec2 at = peer_label_at(p, text), extent = ImGui::CalcTextSize(text.c_str());
      draw->AddText(at, up ? palette.text : palette.text_dim, text.c_str());
      if (options.labels != nullptr) options.labels->push_back({text, at, ImVec2(at.x + extent.x, at.y + extent.y)});
    }
  }
  for (const Drawn& b : boxes) {
    const ImVec2 lo = corner_lo(b), hi = corner_hi(b);
    if (b.in_slice && sim.is_up(b.peer) && mouse.x >= lo.x && mouse.x < hi.x && mouse.y >= lo.y && mouse.y < hi.y)
      hovered = b.peer;
  }

  // The current search's messages on their way, between the zones' centres.
  if (current != nullptr) {
    const std::vector<std::string>& names = vocabulary.message_types;
    for (const InFlight& m : session.in_flight_of(*current, session.in_flight())) {
      if (m.from >= sim.peer_count() || m.to >= sim.peer_count() || !placed[m.from] || !placed[m.to]) continue;
      const float t = std::clamp(m.progress(session.now()), 0.0f, 1.0f);
      const ImVec2 a = where[m.from], end = torus_end(sq, a, where[m.to]);
      const ImVec2 pos = wrapped(sq, ImVec2(a.x + (end.x - a.x) * t, a.y + (end.y - a.y) * t));
      draw->AddCircleFilled(pos, dot + 3, palette.marker);
      draw->AddCircle(pos, dot + 4, palette.path, 0, 2.0f);
      if (m.type < names.size())
        draw->AddText(ImVec2(pos.x + dot + 6, pos.y - dot - 6), palette.text, names[m.type].c_str());
    }
  }

  // Axes, and what the picture is for d != 2.
  const float font = ImGui::GetFontSize();
  draw->AddText(ImVec2(sq.left - font * 0.6f, sq.bottom + 2), palette.text_dim, "0");
  draw->AddText(ImVec2(sq.left + sq.side - font * 0.3f, sq.bottom + 2), palette.text_dim, "1");
  draw->AddText(ImVec2(sq.left - font * 0.8f, sq.bottom - sq.side - font / 2), palette.text_dim, "1");
  draw->AddText(ImVec2(sq.left + sq.side / 2 - font * 4, sq.bottom + 2), palette.text_dim, "x (dimension 1)");
  std::string note;
  if (d == 1) {
    note = "d = 1: the torus is a circle, drawn as the x axis";
  } else if (d > 2) {
    note = "d = " + std::to_string(d) + ": a 2-D slice through " +
           std::string(key_point.empty() ? "the selected zone's centre" : "the key's point") + " at";
    for (std::size_t i = 2; i < d; ++i) note += " x" + std::to_string(i + 1) + " = " + fixed2(slice[i]);
    note += " (the zones it crosses)";
  } else {
    note = "y (dimension 2): the square is a torus, its edges wrap";
  }
  bool any_changed = false;
  for (char c : changed) any_changed = any_changed || c;
  if (any_changed) note += "; outlined: zones changed just now";
  draw->AddText(ImVec2(origin.x + 12, origin.y + size.y - font * 1.5f), palette.text_dim, note.c_str());
  if (current != nullptr) draw_header(draw, origin, size, header, session, *current, options, palette);
  draw->PopClipRect();
  return hovered;
}

}  // namespace p2plab::viz
