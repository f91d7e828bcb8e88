// p2plab-viz: the interactive visualizer (Dear ImGui + GLFW + OpenGL 3). See README.md. Its panels
// are built from the protocol's view model (ProtocolModel: operations, parameters, link kinds,
// roles) and its inspection (PeerView's typed tables): it knows no protocol by name.
#define GL_GLEXT_PROTOTYPES
#include <GL/gl.h>
#include <GL/glext.h>
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>
#include <stb_image_write.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "app.hpp"
#include "charts.hpp"
#include "compare.hpp"
#include "comparison.hpp"
#include "live.hpp"
#include "p2plab/code_info.hpp"
#include "p2plab/json_util.hpp"
#include "p2plab/registry.hpp"
#include "session.hpp"
#include "view_xor.hpp"
#include "view_zones.hpp"
#include "views.hpp"

namespace fs = std::filesystem;
using namespace p2plab;
using namespace p2plab::viz;

namespace {

struct LabEntry {
  std::string path, name, title, note, protocol;
};

std::vector<LabEntry> find_labs(const fs::path& dir) {
  std::vector<LabEntry> labs;
  if (!fs::is_directory(dir)) return labs;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    try {
      const Scenario s = load_scenario(entry.path().string());
      if (all_protocols().find_simulated(s.protocol) == nullptr && !bench::is_compare_lab(s)) continue;

      labs.push_back({entry.path().string(), entry.path().stem().string(), s.title, s.note, s.protocol});
    } catch (const std::exception&) {
      // unreadable labs are listed by `p2plab list`, not here
    }
  }
  // In the lecture's order: protocols as the registry lists them (central index, flooding,
  // superpeers, Chord, then the DHTs), each protocol's labs by name; the comparison of them all
  // last, as the lecture's table closes the systems.
  const auto rank = [](const std::string& protocol) {
    const std::vector<const ProtocolInfo*> all = all_protocols().simulated();
    const auto it =
        std::find_if(all.begin(), all.end(), [&](const ProtocolInfo* info) { return info->name == protocol; });
    if (it == all.end()) return all.size() + 1;
    return static_cast<std::size_t>(it - all.begin());
  };
  std::sort(labs.begin(), labs.end(), [&](const LabEntry& a, const LabEntry& b) {
    return std::make_pair(rank(a.protocol), a.name) < std::make_pair(rank(b.protocol), b.name);
  });
  return labs;
}

/// Play's default pace, in simulated milliseconds per real second: the labs' latencies are 5 to
/// 100 ms, so a hop crosses the view in 0.1 to 2 s, slow enough to follow from the back row.
constexpr float kDefaultSpeed = 50.0f;

/// "50 ms per second", "2.5 s per second".
std::string speed_text(float ms_per_second) {
  char text[64];
  if (ms_per_second < 1000.0f) {
    std::snprintf(text, sizeof text, "%.0f ms per second", static_cast<double>(ms_per_second));
  } else {
    std::snprintf(text, sizeof text, "%.1f s per second", static_cast<double>(ms_per_second) / 1000.0);
  }
  return text;
}

/// The id at a fraction `turn` (0 .. 1) of the way round an m-bit circle, as decimal text.
std::string key_at(double turn, int bits) {
  if (bits <= 52) return std::to_string(static_cast<std::uint64_t>(turn * std::ldexp(1.0, bits)));
  // Above 52 bits a double cannot name every id: take 52 bits of the fraction and shift them up.
  Id id(static_cast<std::uint64_t>(turn * std::ldexp(1.0, 52)));
  const IdSpace space(bits);
  for (int i = 52; i < bits; ++i) id = space.add(id, id);
  return id.to_decimal();
}

void help_marker(const char* text) {
  ImGui::SameLine();
  ImGui::PushTextWrapPos(-1.0f);  // "(?)" never wraps, though the panel's text does
  ImGui::TextDisabled("(?)");
  ImGui::PopTextWrapPos();
  if (ImGui::IsItemHovered()) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30.0f);
    ImGui::TextUnformatted(text);
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
  }
}

/// Where the view drew each peer, in the picture's pixels (y down), for tests that check the
/// picture at those points.
bool write_positions(const std::string& path, const Session& session, const std::vector<DrawnPeer>& drawn,
                     const std::vector<DrawnLabel>& labels, const std::vector<DrawnSegment>& segments,
                     const std::string& header, const std::string& story) {
  nlohmann::json peers = nlohmann::json::array();
  for (const DrawnPeer& d : drawn) {
    const std::size_t role = session.run().inspect_links(d.peer).role;
    const auto& roles = session.model().roles;
    peers.push_back({{"peer", d.peer},
                     {"id", session.sim().peer_id(d.peer).to_decimal()},
                     {"x", d.at.x},
                     {"y", d.at.y},
                     {"radius", d.radius},
                     {"up", session.sim().is_up(d.peer)},
                     {"role", role < roles.size() ? roles[role].name : ""},
                     {"hop", d.hop}});
  }
  nlohmann::json legs = nlohmann::json::array();
  for (const DrawnSegment& g : segments) {
    legs.push_back({{"kind", g.kind},
                    {"from", session.sim().peer_id(g.from).to_decimal()},
                    {"to", session.sim().peer_id(g.to).to_decimal()},
                    {"a", {g.a.x, g.a.y}},
                    {"b", {g.b.x, g.b.y}},
                    {"index", g.index}});
  }
  nlohmann::json label_boxes = nlohmann::json::array();
  for (const DrawnLabel& l : labels) {
    nlohmann::json box = {{"text", l.text}, {"box", {l.min.x, l.min.y, l.max.x, l.max.y}}};
    if (l.highlighted > 0) box["highlighted"] = l.highlighted;  // leading characters on a band
    label_boxes.push_back(std::move(box));
  }
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  const std::string text =
      nlohmann::json{
          {"peers", peers}, {"labels", label_boxes}, {"segments", legs}, {"header", header}, {"story", story}}
          .dump(1) +
      "\n";
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && ok;
}

bool write_json(const std::string& path, const nlohmann::json& doc) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  const std::string text = doc.dump(1) + "\n";
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && ok;
}

/// Adds the fields of `extra` to the JSON object in the file (the positions of the view, then
/// those of the charts and the lab list).
bool add_to_json_file(const std::string& path, const nlohmann::json& extra) {
  nlohmann::json doc;
  try {
    std::ifstream in(path);
    doc = nlohmann::json::parse(in);
  } catch (const std::exception&) {
    return false;
  }
  doc.update(extra);
  return write_json(path, doc);
}

/// ImGui's colours and type for the normal or the projector theme. DejaVu Sans (Debian's
/// fonts-dejavu-core) baked at the size it is shown, so that large type stays sharp; ImGui's own
/// font, scaled, if it is missing. `rebuild`: the fonts texture exists already (a switch at run
/// time) and is made again.
void apply_theme(bool projector, bool rebuild) {
  if (projector) {
    ImGui::StyleColorsLight();
  } else {
    ImGui::StyleColorsDark();
  }
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  io.FontGlobalScale = 1.0f;
  const float size = projector ? 26.0f : 15.0f;  // on the projector: text on the view at least 24 px
  static const char* const kFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  if (!fs::exists(kFont) || io.Fonts->AddFontFromFileTTF(kFont, size) == nullptr) {
    io.Fonts->AddFontDefault();
    io.FontGlobalScale = size / 13.0f;
  }
  if (rebuild) {
    ImGui_ImplOpenGL3_DestroyFontsTexture();
    ImGui_ImplOpenGL3_CreateFontsTexture();
  }
}

/// Writes the window's status whole or not at all (a reader never sees half a file).
void write_status(const std::string& path, const nlohmann::json& status) {
  const std::string temporary = path + ".part";
  std::FILE* f = std::fopen(temporary.c_str(), "w");
  if (f == nullptr) return;
  const std::string text = status.dump() + "\n";
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) == 0 && ok) std::rename(temporary.c_str(), path.c_str());
}

bool write_png(const std::string& path, int width, int height) {
  std::vector<unsigned char> pixels(static_cast<std::size_t>(width) * height * 4);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE, pixels.data());
  // OpenGL's rows go bottom-up, PNG's top-down.
  std::vector<unsigned char> flipped(pixels.size());
  const std::size_t row = static_cast<std::size_t>(width) * 4;
  for (int y = 0; y < height; ++y) {
    std::copy_n(&pixels[static_cast<std::size_t>(height - 1 - y) * row], row,
                &flipped[static_cast<std::size_t>(y) * row]);
  }
  return stbi_write_png(path.c_str(), width, height, 4, flipped.data(), static_cast<int>(row)) != 0;
}

/// An off-screen framebuffer: renders the same pixels with or without a visible window.
struct OffscreenTarget {
  GLuint fbo = 0, color = 0;
  int width = 0, height = 0;
  void create(int w, int h) {
    width = w;
    height = h;
    glGenFramebuffers(1, &fbo);
    glGenRenderbuffers(1, &color);
    glBindRenderbuffer(GL_RENDERBUFFER, color);
    glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, w, h);
    glBindFramebuffer(GL_FRAMEBUFFER, fbo);
    glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, color);
  }
  bool ok() const { return glCheckFramebufferStatus(GL_FRAMEBUFFER) == GL_FRAMEBUFFER_COMPLETE; }
};

class App {
 public:
  App(std::string lab, fs::path labs_dir, bool projector) : labs_(find_labs(labs_dir)), projector_(projector) {
    open(lab);
  }

  bool open(const std::string& path) {
    std::optional<Scenario> lab;
    try {
      lab = load_scenario(path);
    } catch (const std::exception&) {
      // Session reports it, below
    }
    if (lab && bench::is_compare_lab(*lab)) return open_comparison(*lab, path);
    return open_session([&] { return std::make_unique<Session>(path); }, path);
  }

  /// A comparison lab: no network to play, a page of measurements (comparison.hpp), measured on
  /// a background thread while the window goes on drawing.
  bool open_comparison(const Scenario& lab, const std::string& path) {
    return replace_lab(path, [&] {
      auto next = std::make_unique<ComparisonPage>(lab);
      comparison_ = std::move(next);
      session_.reset();
      metric_charts_.clear();
    });
  }

  template <class Make>
  bool open_session(Make make, const std::string& path) {
    return replace_lab(path, [&] {
      auto next = make();
      comparison_.reset();
      session_ = std::move(next);
      layout_ = GraphLayout();
      ring_layout_.reset();
      trie_layout_.reset();
      view_.selected = kNoPeer;
      pinned_.clear();
      reset_zoom();
    });
  }

  /// Opens another lab by `install` (which throws if it cannot; nothing changes then): a sweep
  /// under way stops first, so that the new run's protocol code runs alone. False, with message(),
  /// when it failed and the window still shows the old one; with nothing to show, it throws.
  template <class Install>
  bool replace_lab(const std::string& path, Install install) {
    if (comparison_) comparison_->stop();
    try {
      install();
      lab_path_ = path;
      playing_ = false;
      message_.clear();
      return true;
    } catch (const std::exception& e) {
      message_ = e.what();
      if (!session_ && !comparison_) throw;
      return false;
    }
  }

  /// `--attach PORT`: shows the real peers reporting to that port. False (and message()) if the
  /// port cannot be bound.
  bool attach(int port) {
    const bool ok = open_session([&] { return std::make_unique<Session>(std::make_unique<LiveRun>(port)); },
                                 "live (UDP port " + std::to_string(port) + ")");
    playing_ = ok;  // "playing" reads the reports as they come
    return ok;
  }
  const std::string& message() const { return message_; }

