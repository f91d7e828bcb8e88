#include "charts.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace p2plab::viz {

namespace {

/// A value's place along its axis before scaling to pixels.
double axis_value(const ChartAxis& axis, double v) {
  switch (axis.scale) {
    case AxisScale::Log2:
      return std::log2(std::max(v, 1e-12));
    case AxisScale::Log10:
      return std::log10(std::max(v, 1e-12));
    case AxisScale::Linear:
      break;
  }
  return v;
}

bool is_log(const ChartAxis& axis) { return axis.scale != AxisScale::Linear; }
double log_base(const ChartAxis& axis) { return axis.scale == AxisScale::Log2 ? 2.0 : 10.0; }

/// A linear axis's tick step: 1, 2 or 5 times a power of ten, at least `least`.
double nice_step(double least, bool integers) {
  if (!(least > 0)) least = 1;
  const double power = std::pow(10.0, std::floor(std::log10(least)));
  double step = 10 * power;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * power >= least * (1 - 1e-9)) {
      step = m * power;
      break;
    }
  }
  return integers ? std::max(1.0, std::round(step)) : step;
}

struct Axis {
  double lo = 0, hi = 1;       // the range in data values
  std::vector<double> ticks;   // values with a tick mark and a grid line
  std::vector<double> labels;  // the ticks that are labelled
};

/// The range and ticks of one axis over `values`, for an axis `length` pixels long whose labels
/// need `label_extent(value)` pixels along the axis each (plus a gap) to stay apart.
template <class Extent>
Axis lay_out_axis(const ChartAxis& axis, const std::vector<double>& values, float length, Extent label_extent) {
  Axis a;
  double data_lo = std::numeric_limits<double>::infinity(), data_hi = -data_lo;
  for (double v : values) {
    if (!std::isfinite(v) || (is_log(axis) && v <= 0)) continue;
    data_lo = std::min(data_lo, v);
    data_hi = std::max(data_hi, v);
  }
  const bool given = axis.min < axis.max;
  if (is_log(axis)) {
    const double base = log_base(axis);
    if (given) {
      a.lo = axis.min;
      a.hi = axis.max;
    } else if (data_lo > data_hi) {
      a.lo = 1;
      a.hi = base;
    } else {
      a.lo = std::pow(base, std::floor(std::log(data_lo) / std::log(base) + 1e-9));
      a.hi = std::pow(base, std::ceil(std::log(data_hi) / std::log(base) - 1e-9));
      if (a.hi <= a.lo) a.hi = a.lo * base;
    }
    for (double t = std::pow(base, std::ceil(std::log(a.lo) / std::log(base) - 1e-9)); t <= a.hi * (1 + 1e-9);
         t *= base) {
      a.ticks.push_back(t);
    }
    // Every k-th power labelled, counted from the largest (the end of a sweep is the point of
    // it), the smallest k whose labels stay apart.
    for (std::size_t k = 1; k <= a.ticks.size(); ++k) {
      a.labels.clear();
      bool fits = true;
      for (std::size_t i = a.ticks.size(); i >= k; i -= k) a.labels.insert(a.labels.begin(), a.ticks[i - 1]);
      for (std::size_t i = 1; i < a.labels.size(); ++i) {
        const double apart = (axis_value(axis, a.labels[i]) - axis_value(axis, a.labels[i - 1])) /
                             (axis_value(axis, a.hi) - axis_value(axis, a.lo)) * length;
        if (apart < (label_extent(a.labels[i]) + label_extent(a.labels[i - 1])) / 2) fits = false;
      }
      if (fits) break;
    }
    return a;
  }
  if (given) {
    a.lo = axis.min;
    a.hi = axis.max;
  } else {
    a.lo = data_lo > data_hi ? 0 : std::min(0.0, data_lo);
    a.hi = data_lo > data_hi ? 1 : std::max(data_hi, a.lo + (axis.integers ? 1 : 1e-9));
  }
  // The smallest round step whose labels stay apart; the range then ends at a tick (unless given).
  double step = nice_step((a.hi - a.lo) / 12, axis.integers);
  for (int tries = 0; tries < 40; ++tries) {
    const double hi = given ? a.hi : std::ceil(a.hi / step - 1e-9) * step;
    const double spacing = step / (hi - a.lo) * length;
    const double widest = std::max(label_extent(a.lo), label_extent(hi));
    if (spacing >= widest) {
      a.hi = hi;
      break;
    }
    step = nice_step(step * 1.01, axis.integers);
  }
  for (double t = std::ceil(a.lo / step - 1e-9) * step; t <= a.hi + step * 1e-9; t += step) {
    a.ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  }
  a.labels = a.ticks;
  return a;
}

}  // namespace

