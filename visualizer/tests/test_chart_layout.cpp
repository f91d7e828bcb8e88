// The chart drawing (charts.hpp) without a display: Dear ImGui with its font atlas built in
// memory, draw_chart recording where it put every text and point. Over many random charts (sizes,
// linear and log axes, data ranges, several lines with names of any length, bars) no two texts
// overlap, every text stays inside the chart, every point lies inside the plot at its value's
// place, tick labels are ordered like their values, and a log axis labels its largest power.
#include <doctest/doctest.h>
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "charts.hpp"

using namespace p2plab::viz;

namespace {

/// An ImGui frame to draw into, with ImGui's own font or DejaVu Sans at projector size.
class Frame {
 public:
  explicit Frame(float font_size) {
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    io.DisplaySize = ImVec2(4000, 3000);
    io.DeltaTime = 1.0f / 60.0f;
    static const char* const kFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    if (font_size > 13 && std::filesystem::exists(kFont)) {
      io.Fonts->AddFontFromFileTTF(kFont, font_size);
    } else {
      io.Fonts->AddFontDefault();
    }
    unsigned char* pixels = nullptr;
    int width = 0, height = 0;
    io.Fonts->GetTexDataAsRGBA32(&pixels, &width, &height);
    ImGui::NewFrame();
    ImGui::Begin("charts");
  }
  ~Frame() {
    ImGui::End();
    ImGui::EndFrame();
    ImGui::DestroyContext();
  }
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;
  ImDrawList* draw() { return ImGui::GetWindowDrawList(); }
};

bool apart(const DrawnText& a, const DrawnText& b) {
  const float slack = 0.5f;
  return a.max.x <= b.min.x + slack || b.max.x <= a.min.x + slack || a.max.y <= b.min.y + slack ||
         b.max.y <= a.min.y + slack;
}

double number(std::string text) {
  text.erase(std::remove(text.begin(), text.end(), ','), text.end());
  return std::stod(text);
}

double axis_place(const ChartAxis& axis, double v) {
  if (axis.scale == AxisScale::Log2) return std::log2(v);
  if (axis.scale == AxisScale::Log10) return std::log10(v);
  return v;
}

void check_chart(const Chart& chart, ImVec2 min, ImVec2 max) {
  ChartRecord r;
  draw_chart(ImGui::GetWindowDrawList(), min, max, chart, ChartStyle::light(), &r);
  for (std::size_t i = 0; i < r.texts.size(); ++i) {
    CAPTURE(r.texts[i].text);
    CAPTURE(r.texts[i].kind);
    CHECK(r.texts[i].min.x >= min.x - 0.5f);
    CHECK(r.texts[i].max.x <= max.x + 0.5f);
    CHECK(r.texts[i].min.y >= min.y - 0.5f);
    CHECK(r.texts[i].max.y <= max.y + 0.5f);
    for (std::size_t j = i + 1; j < r.texts.size(); ++j) {
      CAPTURE(r.texts[j].text);
      CAPTURE(r.texts[j].kind);
      CHECK(apart(r.texts[i], r.texts[j]));
    }
  }
  // Points inside the plot, further right and higher for larger values.
  for (const DrawnPoint& p : r.points) {
    CHECK(p.at.x >= r.plot_min.x - 0.5f);
    CHECK(p.at.x <= r.plot_max.x + 0.5f);
    CHECK(p.at.y >= r.plot_min.y - 0.5f);
    CHECK(p.at.y <= r.plot_max.y + 0.5f);
  }
  int out_of_order = 0;
  for (const DrawnPoint& a : r.points) {
    for (const DrawnPoint& b : r.points) {
      out_of_order += axis_place(chart.x, a.x) < axis_place(chart.x, b.x) - 1e-9 && a.at.x > b.at.x + 0.01f;
      out_of_order += axis_place(chart.y, a.y) < axis_place(chart.y, b.y) - 1e-9 && a.at.y < b.at.y - 0.01f;
    }
  }
  CHECK(out_of_order == 0);
  // Tick labels ordered like their values; at least two on each axis.
  for (const char* kind : {"x_tick", "y_tick"}) {
    std::vector<std::pair<double, float>> ticks;  // value, place along the axis
    for (const DrawnText& t : r.texts) {
      if (t.kind != kind) continue;
      const std::string digits = t.text.substr(0, t.text.find('%'));
      const float place = kind[0] == 'x' ? (t.min.x + t.max.x) / 2 : -(t.min.y + t.max.y) / 2;
      ticks.emplace_back(number(digits), place);
    }
    CAPTURE(std::string(kind));
    // (One bar of a histogram has one whole number under it.)
    const bool one_whole = kind[0] == 'x' && chart.x.integers && chart.x.max - chart.x.min <= 1;
    CHECK(ticks.size() >= (one_whole ? 1u : 2u));
    std::sort(ticks.begin(), ticks.end());
    for (std::size_t i = 1; i < ticks.size(); ++i) CHECK(ticks[i].second > ticks[i - 1].second);
  }
  // A log axis labels its largest power: the end of a sweep.
  double largest_x = 0;
  for (const ChartSeries& s : chart.lines) {
    for (double v : s.x) largest_x = std::max(largest_x, v);
  }
  if (chart.x.scale == AxisScale::Log2 && largest_x > 0) {
    const bool labelled = std::any_of(r.texts.begin(), r.texts.end(), [&](const DrawnText& t) {
      return t.kind == "x_tick" && number(t.text) == std::exp2(std::ceil(std::log2(largest_x) - 1e-9));
    });
    CHECK(labelled);
  }
}

}  // namespace