  Session& session() { return *session_; }
  /// False for a comparison lab: a page of measurements, no run.
  bool has_session() const { return session_ != nullptr; }
  ComparisonPage* comparison() { return comparison_.get(); }
  void set_playing(bool on) { playing_ = on; }
  /// Simulated milliseconds per real second while playing.
  void set_speed(float ms_per_second) { speed_ = ms_per_second; }
  float speed() const { return speed_; }
  bool playing() const { return playing_; }
  void select(PeerIndex p) { view_.selected = p; }
  void pin(PeerIndex p) {
    if (std::find(pinned_.begin(), pinned_.end(), p) == pinned_.end()) pinned_.push_back(p);
  }
  void set_compare_reference(bool on) { view_.compare_reference = on; }
  /// XOR geometry: ids on the identifier circle (the ring view) instead of the trie.
  void set_xor_as_ring(bool on) { xor_as_ring_ = on; }
  Geometry shown_geometry() const {
    const Geometry geometry = session_->geometry();
    return geometry == Geometry::XorTrie && xor_as_ring_ ? Geometry::Ring : geometry;
  }

  /// One frame of UI: panels and the view. `dt` is the real time since the last frame.
  void frame(float dt, int width, int height) {
    ++frames_;
    if (!pending_open_.empty()) open(std::exchange(pending_open_, {}));
    if (comparison_) {
      comparison_frame(width, height);
      return;
    }
    if (playing_) {
      // speed_ simulated milliseconds per real second; the clock runs between events too, so a
      // message is seen on its way. Fractions of a microsecond are carried to the next frame.
      play_carry_ += static_cast<double>(dt) * speed_ * 1000.0;
      const auto step = static_cast<SimTime>(play_carry_);
      play_carry_ -= static_cast<double>(step);
      if (step > 0) session_->advance_to(session_->now() + step);
      if (session_->finished() && !session_->live()) playing_ = false;
    }
    keyboard();
    widgets_.clear();
    // The side panel takes at most 30 % of the width (the view is what the room looks at); Tab
    // hides it, and the view takes the whole window.
    const float panel = sidebar_ ? std::min(430.0f * scale(), static_cast<float>(width) * 0.30f) : 0.0f;
    if (sidebar_) {
      ImGui::SetNextWindowPos(ImVec2(0, 0));
      ImGui::SetNextWindowSize(ImVec2(panel, static_cast<float>(height)));
      ImGui::Begin("p2plab", nullptr,
                   ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse);
      ImGui::PushTextWrapPos(0.0f);  // long headers and notes wrap at the panel's edge instead of being cut off
      lab_panel();
      new_scenario_panel();
      time_panel();
      act_panel();
      inspector_panel();
      metrics_panel();
      complexity_panel();
      legend_panel();
      ImGui::PopTextWrapPos();
      ImGui::End();
    }

    ImGui::SetNextWindowPos(ImVec2(panel, 0));
    ImGui::SetNextWindowSize(ImVec2(static_cast<float>(width) - panel, static_cast<float>(height)));
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(0, 0));
    ImGui::Begin("view", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoBringToFrontOnFocus |
                     ImGuiWindowFlags_NoBackground);  // the view paints its own background
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    const ImVec2 size = ImGui::GetContentRegionAvail();
    ImGui::InvisibleButton("canvas", size);
    // Pinned tables take a strip along the bottom: the picture sits above it.
    const ImVec2 picture(size.x, std::max(size.y * 0.5f, size.y - pinned_height_));
    // A click selects (on release, if the mouse did not move); a drag moves the picture; the wheel
    // zooms around the mouse.
    const bool dragged = ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left, 4.0f);
    if (dragged) {
      const ImVec2 delta = ImGui::GetIO().MouseDelta;
      view_.pan = ImVec2(view_.pan.x + delta.x, view_.pan.y + delta.y);
      dragging_ = true;
    }
    const bool clicked = ImGui::IsItemDeactivated() && !std::exchange(dragging_, false) && ImGui::IsItemHovered();
    if (ImGui::IsItemHovered() && ImGui::GetIO().MouseWheel != 0.0f) {
      zoom_at(ImGui::GetIO().MousePos, origin, picture, std::pow(1.2f, ImGui::GetIO().MouseWheel));
    }
    remember("canvas");
    const std::vector<TracedSearch>& searches = session_->searches();
    const Palette palette = projector_ ? Palette::light() : Palette::dark();
    view_.projector = projector_;
    view_.paint_background = false;  // the frame is cleared in its colour (background())
    ImDrawList* draw = ImGui::GetWindowDrawList();
    const Geometry geometry = shown_geometry();
    const bool ring = geometry == Geometry::Ring;
    view_.drawn = record_drawn_ ? &drawn_ : nullptr;
    view_.labels = record_drawn_ ? &labels_ : nullptr;
    view_.segments = record_drawn_ ? &segments_ : nullptr;
    // The legend is drawn over the view afterwards: the view keeps its chart out of where it will
    // be (its entries as of the last frame, which drew the stale pointers and tags they name).
    view_.covered_min = view_.covered_max = ImVec2(0, 0);
    if (legend_on_view_) {
      const LegendBox box = legend_box(legend(palette), origin, ImVec2(size.x, size.y - pinned_height_));
      view_.covered_min = box.corner;
      view_.covered_max = ImVec2(box.corner.x + box.width, box.corner.y + box.height);
    }
    drew_stale_ = drew_loss_ = false;
    drew_tags_.clear();
    view_.drew_stale = &drew_stale_;
    view_.drew_loss = &drew_loss_;
    view_.drew_tags = &drew_tags_;
    header_.clear();
    story_.clear();
    view_.header = &header_;
    view_.story = &story_;
    view_chart_ = ChartRecord{};
    const PeerIndex hovered =
        ring ? draw_ring(draw, origin, picture, *session_, ring_layout_, searches, view_, palette)
        : geometry == Geometry::XorTrie
            ? draw_xor_trie(draw, origin, picture, *session_, trie_layout_, searches, view_, palette, &view_chart_)
        : geometry == Geometry::Zones ? draw_zones(draw, origin, picture, *session_, searches, view_, palette)
                                      : draw_graph(draw, origin, picture, *session_, layout_, searches, view_, palette);
    draw->AddRectFilled(ImVec2(origin.x, origin.y + picture.y), ImVec2(origin.x + size.x, origin.y + size.y),
                        palette.background);
    const bool shift = ImGui::GetIO().KeyShift;
    const OperationField* key_field = first_key_field();
    if (ring && key_field != nullptr && ImGui::IsItemHovered() && shift) {
      // Shift + click picks the key at that point of the identifier circle.
      const ImVec2 mouse = ImGui::GetIO().MousePos;
      const ImVec2 centre(ring_centre(origin, picture).x + view_.pan.x, ring_centre(origin, picture).y + view_.pan.y);
      const float dx = mouse.x - centre.x, dy = mouse.y - centre.y;
      const double turn =
          std::fmod(std::atan2(dx, -dy) / (2 * 3.14159265358979) + 1.0, 1.0);  // 0 at the top, clockwise
      const std::string key = key_at(turn, session_->run().id_bits());
      ImGui::SetTooltip("key %s\nshift + click: take it as the %s of the next operation", key.c_str(),
                        key_field->label.c_str());
      if (clicked) input(*key_field) = key;
    } else if (ImGui::IsItemHovered() && hovered != kNoPeer) {
      const PeerView v = session_->run().inspect_links(hovered);
      ImGui::SetTooltip("peer %s (%s)\n%s", session_->run().id_text(session_->sim().peer_id(hovered)).c_str(),
                        role_name(v.role).c_str(),
                        ring && key_field != nullptr ? "click: inspect it\nshift + click on the ring: pick a key"
                                                     : "click: inspect it");
      if (clicked) view_.selected = hovered;
    }
    // The legend sits above the pinned tables' strip (last frame's height), not over it.
    if (legend_on_view_) draw_legend(draw, origin, ImVec2(size.x, size.y - pinned_height_), palette);
    if (!sidebar_) {
      const char* hint = "Tab: show the panel";
      draw->AddText(ImVec2(origin.x + size.x - ImGui::CalcTextSize(hint).x - 12, origin.y + 10), palette.text_dim,
                    hint);
    }
    if (view_.zoom != 1.0f || view_.pan.x != 0.0f || view_.pan.y != 0.0f) {
      char hint[96];
      std::snprintf(hint, sizeof hint, "zoom x%.1f   wheel: zoom, drag: move, 0: whole network",
                    static_cast<double>(view_.zoom));
      draw->AddText(ImVec2(origin.x + 12, origin.y + size.y - ImGui::GetFontSize() * 1.4f), palette.text_dim, hint);
    }
    last_view_ = {origin, picture};
    ImGui::End();
    ImGui::PopStyleVar();
    pinned_tables(origin, size);
  }

  /// A comparison lab's frame: the side panel with the lab, its note and the theme; the view
  /// with the page (chart and table) instead of a network. Time, actions and the inspector
  /// belong to labs that run a network.
  void comparison_frame(int width, int height) {
    keyboard();
    widgets_.clear();
    const float panel = sidebar_ ? std::min(430.0f * scale(), static_cast<float>(width) * 0.30f) : 0.0f;
    if (sidebar_) {
      ImGui::SetNextWindowPos(ImVec2(0, 0));
      ImGui::SetNextWindowSize(ImVec2(panel, static_cast<float>(height)));
      ImGui::Begin("p2plab", nullptr,
                   ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse);
      ImGui::PushTextWrapPos(0.0f);
      lab_panel();
      const bench::CompareOptions& o = comparison_->options();
      ImGui::Separator();
      ImGui::TextWrapped(
          "This lab measures instead of playing a network: every system on the same peers, files and "
          "searches, for N = %s .. %s peers (%d searches each, %d items x %d replicas, seed %llu).",
          tick_text(std::ldexp(1.0, o.min_log2)).c_str(), tick_text(std::ldexp(1.0, o.max_log2)).c_str(), o.queries,
          o.items, o.replicas, static_cast<unsigned long long>(o.seed));
      ImGui::TextDisabled("No time, actions or inspector here: open a system's lab to watch it at work.");
      if (comparison_->measured()) {
        ImGui::TextDisabled("Measured in %.1f s: the sweep of p2plab run on this lab.", comparison_->seconds());
      } else {
        ImGui::TextWrapped("%s", comparison_->progress().c_str());
      }
      bool projector = projector_;
      if (ImGui::Checkbox("projector mode", &projector)) set_projector(projector);
      help_marker("Large type and a light, high-contrast theme for the lecture hall (key P). Tab hides this panel.");
      if (ImGui::Button("save view as PNG")) save_requested_ = true;
      ImGui::PopTextWrapPos();
      ImGui::End();
    }
    ImGui::SetNextWindowPos(ImVec2(panel, 0));
    ImGui::SetNextWindowSize(ImVec2(static_cast<float>(width) - panel, static_cast<float>(height)));
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(0, 0));
    ImGui::Begin("view", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoBringToFrontOnFocus);
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    const ImVec2 size = ImGui::GetContentRegionAvail();
    ImGui::InvisibleButton("canvas", size);
    const Palette palette = projector_ ? Palette::light() : Palette::dark();
    ImDrawList* draw = ImGui::GetWindowDrawList();
    draw->AddRectFilled(origin, ImVec2(origin.x + size.x, origin.y + size.y), palette.background);
    comparison_->draw(draw, origin, size, projector_, record_drawn_);
    if (!sidebar_) {
      const char* hint = "Tab: show the panel";
      draw->AddText(ImVec2(origin.x + size.x - ImGui::CalcTextSize(hint).x - 12, origin.y + 10), palette.text_dim,
                    hint);
    }
    ImGui::End();
    ImGui::PopStyleVar();
  }

  /// What `--positions` adds to the view's peers and labels: the lab browser's list (in its
  /// order), the metric charts' texts, and a comparison lab's chart and table.
  nlohmann::json positions_extra() const {
    nlohmann::json labs = nlohmann::json::array();
    for (const LabEntry& lab : labs_) labs.push_back({{"name", lab.name}, {"protocol", lab.protocol}});
    nlohmann::json out = {{"labs", labs}, {"charts", charts_json()}};
    if (!view_chart_.name.empty()) out["view_chart"] = chart_json(view_chart_);  // drawn on the view
    if (comparison_) out["comparison"] = comparison_->positions();
    return out;
  }

  /// Records where the view draws each peer (for `--positions`).
  void record_drawn(bool on) { record_drawn_ = on; }
  const std::vector<DrawnPeer>& drawn() const { return drawn_; }
  /// The sentence the view wrote over the picture this frame ("" if none).
  const std::string& header() const { return header_; }
  const std::vector<DrawnLabel>& labels() const { return labels_; }
  const std::vector<DrawnSegment>& segments() const { return segments_; }
  /// The sentence under it: the current search's latest step in the protocol's words.
  const std::string& story() const { return story_; }

  float scale() const { return projector_ ? 1.6f : 1.0f; }
  /// The view's background colour in the current theme (the frame is cleared in it).
  ImU32 background() const { return (projector_ ? Palette::light() : Palette::dark()).background; }
  bool projector() const { return projector_; }
  /// Projector mode: a light high-contrast theme and large type, for the panel and the view alike.
  void set_projector(bool on) {
    theme_changed_ = theme_changed_ || on != projector_;
    projector_ = on;
  }
  /// True once after the theme changed: the program then rebuilds ImGui's style and fonts
  /// (between two frames, as ImGui requires).
  bool take_theme_change() { return std::exchange(theme_changed_, false); }
  bool sidebar() const { return sidebar_; }
  bool wants_screenshot() { return std::exchange(save_requested_, false); }

  /// What the window shows now, for tests that drive it with real input (`--status`): the clock,
  /// play state and speed, the selection, where each peer and each main control was drawn (window
  /// pixels, y down), and how many views were saved (key S).
  nlohmann::json status() const {
    if (comparison_) {
      nlohmann::json widgets = nlohmann::json::object();
      for (const auto& [name, r] : widgets_) widgets[name] = {r[0], r[1], r[2], r[3]};
      return {{"lab", fs::path(lab_path_).stem().string()},
              {"frames", frames_},
              {"projector", projector_},
              {"sidebar", sidebar_},
              {"saved", saved_},
              {"measured", comparison_->measured()},
              {"progress", comparison_->progress()},
              {"widgets", widgets}};
    }
    nlohmann::json peers = nlohmann::json::array();
    for (const DrawnPeer& d : drawn_) {
      peers.push_back({{"id", session_->sim().peer_id(d.peer).to_decimal()},
                       {"x", d.at.x},
                       {"y", d.at.y},
                       {"radius", d.radius},
                       {"up", session_->sim().is_up(d.peer)}});
    }
    nlohmann::json widgets = nlohmann::json::object();
    for (const auto& [name, r] : widgets_) widgets[name] = {r[0], r[1], r[2], r[3]};
    // The texts on the view (ids, bucket rows, round numbers) and the current search's drawn hops.
    nlohmann::json labels = nlohmann::json::array(), segments = nlohmann::json::array();
    for (const DrawnLabel& l : labels_)
      labels.push_back({{"text", l.text}, {"box", {l.min.x, l.min.y, l.max.x, l.max.y}}});
    for (const DrawnSegment& g : segments_) {
      segments.push_back({{"kind", g.kind},
                          {"from", session_->sim().peer_id(g.from).to_decimal()},
                          {"to", session_->sim().peer_id(g.to).to_decimal()},
                          {"index", g.index}});
    }
    const PeerIndex s = view_.selected;
    return {{"lab", fs::path(lab_path_).stem().string()},
            {"frames", frames_},
            {"t_ms", to_ms(session_->now())},
            {"position", session_->position()},
            {"playing", playing_},
            {"speed_ms_per_s", speed_},
            {"selected", s == kNoPeer ? nlohmann::json() : nlohmann::json(session_->sim().peer_id(s).to_decimal())},
            {"live", session_->sim().live_count()},
            {"saved", saved_},
            {"projector", projector_},
            {"sidebar", sidebar_},
            {"zoom", view_.zoom},
            {"pan", {view_.pan.x, view_.pan.y}},
            {"header", header_},
            {"story", story_},
            {"peers", peers},
            {"widgets", widgets},
            {"labels", labels},
            {"segments", segments},
            {"view_chart", view_chart_.name.empty() ? nlohmann::json() : chart_json(view_chart_)},
            {"charts", charts_json()}};
  }
  void note_saved() { ++saved_; }

  /// A key went down (GLFW's key callback). Queued rather than read from ImGui's key state, which
  /// in ImGui 1.86 loses a key pressed and released between two frames (a quick tap on a busy
  /// machine): every press counts.
  void key_pressed(int key, bool shift) { key_presses_.push_back({key, shift}); }

 private:
  /// The shortcuts, from the key presses of this frame (key_pressed): space plays or pauses, the
  /// arrows step (with shift: a whole search), S saves the view as PNG.
  void keyboard() {
    const std::vector<KeyPress> presses = std::exchange(key_presses_, {});
    if (ImGui::GetIO().WantTextInput) return;  // typing into a field
    for (const KeyPress& press : presses) {
      switch (press.key) {
        case GLFW_KEY_SPACE:
          playing_ = !playing_;
          break;
        case GLFW_KEY_S:
          save_requested_ = true;
          break;
        case GLFW_KEY_P:
          set_projector(!projector_);
          break;
        case GLFW_KEY_TAB:
          sidebar_ = !sidebar_;
          break;
        case GLFW_KEY_L:
          legend_on_view_ = !legend_on_view_;
          break;
        case GLFW_KEY_EQUAL:
        case GLFW_KEY_KP_ADD:
          zoom_at(view_centre(), last_view_.first, last_view_.second, 1.25f);
          break;
        case GLFW_KEY_MINUS:
        case GLFW_KEY_KP_SUBTRACT:
          zoom_at(view_centre(), last_view_.first, last_view_.second, 1.0f / 1.25f);
          break;
        case GLFW_KEY_0:
        case GLFW_KEY_KP_0:
          reset_zoom();
          break;
        default:
          break;
      }
      if (!session_) continue;  // a comparison: no run to step
      switch (press.key) {
        case GLFW_KEY_RIGHT:
          press.shift ? session_->step_search() : session_->step();
          break;
        case GLFW_KEY_LEFT:
          press.shift ? session_->step_search_back() : session_->step_back();
          break;
        default:
          break;
      }
    }
  }

  /// Zooms by `factor` keeping the point under `at` where it is (the pan follows). The zoom
  /// stays within 0.5 .. 40 (a 2,000-peer ring's neighbours apart at 40).
  void zoom_at(ImVec2 at, ImVec2 origin, ImVec2 size, float factor) {
    const float zoom = std::clamp(view_.zoom * factor, 0.5f, 40.0f);
    // The picture's centre without pan, as both views place it.
    const ImVec2 centre = ring_centre(origin, size);
    const float k = zoom / view_.zoom;
    view_.pan = ImVec2(at.x - centre.x - (at.x - centre.x - view_.pan.x) * k,
                       at.y - centre.y - (at.y - centre.y - view_.pan.y) * k);
    view_.zoom = zoom;
  }
  void reset_zoom() {
    view_.zoom = 1.0f;
    view_.pan = ImVec2(0, 0);
  }
  ImVec2 view_centre() const {
    return ImVec2(last_view_.first.x + last_view_.second.x / 2, last_view_.first.y + last_view_.second.y / 2);
  }

  void lab_panel() {
    const Scenario& s = comparison_ ? comparison_->scenario() : session_->scenario();
    ImGui::TextWrapped("%s", s.title.empty() ? lab_path_.c_str() : s.title.c_str());
    // Every lab in view at once (a list of a dozen, not the 8 of a default combo).
    const ImVec2 combo_at = ImGui::GetCursorScreenPos();
    const bool browsing =
        ImGui::BeginCombo("lab", fs::path(lab_path_).stem().string().c_str(), ImGuiComboFlags_HeightLargest);
    // The combo's box (the last item, once its list is open, is the list).
    widgets_["lab_browser"] = {combo_at.x, combo_at.y, combo_at.x + ImGui::CalcItemWidth(),
                               combo_at.y + ImGui::GetFrameHeight()};
    if (browsing) {
      for (const LabEntry& lab : labs_) {
        // Opened at the next frame: the panels after this one draw the lab they began with.
        if (ImGui::Selectable((lab.name + "  [" + lab.protocol + "]").c_str(), lab.path == lab_path_))
          pending_open_ = lab.path;
        remember(("lab:" + lab.name).c_str());
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", lab.title.c_str());
      }
      ImGui::EndCombo();
    }
    help_marker("The lecture's labs. Each has a note for the lecturer: what to show, what to ask.");
    const std::string code = describe_linked_code();
    if (code == "the reference code") {
      ImGui::TextDisabled("Code: the reference solutions");
    } else {
      ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.3f, 0.9f, 0.9f, 1));
      ImGui::TextWrapped("Code: %s", code.c_str());
      ImGui::PopStyleColor();
    }
    help_marker(
        "Which code makes the protocol's decisions. Build with -DP2PLAB_CODE=student to run your own "
        "exercises (exercises/README.md); where the protocol has a reference route, tick 'compare with "
        "the reference route' to see where your searches differ from the ideal ones.");
    if (!s.note.empty() && ImGui::CollapsingHeader("Lecturer's note", ImGuiTreeNodeFlags_DefaultOpen)) {
      ImGui::TextWrapped("%s", s.note.c_str());
    }
    if (!message_.empty()) ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "%s", message_.c_str());
  }

  void new_scenario_panel() {
    if (!ImGui::CollapsingHeader("New scenario")) return;
    const std::vector<const ProtocolInfo*> protocols = all_protocols().simulated();  // tools-only ones: nothing to run
    if (protocols.empty()) return;
    if (new_protocol_ < 0) {  // first offer the protocol of the lab that is open
      for (std::size_t i = 0; i < protocols.size(); ++i) {
        if (protocols[i]->name == session_->scenario().protocol) new_protocol_ = static_cast<int>(i);
      }
    }
    new_protocol_ = std::clamp<int>(new_protocol_, 0, static_cast<int>(protocols.size()) - 1);
    if (ImGui::BeginCombo("protocol", protocols[static_cast<std::size_t>(new_protocol_)]->name.c_str())) {
      for (std::size_t i = 0; i < protocols.size(); ++i) {
        if (ImGui::Selectable(protocols[i]->name.c_str(), static_cast<int>(i) == new_protocol_))
          new_protocol_ = static_cast<int>(i);
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", protocols[i]->description.c_str());
      }
      ImGui::EndCombo();
    }
    const ProtocolInfo& protocol = *protocols[static_cast<std::size_t>(new_protocol_)];
    ImGui::SliderInt("peers", &new_peers_, 2, 2000, "%d", ImGuiSliderFlags_Logarithmic);
    ImGui::InputInt("seed", &new_seed_);
    ScenarioRequest request;
    request.peers = new_peers_;
    request.seed = static_cast<std::uint64_t>(std::max(0, new_seed_));
    for (const ParameterInfo& parameter : protocol.model.parameters) {
      if (!parameter.in_new_scenario) continue;
      const std::string key = protocol.name + "/" + parameter.name;
      auto [it, fresh] = new_params_.try_emplace(key, parameter.default_value);
      (void)fresh;
      parameter_slider(("##new" + key).c_str(), parameter, it->second);
      request.params[parameter.name] = it->second;
    }
    ImGui::Checkbox("peers join one by one", &new_join_);
    help_marker(
        "Off: the network is built converged at time 0 (an oracle sets every peer's state). On: every "
        "peer joins through the protocol itself.");
    request.join = new_join_;
    if (!protocol.model.make_scenario) {
      ImGui::TextDisabled("%s does not build scenarios here", protocol.name.c_str());
      return;
    }
    if (ImGui::Button("create")) {
      nlohmann::json doc;
      try {
        doc = protocol.model.make_scenario(request);
      } catch (const std::exception& e) {
        message_ = e.what();
        return;
      }
      open_session([&] { return std::make_unique<Session>(doc, "new scenario"); }, "new scenario");
    }
  }

  /// A slider for a parameter within its range (integer or not), labelled and explained.
  static void parameter_slider(const char* id, const ParameterInfo& parameter, double& value) {
    ImGui::TextUnformatted(parameter.label.empty() ? parameter.name.c_str() : parameter.label.c_str());
    if (!parameter.help.empty()) help_marker(parameter.help.c_str());
    if (parameter.integer) {
      int v = static_cast<int>(std::lround(value));
      const bool wide = parameter.max - parameter.min > 1000;
      if (ImGui::SliderInt(id, &v, static_cast<int>(parameter.min), static_cast<int>(parameter.max), "%d",
                           wide ? ImGuiSliderFlags_Logarithmic : 0)) {
        value = v;
      }
    } else {
      float v = static_cast<float>(value);
      if (ImGui::SliderFloat(id, &v, static_cast<float>(parameter.min), static_cast<float>(parameter.max))) value = v;
    }
  }

  void time_panel() {
    if (!ImGui::CollapsingHeader("Time", ImGuiTreeNodeFlags_DefaultOpen)) return;
    if (ImGui::Button("|<")) session_->seek(0);
    remember("to_start");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Back to the start");
    ImGui::SameLine();
    if (ImGui::Button("<<")) session_->step_search_back();
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Back to before the last %s (shift + left)", noun());
    ImGui::SameLine();
    if (ImGui::Button("<")) session_->step_back();
    remember("step_back");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("One event back (left arrow)");
    ImGui::SameLine();
    if (ImGui::Button(playing_ ? "Pause" : "Play")) playing_ = !playing_;
    remember("play");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Play or pause (space)");
    ImGui::SameLine();
    if (ImGui::Button(">")) session_->step();
    remember("step");
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("One event forward: a message delivered, a timer, a join... (right arrow)");
    ImGui::SameLine();
    if (ImGui::Button(">>")) session_->step_search();
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Forward to the end of the next %s (shift + right)", noun());
    float speed_log = std::log10(speed_);
    // The slider shows its value in words ("50 ms per second"): a format with no number in it.
    if (ImGui::SliderFloat("speed", &speed_log, 0.0f, 4.0f, speed_text(speed_).c_str()))
      speed_ = std::pow(10.0f, speed_log);
    remember("speed");
    help_marker(
        "Simulated time per second of play. At 50 ms per second a message with a latency of 30 ms "
        "takes 0.6 s to cross the view; 1000 ms per second is real time.");
    float t = static_cast<float>(to_ms(session_->now()));
    const float end = static_cast<float>(to_ms(session_->end_time()));
    if (ImGui::SliderFloat("time", &t, 0.0f, end, "%.0f ms")) {
      const SimTime target = from_ms(static_cast<double>(t));
      if (target < session_->now()) session_->seek(0);
      session_->advance_to(target);
    }
    help_marker(
        "Scrub through the whole run. Going back re-simulates from the start: the engine is "
        "deterministic, so every moment looks the same every time.");
    ImGui::Text("t = %.1f ms, event %llu, %zu peers alive", to_ms(session_->now()),
                static_cast<unsigned long long>(session_->position()), session_->sim().live_count());
    if (const LiveRun* live = session_->live_run()) {
      ImGui::Text("live: %llu reports, %llu dropped; play reads them, pause freezes the view",
                  static_cast<unsigned long long>(live->reports()), static_cast<unsigned long long>(live->dropped()));
    }
  }

  void act_panel() {
    const bool open = ImGui::CollapsingHeader("Act on the network");
    remember("act_header");
    if (!open) return;
    const ProtocolModel& model = session_->model();
    const PeerIndex p = view_.selected;
    const std::string id = p == kNoPeer ? "" : session_->sim().peer_id(p).to_decimal();
    auto act = [&](nlohmann::json op) {
      message_ = session_->act(op);
      if (message_.empty()) message_ = "done: " + op.dump();
    };
    if (p == kNoPeer) ImGui::TextDisabled("Click a peer in the view to act on it.");
    if (session_->has_reference_route()) {
      ImGui::Checkbox("compare with the reference route", &view_.compare_reference);
      help_marker(
          "Draws, dashed, the route an ideal instance of the protocol takes for the current search (every "
          "peer's state exactly right, computed from the live peers) and says where this run's route parts "
          "from it. On a student build: your code's route against the reference.");
    }
    // The operations' inputs, one per field name (several operations share a key), then one
    // button per operation; the selected peer fills the field that names the requester.
    std::vector<const OperationField*> fields;
    for (const OperationInfo& op : model.operations) {
      for (const OperationField& field : op.fields) {
        if (field.name == op.peer_field) continue;
        const bool seen =
            std::any_of(fields.begin(), fields.end(), [&](const OperationField* f) { return f->name == field.name; });
        if (!seen) fields.push_back(&field);
      }
    }
    for (const OperationField* field : fields) {
      std::string& text = input(*field);
      char buffer[128];
      std::snprintf(buffer, sizeof buffer, "%s", text.c_str());
      if (ImGui::InputText(field->label.empty() ? field->name.c_str() : field->label.c_str(), buffer, sizeof buffer))
        text = buffer;
      if (!field->help.empty()) help_marker(field->help.c_str());
    }
    // The buttons in rows, wrapped at the panel's edge.
    bool first = true;
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    for (const OperationInfo& op : model.operations) {
      const bool needs_peer = !op.peer_field.empty();
      if (needs_peer && p == kNoPeer) continue;
      const std::string label = !needs_peer ? op.label : op.label + (op.peer_field == "from" ? " from " : " ") + id;
      const float width = ImGui::CalcTextSize(label.c_str()).x + 2 * ImGui::GetStyle().FramePadding.x;
      if (!first) {
        ImGui::SameLine();
        if (ImGui::GetCursorScreenPos().x + width > right) ImGui::NewLine();
      }
      first = false;
      const bool pressed = ImGui::Button((label + "##" + op.op).c_str());
      remember(("op:" + op.op).c_str());
      if (pressed) {
        std::string error;
        const nlohmann::json json = operation_json(
            op, id, [&](const OperationField& f) { return input(f); }, error);
        if (error.empty()) {
          act(json);
        } else {
          message_ = error;
        }
      }
      if (ImGui::IsItemHovered() && !op.help.empty()) ImGui::SetTooltip("%s", op.help.c_str());
    }
    // Parameters, changed while the run goes on.
    for (const ParameterInfo& parameter : model.parameters) {
      if (!parameter.settable) continue;
      auto [it, fresh] =
          set_params_.try_emplace(session_->scenario().protocol + "/" + parameter.name, parameter.default_value);
      (void)fresh;
      parameter_slider(("##set" + parameter.name).c_str(), parameter, it->second);
      ImGui::SameLine();
      if (ImGui::Button(("set##" + parameter.name).c_str())) {
        const nlohmann::json value =
            parameter.integer ? nlohmann::json(std::lround(it->second)) : nlohmann::json(it->second);
        act({{"op", "set"}, {"param", parameter.name}, {"value", value}});
      }
    }
    // Crash and leave: scenario operations every protocol takes, unless its model lists them.
    const bool lists_churn = std::any_of(model.operations.begin(), model.operations.end(),
                                         [](const OperationInfo& op) { return op.op == "fail" || op.op == "leave"; });
    if (p != kNoPeer && !lists_churn && !session_->live()) {
      const nlohmann::json who = id_json(id);
      if (ImGui::Button(("crash " + id).c_str())) act({{"op", "fail"}, {"peer", who}});
      remember("op:fail");
      ImGui::SameLine();
      if (ImGui::Button(("leave " + id).c_str())) act({{"op", "leave"}, {"peer", who}});
      remember("op:leave");
      help_marker(
          "Crash: the peer stops without a word (its neighbours notice by timeouts). "
          "Leave: it says goodbye first and hands over what it holds.");
    }
  }

  /// The text typed for an operation's field (shared by the operations that have a field of
  /// that name), first its default.
  std::string& input(const OperationField& field) {
    const std::string key = session_->scenario().protocol + "/" + field.name;
    return inputs_.try_emplace(key, field.default_value).first->second;
  }

  /// The first key field of the protocol's operations (shift + click on the ring fills it).
  const OperationField* first_key_field() const {
    for (const OperationInfo& op : session_->model().operations) {
      for (const OperationField& field : op.fields) {
        if (field.kind == OperationField::Kind::Key) return &field;
      }
    }
    return nullptr;
  }

  const char* noun() const { return session_->model().search_noun.c_str(); }

  std::string role_name(std::size_t role) const {
    const auto& roles = session_->model().roles;
    return role < roles.size() ? roles[role].name : "peer";
  }

  void inspector_panel() {
    if (!ImGui::CollapsingHeader("Inspector", ImGuiTreeNodeFlags_DefaultOpen)) return;
    if (view_.selected == kNoPeer) {
      ImGui::TextDisabled("Click a peer to see its state as the lecture draws it.");
      return;
    }
    const ProtocolModel& model = session_->model();
    const PeerView v = session_->run().inspect(view_.selected);
    ImGui::Text("peer %s: %s, %s", session_->run().id_text(v.id).c_str(), role_name(v.role).c_str(),
                v.state == PeerState::Up       ? "alive"
                : v.state == PeerState::Failed ? "crashed"
                                               : "left");
    // Links that no table shows (a predecessor, say), one line per kind.
    std::vector<bool> in_table(v.links.size(), false);
    for (const TableView& t : v.tables) {
      for (const auto& row : t.rows) {
        if (row.link >= 0 && static_cast<std::size_t>(row.link) < v.links.size())
          in_table[static_cast<std::size_t>(row.link)] = true;
      }
    }
    for (std::size_t kind = 0; kind < model.link_kinds.size(); ++kind) {
      std::string line;
      int listed = 0, more = 0;
      for (std::size_t i = 0; i < v.links.size(); ++i) {
        const Link& link = v.links[i];
        if (link.kind != kind || in_table[i] || link.target == kNoPeer) continue;
        if (listed == 12) {
          ++more;
          continue;
        }
        line += (listed++ ? ", " : "") + session_->run().id_text(session_->sim().peer_id(link.target));
      }
      if (more > 0) line += " and " + std::to_string(more) + " more";
      if (listed > 0) ImGui::Text("%s: %s", model.link_kinds[kind].name.c_str(), line.c_str());
    }
    message_log(view_.selected);
    int table_id = 0;
    for (const TableView& t : v.tables) {
      if (t.rows.empty()) continue;
      ImGui::TextUnformatted(t.title.c_str());
      if (!t.help.empty()) help_marker(t.help.c_str());
      if (table_id == 0 && t.columns.size() > 1) {
        // The first table (a finger table) can be pinned on the view, beside other peers'.
        ImGui::SameLine();
        const bool pinned = std::find(pinned_.begin(), pinned_.end(), view_.selected) != pinned_.end();
        if (ImGui::SmallButton(pinned ? "unpin" : "pin on the view")) toggle_pin(view_.selected);
        remember("pin");
      }
      ImGui::PushID(table_id++);
      draw_table(t, v, used_rows(view_.selected), t.rows.size() > 16 && !every_row_);
      ImGui::PopID();
    }
    if (std::any_of(v.tables.begin(), v.tables.end(), [](const TableView& t) { return t.rows.size() > 16; })) {
      ImGui::Checkbox("every row (do not merge)", &every_row_);
      help_marker(
          "At large m most rows of a finger table name the same peer: such runs are merged into one row (its "
          "i range, first start, joined interval and successor), one row per distinct finger. Tick to see "
          "every row.");
    }
  }

  /// The peers the current search moved on to from peer p (one finger of a routed search, every
  /// neighbour a flood went to): the rows whose links point to them are highlighted.
  std::vector<PeerIndex> used_rows(PeerIndex p) const {
    std::vector<PeerIndex> used_next;
    if (const TracedSearch* current = session_->current_search(session_->searches())) {
      for (const auto& hop : current->hops) {
        if (hop.time <= session_->now() && hop.forward() && hop.from == p) used_next.push_back(hop.to);
      }
    }
    return used_next;
  }

  void toggle_pin(PeerIndex p) {
    const auto it = std::find(pinned_.begin(), pinned_.end(), p);
    if (it != pinned_.end()) {
      pinned_.erase(it);
    } else {
      pinned_.push_back(p);
    }
  }

  /// A table as the slides draw it: its typed cells printed, a peer cell a link (click: select
  /// that peer), the rows the current search used highlighted; with `merge`, consecutive rows
  /// pointing to the same peer shown as one ("0..97", the first start, the joined interval).
  void draw_table(const TableView& t, const PeerView& v, const std::vector<PeerIndex>& used_next, bool merge,
                  bool fit = false) {
    if (!ImGui::BeginTable(
            t.title.c_str(), static_cast<int>(std::max<std::size_t>(1, t.columns.size())),
            ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | (fit ? ImGuiTableFlags_SizingFixedFit : 0))) {
      return;
    }
    for (const auto& c : t.columns) ImGui::TableSetupColumn(c.c_str());
    ImGui::TableHeadersRow();
    const auto target_of = [&](const TableView::Row& row) {
      return row.link >= 0 && static_cast<std::size_t>(row.link) < v.links.size()
                 ? v.links[static_cast<std::size_t>(row.link)].target
                 : kNoPeer;
    };
    int shown = 0;
    for (std::size_t i = 0; i < t.rows.size() && shown < 64; ++i) {
      const TableView::Row& row = t.rows[i];
      std::size_t last = i;
      while (merge && target_of(row) != kNoPeer && last + 1 < t.rows.size() &&
             target_of(t.rows[last + 1]) == target_of(row)) {
        ++last;
      }
      ++shown;
      ImGui::TableNextRow();
      const bool used =
          target_of(row) != kNoPeer && std::find(used_next.begin(), used_next.end(), target_of(row)) != used_next.end();
      if (used) ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, IM_COL32(200, 60, 70, 110));
      for (std::size_t k = 0; k < row.cells.size(); ++k) {
        const Cell& cell = row.cells[k];
        ImGui::TableNextColumn();
        std::string text = cell.text;
        if (last > i && k < t.rows[last].cells.size()) {
          const std::string& end = t.rows[last].cells[k].text;
          if (cell.kind == Cell::Kind::Interval) {
            // "[a, b)" .. "[c, d)" -> "[a, d)"
            const auto left = text.find(", "), right = end.find(", ");
            if (left != std::string::npos && right != std::string::npos)
              text = text.substr(0, left) + end.substr(right);
          } else if (k == 0 && end != text) {
            text += ".." + end;
          }
        }
        if (cell.kind == Cell::Kind::Peer && cell.peer != kNoPeer && cell.peer < session_->sim().peer_count()) {
          ImGui::PushID(static_cast<int>(i * 64 + k));
          if (ImGui::Selectable(text.c_str())) view_.selected = cell.peer;
          ImGui::PopID();
        } else {
          ImGui::TextUnformatted(text.c_str());
        }
      }
      i = last;
    }
    ImGui::EndTable();
  }

  /// The pinned peers' first tables, side by side along the bottom-left of the view (each window
  /// closes to unpin), so that the class compares several finger tables at once.
  void pinned_tables(ImVec2 origin, ImVec2 size) {
    float x = origin.x + 12;
    pinned_height_ = 0;
    for (std::size_t i = 0; i < pinned_.size(); ++i) {
      const PeerIndex p = pinned_[i];
      if (p >= session_->sim().peer_count()) continue;
      const PeerView v = session_->run().inspect(p);
      const auto table =
          std::find_if(v.tables.begin(), v.tables.end(), [](const TableView& t) { return !t.rows.empty(); });
      if (table == v.tables.end()) continue;
      bool open = true;
      const std::string title = table->title + " of " + session_->run().id_text(v.id) +
                                (v.state == PeerState::Up ? "" : " (crashed)") + "##pinned" + std::to_string(p);
      ImGui::SetNextWindowPos(ImVec2(x, origin.y + size.y - 12), ImGuiCond_Always, ImVec2(0, 1));
      ImGui::SetNextWindowBgAlpha(0.92f);
      if (ImGui::Begin(title.c_str(), &open,
                       ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoMove |
                           ImGuiWindowFlags_NoFocusOnAppearing | ImGuiWindowFlags_NoSavedSettings)) {
        if (table->is_tree()) {
          draw_tree_table(*table);
        } else {
          draw_table(*table, v, used_rows(p), table->rows.size() > 16 && !every_row_, true);
        }
        x += ImGui::GetWindowWidth() + 12;
        pinned_height_ = std::max(pinned_height_, ImGui::GetWindowHeight() + 24);
        const ImVec2 a = ImGui::GetWindowPos(), b(a.x + ImGui::GetWindowWidth(), a.y + ImGui::GetWindowHeight());
        widgets_["pinned:" + v.id.to_decimal()] = {a.x, a.y, b.x, b.y};
      }
      ImGui::End();
      if (!open) {
        pinned_.erase(pinned_.begin() + static_cast<std::ptrdiff_t>(i));
        --i;
      }
    }
  }

  /// A tree table (a Merkle DAG) drawn as its tree: the first row at the top, every row a box
  /// under its parent (the last row above it one level up), linked to it, the leaves side by side
  /// at the bottom; each box tinted by the row's colour class, its first two cells written in it
  /// (the tree prefix "|- " of the text form dropped).
  /// Worked example: rows root(0) a(1) b(1) c(1) give three leaves a b c in a line, the root
  /// centred above them, three links.
  void draw_tree_table(const TableView& t) {
    const Palette palette = projector_ ? Palette::light() : Palette::dark();
    const std::size_t n = t.rows.size();
    const auto cell_text = [&](std::size_t i, std::size_t k) {
      if (k >= t.rows[i].cells.size()) return std::string();
      const std::string& text = t.rows[i].cells[k].text;
      const auto start = text.find_first_not_of(" |`-");
      return start == std::string::npos ? std::string() : text.substr(start);
    };
    std::vector<int> parent(n, -1);
    std::vector<std::vector<std::size_t>> children(n);
    std::vector<std::size_t> open;  // the last row seen at each depth
    int depth_max = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const int depth = std::max(0, t.rows[i].depth);
      depth_max = std::max(depth_max, depth);
      open.resize(static_cast<std::size_t>(depth));
      if (depth > 0 && !open.empty()) {
        parent[i] = static_cast<int>(open.back());
        children[open.back()].push_back(i);
      }
      open.push_back(i);
    }
    const float pad = 6 * scale(), line = ImGui::GetTextLineHeight();
    float box_width = 0;
    for (std::size_t i = 0; i < n; ++i) {
      box_width = std::max(
          {box_width, ImGui::CalcTextSize(cell_text(i, 0).c_str()).x, ImGui::CalcTextSize(cell_text(i, 1).c_str()).x});
    }
    box_width += 2 * pad;
    // A row marked stale (a corrupted copy of the block was rejected) gets a third line saying so.
    const bool any_stale = std::any_of(t.rows.begin(), t.rows.end(), [](const TableView::Row& r) { return r.stale; });
    const char* stale_text = "bad copy rejected";
    if (any_stale) box_width = std::max(box_width, ImGui::CalcTextSize(stale_text).x + 2 * pad);
    const float box_height = (any_stale ? 3 : 2) * line + 2 * pad, level = box_height + 1.5f * line, gap = line;
    // The leaves from the left in row order; a parent centred over its first and last child
    // (rows in preorder: a child comes after its parent, so the rows backwards settle children first).
    std::vector<float> x(n, 0);
    std::size_t leaves = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (children[i].empty()) x[i] = static_cast<float>(leaves++) * (box_width + gap) + box_width / 2;
    }
    for (std::size_t i = n; i-- > 0;) {
      if (!children[i].empty()) x[i] = (x[children[i].front()] + x[children[i].back()]) / 2;
    }
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    const ImVec2 size(static_cast<float>(leaves) * (box_width + gap) - gap,
                      static_cast<float>(depth_max) * level + box_height);
    ImGui::Dummy(size);
    ImDrawList* draw = ImGui::GetWindowDrawList();
    const auto top_of = [&](std::size_t i) {
      return ImVec2(origin.x + x[i] - box_width / 2,
                    origin.y + static_cast<float>(std::max(0, t.rows[i].depth)) * level);
    };
    for (std::size_t i = 0; i < n; ++i) {  // the links first, under the boxes
      if (parent[i] < 0) continue;
      const ImVec2 a = top_of(static_cast<std::size_t>(parent[i])), b = top_of(i);
      draw->AddLine(ImVec2(a.x + box_width / 2, a.y + box_height), ImVec2(b.x + box_width / 2, b.y), palette.text_dim,
                    2.0f);
    }
    for (std::size_t i = 0; i < n; ++i) {
      const ImVec2 a = top_of(i), b(a.x + box_width, a.y + box_height);
      const Colour colour = t.rows[i].colour;
      draw->AddRectFilled(a, b, colour == Colour::Neutral ? palette.background : with_alpha(palette.role(colour), 70),
                          4.0f);
      const bool stale = t.rows[i].stale;
      draw->AddRect(a, b,
                    stale                       ? palette.path
                    : colour == Colour::Neutral ? palette.text_dim
                                                : palette.role(colour),
                    4.0f, 0, stale ? 3.5f : 1.5f);
      const std::string name = cell_text(i, 0), kind = cell_text(i, 1);
      const ImVec2 at(a.x + pad, a.y + pad);
      draw->AddText(at, palette.text, name.c_str());
      draw->AddText(ImVec2(at.x, at.y + line), palette.text_dim, kind.c_str());
      if (stale) draw->AddText(ImVec2(at.x, at.y + 2 * line), palette.path, stale_text);
      if (record_drawn_) {  // the node's name (its box's top line) and its mark
        const ImVec2 extent = ImGui::CalcTextSize(name.c_str());
        labels_.push_back({name, at, ImVec2(at.x + extent.x, at.y + extent.y)});
        if (stale) {
          const ImVec2 mark(at.x, at.y + 2 * line), mark_extent = ImGui::CalcTextSize(stale_text);
          labels_.push_back({stale_text, mark, ImVec2(mark.x + mark_extent.x, mark.y + mark_extent.y)});
        }
      }
    }
    if (!t.help.empty()) {
      ImGui::TextDisabled("(?)");
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", t.help.c_str());
    }
  }

  /// The selected peer's last messages, from the trace; a click selects the other peer.
  void message_log(PeerIndex p) {
    if (!ImGui::TreeNode("Messages sent and received")) return;
    const TraceVocabulary& vocabulary = session_->vocabulary();
    const auto& trace = session_->trace();
    int shown = 0;
    for (auto it = trace.rbegin(); it != trace.rend() && shown < 40; ++it) {
      const TraceEvent& e = *it;
      if ((e.kind != TraceKind::Send && e.kind != TraceKind::Deliver && e.kind != TraceKind::Drop) ||
          (e.peer != p && e.other != p) || (e.kind == TraceKind::Send && e.peer != p) ||
          (e.kind == TraceKind::Deliver && e.other != p)) {
        continue;
      }
      ++shown;
      const bool sent = e.peer == p;
      const PeerIndex other = sent ? e.other : e.peer;
      const std::string type = e.detail < vocabulary.message_types.size() ? vocabulary.message_types[e.detail] : "?";
      char line[160];
      std::snprintf(line, sizeof line, "%9.1f ms  %s %s %s %s##%zu", to_ms(e.time),
                    e.kind == TraceKind::Drop ? "LOST"
                    : sent                    ? "sent"
                                              : "got ",
                    type.c_str(), sent ? "to" : "from", session_->run().id_text(session_->sim().peer_id(other)).c_str(),
                    static_cast<std::size_t>(trace.rend() - it));
      if (ImGui::Selectable(line)) view_.selected = other;
    }
    if (shown == 0) ImGui::TextDisabled("none yet");
    ImGui::TreePop();
  }

  void metrics_panel() {
    metric_charts_.clear();
    if (!ImGui::CollapsingHeader("Metrics", ImGuiTreeNodeFlags_DefaultOpen)) return;
    // Counted when a search finishes, not when it starts: from the trace up to now.
    const RunSummary s = session_->run().summary();
    std::vector<float> histogram;
    std::vector<int> hop_counts;
    std::size_t finished = 0, answered_right = 0, on_their_way = 0;
    for (const TracedSearch& search : session_->searches()) {
      if (!session_->is_user(search)) continue;
      if (search.end < 0) {
        ++on_their_way;
        continue;
      }
      ++finished;
      answered_right += search.ok ? 1 : 0;
      int hops = 0;
      for (const auto& h : search.hops) hops = std::max(hops, h.forward() ? h.index : 0);
      hop_counts.push_back(hops);
      if (static_cast<std::size_t>(hops) >= histogram.size()) histogram.resize(static_cast<std::size_t>(hops) + 1, 0);
      histogram[static_cast<std::size_t>(hops)] += 1;
    }
    if (finished == 0) {
      ImGui::Text("%s finished: 0", s.operation.c_str());
    } else {
      ImGui::Text("%s finished: %zu, %.1f%% %s", s.operation.c_str(), finished,
                  100.0 * static_cast<double>(answered_right) / static_cast<double>(finished),
                  s.operation == "queries" ? "found" : "correct");
    }
    if (on_their_way > 0) {
      ImGui::SameLine();
      ImGui::TextDisabled("(%zu on their way)", on_their_way);
    }
    std::sort(hop_counts.begin(), hop_counts.end());
    double mean_hops = 0;
    for (int h : hop_counts) mean_hops += h;
    if (!hop_counts.empty()) mean_hops /= static_cast<double>(hop_counts.size());
    const int p99 = hop_counts.empty() ? 0 : hop_counts[std::min(hop_counts.size() - 1, hop_counts.size() * 99 / 100)];
    ImGui::Text("hops: mean %.2f, p99 %d   messages sent: %llu", mean_hops, p99,
                static_cast<unsigned long long>(session_->sim().messages().total_sent()));
    // Charts with axes, ticks and units (charts.hpp), as large as the theme's type.
    const ChartStyle style = projector_ ? ChartStyle::light() : ChartStyle::dark();
    const ImU32 bar_colour = ChartStyle::series_colours(projector_)[0];
    const float height = 190.0f * scale();
    auto chart = [&](const Chart& c, const char* help) {
      ImGui::TextUnformatted(c.title.c_str());
      help_marker(help);
      Chart body = c;
      body.title.clear();  // written above, with its help
      ChartRecord record;
      chart_widget(body, style, height, record_drawn_ ? &record : nullptr);
      if (record_drawn_) {
        record.texts.insert(record.texts.begin(), DrawnText{"title", c.title, "", {}, {}});
        metric_charts_.push_back(std::move(record));
      }
    };
    if (!histogram.empty()) {
      Chart hops;
      hops.name = "hops";
      hops.title = "Hops per search";
      hops.x = {"hops", AxisScale::Linear, -0.5, static_cast<double>(histogram.size()) - 0.5, true, ""};
      hops.y = {"searches", AxisScale::Linear, 0, 0, true, ""};
      hops.bar_colour = bar_colour;
      for (std::size_t h = 0; h < histogram.size(); ++h) {
        hops.bars.push_back({static_cast<double>(h) - 0.5, static_cast<double>(h) + 0.5, histogram[h]});
      }
      const std::string help =
          std::string("How many searches (") + noun() + ") took 0, 1, 2, ... hops." +
          (session_->model().complexity.empty() ? "" : " The lecture: " + session_->model().complexity + ".");
      chart(hops, help.c_str());
    }
    // Messages per lookup or query: at most 24 bars of equal whole widths over the observed range.
    const std::vector<std::uint32_t> messages = session_->run().messages_per_search();
    if (!messages.empty()) {
      const std::uint32_t most = *std::max_element(messages.begin(), messages.end());
      const std::uint32_t width = (most + 24) / 24;  // messages per bar
      const std::size_t bars = most / width + 1;
      std::vector<double> counts(bars, 0.0);
      for (std::uint32_t m : messages) counts[m / width] += 1;
      Chart cost;
      cost.name = "messages";
      cost.title = "Messages per search";
      // One message per bar: bars centred on their number, like the hops; wider: [from, to).
      const double shift = width == 1 ? -0.5 : 0.0;
      cost.x = {"messages", AxisScale::Linear, shift, static_cast<double>(bars * width) + shift, true, ""};
      cost.y = {"searches", AxisScale::Linear, 0, 0, true, ""};
      cost.bar_colour = bar_colour;
      for (std::size_t b = 0; b < bars; ++b) {
        cost.bars.push_back(
            {static_cast<double>(b * width) + shift, static_cast<double>((b + 1) * width) + shift, counts[b]});
      }
      chart(cost,
            "How many messages each finished search cost (a routed search: requests and replies along its "
            "path; a flood: all its copies).");
    }
    // Peers alive and the share of correct answers over time, from the trace's joins, failures,
    // leaves and finished searches.
    ChartSeries alive, correct;
    alive.name = "peers alive";
    correct.name = "found or correct";
    alive.colour = correct.colour = bar_colour;
    const SimTime bucket = std::max<SimTime>(1, session_->end_time() / 100);
    int live = 0, done = 0, good = 0;
    std::size_t next = 0;
    const auto& trace = session_->trace();
    for (SimTime t = 0; t <= session_->now(); t += bucket) {
      for (; next < trace.size() && trace[next].time <= t; ++next) {
        const TraceEvent& e = trace[next];
        if (e.kind == TraceKind::Join) ++live;
        if (e.kind == TraceKind::Fail || e.kind == TraceKind::Leave) --live;
        if (e.kind == TraceKind::LookupDone) {
          ++done;
          good += e.detail != 0;
        }
      }
      const double seconds = to_ms(t) / 1000.0;
      alive.x.push_back(seconds);
      alive.y.push_back(live);
      if (done > 0) {  // a share of nothing is no point
        correct.x.push_back(seconds);
        correct.y.push_back(100.0 * good / done);
      }
    }
    const double end_s = std::max(1e-3, to_ms(session_->end_time()) / 1000.0);
    if (!alive.x.empty()) {
      Chart peers;
      peers.name = "peers_alive";
      peers.title = "Peers alive";
      peers.x = {"time (s)", AxisScale::Linear, 0, end_s, false, ""};
      peers.y = {"peers", AxisScale::Linear, 0, 0, true, ""};
      peers.lines.push_back(alive);
      chart(peers, "Peers up at each moment of the run so far: joins, crashes and leaves.");
    }
    if (!correct.x.empty()) {
      Chart share;
      share.name = "success";
      share.title = "Searches found or correct";
      share.x = {"time (s)", AxisScale::Linear, 0, end_s, false, ""};
      share.y = {"% of finished searches", AxisScale::Linear, 0, 100, false, "%"};
      share.lines.push_back(correct);
      chart(share,
            "Share of finished searches (also the protocol's own maintenance searches) that were correct or "
            "found, from the start to each moment.");
    }
  }

  /// The metric charts' texts (titles, axis titles, tick labels) and points (a bar's top middle,
  /// a line's points) as the last frame drew them.
  nlohmann::json charts_json() const {
    nlohmann::json charts = nlohmann::json::array();
    for (const ChartRecord& c : metric_charts_) charts.push_back(chart_json(c));
    return charts;
  }
  static nlohmann::json chart_json(const ChartRecord& c) {
    nlohmann::json texts = nlohmann::json::array();
    for (const DrawnText& t : c.texts) {
      texts.push_back({{"kind", t.kind}, {"text", t.text}, {"box", {t.min.x, t.min.y, t.max.x, t.max.y}}});
    }
    nlohmann::json points = nlohmann::json::array();
    for (const DrawnPoint& p : c.points) points.push_back({{"x", p.x}, {"y", p.y}, {"px", p.at.x}, {"py", p.at.y}});
    return {{"name", c.name}, {"box", {c.min.x, c.min.y, c.max.x, c.max.y}}, {"texts", texts}, {"points", points}};
  }

  void complexity_panel() {
    if (!ImGui::CollapsingHeader("Complexity table")) return;
    ImGui::TextWrapped(
        "The lecture's table, measured: every system on the same searches over a sweep of N, as a "
        "log-log chart and a table. It is the last lab of the list.");
    for (const LabEntry& lab : labs_) {
      if (all_protocols().find_simulated(lab.protocol) != nullptr) continue;
      if (ImGui::Button(("open " + lab.name).c_str())) pending_open_ = lab.path;
    }
  }

  struct LegendEntry {
    ImU32 colour;
    std::string text;
    std::string name;  ///< one or two words, for the legend on the view
  };
  /// What each colour on the view means, from the protocol's model and vocabulary.
  std::vector<LegendEntry> legend(const Palette& p) const {
    std::vector<LegendEntry> entries;
    const ProtocolModel& model = session_->model();
    const bool ring = shown_geometry() == Geometry::Ring;
    auto item = [&](ImU32 colour, const std::string& text, const std::string& name) {
      entries.push_back({colour, text, name});
    };
    auto or_name = [](const std::string& legend, const std::string& name) { return legend.empty() ? name : legend; };
    for (const RoleInfo& role : model.roles) {
      item(p.role(role.colour), or_name(role.legend, role.name) + (ring ? " at its id on the identifier circle" : ""),
           role.name);
    }
    item(p.peer_dead, "crossed out: crashed", "crashed");
    // The tags the protocol gives peers (PeerView::tag: "NAT"), as the view ringed them.
    for (const std::string& tag : drew_tags_) {
      item(p.text_dim, "ringed: " + tag + " (the protocol's mark for such peers)", "ringed: " + tag);
    }
    for (std::size_t i = 0; i < model.link_kinds.size(); ++i) {
      const LinkKindInfo& kind = model.link_kinds[i];
      if (kind.drawing == LinkDrawing::Hidden) continue;
      // The protocol's own line; without one, its name and how it is drawn.
      const char* how = kind.drawing == LinkDrawing::Adjacent && ring ? " (arc outside the ring)"
                        : kind.drawing == LinkDrawing::Selected       ? " (of the selected peer)"
                        : kind.drawing == LinkDrawing::Span && ring
                            ? " (of the selected peer; the arc inside the ring spans them)"
                            : "";
      // A link named like a role ("superpeer") says it is a link.
      const bool like_role =
          std::any_of(model.roles.begin(), model.roles.end(), [&](const RoleInfo& r) { return r.name == kind.name; });
      item(p.link(kind.colour), kind.legend.empty() ? kind.name + how : kind.legend,
           kind.name + (like_role ? " link" : ""));
    }
    const TraceVocabulary& vocabulary = session_->vocabulary();
    const bool floods = viz::floods(vocabulary);
    if (shown_geometry() == Geometry::XorTrie) {
      for (const ViewLegendEntry& e : xor_trie_legend(p, noun())) item(e.colour, e.text, e.name);
    } else if (ring) {
      item(p.key, "stored key, at its id", "key");
      ImU32 mark = p.link(Colour::Neutral);
      for (const LinkKindInfo& kind : model.link_kinds) {
        if (kind.drawing == LinkDrawing::Selected) mark = p.link(kind.colour);
      }
      item(with_alpha(mark, static_cast<unsigned>(p.mark_alpha)),
           "tick: an id the selected peer's table marks, labelled with its row", "marked id");
      item(p.path, std::string("the ") + noun() + "'s path so far", "path");
    } else if (floods) {
      item(p.hop(2),
           std::string("the ") + noun() +
               "'s wave: each peer it reached, and the copy that reached it, in the "
               "colour of its hop (the key over the view numbers them; 0 is the source); peers not reached fade",
           "hop (see key)");
    } else {
      item(p.path, std::string("the ") + noun() + "'s path so far", "path");
    }
    item(p.marker, std::string("large dot: the ") + noun() + "'s message on its way, named by its type", "its message");
    item(p.text_dim, "small dot: any other message on its way", "other message");
    // The hop styles this protocol's trace uses, in its own words; the transfer's kinds (a
    // download, relay legs) in one entry.
    std::string transfers;
    for (std::size_t i = 0; i < vocabulary.hop_styles.size(); ++i) {
      const std::string name = i < vocabulary.hop_kinds.size() ? vocabulary.hop_kinds[i] : "";
      if (vocabulary.hop_styles[i] == HopStyle::Duplicate) {
        item(p.duplicate,
             "dashed: " + or_name(name, "duplicate") + ", a copy that arrived where the " + noun() +
                 " had been already, dropped",
             or_name(name, "duplicate"));
      }
      if (vocabulary.hop_styles[i] == HopStyle::Timeout) {
        item(p.path,
             "dashed red, crossed at its end: " + or_name(name, "timeout") +
                 ", a request that got no answer in time (the peer is presumed crashed): the requester asks again "
                 "another way",
             or_name(name, "timeout"));
      }
      if (vocabulary.hop_styles[i] == HopStyle::Answer) {
        item(p.answer, or_name(name, "answer") + ": the answer's way back to the requester (arrows)",
             or_name(name, "answer"));
        item(p.answer, std::string("square: a holder of what the ") + noun() + " looks for, reached or not", "holder");
      }
      if (vocabulary.hop_styles[i] == HopStyle::Transfer && !name.empty()) {
        transfers += (transfers.empty() ? "" : " / ") + name;
      }
    }
    if (!transfers.empty()) item(p.relay, transfers + ": the file's transfer to the requester (arrow)", transfers);
    // What crashes leave behind, when the view shows some (after the frame that drew them).
    if (drew_stale_)
      item(p.path,
           "red dashed (or a red arc further out): a stale pointer, to a crashed peer, until the "
           "protocol repairs it",
           "stale pointer");
    if (drew_loss_)
      item(p.path,
           "red ring: a message lost just now (its receiver has crashed: the sender will time out "
           "and retry, or the network lost it)",
           "lost message");
    if (session_->has_reference_route())
      item(p.reference, "dashed: the reference route, when compared", "reference route");
    item(p.selected, "selected peer", "selected");
    return entries;
  }

  struct LegendBox {
    ImVec2 corner;  ///< upper left
    float column = 0, width = 0, height = 0;
    std::size_t rows = 0;
  };
  /// Where the legend on the view goes (the lower right corner of origin, size) and its columns.
  static LegendBox legend_box(const std::vector<LegendEntry>& entries, ImVec2 origin, ImVec2 size) {
    LegendBox box;
    const float line = ImGui::GetTextLineHeightWithSpacing(), swatch = ImGui::GetFontSize() * 0.8f, pad = 8.0f;
    for (const LegendEntry& e : entries) box.column = std::max(box.column, ImGui::CalcTextSize(e.name.c_str()).x);
    box.column += swatch + 3 * pad;
    // A long legend (14 entries in one protocol's vocabulary) in two columns: half as tall, it covers less of the view.
    const std::size_t columns = entries.size() > 8 ? 2 : 1;
    box.rows = (entries.size() + columns - 1) / columns;
    box.width = box.column * static_cast<float>(columns);
    box.height = line * static_cast<float>(box.rows) + 2 * pad;
    box.corner = ImVec2(origin.x + size.x - box.width - 8, origin.y + size.y - box.height - 8);
    return box;
  }

  /// The legend on the view, in the lower right corner: a swatch and one or two words per
  /// colour (the panel's Legend section says each in a sentence). Key L turns it off.
  void draw_legend(ImDrawList* draw, ImVec2 origin, ImVec2 size, const Palette& palette) {
    const std::vector<LegendEntry> entries = legend(palette);
    const float line = ImGui::GetTextLineHeightWithSpacing(), swatch = ImGui::GetFontSize() * 0.8f, pad = 8.0f;
    const LegendBox box = legend_box(entries, origin, size);
    const float column = box.column, width = box.width, height = box.height;
    const std::size_t rows = box.rows;
    const ImVec2 corner = box.corner;
    widgets_["legend"] = {corner.x, corner.y, corner.x + width, corner.y + height};  // for status()
    // Filled: what lies under it (a table's rows, a tree's nodes) must not show through its words.
    draw->AddRectFilled(corner, ImVec2(corner.x + width, corner.y + height), with_alpha(palette.background, 235));
    draw->AddRect(corner, ImVec2(corner.x + width, corner.y + height), palette.text_dim);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const LegendEntry& e = entries[i];
      const float x = corner.x + column * static_cast<float>(i / rows),
                  y = corner.y + pad + line * static_cast<float>(i % rows);
      const float mid = y + line / 2 - 1;
      draw->AddRectFilled(ImVec2(x + pad, mid - swatch / 2), ImVec2(x + pad + swatch, mid + swatch / 2), e.colour);
      draw->AddText(ImVec2(x + 2 * pad + swatch, y), palette.text, e.name.c_str());
    }
  }

  void legend_panel() {
    if (!ImGui::CollapsingHeader("Legend", ImGuiTreeNodeFlags_DefaultOpen)) return;
    if (session_->geometry() == Geometry::XorTrie) {
      ImGui::Checkbox("ids on a circle (ring view)", &xor_as_ring_);
      help_marker(
          "XOR distance drawn as a binary trie (each k-bucket a subtree, a lookup's rounds under the leaves) "
          "or the ids on a circle, as the ring protocols are drawn: the same network (routing by XOR "
          "follows the trie).");
    }
    ImGui::Checkbox("on the view", &legend_on_view_);
    help_marker("A short legend in the view's lower right corner (key L); here, each colour in a sentence.");
    {
      for (const LegendEntry& e : legend(projector_ ? Palette::light() : Palette::dark())) {
        ImGui::ColorButton(e.text.c_str(), ImGui::ColorConvertU32ToFloat4(e.colour), ImGuiColorEditFlags_NoTooltip,
                           ImVec2(14, 14));
        ImGui::SameLine();
        ImGui::TextWrapped("%s", e.text.c_str());
      }
    }
    bool projector = projector_;
    if (ImGui::Checkbox("projector mode", &projector)) set_projector(projector);
    help_marker(
        "Large type (text on the view at least 24 pixels) and a light, high-contrast theme for the lecture "
        "hall (key P). Tab hides this panel.");
    if (ImGui::Button("whole network")) reset_zoom();
    remember("whole_network");
    help_marker(
        "Zoom and move the view: the mouse wheel zooms around the pointer, dragging moves the picture; "
        "keys + and - zoom, 0 (or this button) shows the whole network again.");
    if (ImGui::Button("save view as PNG")) save_requested_ = true;
  }

  std::unique_ptr<Session> session_;
  std::unique_ptr<ComparisonPage> comparison_;  // set instead of session_ for a comparison lab
  std::string lab_path_;
  std::vector<LabEntry> labs_;
  GraphLayout layout_;
  RingLayout ring_layout_;
  TrieLayout trie_layout_;
  ChartRecord view_chart_;  // the chart the view drew (an XOR trie's best distance per round)
  ViewOptions view_;
  bool playing_ = false;
  std::vector<PeerIndex> pinned_;  // peers whose tables are pinned on the view
  bool every_row_ = false;         // large tables: every row instead of merged runs
  float pinned_height_ = 0;        // the pinned tables' strip at the bottom of the view, last frame
  // What the view drew in the last frame, for the legend: stale pointers, lost messages, tags.
  bool drew_stale_ = false, drew_loss_ = false;
  std::vector<std::string> drew_tags_;
  bool dragging_ = false;                  // the mouse moves the picture (no click on release)
  std::pair<ImVec2, ImVec2> last_view_{};  // the view's origin and size in the last frame
  bool projector_ = false;
  bool legend_on_view_ = true;
  bool xor_as_ring_ = false;  // an XOR geometry drawn by the ring view (the legend's checkbox)
  bool theme_changed_ = false;
  bool sidebar_ = true;
  bool save_requested_ = false;
  int saved_ = 0;
  struct KeyPress {
    int key;
    bool shift;
  };
  std::vector<KeyPress> key_presses_;
  std::map<std::string, std::array<float, 4>> widgets_;  // name -> x0, y0, x1, y1 this frame

  /// Where the last control was drawn (for status()).
  void remember(const char* name) {
    const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
    widgets_[name] = {a.x, a.y, b.x, b.y};
  }
  float speed_ = kDefaultSpeed;
  double play_carry_ = 0;  // simulated microseconds not yet played (less than one)
  std::string message_;
  std::vector<ChartRecord> metric_charts_;                 // what the Metrics panel drew (when recording)
  std::string pending_open_;                               // a lab chosen in a panel, opened at the next frame
  long long frames_ = 0;                                   // frames drawn (the status shows the window is drawing)
  int new_protocol_ = -1, new_peers_ = 32, new_seed_ = 1;  // -1: the open lab's protocol
  bool new_join_ = false;
  std::map<std::string, double> new_params_;   // "protocol/parameter" -> value (new scenario)
  std::map<std::string, double> set_params_;   // "protocol/parameter" -> value (set during a run)
  std::map<std::string, std::string> inputs_;  // "protocol/field" -> text (operations)
  bool record_drawn_ = false;
  std::vector<DrawnPeer> drawn_;
  std::string header_, story_;
  std::vector<DrawnLabel> labels_;
  std::vector<DrawnSegment> segments_;
};

}  // namespace