std::string tick_text(double value) {
  char text[64];
  if (std::abs(value - std::round(value)) < 1e-9 && std::abs(value) < 1e15) {
    const auto whole = static_cast<long long>(std::llround(std::abs(value)));
    std::string digits = std::to_string(whole);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<std::size_t>(i), ",");
    return (value < 0 ? "-" : "") + digits;
  }
  std::snprintf(text, sizeof text, "%.3g", value);
  return text;
}

std::vector<ImU32> ChartStyle::series_colours(bool light) {
  if (light) {
    return {IM_COL32(0, 100, 170, 255),  IM_COL32(205, 85, 0, 255),  IM_COL32(0, 130, 90, 255),
            IM_COL32(170, 50, 140, 255), IM_COL32(150, 110, 0, 255), IM_COL32(60, 60, 60, 255)};
  }
  return {IM_COL32(86, 180, 233, 255),  IM_COL32(240, 160, 30, 255), IM_COL32(0, 200, 140, 255),
          IM_COL32(230, 130, 190, 255), IM_COL32(240, 228, 66, 255), IM_COL32(220, 220, 220, 255)};
}

ChartStyle ChartStyle::dark() { return ChartStyle{}; }

ChartStyle ChartStyle::light() {
  ChartStyle s;
  s.text = IM_COL32(10, 10, 10, 255);
  s.text_dim = IM_COL32(70, 70, 70, 255);
  s.axis = IM_COL32(30, 30, 30, 255);
  s.grid = IM_COL32(0, 0, 0, 30);
  s.line_width = 3.0f;
  return s;
}

