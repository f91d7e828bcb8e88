#include "view_xor.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <string>

namespace p2plab::viz {

namespace {

/// Ids up to this many bits are drawn as the full trie: every prefix a node, every id a leaf slot,
/// every edge labelled with its bit (the lecture's figure); above, the trie compressed to the
/// prefixes that tell the peers apart, leaves evenly spaced by rank.
constexpr int kFullTrieBits = 6;

Id xor_of(const Id& a, const Id& b) {
  Id x;
  for (std::size_t i = 0; i < x.limb.size(); ++i) x.limb[i] = a.limb[i] ^ b.limb[i];
  return x;
}

/// `id` written in m bits ("0110"), for a classroom id space.
std::string binary(const Id& id, int bits) {
  std::string text;
  for (int b = bits - 1; b >= 0; --b) text += id.bit(b) ? '1' : '0';
  return text;
}

/// An id short enough for a leaf or a box: "6" at m = 4, "4288406688" at m = 32, "146150.." at
/// m = 160.
std::string short_id(const Run& run, const Id& id) {
  std::string text = run.id_text(id);  // as the protocol writes its ids
  return text.size() > 10 ? text.substr(0, 6) + ".." : text;
}

/// The search's key as the protocol names it when it does (a content identifier), else its id.
std::string key_name(const Run& run, const TracedSearch& search) {
  return search.key_label.empty() ? short_id(run, search.key) : search.key_label;
}

/// A bucket's distance range as the protocol prints it ("[8, 16)"), or in powers of two when
/// that is long ("[2^31, 2^32)").
std::string range_text(const std::string& printed, int i) {
  if (printed.size() <= 12) return printed;
  return "[2^" + std::to_string(i) + ", 2^" + std::to_string(i + 1) + ")";
}

float squared_distance(ImVec2 a, ImVec2 b) { return (a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y); }

/// A point of the cubic Bezier curve a, c1, c2, b at t in [0, 1].
ImVec2 bezier(ImVec2 a, ImVec2 c1, ImVec2 c2, ImVec2 b, float t) {
  const float u = 1 - t;
  const float wa = u * u * u, w1 = 3 * u * u * t, w2 = 3 * u * t * t, wb = t * t * t;
  return ImVec2(wa * a.x + w1 * c1.x + w2 * c2.x + wb * b.x, wa * a.y + w1 * c1.y + w2 * c2.y + wb * b.y);
}

/// The k-bucket a row of a distance table stands for: i for distances [2^i, 2^(i+1) - 1] (the
/// only ranges a trie draws as one subtree), or -1.
int bucket_of(const Cell& range) {
  if (range.kind != Cell::Kind::Interval) return -1;
  const int i = range.id.bit_width() - 1;
  if (i < 0 || range.id != Id::power_of_two(i)) return -1;
  const Id last = range.closed_right ? range.end : range.end - Id(1);
  return last == Id::power_of_two(i + 1) - Id(1) ? i : -1;
}

/// One bucket of the selected peer, read from its table's rows (oldest contact first).
struct Bucket {
  int index = -1;
  std::string range;  // the row's distance text: "[8, 16)"
  struct Entry {
    PeerIndex peer = kNoPeer;
    std::string text;
    bool stale = false, waiting = false;
  };
  std::vector<Entry> entries;
};

/// The selected peer's buckets, from the first table that types its distance ranges; farthest
/// last, as the table lists them. Contacts are peers below `peers` (kNoPeer marks an empty one).
std::vector<Bucket> buckets_of(const PeerView& view, std::size_t peers) {
  std::vector<Bucket> out;
  for (const TableView& table : view.tables) {
    if (table.distance_column < 0) continue;
    const auto column = static_cast<std::size_t>(table.distance_column);
    for (const TableView::Row& row : table.rows) {
      if (column >= row.cells.size()) continue;
      const int i = bucket_of(row.cells[column]);
      if (i < 0) continue;
      if (out.empty() || out.back().index != i) out.push_back({i, range_text(row.cells[column].text, i), {}});
      for (const Cell& cell : row.cells) {
        if (cell.kind == Cell::Kind::Peer && cell.peer < peers) {
          out.back().entries.push_back({cell.peer, cell.text, row.stale, row.waiting});
        }
      }
    }
    break;
  }
  return out;
}

/// A bucket's colour: four that tell neighbours apart on either theme.
ImU32 bucket_colour(const Palette& palette, int i) {
  static constexpr Colour kCycle[] = {Colour::Orange, Colour::Green, Colour::Purple, Colour::Teal};
  return palette.link(kCycle[static_cast<std::size_t>(i) % 4]) | IM_COL32_A_MASK;
}

/// The round of a search a colour shows: round 1 in the flood's hop-1 colour, and so on (hop 0,
/// red, is the requester).
ImU32 round_colour(const Palette& palette, int round) { return palette.hop(std::max(round, 1)); }

/// Where the trie is drawn: leaves along a line, nodes above them by depth, zoomed and panned
/// around the view's centre as the app zooms.
struct TrieFrame {
  float left = 0, width = 0, top = 0, leaf_y = 0;
  int levels = 1;  // the depth drawn at the leaves' line
  bool full = false;
  int bits = 0;
  std::size_t slots = 0;  // full trie: 2^m leaf slots; compressed: one per peer
  ImVec2 centre;          // of the zoom
  float zoom = 1;
  ImVec2 pan;
  ImVec2 at(float x, float y) const {
    return ImVec2(centre.x + (x - centre.x) * zoom + pan.x, centre.y + (y - centre.y) * zoom + pan.y);
  }
  float slot_x(double slot) const {
    return left + static_cast<float>((slot + 0.5) / static_cast<double>(std::max<std::size_t>(slots, 1))) * width;
  }
  float depth_y(int depth) const {
    return top + (leaf_y - top) * static_cast<float>(std::min(depth, levels)) / static_cast<float>(levels);
  }
};

}  // namespace

// ---- the layout ---------------------------------------------------------------------------------

int TrieLayout::build(int lo, int hi, int bits) {
  const int index = static_cast<int>(nodes.size());
  nodes.push_back({bits, lo, hi, -1, -1});
  if (hi - lo == 1) return index;
  // The leaves of [lo, hi) share the prefix above the highest bit where the first and the last
  // differ (ids are sorted): the node branches there. Equal ids (never in a run) split at once.
  const int differ = xor_of(ids[static_cast<std::size_t>(lo)], ids[static_cast<std::size_t>(hi - 1)]).bit_width();
  const int depth = bits - differ;
  int split = lo + 1;
  if (differ > 0) {
    const int bit = differ - 1;
    split = static_cast<int>(
        std::partition_point(ids.begin() + lo, ids.begin() + hi, [&](const Id& id) { return !id.bit(bit); }) -
        ids.begin());
  }
  nodes[static_cast<std::size_t>(index)].depth = std::min(depth, bits - 1);
  deepest = std::max(deepest, nodes[static_cast<std::size_t>(index)].depth);
  const int zero = build(lo, split, bits);
  const int one = build(split, hi, bits);
  nodes[static_cast<std::size_t>(index)].zero = zero;
  nodes[static_cast<std::size_t>(index)].one = one;
  return index;
}

void TrieLayout::update(const Session& session) {
  const SimulatorCore& sim = session.sim();
  std::size_t gone = 0;
  for (PeerIndex p = 0; p < sim.peer_count(); ++p) gone += sim.state(p) == PeerState::Left ? 1 : 0;
  if (built_for_ == sim.peer_count() && gone_for_ == gone) return;
  built_for_ = sim.peer_count();
  gone_for_ = gone;
  leaves.clear();
  for (PeerIndex p = 0; p < sim.peer_count(); ++p) {
    if (sim.state(p) != PeerState::Left) leaves.push_back(p);
  }
  std::stable_sort(leaves.begin(), leaves.end(),
                   [&](PeerIndex a, PeerIndex b) { return sim.peer_id(a) < sim.peer_id(b); });
  ids.clear();
  for (PeerIndex p : leaves) ids.push_back(sim.peer_id(p));
  nodes.clear();
  deepest = 0;
  if (!leaves.empty()) build(0, static_cast<int>(leaves.size()), session.run().id_bits());
}

// ---- the search's rounds --------------------------------------------------------------------------

std::vector<RoundBest> best_distance_per_round(const Session& session, const TracedSearch& search) {
  std::vector<RoundBest> out;
  for (const TracedSearch::Hop& hop : search.hops) {
    if (hop.time > session.now()) break;
    if (!hop.forward() || hop.to >= session.sim().peer_count() || hop.index < 1) continue;
    while (static_cast<int>(out.size()) < hop.index) {
      RoundBest next = out.empty() ? RoundBest{} : out.back();
      next.round = static_cast<int>(out.size()) + 1;
      out.push_back(next);
    }
    const Id d = xor_of(session.sim().peer_id(hop.to), search.key);
    // A later round never forgets a closer peer of an earlier one.
    for (auto r = static_cast<std::size_t>(hop.index - 1); r < out.size(); ++r) {
      if (out[r].peer == kNoPeer || d < out[r].distance) out[r] = {out[r].round, d, hop.to};
    }
  }
  return out;
}

std::vector<ViewLegendEntry> xor_trie_legend(const Palette& palette, const std::string& search_noun) {
  return {
      {with_alpha(bucket_colour(palette, 0), 90),
       "shaded: a k-bucket of the selected peer, the subtree of the ids at XOR distance [2^i, 2^(i+1)) (the rows "
       "on the right list its contacts, oldest first)",
       "bucket (subtree)"},
      {bucket_colour(palette, 0),
       "ringed in its bucket's colour: a contact of the selected peer; dashed: waiting in "
       "the replacement cache",
       "contact"},
      {round_colour(palette, 1),
       "arc under the leaves: a query of the " + search_noun +
           ", from the peer that suggested the contact (the "
           "requester in round 1) to the contact asked; its colour and number give the round",
       "query (round)"},
      {palette.key, "the key: its leaf marked, and its path from the root (the longest shared prefix is the closest)",
       "key"},
  };
}

// ---- drawing --------------------------------------------------------------------------------------

namespace {

/// The k-bucket rows of the selected peer in [lo, hi]: "bucket 3  [8, 16)" then its contacts,
/// oldest first, then those waiting in the replacement cache. Returns the peer of the box under
/// the mouse.
PeerIndex draw_bucket_rows(ImDrawList* draw, ImVec2 lo, ImVec2 hi, const Session& session, PeerIndex selected,
                           const std::vector<Bucket>& buckets, const ViewOptions& options, const Palette& palette,
                           std::vector<DrawnLabel>* labels) {
  // Ids of more than a few digits in smaller type, so that a row holds a contact or two beside
  // its name.
  const float type = ImGui::GetFontSize() * (options.projector ? 1.0f : 0.85f);  // projector: 24 px at least
  const auto measure = [&](const std::string& text) {
    return ImGui::GetFont()->CalcTextSizeA(type, FLT_MAX, 0.0f, text.c_str());
  };
  const auto write = [&](ImVec2 at, ImU32 colour, const std::string& text) {
    draw->AddText(ImGui::GetFont(), type, at, colour, text.c_str());
    const ImVec2 extent = measure(text);
    if (labels != nullptr) labels->push_back({text, at, ImVec2(at.x + extent.x, at.y + extent.y)});
  };
  const float line = type;
  const int bits = session.run().id_bits();
  std::string title = "k-buckets of " + short_id(session.run(), session.sim().peer_id(selected));
  if (bits <= 8) title += " (" + binary(session.sim().peer_id(selected), bits) + ")";
  write(lo, palette.text, title);
  // Ranges in each row's name on a classroom id space; above, said once here.
  const bool ranges_in_rows = session.run().id_bits() <= 8;
  const auto row_name = [&](const Bucket& bucket) {
    return "bucket " + std::to_string(bucket.index) + (ranges_in_rows ? ": " + bucket.range : std::string());
  };
  const char* how = ranges_in_rows
                        ? "contacts oldest (least recently seen) first; click one to select it"
                        : "bucket i: XOR distance [2^i, 2^(i+1)); contacts oldest (least recently seen) first; "
                          "click one to select it";
  draw->AddText(ImGui::GetFont(), type, ImVec2(lo.x, lo.y + line * 1.2f), palette.text_dim, how, nullptr, hi.x - lo.x);
  float y = lo.y + line * 1.6f + ImGui::GetFont()->CalcTextSizeA(type, FLT_MAX, hi.x - lo.x, how).y;
  if (buckets.empty()) {
    write(ImVec2(lo.x, y), palette.text_dim, "no k-buckets to show");
    return kNoPeer;
  }
  // Rows as tall as fit; the farthest buckets (the fullest) kept when not all do.
  const float row = std::clamp((hi.y - y) / static_cast<float>(buckets.size()), line * 1.25f, line * 1.9f);
  const auto fitting = static_cast<std::size_t>(std::max(1.0f, std::floor((hi.y - y) / row)));
  std::size_t first = 0;
  if (buckets.size() > fitting) {
    first = buckets.size() - fitting + 1;
    write(ImVec2(lo.x, y), palette.text_dim, "... " + std::to_string(first) + " nearer buckets not shown");
    y += row;
  }
  float label_width = 0;
  for (std::size_t b = first; b < buckets.size(); ++b) {
    const std::string text = row_name(buckets[b]);
    label_width = std::max(label_width, measure(text).x);
  }
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  PeerIndex hovered = kNoPeer;
  const float pad = 6.0f;
  for (std::size_t b = first; b < buckets.size(); ++b, y += row) {
    const Bucket& bucket = buckets[b];
    const ImU32 colour = bucket_colour(palette, bucket.index);
    draw->AddRectFilled(ImVec2(lo.x - 4, y - 2), ImVec2(hi.x, y + row - 4), with_alpha(colour, 40));
    const float text_y = y + (row - 4 - line) / 2 - 1;
    write(ImVec2(lo.x, text_y), palette.text, row_name(bucket));
    float x = lo.x + label_width + 2 * pad;
    bool waiting_said = false;
    if (bucket.entries.empty()) write(ImVec2(x, text_y), palette.text_dim, "empty");
    for (std::size_t e = 0; e < bucket.entries.size(); ++e) {
      const Bucket::Entry& entry = bucket.entries[e];
      if (entry.waiting && !waiting_said) {
        waiting_said = true;
        write(ImVec2(x, text_y), palette.text_dim, "waiting:");
        x += measure("waiting:").x + pad;
      }
      std::string text = short_id(session.run(), session.sim().peer_id(entry.peer));
      if (entry.stale) text += " (stale)";
      const float width = measure(text).x + 2 * pad;
      // No room for the rest: how many more (the inspector lists them all).
      std::string more = "+";  // appended: GCC 12 warns falsely about "+" + std::to_string(...)
      more += std::to_string(bucket.entries.size() - e);
      if (x + width + (e + 1 < bucket.entries.size() ? measure("+99").x : 0) > hi.x) {
        write(ImVec2(x, text_y), palette.text_dim, more);
        break;
      }
      const ImVec2 box_lo(x, text_y - 2), box_hi(x + width, text_y + line + 2);
      const bool up = session.sim().is_up(entry.peer);
      const ImU32 border = entry.stale || !up ? palette.path : entry.waiting ? palette.text_dim : colour;
      if (entry.waiting) {
        dashed_line(draw, box_lo, ImVec2(box_hi.x, box_lo.y), border, 1.5f);
        dashed_line(draw, ImVec2(box_lo.x, box_hi.y), box_hi, border, 1.5f);
      } else {
        draw->AddRectFilled(box_lo, box_hi, with_alpha(colour, 70), 4.0f);
        draw->AddRect(box_lo, box_hi, border, 4.0f, 0, entry.stale ? 3.0f : 1.5f);
      }
      if (entry.peer == options.selected) draw->AddRect(box_lo, box_hi, palette.selected, 4.0f, 0, 3.0f);
      write(ImVec2(x + pad, text_y), entry.waiting ? palette.text_dim : palette.text, text);
      if (mouse.x >= box_lo.x && mouse.x <= box_hi.x && mouse.y >= box_lo.y && mouse.y <= box_hi.y) {
        hovered = entry.peer;
      }
      x += width + pad;
    }
  }
  return hovered;
}

/// The chart of the best XOR distance per round of the current search, in [lo, hi].
void draw_round_chart(ImDrawList* draw, ImVec2 lo, ImVec2 hi, const Session& session, const TracedSearch* search,
                      const ViewOptions& options, const Palette& palette, ChartRecord* record) {
  // A sentence in the chart's place, wrapped to its width (and listed with the view's labels).
  const auto say = [&](const std::string& text) {
    const float type = ImGui::GetFontSize(), width = hi.x - lo.x;
    draw->AddText(ImGui::GetFont(), type, lo, palette.text_dim, text.c_str(), nullptr, width);
    const ImVec2 extent = ImGui::GetFont()->CalcTextSizeA(type, FLT_MAX, width, text.c_str());
    if (options.labels != nullptr) options.labels->push_back({text, lo, ImVec2(lo.x + extent.x, lo.y + extent.y)});
  };
  if (search == nullptr) {
    say("The best XOR distance per round of a lookup is charted here.");
    return;
  }
  const TraceVocabulary& vocabulary = session.vocabulary();
  if (!vocabulary.routes_to_key(static_cast<std::uint8_t>(search->purpose))) {
    const auto purpose = static_cast<std::size_t>(search->purpose);
    const std::string noun =
        purpose < vocabulary.lookup_purposes.size() ? vocabulary.lookup_purposes[purpose] : "search";
    say("A " + noun +
        " does not approach its key round by round (its steps come from wherever the peers it asks are): "
        "no XOR distance to chart. Its lookups have their chart.");
    return;
  }
  const std::vector<RoundBest> rounds = best_distance_per_round(session, *search);
  if (rounds.empty()) {
    say("No round has started yet.");
    return;
  }
  // The distance itself on a classroom id space; its bits (log2 d + 1) above, where distances
  // span 48 decimal digits.
  const int bits = session.run().id_bits();
  const bool in_bits = bits > 8;
  Chart chart;
  chart.name = "best_distance";
  chart.title = "Best XOR distance to " + short_id(session.run(), search->key) + " per round";
  chart.x = {"round", AxisScale::Linear, 0.5, static_cast<double>(std::max<std::size_t>(rounds.size(), 3)) + 0.5, true,
             ""};
  chart.y = {
      in_bits ? "bits of XOR distance (log2 d + 1)" : "XOR distance to the key", AxisScale::Linear, 0, 0, true, ""};
  if (in_bits) {  // from a little below the best so far up to m bits: the descent is what counts
    int lowest = bits;
    for (const RoundBest& r : rounds) lowest = std::min(lowest, r.distance.bit_width());
    chart.y.min = std::max(0, (lowest - 8) / 10 * 10);
    chart.y.max = bits;
  }
  ChartSeries best;
  best.name = "best";
  best.colour = palette.path;
  for (const RoundBest& r : rounds) {
    best.x.push_back(r.round);
    best.y.push_back(in_bits ? r.distance.bit_width() : r.distance.to_double());
  }
  best.end_label = "best " + (in_bits ? std::to_string(rounds.back().distance.bit_width()) + " bits"
                                      : rounds.back().distance.to_decimal());
  chart.lines.push_back(std::move(best));
  ChartStyle style = options.projector ? ChartStyle::light() : ChartStyle::dark();
  style.line_width = options.projector ? 3.0f : 2.0f;
  draw_chart(draw, lo, hi, chart, style, record);
}

}  // namespace

PeerIndex draw_xor_trie(ImDrawList* draw, ImVec2 origin, ImVec2 size, const Session& session, TrieLayout& layout,
                        const std::vector<TracedSearch>& searches, const ViewOptions& options, const Palette& palette,
                        ChartRecord* chart) {
  const SimulatorCore& sim = session.sim();
  const Run& run = session.run();
  const ProtocolModel& model = session.model();
  layout.update(session);
  begin_view(draw, origin, size, options, palette);
  if (options.labels != nullptr) options.labels->clear();
  if (options.drawn != nullptr) options.drawn->clear();
  const float font = ImGui::GetFontSize(), line = ImGui::GetTextLineHeight();
  const float thick = options.projector ? 2.5f : 1.5f;
  const int bits = run.id_bits();
  const std::size_t n = layout.leaves.size();

  // The current search's header and story over the view (as the ring view writes them).
  const TracedSearch* current = session.current_search(searches);
  float top = origin.y + ring_top(size);
  if (current != nullptr) {
    int rounds = 0;
    for (const auto& hop : current->hops) {
      if (hop.time <= session.now() && hop.forward()) rounds = std::max(rounds, hop.index);
    }
    const std::string noun = session.search_noun(*current);
    std::string header = noun + "(" + key_name(run, *current) + ") from " + short_id(run, sim.peer_id(current->from)) +
                         ": " + std::to_string(rounds) + " " + model.hop_noun + (rounds == 1 ? "" : "s");
    if (current->end >= 0 && session.now() >= current->end) {
      header += current->owner == kNoPeer
                    ? " (failed)"
                    : " -> " + short_id(run, sim.peer_id(current->owner)) + (current->ok ? " (correct)" : " (WRONG)");
    }
    top = std::max(top, draw_header(draw, origin, size, header, session, *current, options, palette) + 8.0f);
  }

  // The frame: the trie on the left (60 %), the k-bucket rows on the right, the chart under the
  // trie; under the leaves their labels, then the band where the queries' arcs hang.
  const float split = origin.x + size.x * 0.60f;
  const float chart_top = origin.y + size.y - std::max(size.y * 0.30f, font * 10.0f);
  TrieFrame frame;
  frame.bits = bits;
  frame.full = bits <= kFullTrieBits;
  frame.slots = frame.full ? std::size_t{1} << bits : std::max<std::size_t>(n, 1);
  frame.left = origin.x + font * 4.5f;
  frame.width = split - frame.left - 16.0f;
  // Of a compressed trie only the nodes whose leaves span 6 pixels or more (more nodes as the view
  // zooms in): below, the many small subtrees would paint the area black (and cost a software
  // renderer its frames); the leaves' line shows where the peers are. The drawn levels fill the
  // height.
  const int smallest = std::max(
      1, static_cast<int>(std::ceil(6.0f * static_cast<float>(n) / (frame.width * std::max(options.zoom, 1.0f)))));
  int drawn_depth = 0;
  for (const TrieLayout::Node& node : layout.nodes) {
    if (node.zero >= 0 && node.hi - node.lo >= smallest) drawn_depth = std::max(drawn_depth, node.depth);
  }
  frame.levels = frame.full ? bits : std::max(1, std::min(bits, drawn_depth + 2));
  const float label_lines = frame.full ? 2.2f : 1.2f;
  const float band = std::max((chart_top - top) * 0.28f, line * 2.5f);  // the arcs' depth
  frame.top = top + line * 1.5f;                                        // room for a label over the root
  frame.leaf_y = chart_top - band - line * label_lines - 8.0f;
  frame.centre = ring_centre(origin, size);
  frame.zoom = options.zoom;
  frame.pan = options.pan;
  const float band_top = frame.leaf_y + line * label_lines + 6.0f;
  const float dot = n <= 64 ? (options.projector ? 11.0f : 8.0f) : n <= 1000 ? 3.5f : 1.5f;

  // Where each peer's leaf is: its id's slot (full trie) or its rank (compressed).
  std::vector<float> leaf_x(sim.peer_count(), -1.0f);
  for (std::size_t r = 0; r < n; ++r) {
    leaf_x[layout.leaves[r]] =
        frame.full ? frame.slot_x(layout.ids[r].to_double()) : frame.slot_x(static_cast<double>(r));
  }
  const auto leaf = [&](PeerIndex p) { return frame.at(leaf_x[p], frame.leaf_y); };
  // Where an id falls along the leaves' line: its slot, or between the peers it lies between.
  const auto id_x = [&](const Id& id) {
    if (frame.full) return frame.slot_x(id.to_double());
    const auto r =
        static_cast<std::size_t>(std::lower_bound(layout.ids.begin(), layout.ids.end(), id) - layout.ids.begin());
    if (r < n && layout.ids[r] == id) return frame.slot_x(static_cast<double>(r));
    return frame.slot_x(static_cast<double>(r) - 0.5);
  };
  // The leaves' span [first, last] of the ids in [low, high] (ids of one subtree).
  const auto span_x = [&](const Id& low, const Id& high) {
    if (frame.full) {
      const float half = frame.width / static_cast<float>(frame.slots) / 2;
      return std::make_pair(frame.slot_x(low.to_double()) - half, frame.slot_x(high.to_double()) + half);
    }
    const auto a = std::lower_bound(layout.ids.begin(), layout.ids.end(), low) - layout.ids.begin();
    const auto b = std::upper_bound(layout.ids.begin(), layout.ids.end(), high) - layout.ids.begin();
    const float half = frame.width / static_cast<float>(frame.slots) / 2;
    if (a == b) return std::make_pair(id_x(low) - 2.0f, id_x(low) + 2.0f);
    return std::make_pair(frame.slot_x(static_cast<double>(a)) - half, frame.slot_x(static_cast<double>(b - 1)) + half);
  };

  draw->PushClipRect(origin, ImVec2(split, chart_top), true);
  // The selected peer's buckets: bucket i is the subtree of the ids that share its first m - 1 - i
  // bits and differ at bit i, i.e. at XOR distance [2^i, 2^(i+1)), a sibling of its path.
  std::vector<Bucket> buckets;
  const bool selected = options.selected != kNoPeer && options.selected < sim.peer_count();
  if (selected) buckets = buckets_of(run.inspect(options.selected), sim.peer_count());
  if (selected) {
    const Id self = sim.peer_id(options.selected);
    for (const Bucket& bucket : buckets) {
      const int i = bucket.index;
      const Id flipped = xor_of(self, Id::power_of_two(i));
      const Id low = flipped - flipped.low_bits(i);
      const Id high = low + (Id::power_of_two(i) - Id(1));
      const auto [x0, x1] = span_x(low, high);
      const ImU32 colour = bucket_colour(palette, i);
      // From just above the subtree's root (the prefix of m - i bits) down past the leaves' ids.
      const ImVec2 a = frame.at(x0 + 2, frame.depth_y(bits - i) - line * 1.15f);
      const ImVec2 b = frame.at(x1 - 2, frame.leaf_y + line * label_lines);
      draw->AddRectFilled(a, b, with_alpha(colour, 45), 8.0f);
      draw->AddRect(a, b, with_alpha(colour, 200), 8.0f, 0, thick);
      // Named inside its top edge, in smaller type, as long as it fits: "bucket 3: [8, 16)",
      // "bucket 3" or "3".
      const float small = font * (options.projector ? 1.0f : 0.85f);  // projector: 24 px at least
      const auto extent_of = [&](const std::string& text) {
        return ImGui::GetFont()->CalcTextSizeA(small, FLT_MAX, 0.0f, text.c_str());
      };
      std::string name;
      for (std::string candidate :
           {"bucket " + std::to_string(i) + ": " + bucket.range, "bucket " + std::to_string(i), std::to_string(i)}) {
        name = candidate;
        if (extent_of(name).x <= b.x - a.x - 6) break;
      }
      // A compressed trie's tiny buckets (a few peers near the selected one) stay unnamed; a
      // classroom trie names every one, the narrowest with its number.
      if (!frame.full && extent_of(name).x > b.x - a.x - 6) continue;
      const ImVec2 at(a.x + 3, a.y + 2);
      draw->AddText(ImGui::GetFont(), small, at, colour, name.c_str());
      const ImVec2 extent = extent_of(name);
      if (options.labels != nullptr) options.labels->push_back({name, at, ImVec2(at.x + extent.x, at.y + extent.y)});
    }
  }

  // The trie's edges: every prefix of a classroom id space (faint where no peer lies below), or
  // the compressed trie's branching nodes.
  // A large trie's many edges fainter, so that the buckets and the lookup stand out over them.
  const ImU32 edge = n > 200 ? with_alpha(palette.ring, 110) : palette.ring, faint = with_alpha(palette.ring, 60);
  if (frame.full) {
    std::vector<int> occupied(frame.slots + 1, 0);  // prefix sums of peers per slot
    for (const Id& id : layout.ids) ++occupied[static_cast<std::size_t>(id.low64()) + 1];
    for (std::size_t s = 1; s <= frame.slots; ++s) occupied[s] += occupied[s - 1];
    const auto peers_in = [&](std::size_t first, std::size_t count) {
      return occupied[first + count] - occupied[first];
    };
    for (int d = 0; d < bits; ++d) {
      const std::size_t width = frame.slots >> d;  // slots under a node of depth d
      // Each row of nodes reads one bit: the first row the highest.
      const std::string level = "bit " + std::to_string(bits - 1 - d);
      draw->AddText(frame.at(origin.x + 8, frame.depth_y(d) - line / 2), palette.text_dim, level.c_str());
      for (std::size_t prefix = 0; prefix < (std::size_t{1} << d); ++prefix) {
        const std::size_t first = prefix * width;
        const ImVec2 parent =
            frame.at(frame.slot_x(static_cast<double>(first) + static_cast<double>(width) / 2 - 0.5), frame.depth_y(d));
        for (int bit = 0; bit < 2; ++bit) {
          const std::size_t child_first = first + static_cast<std::size_t>(bit) * width / 2;
          const ImVec2 child =
              frame.at(frame.slot_x(static_cast<double>(child_first) + static_cast<double>(width) / 4 - 0.5),
                       frame.depth_y(d + 1));
          const bool used = peers_in(child_first, width / 2) > 0;
          draw->AddLine(parent, child, used ? edge : faint, used ? thick : 1.0f);
          // Each edge says the bit it reads: 0 to the left, 1 to the right.
          const ImVec2 mid((parent.x + child.x) / 2 + (bit ? 4.0f : -4.0f - ImGui::CalcTextSize("0").x),
                           (parent.y + child.y) / 2 - line / 2);
          draw->AddText(mid, used ? palette.text_dim : faint, bit ? "1" : "0");
        }
        draw->AddCircleFilled(parent, 3.0f, peers_in(first, width) > 0 ? edge : faint);
      }
    }
  } else if (!layout.nodes.empty()) {
    const ImDrawListFlags flags = draw->Flags;
    if (n > 200) draw->Flags &= ~ImDrawListFlags_AntiAliasedLines;  // thin lines, no smoothing needed
    for (const TrieLayout::Node& node : layout.nodes) {
      if (node.zero < 0 || node.hi - node.lo < smallest) continue;
      const ImVec2 parent =
          frame.at((frame.slot_x(node.lo) + frame.slot_x(node.hi - 1)) / 2, frame.depth_y(node.depth));
      for (const int c : {node.zero, node.one}) {
        const TrieLayout::Node& child = layout.nodes[static_cast<std::size_t>(c)];
        const float x = (frame.slot_x(child.lo) + frame.slot_x(child.hi - 1)) / 2;
        const float y = child.zero < 0 ? frame.leaf_y : frame.depth_y(child.depth);
        draw->AddLine(parent, frame.at(x, y), edge, n > 200 ? 1.0f : thick);
      }
    }
    draw->Flags = flags;
    const std::string note = "compressed trie of " + std::to_string(n) + " peers: a node's height is the length of " +
                             "its prefix (of " + std::to_string(bits) + " bits)";
    draw->AddText(ImGui::GetFont(), font * (options.projector ? 1.0f : 0.85f),
                  frame.at(origin.x + 8, frame.top - line * 1.4f), palette.text_dim, note.c_str(), nullptr,
                  split - origin.x - 16);
  }

  // The key: its path from the root on a classroom trie, its place on the leaves' line marked.
  if (current != nullptr) {
    const float kx = id_x(current->key);
    if (frame.full) {
      const auto key = static_cast<std::size_t>(current->key.low64());
      for (int d = 0; d < bits; ++d) {
        const std::size_t width = frame.slots >> d;
        const std::size_t first = key / width * width;
        const std::size_t child_first = key / (width / 2) * (width / 2);
        draw->AddLine(
            frame.at(frame.slot_x(static_cast<double>(first) + static_cast<double>(width) / 2 - 0.5), frame.depth_y(d)),
            frame.at(frame.slot_x(static_cast<double>(child_first) + static_cast<double>(width) / 4 - 0.5),
                     frame.depth_y(d + 1)),
            with_alpha(palette.key, 170), thick + 3.0f);
      }
    }
    const ImVec2 tip = frame.at(kx, frame.leaf_y - dot - 3);
    draw->AddTriangleFilled(tip, ImVec2(tip.x - dot, tip.y - 1.8f * dot), ImVec2(tip.x + dot, tip.y - 1.8f * dot),
                            palette.key);
    // Named above the requester's and the answer's words, which sit a line over their leaves; by
    // the protocol's name for it when it has one (a CID), as the header names it.
    const std::string text = "key " + key_name(run, *current);
    const ImVec2 extent = ImGui::CalcTextSize(text.c_str());
    const ImVec2 at(tip.x - extent.x / 2,
                    std::min(tip.y - 1.8f * dot, frame.at(0, frame.leaf_y).y - dot - 8 - line) - extent.y - 2);
    draw->AddText(at, palette.key, text.c_str());
    if (options.labels != nullptr) options.labels->push_back({text, at, ImVec2(at.x + extent.x, at.y + extent.y)});
  }

  // The search's queries as arcs under the leaves, round by round: from the peer that suggested
  // the contact (the requester in round 1) to the contact asked, numbered by round; a query that
  // got no answer in time dashed, crossed at its end.
  if (current != nullptr) {
    const std::vector<std::string>& kinds = session.vocabulary().hop_kinds;
    for (const auto& hop : current->hops) {
      if (hop.time > session.now()) break;
      if (hop.from >= sim.peer_count() || hop.to >= sim.peer_count() || leaf_x[hop.from] < 0 || leaf_x[hop.to] < 0)
        continue;
      if (hop.style != HopStyle::Forward && hop.style != HopStyle::Timeout) continue;
      const ImVec2 a = frame.at(leaf_x[hop.from], band_top), b = frame.at(leaf_x[hop.to], band_top);
      const float depth = std::min(band - line, std::abs(b.x - a.x) * 0.35f + line * 1.2f);
      const ImVec2 c1(a.x, a.y + depth * 1.3f), c2(b.x, b.y + depth * 1.3f);
      const bool timeout = hop.style == HopStyle::Timeout;
      const ImU32 colour = timeout ? palette.path : round_colour(palette, hop.index);
      constexpr int kSteps = 24;
      for (int s = 0; s < kSteps; ++s) {
        if (timeout && s % 2) continue;  // dashed
        draw->AddLine(bezier(a, c1, c2, b, static_cast<float>(s) / kSteps),
                      bezier(a, c1, c2, b, static_cast<float>(s + 1) / kSteps), colour, thick + 1.5f);
      }
      if (timeout) {
        draw_cross(draw, b, 7.0f, palette.path);
      } else {
        draw->AddTriangleFilled(b, ImVec2(b.x - 6, b.y + 11), ImVec2(b.x + 6, b.y + 11), colour);
        // The round's number where the arc is lowest.
        const ImVec2 mid = bezier(a, c1, c2, b, 0.5f);
        const std::string number = std::to_string(hop.index);
        const ImVec2 extent = ImGui::CalcTextSize(number.c_str());
        draw->AddCircleFilled(mid, std::max(extent.x, extent.y) * 0.65f, colour);
        const ImVec2 at(mid.x - extent.x / 2, mid.y - extent.y / 2);
        draw->AddText(at, palette.background, number.c_str());
        if (options.labels != nullptr)
          options.labels->push_back({number, at, ImVec2(at.x + extent.x, at.y + extent.y)});
      }
      if (options.segments != nullptr) {
        const std::string kind =
            static_cast<std::size_t>(hop.kind) < kinds.size() ? kinds[static_cast<std::size_t>(hop.kind)] : "hop";
        options.segments->push_back({kind, hop.from, hop.to, leaf(hop.from), leaf(hop.to), hop.index});
      }
    }
  }

  // The leaves: peers at their ids (crashed ones crossed out where they were), empty slots of a
  // classroom trie as small ticks; ids (and their bits) under them; the requester, the answer and
  // the selected peer's contacts ringed.
  std::vector<int> bucket_of_contact(sim.peer_count(), -1);
  std::vector<char> waiting(sim.peer_count(), 0), stale(sim.peer_count(), 0);
  for (const Bucket& bucket : buckets) {
    for (const Bucket::Entry& e : bucket.entries) {
      bucket_of_contact[e.peer] = bucket.index;
      waiting[e.peer] = e.waiting;
      stale[e.peer] = e.stale;
    }
  }
  const bool label_leaves = frame.full || n <= 64;
  const auto leaf_label = [&](float x, const Id& id, ImU32 colour) {
    const std::string text = short_id(run, id);
    const float w = ImGui::CalcTextSize(text.c_str()).x;
    const ImVec2 at = frame.at(x - w / 2, frame.leaf_y + dot + 2);
    draw->AddText(at, colour, text.c_str());
    if (options.labels != nullptr) options.labels->push_back({text, at, ImVec2(at.x + w, at.y + line)});
    if (frame.full) {
      const std::string bits_text = binary(id, bits);
      const float bw = ImGui::CalcTextSize(bits_text.c_str()).x;
      draw->AddText(frame.at(x - bw / 2, frame.leaf_y + dot + 2 + line), colour, bits_text.c_str());
    }
  };
  if (frame.full) {
    // Empty slots: a tick, and their id when there is room for it (the key may fall there).
    const bool room = frame.width / static_cast<float>(frame.slots) >
                      ImGui::CalcTextSize(std::string(static_cast<std::size_t>(bits), '0').c_str()).x + 6;
    std::vector<char> taken(frame.slots, 0);
    for (const Id& id : layout.ids) taken[static_cast<std::size_t>(id.low64())] = 1;
    for (std::size_t s = 0; s < frame.slots; ++s) {
      if (taken[s]) continue;
      const float x = frame.slot_x(static_cast<double>(s));
      draw->AddLine(frame.at(x, frame.leaf_y - 4), frame.at(x, frame.leaf_y + 4), faint, 2.0f);
      if (room) leaf_label(x, Id(s), faint);
    }
  }
  // Beyond 200 peers every leaf in the first role's colour: a role costs a peer's inspection (its
  // whole k-bucket table, a hundred rows at m = 160), too much per frame for dots a few pixels
  // wide.
  const auto role_colour = [&](PeerIndex p) {
    if (model.roles.empty()) return palette.role(Colour::Blue);
    if (n > 200) return palette.role(model.roles.front().colour);
    const std::size_t role = std::min<std::size_t>(run.inspect_links(p).role, model.roles.size() - 1);
    return palette.role(model.roles[role].colour);
  };
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  PeerIndex hovered = kNoPeer;
  float best = (dot + 6) * (dot + 6);
  // Leaves' labels are placed after the dots: where they would overlap, the selected peer, the
  // requester and the answer keep theirs, the others from the left as room allows (hovering a
  // leaf names it).
  struct LeafLabel {
    float x;
    Id id;
    ImU32 colour;
    bool important;
  };
  std::vector<LeafLabel> leaf_labels;
  for (const PeerIndex p : layout.leaves) {
    const ImVec2 at = leaf(p);
    const bool up = sim.is_up(p);
    const ImU32 colour = p == options.selected ? palette.selected : up ? role_colour(p) : palette.peer_dead;
    if (const int b = bucket_of_contact[p]; b >= 0) {
      const ImU32 ring = waiting[p] ? palette.text_dim : bucket_colour(palette, b);
      if (waiting[p]) {
        for (int s = 0; s < 12; s += 2) {
          draw->PathArcTo(at, dot + 5, static_cast<float>(s) * 0.5236f, static_cast<float>(s + 1) * 0.5236f, 4);
          draw->PathStroke(ring, 0, thick + 1);
        }
      } else {
        draw->AddCircle(at, dot + 5, ring, 0, thick + 2);
      }
      if (stale[p]) draw_cross(draw, at, dot + 4, palette.path);
    }
    if (current != nullptr &&
        (p == current->from || (p == current->owner && current->end >= 0 && session.now() >= current->end))) {
      draw->AddCircle(at, dot + 10, palette.path, 0, thick + 1);
      const char* word = p == current->from ? "requester" : current->ok ? "answer" : "answer (WRONG)";
      const ImVec2 extent = ImGui::CalcTextSize(word);
      const ImVec2 text_at(at.x - extent.x / 2, at.y - dot - 8 - extent.y);
      draw->AddText(text_at, palette.path, word);
      if (options.labels != nullptr)
        options.labels->push_back({word, text_at, ImVec2(text_at.x + extent.x, text_at.y + extent.y)});
    }
    if (up && n > 5000 && p != options.selected) {  // level of detail: a pixel block per peer
      draw->AddRectFilled(ImVec2(at.x - 1, at.y - 1), ImVec2(at.x + 1, at.y + 1), colour);
    } else if (up) {
      draw->AddCircleFilled(at, dot, colour);
    } else {
      draw_crashed(draw, at, dot, thick, palette);
    }
    if (options.drawn != nullptr) options.drawn->push_back({p, at, dot});
    if (label_leaves) {
      const bool important =
          p == options.selected || (current != nullptr && (p == current->from || p == current->owner));
      leaf_labels.push_back({leaf_x[p], sim.peer_id(p), up ? palette.text : palette.text_dim, important});
    }
    if (squared_distance(at, mouse) < best && mouse.x < split && mouse.y < chart_top) {
      best = squared_distance(at, mouse);
      hovered = p;
    }
  }
  std::stable_sort(leaf_labels.begin(), leaf_labels.end(),
                   [](const LeafLabel& a, const LeafLabel& b) { return a.important > b.important; });
  std::vector<std::pair<float, float>> placed;  // the x ranges labelled so far
  for (const LeafLabel& l : leaf_labels) {
    const float half = ImGui::CalcTextSize((frame.full ? binary(l.id, bits) : short_id(run, l.id)).c_str()).x / 2 + 3;
    const bool clear = std::none_of(placed.begin(), placed.end(), [&](const std::pair<float, float>& r) {
      return l.x - half < r.second && r.first < l.x + half;
    });
    if (!clear) continue;
    placed.push_back({l.x - half, l.x + half});
    leaf_label(l.x, l.id, l.colour);
  }
  // Messages on their way, over the leaves along an arc from sender to receiver: the current
  // search's as large markers named by type (a round's queries going out, their answers coming
  // back), any other as a small dot.
  const std::vector<InFlight> flying = session.in_flight();
  const std::vector<InFlight> carrying =
      current != nullptr ? session.in_flight_of(*current, flying) : std::vector<InFlight>{};
  const auto message_at = [&](const InFlight& m) {
    const ImVec2 a = leaf(m.from), b = leaf(m.to);
    const float lift = std::min(std::abs(b.x - a.x) * 0.3f + 2 * line, (frame.leaf_y - frame.top) * 0.5f * frame.zoom);
    const float t = std::clamp(m.progress(session.now()), 0.0f, 1.0f);
    return bezier(a, ImVec2(a.x, a.y - lift), ImVec2(b.x, b.y - lift), b, t);
  };
  const auto drawable = [&](const InFlight& m) {
    return m.from < leaf_x.size() && m.to < leaf_x.size() && leaf_x[m.from] >= 0 && leaf_x[m.to] >= 0;
  };
  constexpr std::size_t kMostDots = 2000;
  for (std::size_t i = 0; i < flying.size() && i < kMostDots; ++i) {
    if (drawable(flying[i])) draw->AddCircleFilled(message_at(flying[i]), 2.5f, palette.text_dim, 6);
  }
  const std::vector<std::string>& names = session.vocabulary().message_types;
  for (const InFlight& m : carrying) {
    if (!drawable(m)) continue;
    const ImVec2 at = message_at(m);
    draw->AddCircleFilled(at, dot * 0.6f + 2, palette.marker);
    draw->AddCircle(at, dot * 0.6f + 3, palette.path, 0, 2.0f);
    if (carrying.size() <= 3 && m.type < names.size()) {
      draw->AddText(ImVec2(at.x + dot, at.y - dot - line), palette.text, names[m.type].c_str());
    }
  }
  draw->PopClipRect();

  // The right column: the selected peer's k-buckets as rows; the chart under the trie. Both clear
  // of what the caller covers (the legend in the lower right corner): the rows end above it, the
  // chart is narrower when that leaves it half its width, else it ends above it too.
  ImVec2 rows_lo(split + 16, top), rows_hi(origin.x + size.x - 12, origin.y + size.y * 0.58f);
  if (options.covers(rows_lo, rows_hi) && options.covered_min.y - 8 > rows_lo.y + line * 4) {
    rows_hi.y = options.covered_min.y - 8;
  }
  const ImVec2 chart_lo(origin.x + 12, chart_top + 4);
  ImVec2 chart_hi(split - 12, origin.y + size.y - font * 1.6f);
  if (options.covers(chart_lo, chart_hi)) {
    if (options.covered_min.x - 16 - chart_lo.x >= (chart_hi.x - chart_lo.x) * 0.5f) {
      chart_hi.x = options.covered_min.x - 16;
    } else if (options.covered_min.y - 8 > chart_lo.y + font * 4) {
      chart_hi.y = options.covered_min.y - 8;
    }
  }
  if (selected) {
    if (const PeerIndex h = draw_bucket_rows(draw, rows_lo, rows_hi, session, options.selected, buckets, options,
                                             palette, options.labels);
        h != kNoPeer) {
      hovered = h;
    }
  } else {
    draw->AddText(ImGui::GetFont(), font, rows_lo, palette.text_dim,
                  "Click a peer to see its k-buckets: rows by XOR distance, contacts oldest first.", nullptr,
                  rows_hi.x - rows_lo.x);
  }
  draw_round_chart(draw, chart_lo, chart_hi, session, current, options, palette, chart);
  draw->PopClipRect();
  return hovered;
}

}  // namespace p2plab::viz