namespace p2plab::viz {

namespace {
/// The peer with decimal id `text` in the session's run, or kNoPeer.
PeerIndex find_peer(Session& session, const std::string& text) {
  const auto id = Id::from_decimal(text);
  for (PeerIndex p = 0; id && p < session.sim().peer_count(); ++p) {
    if (session.sim().peer_id(p) == *id) return p;
  }
  return kNoPeer;
}
}  // namespace

int run_visualizer(int argc, char** argv) {
  CLI::App cli{"p2plab-viz: watch the lecture's peer-to-peer systems at work"};
  std::string lab = P2PLAB_DEFAULT_LAB;
  std::string screenshot, size = "1600x1000", labs_dir;
  double at_ms = -1;
  int bench_frames = 0;
  bool projector = false;
  cli.add_option("lab", lab, "Lab or scenario file to open")->check(CLI::ExistingFile);
  cli.add_option("--screenshot", screenshot, "Render off-screen, write this PNG and exit");
  cli.add_option("--at", at_ms, "Simulated time (ms) to open at (exactly: between events too)")
      ->check(CLI::NonNegativeNumber);
  float speed = kDefaultSpeed;
  cli.add_option("--speed", speed, "Play's pace: simulated ms per real second (default 50)")
      ->check(CLI::Range(1.0f, 10000.0f));
  bool play = false;
  cli.add_flag("--play", play, "Start playing at once");
  cli.add_option("--size", size, "Window or screenshot size, WIDTHxHEIGHT");
  cli.add_option("--bench-frames", bench_frames, "Render this many frames off-screen and print frame times")
      ->check(CLI::Range(1, 100000));
  cli.add_flag("--projector", projector, "Large fonts, light high-contrast theme");
  cli.add_option("--labs", labs_dir, "Folder of labs for the lab browser");
  bool compare_reference = false;
  bool xor_as_ring = false;
  cli.add_flag("--ring-view", xor_as_ring, "XOR geometry: draw the ids on a circle instead of the trie");
  cli.add_flag("--compare-reference", compare_reference,
               "Draw the reference route beside each search's own (protocols that have one)");
  std::string positions;
  cli.add_option("--positions", positions,
                 "With --screenshot: also write where each peer was drawn (JSON: peer, id, x, y, radius in pixels) and "
                 "the sentence over the view (header)");
  std::string status_path;
  cli.add_option("--status", status_path,
                 "In a window: keep this JSON file up to date with what is shown (clock, play state, selection, "
                 "where peers and controls are drawn), for tests that drive the window with real input");
  std::string select;
  cli.add_option("--select", select, "Select (inspect) the peer with this id, e.g. to show its fingers");
  std::vector<std::string> pins;
  cli.add_option("--pin", pins, "Pin these peers' finger tables (their first table) on the view, side by side");
  int attach_port = 0;
  cli.add_option("--attach", attach_port,
                 "Monitor real peers (p2plab node ... --monitor HOST:PORT) reporting to this UDP port; with "
                 "--screenshot, --at is how long to listen first (ms)")
      ->check(CLI::Range(1, 65535));
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (dynamic_cast<const CLI::CallForHelp*>(&e) != nullptr) return cli.exit(e);
    std::fprintf(stderr, "p2plab-viz: %s\n", e.what());
    return 2;
  }
  int width = 1600, height = 1000;
  if (std::sscanf(size.c_str(), "%dx%d", &width, &height) != 2 || width < 200 || height < 200 || width > 8192 ||
      height > 8192) {
    std::fprintf(stderr, "p2plab-viz: --size: expected WIDTHxHEIGHT between 200x200 and 8192x8192, got \"%s\"\n",
                 size.c_str());
    return 2;
  }
  if (labs_dir.empty()) labs_dir = fs::is_directory("labs") ? "labs" : std::string(P2PLAB_SOURCE_DIR) + "/labs";

