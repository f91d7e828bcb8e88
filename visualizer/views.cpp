#include "views.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

namespace p2plab::viz {

namespace {

constexpr float kPi = 3.14159265358979f;

ImU32 rgba(int r, int g, int b, int a = 255) { return IM_COL32(r, g, b, a); }

float dist2(ImVec2 a, ImVec2 b) { return (a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y); }

/// The angle of an id on the identifier circle: 0 at the top, clockwise.
float angle_of(const Id& id, int bits) {
  const double fraction = id.to_double() / std::ldexp(1.0, bits);
  return static_cast<float>(fraction * 2.0 * 3.14159265358979 - 3.14159265358979 / 2.0);
}

ImVec2 on_circle(ImVec2 c, float r, float angle) {
  return ImVec2(c.x + r * std::cos(angle), c.y + r * std::sin(angle));
}

}  // namespace

/// A crashed peer where it lived: a hollow circle under a cross in the text's colour, which stands
/// out on either theme (grey alone disappears on a projector).
/// An X centred at `at`, each arm reaching `arm` pixels along both axes.
void draw_cross(ImDrawList* draw, ImVec2 at, float arm, ImU32 colour) {
  draw->AddLine(ImVec2(at.x - arm, at.y - arm), ImVec2(at.x + arm, at.y + arm), colour, 3.0f);
  draw->AddLine(ImVec2(at.x - arm, at.y + arm), ImVec2(at.x + arm, at.y - arm), colour, 3.0f);
}

void draw_crashed(ImDrawList* draw, ImVec2 at, float radius, float thick, const Palette& palette) {
  draw->AddCircle(at, radius, palette.peer_dead, 0, thick);
  draw_cross(draw, at, radius + 2.0f, palette.text);
}

namespace {

/// A stale pointer was drawn from `from` to `to` (at a and b): for the legend and --positions.
void note_stale(const ViewOptions& options, PeerIndex from, PeerIndex to, ImVec2 a, ImVec2 b) {
  if (options.drew_stale != nullptr) *options.drew_stale = true;
  if (options.segments != nullptr) options.segments->push_back({"stale", from, to, a, b});
}

/// The search's latest step in the protocol's words (Run::narrate), under the header; both wrap
/// at the view's right edge instead of running off it.
float draw_story(ImDrawList* draw, ImVec2 at, float width, const Session& session, const TracedSearch& search,
                 const ViewOptions& options, const Palette& palette) {
  // At most two steps told; a flood's many copies at one moment are counted, not listed.
  constexpr int kMostTold = 2;
  std::string story;
  int told = 0, more = 0;
  for (const std::string& sentence : session.story(search)) {
    if (told == kMostTold) {
      ++more;
      continue;
    }
    story += (told++ ? "; " : "") + sentence;
  }
  if (more > 0) story += "; and " + std::to_string(more) + " more step" + (more == 1 ? "" : "s") + " at this moment";
  if (options.story != nullptr) *options.story = story;
  if (story.empty()) return at.y;
  const float size = ImGui::GetFontSize() * 1.15f;
  draw->AddText(ImGui::GetFont(), size, at, palette.text, story.c_str(), nullptr, width);
  return at.y + ImGui::GetFont()->CalcTextSizeA(size, FLT_MAX, width, story.c_str()).y;
}

}  // namespace

/// The current search's header over the view and its story under it, wrapped to the view's
/// width; returns where the text ends (the y below it).
float draw_header(ImDrawList* draw, ImVec2 origin, ImVec2 size, const std::string& header, const Session& session,
                  const TracedSearch& search, const ViewOptions& options, const Palette& palette) {
  const float font = ImGui::GetFontSize() * 1.3f, width = size.x - 24;
  draw->AddText(ImGui::GetFont(), font, ImVec2(origin.x + 12, origin.y + 10), palette.text, header.c_str(), nullptr,
                width);
  const float below = origin.y + 10 + ImGui::GetFont()->CalcTextSizeA(font, FLT_MAX, width, header.c_str()).y;
  if (options.header != nullptr) *options.header = header;
  return draw_story(draw, ImVec2(origin.x + 12, below + 4), width, session, search, options, palette);
}

namespace {

/// Labels that never overlap: each asks for a spot and a direction to move away in (outward from
/// the circle's centre); the most important are placed first (peers' ids, then keys, then table
/// marks), each at its spot or moved step by step along its direction until it overlaps no label
/// placed before it; one that finds no free place within a few steps is left out.
class LabelPlacer {
 public:
  /// `highlight`: how many leading characters to draw on a band of `highlight_colour` (the digits
  /// a Pastry id shares with the key).
  void ask(int priority, ImVec2 spot, ImVec2 away, ImU32 colour, std::string text, std::size_t highlight = 0,
           ImU32 highlight_colour = 0) {
    wanted_.push_back({priority, spot, away, colour, std::move(text), highlight, highlight_colour});
  }
  /// Labels are kept inside this rectangle (the view), moved in if they would stick out.
  void keep_within(ImVec2 lo, ImVec2 hi) {
    bounds_lo_ = lo;
    bounds_hi_ = hi;
  }
  void place(ImDrawList* draw, std::vector<DrawnLabel>* out) {
    std::stable_sort(wanted_.begin(), wanted_.end(),
                     [](const Wanted& a, const Wanted& b) { return a.priority < b.priority; });
    if (out != nullptr) out->clear();
    std::vector<std::pair<ImVec2, ImVec2>> boxes;
    for (const Wanted& w : wanted_) {
      const ImVec2 extent = ImGui::CalcTextSize(w.text.c_str());
      const float step = std::max(extent.y * 0.6f, 6.0f);
      for (int k = 0; k <= 8; ++k) {
        ImVec2 centre(w.spot.x + w.away.x * step * static_cast<float>(k),
                      w.spot.y + w.away.y * step * static_cast<float>(k));
        centre.x = std::clamp(centre.x, bounds_lo_.x + extent.x / 2 + 2,
                              std::max(bounds_lo_.x + extent.x / 2 + 2, bounds_hi_.x - extent.x / 2 - 2));
        centre.y = std::clamp(centre.y, bounds_lo_.y + extent.y / 2,
                              std::max(bounds_lo_.y + extent.y / 2, bounds_hi_.y - extent.y / 2));
        const ImVec2 lo(centre.x - extent.x / 2 - 1, centre.y - extent.y / 2),
            hi(centre.x + extent.x / 2 + 1, centre.y + extent.y / 2);
        const bool free = std::none_of(boxes.begin(), boxes.end(), [&](const auto& b) {
          return lo.x < b.second.x && b.first.x < hi.x && lo.y < b.second.y && b.first.y < hi.y;
        });
        if (!free) continue;
        boxes.emplace_back(lo, hi);
        if (w.highlight > 0) {
          const std::size_t n = std::min(w.highlight, w.text.size());
          const float width = ImGui::CalcTextSize(w.text.c_str(), w.text.c_str() + n).x;
          draw->AddRectFilled(lo, ImVec2(lo.x + 2 + width, hi.y), w.highlight_colour, 3.0f);
        }
        draw->AddText(ImVec2(lo.x + 1, lo.y), w.colour, w.text.c_str());
        if (out != nullptr) out->push_back({w.text, lo, hi, std::min(w.highlight, w.text.size())});
        break;
      }
    }
  }

 private:
  struct Wanted {
    int priority;
    ImVec2 spot, away;
    ImU32 colour;
    std::string text;
    std::size_t highlight;
    ImU32 highlight_colour;
  };
  std::vector<Wanted> wanted_;
  ImVec2 bounds_lo_{-1e9f, -1e9f}, bounds_hi_{1e9f, 1e9f};
};

/// While alive, shapes are drawn without anti-aliased edges: for the many small dots of a large
/// network, where the edges' extra triangles cost the software renderer more than the dots (and a
/// 3-pixel dot looks the same).
class CheapShapes {
 public:
  explicit CheapShapes(ImDrawList* draw) : draw_(draw), flags_(draw->Flags) {
    draw_->Flags &= ~(ImDrawListFlags_AntiAliasedFill | ImDrawListFlags_AntiAliasedLines);
  }
  ~CheapShapes() { draw_->Flags = flags_; }
  CheapShapes(const CheapShapes&) = delete;
  CheapShapes& operator=(const CheapShapes&) = delete;