void draw_chart(ImDrawList* draw, ImVec2 min, ImVec2 max, const Chart& chart, const ChartStyle& style,
                ChartRecord* record) {
  const float font = ImGui::GetFontSize();
  const float line = font * 1.15f, pad = std::round(font * 0.35f), tick = std::round(font * 0.3f);
  if (record != nullptr) {
    *record = ChartRecord{};
    record->name = chart.name;
    record->min = min;
    record->max = max;
  }
  auto text_at = [&](ImVec2 at, ImU32 colour, const std::string& text, const char* kind,
                     const std::string& series = "") {
    const ImVec2 size = ImGui::CalcTextSize(text.c_str());
    draw->AddText(at, colour, text.c_str());
    if (record != nullptr) record->texts.push_back({kind, text, series, at, ImVec2(at.x + size.x, at.y + size.y)});
  };
  if (style.background != 0) draw->AddRectFilled(min, max, style.background);

  std::vector<double> xs, ys;
  for (const ChartSeries& s : chart.lines) {
    xs.insert(xs.end(), s.x.begin(), s.x.end());
    ys.insert(ys.end(), s.y.begin(), s.y.end());
  }
  for (const ChartBar& b : chart.bars) {
    xs.push_back(b.x0);
    xs.push_back(b.x1);
    ys.push_back(b.y);
  }
  const auto x_text = [&](double v) { return tick_text(v) + chart.x.suffix; };
  const auto y_text = [&](double v) { return tick_text(v) + chart.y.suffix; };

  // Margins: the title and the y axis's title above the plot, tick labels left of it and below
  // it, the x axis's title under those, the lines' names right of it.
  float top = min.y + pad;
  if (!chart.title.empty()) top += line;
  const float y_title_top = top;
  if (!chart.y.title.empty()) top += line;
  top += font * 0.5f;  // the topmost tick label is centred on the plot's top edge
  float bottom = max.y - pad - font - tick - font * 0.5f;
  if (!chart.x.title.empty()) bottom -= line;
  float end_width = 0;
  for (const ChartSeries& s : chart.lines) {
    if (!s.end_label.empty()) end_width = std::max(end_width, ImGui::CalcTextSize(s.end_label.c_str()).x + 2 * pad);
  }
  // The y axis first (its labels' width sets the left margin), then the x axis.
  const Axis y = lay_out_axis(chart.y, ys, std::max(1.0f, bottom - top), [&](double) { return line + pad; });
  float label_width = 0;
  for (double v : y.labels) label_width = std::max(label_width, ImGui::CalcTextSize(y_text(v).c_str()).x);
  const float left = min.x + pad + label_width + tick + pad;
  float right =
      max.x - std::max(end_width, pad + ImGui::CalcTextSize(x_text(xs.empty() ? 0 : xs.back()).c_str()).x / 2);
  right = std::max(right, left + 10);
  const Axis x = lay_out_axis(chart.x, xs, right - left,
                              [&](double v) { return ImGui::CalcTextSize(x_text(v).c_str()).x + 2 * pad; });
  const ImVec2 plot_min(left, top), plot_max(right, std::max(top + 10, bottom));
  if (record != nullptr) {
    record->plot_min = plot_min;
    record->plot_max = plot_max;
  }
  const double x0 = axis_value(chart.x, x.lo), x1 = axis_value(chart.x, x.hi);
  const double y0 = axis_value(chart.y, y.lo), y1 = axis_value(chart.y, y.hi);
  auto px = [&](double v) {
    const double f = (axis_value(chart.x, v) - x0) / (x1 - x0 == 0 ? 1 : x1 - x0);
    return static_cast<float>(plot_min.x + std::clamp(f, 0.0, 1.0) * (plot_max.x - plot_min.x));
  };
  auto py = [&](double v) {
    const double f = (axis_value(chart.y, v) - y0) / (y1 - y0 == 0 ? 1 : y1 - y0);
    return static_cast<float>(plot_max.y - std::clamp(f, 0.0, 1.0) * (plot_max.y - plot_min.y));
  };

  if (!chart.title.empty()) text_at(ImVec2(min.x + pad, min.y + pad), style.text, chart.title, "title");
  if (!chart.y.title.empty()) text_at(ImVec2(min.x + pad, y_title_top), style.text, chart.y.title, "y_title");
  // Grid, axes, ticks and their labels.
  for (double v : y.ticks) {
    const float at = py(v);
    draw->AddLine(ImVec2(plot_min.x, at), ImVec2(plot_max.x, at), style.grid);
    draw->AddLine(ImVec2(plot_min.x - tick, at), ImVec2(plot_min.x, at), style.axis, 1.5f);
  }
  for (double v : y.labels) {
    const std::string t = y_text(v);
    const ImVec2 size = ImGui::CalcTextSize(t.c_str());
    text_at(ImVec2(plot_min.x - tick - pad - size.x, py(v) - size.y / 2), style.text, t, "y_tick");
  }
  for (double v : x.ticks) {
    const float at = px(v);
    draw->AddLine(ImVec2(at, plot_min.y), ImVec2(at, plot_max.y), style.grid);
    draw->AddLine(ImVec2(at, plot_max.y), ImVec2(at, plot_max.y + tick), style.axis, 1.5f);
  }
  const float x_label_top = plot_max.y + std::max(tick + 2, font * 0.5f + 2);
  for (double v : x.labels) {
    const std::string t = x_text(v);
    const ImVec2 size = ImGui::CalcTextSize(t.c_str());
    text_at(ImVec2(px(v) - size.x / 2, x_label_top), style.text, t, "x_tick");
  }
  if (!chart.x.title.empty()) {
    const ImVec2 size = ImGui::CalcTextSize(chart.x.title.c_str());
    text_at(ImVec2((plot_min.x + plot_max.x - size.x) / 2, x_label_top + line), style.text, chart.x.title, "x_title");
  }
  draw->AddLine(ImVec2(plot_min.x, plot_min.y), ImVec2(plot_min.x, plot_max.y), style.axis, 1.5f);
  draw->AddLine(ImVec2(plot_min.x, plot_max.y), ImVec2(plot_max.x, plot_max.y), style.axis, 1.5f);

  // Bars, then lines with a dot at each point.
  for (const ChartBar& b : chart.bars) {
    const float a = px(b.x0), c = px(b.x1), top_y = py(b.y);
    const float gap = std::min(2.0f, (c - a) / 4);
    draw->AddRectFilled(ImVec2(a + gap, top_y), ImVec2(c - gap, plot_max.y), chart.bar_colour);
    if (record != nullptr) record->points.push_back({"bars", (b.x0 + b.x1) / 2, b.y, ImVec2((a + c) / 2, top_y)});
  }
  struct End {
    const ChartSeries* series;
    ImVec2 at;
  };
  std::vector<End> ends;
  const float dot = style.line_width * 1.6f;
  for (const ChartSeries& s : chart.lines) {
    std::vector<ImVec2> points;
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      points.emplace_back(px(s.x[i]), py(s.y[i]));
      if (record != nullptr) record->points.push_back({s.name, s.x[i], s.y[i], points.back()});
    }
    if (points.empty()) continue;
    draw->AddPolyline(points.data(), static_cast<int>(points.size()), s.colour, 0, style.line_width);
    if (points.size() <= 40) {  // a dot per measurement; a time series is a line
      for (const ImVec2& p : points) draw->AddCircleFilled(p, dot, s.colour);
    }
    if (!s.end_label.empty()) ends.push_back({&s, points.back()});
  }
  // The lines' names at their ends, moved apart vertically where they would overlap (down, then
  // back up where they would run into the x axis's labels), with a short leader when moved.
  std::sort(ends.begin(), ends.end(), [](const End& a, const End& b) { return a.at.y < b.at.y; });
  std::vector<float> tops(ends.size());
  float free_from = min.y;
  for (std::size_t i = 0; i < ends.size(); ++i) {
    tops[i] = std::max(ends[i].at.y - font / 2, free_from);
    free_from = tops[i] + font + 1;
  }
  float free_to = x_label_top - 1;
  for (std::size_t i = ends.size(); i-- > 0;) {
    tops[i] = std::min(tops[i], free_to - font);
    free_to = tops[i] - 1;
  }
  for (std::size_t i = 0; i < ends.size(); ++i) {
    const End& e = ends[i];
    const ImVec2 at(e.at.x + pad * 1.5f, tops[i]);
    if (std::abs(tops[i] + font / 2 - e.at.y) > 1) {
      draw->AddLine(ImVec2(e.at.x + dot, e.at.y), ImVec2(at.x - 2, tops[i] + font / 2), e.series->colour, 1.0f);
    }
    text_at(at, e.series->colour, e.series->end_label, "line_end", e.series->name);
  }
  // The legend: a swatch and a name per line, upper left inside the plot.
  if (chart.legend && !chart.lines.empty()) {
    float width = 0;
    for (const ChartSeries& s : chart.lines) width = std::max(width, ImGui::CalcTextSize(s.name.c_str()).x);
    const float swatch = font * 1.2f;
    const ImVec2 corner(plot_min.x + pad, plot_min.y + pad);
    const ImVec2 far(corner.x + width + swatch + 3 * pad,
                     corner.y + line * static_cast<float>(chart.lines.size()) + pad);
    draw->AddRectFilled(corner, far, style.background != 0 ? style.background : IM_COL32(128, 128, 128, 40));
    float at = corner.y + pad / 2;
    for (const ChartSeries& s : chart.lines) {
      draw->AddLine(ImVec2(corner.x + pad, at + line / 2), ImVec2(corner.x + pad + swatch, at + line / 2), s.colour,
                    style.line_width);
      text_at(ImVec2(corner.x + 2 * pad + swatch, at), style.text, s.name, "legend", s.name);
      at += line;
    }
  }
}

void chart_widget(const Chart& chart, const ChartStyle& style, float height, ChartRecord* record) {
  const ImVec2 at = ImGui::GetCursorScreenPos();
  const float width = std::max(50.0f, ImGui::GetContentRegionAvail().x);
  ImGui::Dummy(ImVec2(width, height));
  draw_chart(ImGui::GetWindowDrawList(), at, ImVec2(at.x + width, at.y + height), chart, style, record);
}

}  // namespace p2plab::viz