  std::unique_ptr<App> app;
  try {
    app = std::make_unique<App>(lab, labs_dir, projector);
  } catch (const ScenarioError& e) {
    std::fprintf(stderr, "p2plab-viz: %s\n", e.what());
    return 2;
  }

  if (attach_port != 0 && !app->attach(attach_port)) {
    std::fprintf(stderr, "p2plab-viz: %s\n", app->message().c_str());
    return 1;
  }

  const bool offscreen = !screenshot.empty() || bench_frames > 0;
  if (!glfwInit()) {
    std::fprintf(
        stderr,
        "p2plab-viz: cannot open a window: no display found (DISPLAY is %s).\n"
        "  On a machine without a screen, run it under Xvfb:  xvfb-run -a -s \"-screen 0 1600x1000x24\" %s ...\n"
        "  or simulate headless:  p2plab run %s\n",
        std::getenv("DISPLAY") ? "set, but unusable" : "not set", argv[0], lab.c_str());
    return 3;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  if (offscreen) glfwWindowHint(GLFW_VISIBLE, GLFW_FALSE);
  GLFWwindow* window = glfwCreateWindow(width, height, "p2plab-viz", nullptr, nullptr);
  if (window == nullptr) {
    std::fprintf(stderr, "p2plab-viz: the display offers no OpenGL 3.3 context (with Mesa: install libgl1-mesa-dri)\n");
    glfwTerminate();
    return 3;
  }
  glfwMakeContextCurrent(window);
  glfwSwapInterval(offscreen ? 0 : 1);
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // the layout is fixed: nothing to remember
  app->take_theme_change();
  apply_theme(app->projector(), false);
  // Ours first: ImGui's backend chains to a key callback installed before it.
  glfwSetWindowUserPointer(window, app.get());
  glfwSetKeyCallback(window, [](GLFWwindow* w, int key, int, int action, int mods) {
    if (action == GLFW_PRESS || action == GLFW_REPEAT) {
      static_cast<App*>(glfwGetWindowUserPointer(w))->key_pressed(key, (mods & GLFW_MOD_SHIFT) != 0);
    }
  });
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 330");

  OffscreenTarget target;
  if (offscreen) {
    target.create(width, height);
    if (!target.ok()) {
      std::fprintf(stderr, "p2plab-viz: cannot create an off-screen framebuffer\n");
      return 3;
    }
  }
  if (!app->has_session() && (!select.empty() || !pins.empty() || attach_port != 0 || bench_frames > 0)) {
    std::fprintf(stderr,
                 "p2plab-viz: %s is a comparison (a table, no network): --select, --pin, --attach and --bench-frames "
                 "do not apply\n",
                 lab.c_str());
    return 2;
  }
  if (!app->has_session()) {
    // A comparison: nothing to move in time.
  } else if (at_ms >= 0 && app->session().live()) {
    // Live: listen this long (wall clock) before the picture.
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(from_ms(at_ms));
    while (std::chrono::steady_clock::now() < until) {
      app->session().advance_to(0);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  } else if (at_ms >= 0) {
    app->session().advance_to(from_ms(at_ms));
  }
  if (!select.empty()) {
    const PeerIndex found = find_peer(app->session(), select);
    if (found == kNoPeer) {
      std::fprintf(stderr, "p2plab-viz: --select: no peer with id \"%s\" in this lab\n", select.c_str());
      return 2;
    }
    app->select(found);
  }
  for (const std::string& pin : pins) {
    const PeerIndex found = find_peer(app->session(), pin);
    if (found == kNoPeer) {
      std::fprintf(stderr, "p2plab-viz: --pin: no peer with id \"%s\" in this lab\n", pin.c_str());
      return 2;
    }
    app->pin(found);
  }
  app->set_compare_reference(compare_reference);
  app->set_xor_as_ring(xor_as_ring);
  app->set_speed(speed);
  if (play) app->set_playing(true);
  app->record_drawn(!positions.empty() || !status_path.empty());

  auto render = [&](float dt) {
    if (app->take_theme_change()) apply_theme(app->projector(), true);
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    if (offscreen) ImGui::GetIO().DisplaySize = ImVec2(static_cast<float>(width), static_cast<float>(height));
    ImGui::NewFrame();
    int fb_w = width, fb_h = height;
    if (!offscreen) glfwGetFramebufferSize(window, &fb_w, &fb_h);
    app->frame(dt, offscreen ? width : static_cast<int>(ImGui::GetIO().DisplaySize.x),
               offscreen ? height : static_cast<int>(ImGui::GetIO().DisplaySize.y));
    ImGui::Render();
    glViewport(0, 0, fb_w, fb_h);
    // The view's background is the clear colour (it paints none itself: one full fill less).
    const ImVec4 background = ImGui::ColorConvertU32ToFloat4(app->background());
    glClearColor(background.x, background.y, background.z, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    return std::pair<int, int>(fb_w, fb_h);
  };

  int status = 0;
  if (!screenshot.empty()) {
    if (ComparisonPage* page = app->comparison()) page->wait();  // the whole table, not "measuring"
    for (int i = 0; i < 3; ++i) render(0.0f);                    // a few frames: fonts and layout settle
    glFinish();
    if (!write_png(screenshot, width, height)) {
      std::fprintf(stderr, "p2plab-viz: cannot write %s\n", screenshot.c_str());
      status = 1;
    } else if (app->has_session()) {
      std::printf("p2plab-viz: wrote %s (%dx%d, t = %.1f ms)\n", screenshot.c_str(), width, height,
                  to_ms(app->session().now()));
    } else {
      std::printf("p2plab-viz: wrote %s (%dx%d, measured in %.1f s)\n", screenshot.c_str(), width, height,
                  app->comparison()->seconds());
    }
    if (!positions.empty()) {
      const bool ok = app->has_session() ? write_positions(positions, app->session(), app->drawn(), app->labels(),
                                                           app->segments(), app->header(), app->story())
                                         : write_json(positions, nlohmann::json::object());
      if (!ok || !add_to_json_file(positions, app->positions_extra())) {
        std::fprintf(stderr, "p2plab-viz: cannot write %s\n", positions.c_str());
        status = 1;
      }
    }
  } else if (bench_frames > 0) {
    // Frames while the run plays (--speed), as a lecturer sees it: the clock moves, messages fly.
    app->set_playing(true);
    const SimTime from = app->session().now();
    std::vector<double> times;
    for (int i = 0; i < bench_frames; ++i) {
      const auto start = std::chrono::steady_clock::now();
      render(1.0f / 60.0f);
      glFinish();
      times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::vector<double> sorted = times;
    std::sort(sorted.begin(), sorted.end());
    double sum = 0;
    for (double t : times) sum += t;
    const double mean = sum / static_cast<double>(times.size());
    std::printf(
        "p2plab-viz --bench-frames %d: %zu peers, playing t = %.1f .. %.1f ms, mean %.2f ms (%.0f frames/s), p99 %.2f "
        "ms\n",
        bench_frames, app->session().sim().live_count(), to_ms(from), to_ms(app->session().now()), mean, 1000.0 / mean,
        sorted[std::min(sorted.size() - 1, (sorted.size() * 99) / 100)]);
  } else {
    auto last = std::chrono::steady_clock::now();
    while (!glfwWindowShouldClose(window)) {
      glfwPollEvents();
      const auto now = std::chrono::steady_clock::now();
      const float dt = std::chrono::duration<float>(now - last).count();
      last = now;
      const auto [fb_w, fb_h] = render(dt);
      if (app->wants_screenshot()) {
        const std::string name = "p2plab-view.png";
        if (write_png(name, fb_w, fb_h)) {
          std::printf("p2plab-viz: view saved as %s\n", name.c_str());
          app->note_saved();
        }
      }
      if (!status_path.empty()) write_status(status_path, app->status());
      glfwSwapBuffers(window);
    }
  }
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return status;
}

}  // namespace p2plab::viz
