#pragma once
// Charts with axes drawn with ImGui draw lists: lines (linear or log scale on either axis) and
// bars, with ticks, tick labels, axis titles with units, a line's name at its end and a legend.
// The same function draws a chart in the side panel and on the view; it can record where it put
// every text and every point (for `--positions` and the tests that check the picture there).
#include <imgui.h>

#include <string>
#include <vector>

namespace p2plab::viz {

enum class AxisScale {
  Linear,
  Log2,   ///< ticks at powers of two, labelled 128, 256, ... (N in a sweep)
  Log10,  ///< ticks at powers of ten, labelled 1, 10, 100, 1,000 (messages)
};

struct ChartAxis {
  std::string title;  ///< with its unit: "messages per search", "time (s)"
  AxisScale scale = AxisScale::Linear;
  /// The range shown; when min >= max, the data's range (a log axis: from the power below the
  /// smallest value to the power above the largest; a linear one: from 0 to a round number).
  double min = 0, max = 0;
  bool integers = false;  ///< linear ticks only at whole numbers (hops, peers)
  std::string suffix;     ///< after each tick label: "%"
};

struct ChartSeries {
  std::string name;
  ImU32 colour = 0;
  std::vector<double> x, y;
  std::string end_label;  ///< written beside the line's last point, in its colour ("" for none)
};

/// A bar chart's bar: from x0 to x1, height y.
struct ChartBar {
  double x0 = 0, x1 = 0, y = 0;
};

struct Chart {
  std::string name;  ///< names it in recordings ("hops", "comparison")
  std::string title;
  ChartAxis x, y;
  std::vector<ChartSeries> lines;
  std::vector<ChartBar> bars;
  ImU32 bar_colour = 0;
  bool legend = false;  ///< a legend box in the upper left corner (each line's colour and name)
};

struct ChartStyle {
  ImU32 text = IM_COL32(230, 230, 230, 255), text_dim = IM_COL32(160, 160, 160, 255);
  ImU32 axis = IM_COL32(200, 200, 200, 255), grid = IM_COL32(200, 200, 200, 40);
  ImU32 background = 0;  ///< 0: none (the window's)
  float line_width = 2.0f;
  /// The line colours of a theme: distinct for colour-blind eyes (Okabe and Ito), darker on light.
  static std::vector<ImU32> series_colours(bool light);
  static ChartStyle dark();
  static ChartStyle light();
};

/// Where a chart put one text: kind is "title", "x_title", "y_title", "x_tick", "y_tick",
/// "line_end" or "legend"; series names the line of a "line_end" or "legend" text.
struct DrawnText {
  std::string kind, text, series;
  ImVec2 min, max;
};

/// Where a chart drew one data point (the point's data values and its pixel).
struct DrawnPoint {
  std::string series;
  double x = 0, y = 0;
  ImVec2 at;
};

struct ChartRecord {
  std::string name;
  ImVec2 min, max;            ///< the whole chart
  ImVec2 plot_min, plot_max;  ///< inside the axes
  std::vector<DrawnText> texts;
  std::vector<DrawnPoint> points;  ///< every line's points and every bar's top middle
};

/// Draws the chart in [min, max] with the current ImGui font; records what it drew into record
/// when given. Texts never overlap: tick labels are thinned until they fit.
void draw_chart(ImDrawList* draw, ImVec2 min, ImVec2 max, const Chart& chart, const ChartStyle& style,
                ChartRecord* record = nullptr);

/// A chart in an ImGui window (the side panel): reserves width x height at the cursor and draws.
void chart_widget(const Chart& chart, const ChartStyle& style, float height, ChartRecord* record = nullptr);

/// The text of a tick value: whole numbers with thousands separated ("4,096"), others short.
std::string tick_text(double value);

}  // namespace p2plab::viz