TEST_CASE("random charts: texts apart and inside, points in the plot in order, ticks labelled in order") {
  std::mt19937_64 rng(20261202);
  auto uniform = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };
  const std::vector<std::string> names = {"A", "Flooding", "Central index", "Superpeer", "Chord", "a rather long name"};
  for (float font : {13.0f, 26.0f}) {
    Frame frame(font);
    for (int trial = 0; trial < 150; ++trial) {
      CAPTURE(font);
      CAPTURE(trial);
      const float width = static_cast<float>(uniform(font * 22, 1400)),
                  height = static_cast<float>(uniform(font * 14, 900));
      Chart chart;
      chart.name = "random";
      chart.title = trial % 3 == 0 ? "" : "A title";
      const int kind = trial % 4;
      if (kind == 0) {  // a sweep: log-log
        chart.x = {"N (peers, log scale)", AxisScale::Log2, 0, 0, false, ""};
        chart.y = {"messages per search (log scale)", AxisScale::Log10, 0, 0, false, ""};
      } else if (kind == 1) {  // a time series
        chart.x = {"time (s)", AxisScale::Linear, 0, uniform(0.01, 1e4), false, ""};
        chart.y = {"peers", AxisScale::Linear, 0, 0, true, ""};
      } else if (kind == 2) {  // a share
        chart.x = {"time (s)", AxisScale::Linear, 0, 0, false, ""};
        chart.y = {"% of finished searches", AxisScale::Linear, 0, 100, false, "%"};
      } else {  // a histogram
        chart.x = {"hops", AxisScale::Linear, 0, 0, true, ""};
        chart.y = {"searches", AxisScale::Linear, 0, 0, true, ""};
      }
      if (kind == 3) {
        const int bars = std::uniform_int_distribution<int>(1, 40)(rng);
        chart.x.min = -0.5;
        chart.x.max = bars - 0.5;
        for (int b = 0; b < bars; ++b) chart.bars.push_back({b - 0.5, b + 0.5, std::floor(uniform(0, 5000))});
      } else {
        const int lines = std::uniform_int_distribution<int>(1, 6)(rng);
        const int points = std::uniform_int_distribution<int>(2, kind == 0 ? 12 : 100)(rng);
        const int first_log2 = std::uniform_int_distribution<int>(1, 10)(rng);
        for (int l = 0; l < lines; ++l) {
          ChartSeries s;
          s.name = names[static_cast<std::size_t>(l) % names.size()];
          s.end_label = kind == 0 ? s.name : "";
          s.colour = IM_COL32(0, 0, 0, 255);
          const double scale = std::pow(10.0, uniform(0, 5));
          for (int i = 0; i < points; ++i) {
            if (kind == 0) {
              s.x.push_back(std::exp2(first_log2 + i));
              s.y.push_back(scale * uniform(1, 3) * (1 + i * uniform(0, 2)));
            } else if (kind == 1) {
              s.x.push_back(chart.x.max * i / (points - 1));
              s.y.push_back(std::floor(uniform(0, scale)));
            } else {
              s.x.push_back(uniform(0, 1e3) * i);
              s.y.push_back(uniform(0, 100));
            }
          }
          if (kind == 2) std::sort(s.x.begin(), s.x.end());
          chart.lines.push_back(s);
        }
        // Lines that end at the same value (sometimes the lowest of all): their names must
        // still be apart, and off the axis's labels.
        if (kind == 0 && lines >= 3) {
          double end = chart.lines[0].y.back();
          if (trial % 8 == 0) {
            for (const ChartSeries& s : chart.lines) end = std::min(end, *std::min_element(s.y.begin(), s.y.end()));
          }
          for (ChartSeries& s : chart.lines) s.y.back() = end;
        }
      }
      const ImVec2 at(static_cast<float>(uniform(0, 200)), static_cast<float>(uniform(0, 200)));
      check_chart(chart, at, ImVec2(at.x + width, at.y + height));
    }
  }
}

TEST_CASE("tick texts: thousands separated, fractions short") {
  CHECK(tick_text(4096) == "4,096");
  CHECK(tick_text(1000000) == "1,000,000");
  CHECK(tick_text(0) == "0");
  CHECK(tick_text(-2500) == "-2,500");
  CHECK(tick_text(0.25) == "0.25");
  CHECK(tick_text(12.5) == "12.5");
}