 private:
  ImDrawList* draw_;
  ImDrawListFlags flags_;
};

/// Where a message on its way is now: the point of its link it has reached.
template <class Where>
ImVec2 message_position(const InFlight& m, SimTime now, Where where) {
  const ImVec2 a = where(m.from), b = where(m.to);
  const float t = std::clamp(m.progress(now), 0.0f, 1.0f);
  return ImVec2(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t);
}

/// All messages on their way as small dots (the protocol's own traffic too: stabilize, pings).
/// Drawn before the peers, so that a message just leaving or reaching a peer does not hide it.
template <class Where>
void draw_traffic(ImDrawList* draw, const Session& session, const std::vector<InFlight>& all, Where where,
                  const Palette& palette) {
  constexpr std::size_t kMostDots = 4000;  // beyond that, dots are noise and cost frames
  const CheapShapes cheap(draw);
  for (std::size_t i = 0; i < all.size() && i < kMostDots; ++i) {
    draw->AddNgonFilled(message_position(all[i], session.now(), where), 2.5f, palette.text_dim, 6);
  }
}

/// Messages lost just now, each a red ring at the peer it did not reach (a crashed receiver: its
/// sender will time out and retry elsewhere; or the network's loss), for a short while after.
template <class Where>
void draw_losses(ImDrawList* draw, const Session& session, Where where, float dot, const ViewOptions& options,
                 const Palette& palette) {
  constexpr SimTime kShown = 60'000;  // 60 ms of simulated time (1.2 s of play at 50 ms per second)
  constexpr int kMostShown = 400;
  const auto& trace = session.trace();
  int shown = 0;
  for (auto it = trace.rbegin(); it != trace.rend() && it->time + kShown >= session.now() && shown < kMostShown; ++it) {
    if (it->kind != TraceKind::Drop || it->time > session.now()) continue;
    ++shown;
    const float fade = 1.0f - static_cast<float>(session.now() - it->time) / static_cast<float>(kShown);
    const ImU32 colour = with_alpha(palette.path, static_cast<unsigned>(80 + 175 * fade));
    draw->AddCircle(where(it->other), dot + 6.0f + 6.0f * (1.0f - fade), colour, 0, 2.5f);
    if (options.drew_loss != nullptr) *options.drew_loss = true;
  }
}

/// The current search's messages on their way: a large marker with the message's name, trailing
/// its line from the sender. Drawn last, so that no peer hides them.
template <class Where>
void draw_messages(ImDrawList* draw, const Session& session, const std::vector<InFlight>& all,
                   const TracedSearch* current, Where where, float dot, float thick, const Palette& palette) {
  if (current == nullptr) return;
  const auto at = [&](const InFlight& m) { return message_position(m, session.now(), where); };
  const std::vector<std::string>& names = session.vocabulary().message_types;
  const std::vector<InFlight> carrying = session.in_flight_of(*current, all);
  // Named while few are on their way (a lookup's one question); a flood's dozens of copies would
  // bury each other's names.
  constexpr std::size_t kMostNamed = 3;
  if (carrying.size() > kMostNamed) {
    // Many copies at once (a flood): small markers, so that the rings under them stay visible.
    for (const InFlight& m : carrying) {
      const ImVec2 pos = at(m);
      draw->AddCircleFilled(pos, dot * 0.4f + 1.0f, palette.marker);
    }
    return;
  }
  for (const InFlight& m : carrying) {
    const ImVec2 pos = at(m);
    draw->AddLine(where(m.from), pos, palette.path, thick + 2.0f);
    draw->AddCircleFilled(pos, dot + 3, palette.marker);
    draw->AddCircle(pos, dot + 4, palette.path, 0, 2.0f);
    if (m.type < names.size()) {
      draw->AddText(ImVec2(pos.x + dot + 6, pos.y - dot - 6 - ImGui::GetFontSize()), palette.text,
                    names[m.type].c_str());
    }
  }
}

}  // namespace

// Colour classes in the order of Colour: Neutral, Blue, Green, Orange, Red, Purple, Teal, Grey.
Palette Palette::dark() {
  Palette p;
  p.background = rgba(22, 24, 30);
  p.ring = rgba(90, 96, 110);
  p.peer_dead = rgba(110, 110, 110, 160);
  p.selected = rgba(255, 210, 60);
  p.key = rgba(200, 120, 255);
  p.path = rgba(255, 80, 90);
  p.marker = rgba(255, 255, 255);
  p.text = rgba(230, 232, 236);
  p.text_dim = rgba(150, 155, 165);
  p.wave_far = rgba(60, 220, 200);
  p.duplicate = rgba(170, 150, 150);
  p.relay = rgba(230, 60, 230);
  p.reference = rgba(80, 230, 230, 230);
  p.answer = rgba(245, 245, 245);  // over the coloured wave: the one line in the text's colour
  // Hop 0 (the source) red, then round the colour wheel; no blue (the peers' own colour).
  p.hops = {rgba(255, 70, 80),  rgba(255, 150, 40),  rgba(235, 215, 50),  rgba(120, 220, 90),
            rgba(50, 205, 200), rgba(185, 120, 255), rgba(255, 110, 200), rgba(200, 160, 120)};
  p.roles = {rgba(200, 202, 210), rgba(90, 170, 255),  rgba(120, 200, 140), rgba(255, 170, 40),
             rgba(235, 70, 70),   rgba(200, 120, 255), rgba(60, 220, 200),  rgba(150, 155, 165)};
  // Grey: a strong grey (an overlay among the peers of an inner tier), Neutral a faint one.
  p.links = {rgba(110, 116, 130, 110), rgba(90, 170, 255, 200),  rgba(120, 200, 140, 200), rgba(255, 140, 60, 220),
             rgba(255, 80, 90, 200),   rgba(200, 120, 255, 200), rgba(60, 220, 200, 200),  rgba(200, 204, 215, 220)};
  p.mark_alpha = 160;
  return p;
}

Palette Palette::light() {
  Palette p = dark();
  p.background = rgba(255, 255, 255);
  p.ring = rgba(40, 40, 40);
  p.peer_dead = rgba(150, 150, 150, 200);
  p.selected = rgba(200, 120, 0);
  p.key = rgba(130, 0, 170);
  p.path = rgba(210, 0, 30);
  p.marker = rgba(0, 0, 0);
  p.text = rgba(0, 0, 0);
  p.text_dim = rgba(80, 80, 80);
  p.wave_far = rgba(0, 160, 150);
  p.reference = rgba(0, 140, 140);
  p.duplicate = rgba(150, 120, 120);
  p.answer = rgba(0, 0, 0);
  p.hops = {rgba(210, 0, 30),  rgba(230, 110, 0), rgba(175, 140, 0), rgba(40, 150, 40),
            rgba(0, 145, 145), rgba(130, 0, 190), rgba(215, 0, 140), rgba(125, 80, 30)};
  p.roles[static_cast<std::size_t>(Colour::Neutral)] = rgba(60, 60, 60);
  p.roles[static_cast<std::size_t>(Colour::Blue)] = rgba(0, 90, 200);
  p.roles[static_cast<std::size_t>(Colour::Green)] = rgba(0, 140, 60);
  p.roles[static_cast<std::size_t>(Colour::Purple)] = rgba(130, 0, 170);
  p.roles[static_cast<std::size_t>(Colour::Teal)] = rgba(0, 160, 150);
  p.roles[static_cast<std::size_t>(Colour::Grey)] = rgba(80, 80, 80);
  p.links = {rgba(60, 60, 60, 120), rgba(0, 90, 200),  rgba(0, 140, 60),  rgba(220, 90, 0),
             rgba(210, 0, 30),      rgba(130, 0, 170), rgba(0, 160, 150), rgba(30, 30, 30, 230)};
  p.mark_alpha = 180;
  return p;
}

void dashed_line(ImDrawList* draw, ImVec2 a, ImVec2 b, ImU32 colour, float thickness) {
  const float dx = b.x - a.x, dy = b.y - a.y;
  const float length = std::sqrt(dx * dx + dy * dy);
  const float dash = 9.0f;
  for (float t = 0; t < length; t += 2 * dash) {
    const float t2 = std::min(length, t + dash);
    draw->AddLine(ImVec2(a.x + dx * t / length, a.y + dy * t / length),
                  ImVec2(a.x + dx * t2 / length, a.y + dy * t2 / length), colour, thickness);
  }
}

namespace {

std::string id_text(const Session& session, PeerIndex p) {
  return p == kNoPeer ? "?" : session.run().id_text(session.sim().peer_id(p));
}

/// The reference route (the protocol's ideal route on the live peers), dashed and pulled inside
/// the ring, and one line that compares it with the route the run's own code took.
template <class Where>
void draw_reference_route(ImDrawList* draw, ImVec2 text_at, const Session& session, const TracedSearch& lookup,
                          Where where, float thick, const Palette& palette) {
  const RouteView reference = session.run().reference_route(lookup.from, lookup.key);
  if (reference.path.empty()) return;
  for (std::size_t i = 1; i < reference.path.size(); ++i) {
    dashed_line(draw, where(reference.path[i - 1]), where(reference.path[i]), palette.reference, thick + 1.5f);
  }
  // The run's own route: the requester, then each peer asked (steps only, no duplicates).
  std::vector<PeerIndex> mine{lookup.from};
  for (const auto& hop : lookup.hops) {
    if (hop.forward() && hop.to != mine.back()) mine.push_back(hop.to);
  }
  std::string text = "reference: ";
  for (std::size_t i = 0; i < reference.path.size(); ++i)
    text += (i ? " -> " : "") + id_text(session, reference.path[i]);
  text += ", answer " + id_text(session, reference.owner);
  std::string verdict;
  const bool finished = lookup.end >= 0 && session.now() >= lookup.end;
  if (finished) {
    std::size_t k = 0;
    while (k < mine.size() && k < reference.path.size() && mine[k] == reference.path[k]) ++k;
    if (k == mine.size() && k == reference.path.size() && lookup.owner == reference.owner) {
      verdict = "this run: the same route";
    } else if (k < mine.size() && k < reference.path.size()) {
      verdict = "this run parts at hop " + std::to_string(k) + ": after " + id_text(session, mine[k - 1]) +
                " it asked " + id_text(session, mine[k]) + ", the reference asks " +
                id_text(session, reference.path[k]);
    } else if (lookup.owner != reference.owner) {
      verdict = "this run answered " + id_text(session, lookup.owner) + " instead";
    } else {
      verdict = "this run took " + std::to_string(mine.size() - 1) + " hops, the reference " +
                std::to_string(reference.path.size() - 1);
    }
  }
  const float size = ImGui::GetFontSize() * 1.1f;
  draw->AddText(ImGui::GetFont(), size, text_at, palette.reference, text.c_str());
  if (!verdict.empty()) {
    draw->AddText(ImGui::GetFont(), size, ImVec2(text_at.x, text_at.y + size * 1.2f), palette.reference,
                  verdict.c_str());
  }
}

/// The colour a link is drawn in, and the mark of an id in that link's colour.
ImU32 link_colour(const ProtocolModel& model, std::size_t kind, const Palette& palette) {
  return palette.link(kind < model.link_kinds.size() ? model.link_kinds[kind].colour : Colour::Neutral);
}

LinkDrawing drawing_of(const ProtocolModel& model, std::size_t kind) {
  return kind < model.link_kinds.size() ? model.link_kinds[kind].drawing : LinkDrawing::Hidden;
}

const RoleInfo& role_of(const ProtocolModel& model, std::size_t role) {
  static const RoleInfo plain;
  return role < model.roles.size() ? model.roles[role] : plain;
}

/// A request that got no answer in time: dashed to the silent peer, crossed out at its end.
void draw_timeout(ImDrawList* draw, ImVec2 from, ImVec2 to, float thick, const Palette& palette) {
  dashed_line(draw, from, to, palette.path, thick + 1.0f);
  draw_cross(draw, to, 7.0f, palette.path);
}

/// A search's hops up to now, drawn by their style; the number of the last one.
template <class Where>
int draw_hops(ImDrawList* draw, const TracedSearch& search, SimTime now, Where where, float thick,
              const Palette& palette) {
  int hops = 0;
  for (const auto& hop : search.hops) {
    if (hop.time > now) break;
    switch (hop.style) {
      case HopStyle::Forward:
        draw->AddLine(where(hop.from), where(hop.to), palette.path, thick + 2.0f);
        hops = hop.index;
        break;
      case HopStyle::Duplicate:
        draw->AddLine(where(hop.from), where(hop.to), palette.duplicate, thick);
        break;
      case HopStyle::Transfer:
        draw->AddLine(where(hop.from), where(hop.to), palette.relay, thick + 3.0f);
        break;
      case HopStyle::Answer:
        draw->AddLine(where(hop.from), where(hop.to), palette.answer, thick + 2.0f);
        break;
      case HopStyle::Timeout:
        draw_timeout(draw, where(hop.from), where(hop.to), thick, palette);
        break;
    }
  }
  return hops;
}

}  // namespace

void begin_view(ImDrawList* draw, ImVec2 origin, ImVec2 size, const ViewOptions& options, const Palette& palette) {
  if (options.paint_background)
    draw->AddRectFilled(origin, ImVec2(origin.x + size.x, origin.y + size.y), palette.background);
  draw->PushClipRect(origin, ImVec2(origin.x + size.x, origin.y + size.y), true);
  if (options.segments != nullptr) options.segments->clear();
}

float ring_top(ImVec2) { return ImGui::GetFontSize() * 2.8f + 16.0f; }

ImVec2 ring_centre(ImVec2 origin, ImVec2 size) {
  const float top = ring_top(size);
  return ImVec2(origin.x + size.x / 2, origin.y + top + (size.y - top) / 2);
}

PeerIndex draw_ring(ImDrawList* draw, ImVec2 origin, ImVec2 size, const Session& session, RingLayout& layout,
                    const std::vector<TracedSearch>& searches, const ViewOptions& options, const Palette& palette) {
  const SimulatorCore& sim = session.sim();
  const Run& run = session.run();
  const ProtocolModel& model = session.model();
  const int bits = run.id_bits();
  if (options.paint_background)
    draw->AddRectFilled(origin, ImVec2(origin.x + size.x, origin.y + size.y), palette.background);
  // Zoomed and panned: the centre moves with the pan, the radius grows with the zoom.
  const ImVec2 c0 = ring_centre(origin, size);
  const ImVec2 c(c0.x + options.pan.x, c0.y + options.pan.y);
  const float r = std::min(size.x, size.y - ring_top(size)) * 0.40f * options.zoom;
  draw->PushClipRect(origin, ImVec2(origin.x + size.x, origin.y + size.y), true);
  if (options.segments != nullptr) options.segments->clear();
  LabelPlacer labels_placer;
  labels_placer.keep_within(origin, ImVec2(origin.x + size.x, origin.y + size.y));
  const auto outward = [](float angle) { return ImVec2(std::cos(angle), std::sin(angle)); };
  const auto inward = [](float angle) { return ImVec2(-std::cos(angle), -std::sin(angle)); };
  // A small circle as the slides draw it: every one of its 2^m positions ticked, and for m <= 4
  // numbered (figure 4's 0 .. 7), so that empty positions and keys between peers are seen.
  if (bits <= 8) {
    const int positions = 1 << bits;
    for (int i = 0; i < positions; ++i) {
      const float a = angle_of(Id(static_cast<std::uint64_t>(i)), bits);
      draw->AddLine(on_circle(c, r - 6, a), on_circle(c, r, a), palette.text_dim, 1.0f);
      if (bits <= 4) labels_placer.ask(3, on_circle(c, r - 20, a), inward(a), palette.text_dim, std::to_string(i));
    }
  }
  const float thick = options.projector ? 2.5f : 1.5f;
  draw->AddCircle(c, r, palette.ring, 256, thick);

  const auto& live = sim.live_by_id();
  const std::size_t n = live.size();
  const bool labels = n <= 64;
  const float dot = n <= 64 ? (options.projector ? 9.0f : 7.0f) : n <= 1000 ? 3.5f : 1.5f;
  // Positions on the circle, computed once per peer (ids never change) and canvas size.
  std::vector<ImVec2>& unit = layout.unit;
  if (unit.size() > sim.peer_count()) unit.clear();  // the run was rebuilt with fewer peers so far
  while (unit.size() < sim.peer_count()) {
    const float a = angle_of(sim.peer_id(static_cast<PeerIndex>(unit.size())), bits);
    unit.emplace_back(std::cos(a), std::sin(a));
  }
  std::vector<ImVec2> where(sim.peer_count());
  for (PeerIndex p = 0; p < sim.peer_count(); ++p) where[p] = ImVec2(c.x + r * unit[p].x, c.y + r * unit[p].y);

  // Which kinds of links are drawn for every peer: along the ring (the next peer, as an arc
  // outside it) or across it.
  bool adjacent = false, always = false;
  for (const LinkKindInfo& kind : model.link_kinds) {
    adjacent |= kind.drawing == LinkDrawing::Adjacent;
    always |= kind.drawing == LinkDrawing::Always;
  }
  if ((adjacent || always) && n <= 256) {  // beyond that the arcs merge into the ring itself
    for (std::size_t rank = 0; rank < n; ++rank) {
      const PeerIndex p = live[rank].second;
      const PeerIndex next = live[(rank + 1) % n].second;  // the true next peer along the ring
      const PeerView v = run.inspect_links(p);
      for (const Link& link : v.links) {
        if (link.target == kNoPeer || link.target >= sim.peer_count()) continue;
        const LinkDrawing drawing = drawing_of(model, link.kind);
        if (drawing == LinkDrawing::Adjacent && link.index == 0) {
          float a0 = angle_of(sim.peer_id(p), bits), a1 = angle_of(sim.peer_id(link.target), bits);
          if (a1 <= a0) a1 += 2 * kPi;
          // A stale pointer in red, further out: to a crashed peer, or past a peer that has joined
          // in between (the predecessor of a newcomer, until stabilize and notify repair it).
          const bool stale = link.target != next;
          draw->PathArcTo(c, r + (stale ? 10.0f : 6.0f), a0, a1, 24);
          draw->PathStroke(stale ? palette.path : link_colour(model, link.kind, palette), 0,
                           stale ? thick + 1.0f : thick);
          if (stale) note_stale(options, p, link.target, where[p], where[link.target]);
        } else if (drawing == LinkDrawing::Always) {
          if (!sim.is_up(link.target)) {
            dashed_line(draw, where[p], where[link.target], palette.path, thick);
            note_stale(options, p, link.target, where[p], where[link.target]);
            continue;
          }
          draw->AddLine(where[p], where[link.target], link_colour(model, link.kind, palette), thick);
        }
      }
    }
  }

  // The current search (drawn below; its answer names an arc of responsibility).
  const TracedSearch* current = session.current_search(searches);

  // Responsibility (the lecture's figure 3): each peer holds the keys of (predecessor, peer], an
  // arc just inside the ring in alternating shades; the selected peer's (else the current
  // search's answer's) arc stronger and named: "3485 holds 2907..3485".
  if (model.key_owner_is_successor && n >= 1 && n <= 64) {
    const IdSpace space(bits);
    PeerIndex named = options.selected < sim.peer_count() && sim.is_up(options.selected) ? options.selected : kNoPeer;
    if (named == kNoPeer) {
      if (current != nullptr && current->end >= 0 && session.now() >= current->end &&
          current->owner < sim.peer_count() && sim.is_up(current->owner)) {
        named = current->owner;
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      const auto& [id, p] = live[i];
      const Id& before = live[(i + n - 1) % n].first;
      float a0 = angle_of(before, bits), a1 = angle_of(id, bits);
      if (n == 1 || a1 <= a0) a1 += 2 * kPi;
      const bool strong = p == named;
      const ImU32 shade = strong ? palette.key : with_alpha(palette.role(Colour::Blue), i % 2 ? 70u : 150u);
      draw->PathArcTo(c, r - (strong ? 12.0f : 10.0f), a0 + 0.01f, a1, std::max(8, static_cast<int>((a1 - a0) * 40)));
      draw->PathStroke(shade, 0, strong ? 7.0f : 5.0f);
      if (strong) {
        const std::string text = run.id_text(sim.peer_id(p)) + " holds " + run.id_text(space.add(before, Id(1))) +
                                 ".." + run.id_text(sim.peer_id(p));
        const float mid = (a0 + a1) / 2;
        labels_placer.ask(1,
                          on_circle(c, r - 40 - ImGui::CalcTextSize(text.c_str()).x / 2 * std::abs(std::cos(mid)), mid),
                          inward(mid), palette.key, text);
      }
    }
  }

  // Stored keys: ticks outside the ring at their ids, on their owner's colour.
  if (n <= 200) {
    for (const auto& [id, p] : live) {
      (void)id;
      for (const Id& k : run.inspect_links(p).keys) {
        const float a = angle_of(k, bits);
        draw->AddLine(on_circle(c, r + 12, a), on_circle(c, r + 24, a), palette.key, thick + 1);
        if (labels) {
          const std::string text = run.id_text(k);
          const float half = ImGui::CalcTextSize(text.c_str()).x / 2;
          labels_placer.ask(1, on_circle(c, r + 30 + half, a), outward(a), palette.key, text);
        }
      }
    }
  }

  // The selected peer: the ids its tables mark (a finger's start), ticked on the ring and
  // labelled with their row's first cell, and its links drawn only for it, across the ring.
  if (options.selected != kNoPeer && options.selected < sim.peer_count()) {
    const PeerView v = run.inspect(options.selected);
    // A mark is drawn in the colour of its row's link; a row without one (a finger not yet
    // known) in the colour of the links drawn for the selected peer.
    std::size_t selected_kind = model.link_kinds.size();
    for (std::size_t k = 0; k < model.link_kinds.size(); ++k) {
      if (model.link_kinds[k].drawing == LinkDrawing::Selected && selected_kind == model.link_kinds.size())
        selected_kind = k;
    }
    for (const TableView& t : v.tables) {
      for (std::size_t row = 0; row < t.rows.size(); ++row) {
        const TableView::Row& line = t.rows[row];
        const std::size_t kind = line.link >= 0 && static_cast<std::size_t>(line.link) < v.links.size()
                                     ? v.links[static_cast<std::size_t>(line.link)].kind
                                     : selected_kind;
        const ImU32 colour = (link_colour(model, kind, palette) & ~IM_COL32_A_MASK) |
                             (static_cast<ImU32>(palette.mark_alpha) << IM_COL32_A_SHIFT);
        for (const Cell& cell : line.cells) {
          if (!cell.mark || cell.kind != Cell::Kind::Id) continue;
          const float a = angle_of(cell.id, bits);
          draw->AddLine(on_circle(c, r - 8, a), on_circle(c, r + 8, a), colour, thick);
          // Labelled when few peers are drawn, else only the last 8 rows (the far ones).
          if (!line.cells.empty() && (labels || row + 8 >= t.rows.size())) {
            labels_placer.ask(2, on_circle(c, r - 22, a), inward(a), colour, line.cells.front().text);
          }
        }
      }
    }
    // A span (Pastry's leaf set): the arc from its farthest member on one side, through the
    // selected peer, to its farthest on the other, just inside the ring.
    for (std::size_t k = 0; k < model.link_kinds.size(); ++k) {
      if (model.link_kinds[k].drawing != LinkDrawing::Span) continue;
      const float self = angle_of(sim.peer_id(options.selected), bits);
      float lo = 0, hi = 0;  // relative to the selected peer, in (-pi, pi]
      PeerIndex first = options.selected, last = options.selected;
      for (const Link& link : v.links) {
        if (link.kind != k || link.target == kNoPeer || link.target >= sim.peer_count()) continue;
        float d = angle_of(sim.peer_id(link.target), bits) - self;
        while (d > kPi) d -= 2 * kPi;
        while (d <= -kPi) d += 2 * kPi;
        if (d < lo) std::tie(lo, first) = std::pair(d, link.target);
        if (d > hi) std::tie(hi, last) = std::pair(d, link.target);
      }
      if (hi - lo <= 0) continue;
      const ImU32 colour = with_alpha(link_colour(model, k, palette), 150);
      draw->PathArcTo(c, r - 16, self + lo, self + hi, std::max(8, static_cast<int>((hi - lo) * 40)));
      draw->PathStroke(colour, 0, 6.0f);
      if (options.segments != nullptr) {
        options.segments->push_back({model.link_kinds[k].name + " span", first, last, on_circle(c, r - 16, self + lo),
                                     on_circle(c, r - 16, self + hi)});
      }
    }
    for (const Link& link : v.links) {
      if (link.target == kNoPeer || link.target >= sim.peer_count()) continue;
      const LinkDrawing drawing = drawing_of(model, link.kind);
      if (drawing != LinkDrawing::Selected && drawing != LinkDrawing::Span) continue;
      if (!sim.is_up(link.target)) {  // a finger to a crashed peer: stale until fix_fingers repairs it
        dashed_line(draw, where[options.selected], where[link.target], palette.path, thick + 0.5f);
        note_stale(options, options.selected, link.target, where[options.selected], where[link.target]);
        continue;
      }
      draw->AddLine(where[options.selected], where[link.target], link_colour(model, link.kind, palette), thick + 0.5f);
    }
  }

  // The current search: its path so far and a marker moving hop by hop.
  std::string header;  // drawn last, over the picture
  if (current != nullptr) {
    const int hops = draw_hops(
        draw, *current, session.now(), [&](PeerIndex p) { return where[p]; }, thick, palette);
    // The key searched for, marked at its id (a triangle pointing at the circle), and who asks
    // and who answers, named beside them.
    const float key_angle = angle_of(current->key, bits);
    const ImVec2 tip = on_circle(c, r + 3, key_angle);
    const ImVec2 base = on_circle(c, r + 3 + 4 * dot, key_angle);
    const ImVec2 side(-std::sin(key_angle) * 1.6f * dot, std::cos(key_angle) * 1.6f * dot);
    draw->AddTriangleFilled(tip, ImVec2(base.x + side.x, base.y + side.y), ImVec2(base.x - side.x, base.y - side.y),
                            palette.path);
    // The key as the protocol names it when it does (a content identifier), else its id.
    const std::string key = current->key_label.empty() ? run.id_text(current->key) : current->key_label;
    labels_placer.ask(1, on_circle(c, r + 6 * dot + 30, key_angle), outward(key_angle), palette.path, "key " + key);
    if (current->from < sim.peer_count()) {
      const float a = angle_of(sim.peer_id(current->from), bits);
      labels_placer.ask(1, on_circle(c, r + 80, a), outward(a), palette.path, "requester");
    }
    if (current->end >= 0 && session.now() >= current->end && current->owner != kNoPeer &&
        current->owner < sim.peer_count()) {
      const float a = angle_of(sim.peer_id(current->owner), bits);
      labels_placer.ask(1, on_circle(c, r + 80, a), outward(a), palette.path,
                        current->ok ? "answer" : "answer (WRONG)");
    }
    // A put's or a get's lookup is named by its purpose: "put(3107) from 611: ...".
    const std::string noun = session.search_noun(*current);
    char text[160];
    std::snprintf(text, sizeof text, "%s(%s) from %s: %d %s%s%s", noun.c_str(), key.c_str(),
                  run.id_text(sim.peer_id(current->from)).c_str(), hops, model.hop_noun.c_str(), hops == 1 ? "" : "s",
                  current->end >= 0 && session.now() >= current->end
                      ? (current->owner != kNoPeer ? (" -> " + run.id_text(sim.peer_id(current->owner)) +
                                                      (current->ok ? " (correct)" : " (WRONG)"))
                                                         .c_str()
                                                   : " (failed)")
                      : "");
    header = text;
  }

  // The peers the current lookup has reached so far (the requester and each hop's target).
  const int digit_bits = run.id_digit_bits();
  std::vector<PeerIndex> reached;
  if (current != nullptr && digit_bits > 0) {
    reached.push_back(current->from);
    for (const auto& hop : current->hops) {
      if (hop.time <= session.now() && hop.forward()) reached.push_back(hop.to);
    }
  }
  const auto on_path = [&](PeerIndex p) { return std::find(reached.begin(), reached.end(), p) != reached.end(); };

  // Peers, and the one under the mouse. With one role (or none) every peer looks the same, and
  // the view needs no per-peer inspection (a million peers at frame rate).
  const bool roles = model.roles.size() > 1;
  const RoleInfo& first_role = role_of(model, 0);
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  PeerIndex hovered = kNoPeer;
  float best = (dot + 6) * (dot + 6);
  const std::vector<InFlight> flying = session.in_flight();
  draw_traffic(
      draw, session, flying, [&](PeerIndex p) { return where[p]; }, palette);
  draw_losses(
      draw, session, [&](PeerIndex p) { return where[p]; }, dot, options, palette);
  if (options.drawn != nullptr) options.drawn->clear();
  // Beyond 200 peers the dots are a few pixels wide: plain octagons without anti-aliased edges.
  const bool small = n > 200;
  std::optional<CheapShapes> cheap;
  if (small) cheap.emplace(draw);
  for (PeerIndex p = 0; p < sim.peer_count(); ++p) {
    const bool up = sim.is_up(p);
    if (!up && sim.state(p) == PeerState::Left) continue;
    const RoleInfo& role = roles && up ? role_of(model, run.inspect_links(p).role) : first_role;
    const ImU32 colour = p == options.selected ? palette.selected : up ? palette.role(role.colour) : palette.peer_dead;
    if (n > 5000 && p != options.selected) {  // level of detail: a pixel block per peer
      if (up && n <= 20000) {
        draw->AddRectFilled(ImVec2(where[p].x - 1, where[p].y - 1), ImVec2(where[p].x + 1, where[p].y + 1), colour);
        if (options.drawn != nullptr) options.drawn->push_back({p, where[p], 1.0f});
      }
      if (up && dist2(where[p], mouse) < best) {
        best = dist2(where[p], mouse);
        hovered = p;
      }
      continue;
    }
    const float radius = dot * role.size;
    if (up && small) {
      draw->AddNgonFilled(where[p], radius, colour, 8);
    } else if (up) {
      draw->AddCircleFilled(where[p], radius, colour);
    } else {
      draw_crashed(draw, where[p], radius, thick, palette);
    }
    if (options.drawn != nullptr) options.drawn->push_back({p, where[p], radius});
    if (labels) {
      const std::string text = run.id_text(sim.peer_id(p));
      const float a = angle_of(sim.peer_id(p), bits);
      const float half = ImGui::CalcTextSize(text.c_str()).x / 2;
      // Ids read as digits (Pastry): a peer the current lookup has reached shows the digits it
      // shares with the key on a band, so each hop is seen to gain (at least) one digit.
      std::size_t shared = 0;
      if (digit_bits > 0 && on_path(p)) {
        shared = static_cast<std::size_t>(Id::shared_digits(sim.peer_id(p), current->key, bits, digit_bits));
      }
      // Beyond the keys' ticks (r + 12 .. r + 24), which a key at the peer's own id would cross.
      labels_placer.ask(0, on_circle(c, r + 30 + half, a), outward(a), up ? palette.text : palette.text_dim, text,
                        shared, with_alpha(palette.path, 110));
    }
    if (up && dist2(where[p], mouse) < best) {
      best = dist2(where[p], mouse);
      hovered = p;
    }
  }
  if (n > 20000) {
    // Beyond 20,000 peers one block per occupied pixel of the ring: the same picture, far fewer
    // shapes to draw.
    const int bins = static_cast<int>(2 * kPi * r);
    std::vector<std::uint8_t> occupied(static_cast<std::size_t>(bins), 0);
    for (const auto& [id, p] : live) {
      (void)id;
      const float a = std::atan2(unit[p].y, unit[p].x);
      const int b = static_cast<int>((a + kPi) / (2 * kPi) * static_cast<float>(bins)) % bins;
      occupied[static_cast<std::size_t>(b)] = 1;
    }
    for (int b = 0; b < bins; ++b) {
      if (!occupied[static_cast<std::size_t>(b)]) continue;
      const float a = (static_cast<float>(b) + 0.5f) / static_cast<float>(bins) * 2 * kPi - kPi;
      const ImVec2 q = on_circle(c, r, a);
      draw->AddRectFilled(ImVec2(q.x - 1.5f, q.y - 1.5f), ImVec2(q.x + 1.5f, q.y + 1.5f),
                          palette.role(first_role.colour));
    }
  }
  cheap.reset();
  labels_placer.place(draw, options.labels);
  // Messages on their way, drawn last so that no peer hides them.
  draw_messages(
      draw, session, flying, current, [&](PeerIndex p) { return where[p]; }, dot, thick, palette);
  if (current != nullptr) {
    if (options.compare_reference && session.is_user(*current)) {
      draw_reference_route(
          draw, ImVec2(origin.x + 12, origin.y + size.y - 3.0f * ImGui::GetFontSize()), session, *current,
          [&](PeerIndex p) { return ImVec2(c.x + (where[p].x - c.x) * 0.88f, c.y + (where[p].y - c.y) * 0.88f); },
          thick, palette);
    }
    draw_header(draw, origin, size, header, session, *current, options, palette);
  }
  draw->PopClipRect();
  return hovered;
}

namespace {

/// The hop limit of a flood, as " of TTL 4": the protocol's parameter of that name (the
/// scenario's "params", or the search's own field when its event gives one), or "" when the
/// protocol has no such parameter or the scenario does not set it.
std::string hop_limit_text(const Session& session, const TracedSearch& search) {
  static const std::string kHopLimit = "ttl";  // the lecture's word for a flood's hop limit
  const ParameterInfo* parameter = nullptr;
  for (const ParameterInfo& info : session.model().parameters) {
    if (info.name == kHopLimit) parameter = &info;
  }
  if (parameter == nullptr) return "";
  int limit = 0;
  const auto& doc = session.scenario().doc;
  if (doc.contains("params") && doc["params"].contains(kHopLimit) && doc["params"][kHopLimit].is_number_integer()) {
    limit = doc["params"][kHopLimit].get<int>();
  }
  if (doc.contains("events") && doc["events"].is_array()) {
    for (const auto& e : doc["events"]) {
      if (e.contains(kHopLimit) && e[kHopLimit].is_number_integer() && e.contains("at_ms") && e["at_ms"].is_number() &&
          from_ms(e["at_ms"].get<double>()) == search.start) {
        limit = e[kHopLimit].get<int>();
      }
    }
  }
  return limit > 0 ? " of " + parameter->label + " " + std::to_string(limit) : "";
}

}  // namespace

namespace {

/// Every live peer's links in `run` now, added to `adjacency` (indices beyond it are ignored).
void add_links(const Run& run, std::vector<std::vector<PeerIndex>>& adjacency) {
  const SimulatorCore& sim = run.simulator();
  for (PeerIndex p = 0; p < sim.peer_count() && p < adjacency.size(); ++p) {
    if (!sim.is_up(p)) continue;
    for (const Link& link : run.inspect_links(p).links) {
      if (link.target != kNoPeer && link.target < adjacency.size()) adjacency[p].push_back(link.target);
    }
  }
}

}  // namespace

void GraphLayout::relax(const std::vector<std::vector<PeerIndex>>& adjacency, int iterations) {
  // Fruchterman-Reingold: springs along links, repulsion between all pairs, cooling.
  const std::size_t n = positions_.size();
  const float k = 0.6f * std::sqrt(1.0f / static_cast<float>(std::max<std::size_t>(n, 1)));
  std::vector<ImVec2> force(n);
  for (int it = 0; it < iterations; ++it) {
    const float temperature = 0.1f * (1.0f - static_cast<float>(it) / static_cast<float>(iterations)) + 0.002f;
    std::fill(force.begin(), force.end(), ImVec2(0, 0));
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = i + 1; j < n; ++j) {
        const float dx = positions_[i].x - positions_[j].x, dy = positions_[i].y - positions_[j].y;
        const float d2 = std::max(dx * dx + dy * dy, 1e-6f);
        const float f = k * k / d2;
        force[i].x += dx * f, force[i].y += dy * f;
        force[j].x -= dx * f, force[j].y -= dy * f;
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      for (PeerIndex j : adjacency[i]) {
        const float dx = positions_[i].x - positions_[j].x, dy = positions_[i].y - positions_[j].y;
        const float d = std::sqrt(dx * dx + dy * dy) + 1e-6f;
        const float f = d / k;
        force[i].x -= dx * f, force[i].y -= dy * f;
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      // Gravity toward the centre keeps loosely attached peers (leaves) off the border.
      force[i].x += (0.5f - positions_[i].x) * 12.0f * k;
      force[i].y += (0.5f - positions_[i].y) * 12.0f * k;
      const float len = std::sqrt(force[i].x * force[i].x + force[i].y * force[i].y) + 1e-9f;
      const float step = std::min(len, temperature);
      positions_[i].x = std::clamp(positions_[i].x + force[i].x / len * step, 0.02f, 0.98f);
      positions_[i].y = std::clamp(positions_[i].y + force[i].y / len * step, 0.02f, 0.98f);
    }
  }
  // Fill the view: stretch the layout's bounding box to the unit square (keeping its aspect).
  float lo_x = 1, lo_y = 1, hi_x = 0, hi_y = 0;
  for (const ImVec2& q : positions_) {
    lo_x = std::min(lo_x, q.x), lo_y = std::min(lo_y, q.y);
    hi_x = std::max(hi_x, q.x), hi_y = std::max(hi_y, q.y);
  }
  const float span = std::max(hi_x - lo_x, hi_y - lo_y);
  if (span > 1e-3f) {
    const float cx = (lo_x + hi_x) / 2, cy = (lo_y + hi_y) / 2;
    for (ImVec2& q : positions_) q = ImVec2(0.5f + (q.x - cx) / span * 0.96f, 0.5f + (q.y - cy) / span * 0.96f);
  }
}

void GraphLayout::place_newcomers(std::size_t n, const std::vector<std::vector<PeerIndex>>& adjacency) {
  // Newcomers start next to a neighbour (or on a circle at first).
  const std::size_t old = positions_.size();
  positions_.resize(n);
  for (std::size_t p = old; p < n; ++p) {
    const float a = 2 * kPi * static_cast<float>(p) / static_cast<float>(std::max<std::size_t>(n, 1));
    positions_[p] = ImVec2(0.5f + 0.4f * std::cos(a), 0.5f + 0.4f * std::sin(a));
    if (old > 0 && p < adjacency.size() && !adjacency[p].empty() && adjacency[p][0] < old) {
      const ImVec2 q = positions_[adjacency[p][0]];
      positions_[p] = ImVec2(q.x + 0.02f * std::cos(a), q.y + 0.02f * std::sin(a));
    }
  }
}

void GraphLayout::update(const Session& session) {
  const SimulatorCore& sim = session.sim();
  const std::size_t n = sim.peer_count();
  if (!session.live()) {
    if (!whole_run_laid_out_) {
      lay_out_whole_run(session);
      whole_run_laid_out_ = true;
    }
    if (positions_.size() < n) {  // peers the user added: placed once, nobody else moves
      std::vector<std::vector<PeerIndex>> adjacency(n);
      add_links(session.run(), adjacency);
      place_newcomers(n, adjacency);
    }
    return;
  }
  // Live: peers and links arrive as reports come, so the layout relaxes again when they change.
  std::size_t links = 0;
  for (PeerIndex p = 0; p < n; ++p) {
    if (sim.is_up(p)) links += session.run().inspect_links(p).links.size();
  }
  if (positions_.size() == n && relaxed_for_ == n && links_for_ == links) return;
  links_for_ = links;
  std::vector<std::vector<PeerIndex>> adjacency(n);
  add_links(session.run(), adjacency);
  const bool first = positions_.empty();
  place_newcomers(n, adjacency);
  relaxed_for_ = n;
  if (n <= kMostRelaxed) relax(adjacency, first ? (n <= 600 ? 300 : 120) : 40);
}

void GraphLayout::lay_out_whole_run(const Session& session) {
  // The links of a separate run of the same scenario (deterministic: the same run), taken at 16
  // moments from start to end: every peer gets one place for the whole run, near the peers it is
  // ever linked to, and keeps it at every moment, before and after crashes, forward and back.
  std::unique_ptr<Run> run = all_protocols().create(session.scenario());
  run->start();
  std::size_t n = run->simulator().peer_count();
  std::vector<std::vector<PeerIndex>> adjacency;
  constexpr int kMoments = 16;
  for (int k = 1; k <= kMoments && n <= kMostRelaxed; ++k) {
    run->simulator().run_until(session.end_time() * k / kMoments);
    n = run->simulator().peer_count();
    adjacency.resize(n);
    add_links(*run, adjacency);
  }
  positions_.clear();
  adjacency.resize(n);
  for (auto& targets : adjacency) {
    std::sort(targets.begin(), targets.end());
    targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  }
  place_newcomers(n, adjacency);
  if (n <= kMostRelaxed) relax(adjacency, n <= 600 ? 300 : 120);  // else: too many to relax every pair, a circle
  // Tiers (RoleInfo::tier: superpeers 0, leaves 1): each tier in its own band around the centre,
  // lower tiers inside, every peer keeping the direction the springs gave it, so that leaves
  // sit outside near their superpeers. A peer's tier is its role's at the end of the run.
  const ProtocolModel& model = session.model();
  int deepest = 0;
  for (const RoleInfo& role : model.roles) deepest = std::max(deepest, role.tier);
  if (deepest == 0 || positions_.empty()) return;
  const SimulatorCore& sim = run->simulator();
  for (PeerIndex p = 0; p < positions_.size() && p < sim.peer_count(); ++p) {
    const std::size_t role = run->inspect_links(p).role;
    const int tier = role < model.roles.size() ? model.roles[role].tier : deepest;
    const float dx = positions_[p].x - 0.5f, dy = positions_[p].y - 0.5f;
    const float d = std::sqrt(dx * dx + dy * dy);
    // Band of tier t: from 0.5 * t / (deepest + 1) to 0.5 * (t + 1) / (deepest + 1) of the
    // view's half-width, the springs' distance kept in proportion within it.
    const float band = 0.48f / static_cast<float>(deepest + 1);
    const float radius = band * (static_cast<float>(tier) + 0.15f + 0.85f * std::min(1.0f, d / 0.48f));
    const float scale = d > 1e-6f ? radius / d : 0.0f;
    positions_[p] = ImVec2(0.5f + dx * scale, 0.5f + dy * scale);
  }
}

namespace {

/// A flood's key on the view: one numbered swatch per hop ring, "hop 0 (source)" first, in the
/// upper right corner under the header.
void draw_hop_key(ImDrawList* draw, ImVec2 top_right, int deepest, const Palette& palette) {
  const float size = ImGui::GetFontSize();
  const float cell = size * 1.5f;
  const int cells = std::min(deepest, 7) + 1;
  const char* title = "hop:";
  const float title_w = ImGui::CalcTextSize(title).x + 8;
  float x = top_right.x - cell * static_cast<float>(cells) - title_w - 8;
  const float y = top_right.y;
  draw->AddText(ImVec2(x, y + (cell - size) / 2), palette.text, title);
  x += title_w;
  for (int h = 0; h < cells; ++h) {
    const ImVec2 a(x + static_cast<float>(h) * cell, y), b(a.x + cell - 3, y + cell - 3);
    draw->AddRectFilled(a, b, palette.hop(h), 3.0f);
    const std::string text = h == 7 && deepest > 7 ? "7+" : std::to_string(h);
    const ImVec2 extent = ImGui::CalcTextSize(text.c_str());
    draw->AddText(ImVec2((a.x + b.x - extent.x) / 2, (a.y + b.y - extent.y) / 2), palette.background, text.c_str());
  }
}

/// An arrowhead at `to`, pointing from `from`: the direction an answer travels.
void arrow_head(ImDrawList* draw, ImVec2 from, ImVec2 to, float size, ImU32 colour) {
  const float dx = to.x - from.x, dy = to.y - from.y, d = std::sqrt(dx * dx + dy * dy);
  if (d < 1.0f) return;
  const float ux = dx / d, uy = dy / d;
  const ImVec2 base(to.x - ux * size, to.y - uy * size);
  draw->AddTriangleFilled(to, ImVec2(base.x - uy * size * 0.6f, base.y + ux * size * 0.6f),
                          ImVec2(base.x + uy * size * 0.6f, base.y - ux * size * 0.6f), colour);
}

}  // namespace

PeerIndex draw_graph(ImDrawList* draw, ImVec2 origin, ImVec2 size, const Session& session, GraphLayout& layout,
                     const std::vector<TracedSearch>& searches, const ViewOptions& options, const Palette& palette) {
  const SimulatorCore& sim = session.sim();
  const Run& run = session.run();
  const ProtocolModel& model = session.model();
  layout.update(session);
  begin_view(draw, origin, size, options, palette);
  // The layout's unit square, below the two lines of text over the view, zoomed and panned.
  const float top = ring_top(size);
  const float side = std::min(size.x, size.y - top) * 0.94f * options.zoom;
  const ImVec2 centre(origin.x + size.x / 2 + options.pan.x, origin.y + top + (size.y - top) / 2 + options.pan.y);
  auto at = [&](PeerIndex p) {
    const ImVec2 q = layout.positions()[p];
    return ImVec2(centre.x + (q.x - 0.5f) * side, centre.y + (q.y - 0.5f) * side);
  };
  const std::size_t n = sim.peer_count();
  const float thick = options.projector ? 2.0f : 1.0f;
  std::vector<PeerView> views(n);
  // While a search floods a large overlay, the overlay's own links step back (fainter), so that
  // the wave's coloured hops stand out.
  const TracedSearch* current = session.current_search(searches);
  const bool faint = current != nullptr && n > 100;
  for (PeerIndex p = 0; p < n; ++p) {
    if (!sim.is_up(p)) continue;
    views[p] = run.inspect_links(p);
    const PeerView& v = views[p];
    for (const Link& link : v.links) {
      if (link.target == kNoPeer || link.target >= n) continue;
      const LinkDrawing drawing = drawing_of(model, link.kind);
      // A free graph has no "along": an adjacent link is drawn as a line like any other.
      const bool of_selected = drawing == LinkDrawing::Selected || drawing == LinkDrawing::Span;
      if (drawing == LinkDrawing::Hidden || (of_selected && p != options.selected)) continue;
      if (!sim.is_up(link.target)) {
        // A stale pointer: the peer still lists a crashed neighbour (until a keepalive notices).
        if (sim.state(link.target) == PeerState::Failed && n <= 2000) {
          dashed_line(draw, at(p), at(link.target), palette.path, 1.0f);
          note_stale(options, p, link.target, at(p), at(link.target));
        }
        continue;
      }
      const bool strong = drawing == LinkDrawing::Always && model.link_kinds[link.kind].colour != Colour::Neutral;
      ImU32 colour = link_colour(model, link.kind, palette);
      if (faint) colour = with_alpha(colour, ((colour >> IM_COL32_A_SHIFT) & 0xffu) / 2);
      draw->AddLine(at(p), at(link.target), colour, strong ? thick + 1.0f : faint ? 1.0f : thick);
    }
  }

  // The current search. A flood: the peers it reached coloured by their hop ring (with a key),
  // duplicates dashed, the QUERYHITs' way back in green with arrows, the holders of the file
  // boxed (reached or not: a missed holder is a false negative), the source ringed; a search
  // that asks an index: its path, the answer's way back and the download.
  std::vector<int> reached_at(n, -1);
  int duplicates = 0, max_hop = 0;
  PeerIndex relayed_via = kNoPeer, downloaded_from = kNoPeer;
  const bool floods = viz::floods(session.vocabulary());
  std::vector<PeerIndex> holders;
  struct Leg {
    PeerIndex from, to;
    int kind;  // the hop kind (the vocabulary's index)
  };
  std::vector<Leg> answers, transfer_legs;  // the answers' steps back so far, the transfer's legs
  if (current != nullptr) {
    reached_at[current->from] = 0;
    constexpr std::size_t kMostHolderChecks = 20000;  // a holder test per peer and frame
    for (PeerIndex p = 0; p < n && n <= kMostHolderChecks; ++p) {
      if (sim.is_up(p) && p != current->from && run.holds(p, current->key)) holders.push_back(p);
    }
    for (const auto& hop : current->hops) {
      if (hop.time > session.now()) break;
      const ImVec2 a = at(hop.from), b = at(hop.to);
      switch (hop.style) {
        case HopStyle::Transfer:
          draw->AddLine(a, b, palette.relay, thick + 3.0f);
          arrow_head(draw, a, b, 10.0f + 2 * thick, palette.relay);
          transfer_legs.push_back({hop.from, hop.to, hop.kind});
          break;
        case HopStyle::Duplicate:
          ++duplicates;
          dashed_line(draw, a, b, faint ? with_alpha(palette.duplicate, 90) : palette.duplicate, faint ? 1.0f : thick);
          break;
        case HopStyle::Answer:
          answers.push_back({hop.from, hop.to, hop.kind});  // drawn over the wave, below
          break;
        case HopStyle::Timeout:
          draw_timeout(draw, a, b, thick, palette);
          break;
        case HopStyle::Forward:
          reached_at[hop.to] =
              reached_at[hop.to] < 0 ? hop.index : std::min(reached_at[hop.to], static_cast<int>(hop.index));
          max_hop = std::max(max_hop, hop.index);
          draw->AddLine(a, b, floods ? palette.hop(hop.index) : palette.path, thick + 1.5f);
          break;
      }
    }
  }

  // The answers' way back, over the wave: the path the lecture asks for.
  // Shifted a little to the side, so that the query's own line under it stays visible.
  const std::vector<std::string>& kinds = session.vocabulary().hop_kinds;
  auto kind_name = [&](int kind) {
    return kind >= 0 && static_cast<std::size_t>(kind) < kinds.size() ? kinds[static_cast<std::size_t>(kind)] : "";
  };
  for (const Leg& leg : answers) {
    const PeerIndex from = leg.from, to = leg.to;
    ImVec2 a = at(from), b = at(to);
    const float dx = b.x - a.x, dy = b.y - a.y, d = std::sqrt(dx * dx + dy * dy) + 1e-6f, shift = 3.0f + thick;
    a = ImVec2(a.x - dy / d * shift, a.y + dx / d * shift);
    b = ImVec2(b.x - dy / d * shift, b.y + dx / d * shift);
    draw->AddLine(a, b, palette.answer, thick + 2.5f);
    arrow_head(draw, a, b, 11.0f + 2 * thick, palette.answer);
    if (options.segments != nullptr) options.segments->push_back({kind_name(leg.kind), from, to, a, b});
  }
  for (const Leg& leg : transfer_legs) {
    if (options.segments != nullptr)
      options.segments->push_back({kind_name(leg.kind), leg.from, leg.to, at(leg.from), at(leg.to)});
  }
  // The transfer reaches the requester from the provider (a download) or from a relay that the
  // provider sent it to (two legs).
  for (const Leg& last : transfer_legs) {
    if (current == nullptr || last.to != current->from) continue;
    const bool relayed =
        std::any_of(transfer_legs.begin(), transfer_legs.end(), [&](const Leg& leg) { return leg.to == last.from; });
    (relayed ? relayed_via : downloaded_from) = last.from;
  }

  const ImVec2 mouse = ImGui::GetIO().MousePos;
  PeerIndex hovered = kNoPeer;
  const float base = (n <= 100 ? 7.0f : n <= 1000 ? 4.5f : 2.5f) * std::sqrt(std::max(1.0f, options.zoom));
  float best = 100.0f;
  const std::vector<InFlight> flying = session.in_flight();
  draw_traffic(draw, session, flying, at, palette);
  draw_losses(draw, session, at, base, options, palette);
  if (options.drawn != nullptr) options.drawn->clear();
  LabelPlacer labels;
  labels.keep_within(origin, ImVec2(origin.x + size.x, origin.y + size.y));
  const ImVec2 middle = centre;
  auto away = [&](ImVec2 q) {
    const float dx = q.x - middle.x, dy = q.y - middle.y, d = std::sqrt(dx * dx + dy * dy);
    return d > 1.0f ? ImVec2(dx / d, dy / d) : ImVec2(0, -1);
  };
  // A label's centre beside a point, `gap` pixels off in direction `out`, the text clear of it.
  auto beside = [](ImVec2 q, ImVec2 out, float gap, const std::string& text) {
    const ImVec2 extent = ImGui::CalcTextSize(text.c_str());
    return ImVec2(q.x + out.x * (gap + extent.x / 2), q.y + out.y * (gap + extent.y / 2));
  };
  const bool named = n <= 60;
  std::optional<CheapShapes> cheap;  // beyond 200 peers: small dots, no anti-aliased edges
  if (n > 200) cheap.emplace(draw);
  for (PeerIndex p = 0; p < n; ++p) {
    if (!sim.is_up(p)) {
      if (sim.state(p) == PeerState::Failed) {
        draw_crashed(draw, at(p), base, thick, palette);
        if (options.drawn != nullptr) options.drawn->push_back({p, at(p), base});
      }
      continue;
    }
    const RoleInfo& info = role_of(model, views[p].role);
    const float radius = base * info.size * (reached_at[p] >= 0 && floods ? 1.5f : 1.0f);
    ImU32 colour = palette.role(info.colour);
    // A flood's rings: a peer reached at hop h is filled with hop h's colour (the key says which).
    if (reached_at[p] >= 0 && floods) colour = palette.hop(reached_at[p]);
    // Not reached (yet): faded in its role's colour, so that the rings stand out.
    if (reached_at[p] < 0 && floods && current != nullptr) colour = with_alpha(colour, 80);
    if (reached_at[p] >= 0 && !floods) colour = palette.path;
    if (p == options.selected) colour = palette.selected;
    if (cheap) {
      draw->AddNgonFilled(at(p), radius, colour, 8);
    } else {
      draw->AddCircleFilled(at(p), radius, colour);
    }
    if (options.drawn != nullptr) options.drawn->push_back({p, at(p), radius, floods ? reached_at[p] : -1});
    const ImVec2 q = at(p), out = away(q);
    if (named) {
      const std::string id = sim.peer_id(p).to_decimal();
      labels.ask(0, beside(q, out, radius + 3, id), out, palette.text_dim, id);
    }
    // A tagged peer (behind a NAT, say) is ringed; the tag is written when there is room.
    if (!views[p].tag.empty()) {
      draw->AddCircle(q, radius + 3.0f, palette.text_dim, 0, 1.5f);
      if (options.drew_tags != nullptr &&
          std::find(options.drew_tags->begin(), options.drew_tags->end(), views[p].tag) == options.drew_tags->end()) {
        options.drew_tags->push_back(views[p].tag);
      }
      if (named) {
        labels.ask(2, beside(q, ImVec2(-out.x, -out.y), radius + 3, views[p].tag), ImVec2(-out.x, -out.y),
                   palette.text_dim, views[p].tag);
      }
    }
    if (dist2(at(p), mouse) < best) {
      best = dist2(at(p), mouse);
      hovered = p;
    }
  }
  cheap.reset();
  if (current != nullptr) {
    // The holders: a square around each; the source: a ring. Named when the labels fit.
    for (PeerIndex h : holders) {
      const ImVec2 q = at(h);
      const float e = base * role_of(model, views[h].role).size + 5.0f;
      draw->AddRect(ImVec2(q.x - e, q.y - e), ImVec2(q.x + e, q.y + e), palette.answer, 0.0f, 0, thick + 2.0f);
      if (holders.size() <= 12) {
        const ImVec2 out = away(q);
        // A flood that ended without an answer although holders live missed them: say so.
        const bool missed = floods && current->end >= 0 && session.now() >= current->end && !current->ok;
        const std::string text = missed ? "holder, missed" : "holder";
        labels.ask(1, beside(q, out, e + 2, text), out, palette.answer, text);
      }
    }
    const ImVec2 q = at(current->from);
    const float e = base * role_of(model, views[current->from].role).size + 6.0f;
    draw->AddCircle(q, e, palette.text, 0, thick + 1.5f);
    const ImVec2 out = away(q);
    const std::string text = floods ? "source" : "requester";
    labels.ask(1, beside(q, out, e + 2, text), out, palette.text, text);
  }
  labels.place(draw, options.labels);
  draw_messages(draw, session, flying, current, at, base, thick, palette);
  draw->PopClipRect();
  if (current != nullptr) {
    char text[320];
    int reached = 0;
    for (int h : reached_at) reached += h >= 0;
    const char* outcome =
        current->end >= 0 && session.now() >= current->end ? (current->ok ? ", found" : ", NOT found") : "";
    std::string held =
        holders.empty() ? "" : ", " + std::to_string(holders.size()) + " holder" + (holders.size() == 1 ? "" : "s");
    if (floods) {
      // A flood's words: the wave, its hop limit, the copies the GUID cache dropped.
      const std::string limit = hop_limit_text(session, *current);
      std::snprintf(text, sizeof text, "%s %u from %s: %d peers reached, wave at hop %d%s, %d duplicates dropped%s%s",
                    model.search_noun.c_str(), current->id, sim.peer_id(current->from).to_decimal().c_str(), reached,
                    max_hop, limit.c_str(), duplicates, held.c_str(), outcome);
    } else {
      // A routed search (e.g. to a central index): its path so far.
      std::string path = sim.peer_id(current->from).to_decimal();
      for (const auto& hop : current->hops) {
        if (hop.time <= session.now() && hop.forward()) path += " -> " + sim.peer_id(hop.to).to_decimal();
      }
      std::snprintf(text, sizeof text, "%s %u from %s: %s%s%s", model.search_noun.c_str(), current->id,
                    sim.peer_id(current->from).to_decimal().c_str(), path.c_str(), held.c_str(), outcome);
    }
    if (relayed_via != kNoPeer) {
      const std::size_t used = std::strlen(text);
      std::snprintf(text + used, sizeof text - used, ", relayed by %s", sim.peer_id(relayed_via).to_decimal().c_str());
    } else if (downloaded_from != kNoPeer) {
      const std::size_t used = std::strlen(text);
      std::snprintf(text + used, sizeof text - used, ", downloaded from %s",
                    sim.peer_id(downloaded_from).to_decimal().c_str());
    }
    const float below = draw_header(draw, origin, size, text, session, *current, options, palette);
    if (floods)
      draw_hop_key(draw, ImVec2(origin.x + size.x - 8, std::max(origin.y + top, below + 6)), max_hop, palette);
  }
  return hovered;
}

}  // namespace p2plab::viz
