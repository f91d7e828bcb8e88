#include "comparison.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>

namespace p2plab::viz {

namespace {

/// A system's name as the page writes it: the protocol's registered name in words
/// ("central_index" -> "Central index").
std::string display_name(const std::string& protocol) {
  std::string name = protocol;
  std::replace(name.begin(), name.end(), '_', ' ');
  if (!name.empty() && name[0] >= 'a' && name[0] <= 'z') name[0] = static_cast<char>(name[0] - 'a' + 'A');
  return name;
}

/// The lecture's O() of a fit's claim, without its explanation ("O(N/k): a flood among ..." -> "O(N/k)").
std::string lecture_growth(const std::string& claim) {
  const auto colon = claim.find(':');
  return claim.empty() ? "?" : claim.substr(0, colon);
}

/// A measured number as the table shows it: whole numbers with separators, small ones with one decimal.
std::string cell_text(double value, bool percent) {
  char text[64];
  if (percent) {
    std::snprintf(text, sizeof text, "%.0f %%", 100.0 * value);
    return text;
  }
  if (std::abs(value) >= 100 || value == std::round(value)) return tick_text(std::round(value));
  std::snprintf(text, sizeof text, "%.1f", value);
  return text;
}

struct Column {
  const char* name;   // in the positions ("messages_per_search")
  const char* line1;  // the header's two lines
  const char* line2;
  double (*value)(const bench::CompareRow&);
  bool percent;
};

const Column kColumns[] = {
    {"peers", "N", "(peers)", [](const bench::CompareRow& r) { return static_cast<double>(r.peers); }, false},
    {"messages_per_search", "messages", "per search", [](const bench::CompareRow& r) { return r.mean_messages; },
     false},
    {"state_per_peer", "state", "per peer", [](const bench::CompareRow& r) { return r.mean_state; }, false},
    {"max_state", "max state", "(one peer)", [](const bench::CompareRow& r) { return r.max_state; }, false},
    {"found", "found", "(success)", [](const bench::CompareRow& r) { return r.success_rate; }, true},
};

nlohmann::json box(ImVec2 a, ImVec2 b) { return {a.x, a.y, b.x, b.y}; }

}  // namespace

ComparisonPage::ComparisonPage(const Scenario& lab) : lab_(lab), options_(bench::compare_options_for_lab(lab)) {
  options_.quiet = true;
  // What the first frame says, before the sweep's first measurement reports.
  total_ = static_cast<int>(options_.protocols.size()) * (options_.max_log2 - options_.min_log2 + 1);
  progress_ = "measuring N = " + tick_text(std::ldexp(1.0, options_.min_log2)) +
              (options_.protocols.empty() ? "" : " for " + display_name(options_.protocols.front())) + " (1 of " +
              std::to_string(total_) + ")";
}

void ComparisonPage::start() {
  if (!started_) worker_ = std::thread([this] { measure(); });
  started_ = true;
}

ComparisonPage::~ComparisonPage() {
  stop_ = true;
  if (worker_.joinable()) worker_.join();
}

void ComparisonPage::wait() {
  start();
  if (worker_.joinable()) worker_.join();
}

void ComparisonPage::stop() {
  stop_ = true;
  if (worker_.joinable()) worker_.join();
}

void ComparisonPage::measure() {
  const auto start = std::chrono::steady_clock::now();
  bench::CompareOptions options = options_;
  options.progress = [this](const std::string& protocol, int peers, int done, int total) {
    const std::lock_guard<std::mutex> lock(mutex_);
    progress_ = "measuring N = " + tick_text(peers) + " for " + display_name(protocol) + " (" +
                std::to_string(done + 1) + " of " + std::to_string(total) + ")";
    done_ = done;
    total_ = total;
    return !stop_.load();
  };
  try {
    auto [rows, fits] = bench::run_compare(options);
    const std::lock_guard<std::mutex> lock(mutex_);
    if (stop_ && rows.size() < static_cast<std::size_t>(total_))
      error_ = "stopped before the end (another lab was opened)";
    rows_ = std::move(rows);
    fits_ = std::move(fits);
    progress_.clear();
  } catch (const std::exception& e) {
    const std::lock_guard<std::mutex> lock(mutex_);
    error_ = e.what();
    progress_.clear();
  }
  seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  measured_ = true;
}

std::string ComparisonPage::progress() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return progress_;
}

void ComparisonPage::draw(ImDrawList* draw, ImVec2 origin, ImVec2 size, bool projector, bool record) {
  const ChartStyle style = projector ? ChartStyle::light() : ChartStyle::dark();
  const std::vector<ImU32> colours = ChartStyle::series_colours(projector);
  chart_record_ = ChartRecord{};
  fit_texts_.clear();
  cells_.clear();
  start();
  if (!measured_) {
    // Measuring: a progress line and a bar (the sweep's share done).
    const float font = ImGui::GetFontSize(), pad = std::round(font * 0.6f);
    int done = 0, total = 1;
    std::string text;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      text = progress_.empty() ? "measuring ..." : progress_;
      done = done_;
      total = std::max(1, total_);
    }
    draw->AddText(ImVec2(origin.x + pad, origin.y + pad), style.text,
                  ("The lecture's complexity table: " + text).c_str());
    const ImVec2 bar(origin.x + pad, origin.y + pad + font * 1.6f), bar_end(origin.x + size.x * 0.6f, bar.y + font);
    draw->AddRect(bar, bar_end, style.axis);
    draw->AddRectFilled(
        bar, ImVec2(bar.x + (bar_end.x - bar.x) * static_cast<float>(done) / static_cast<float>(total), bar_end.y),
        colours[0]);
    return;
  }
  if (!error_.empty()) {
    draw->AddText(ImVec2(origin.x + 12, origin.y + 12), IM_COL32(220, 40, 40, 255),
                  ("cannot measure: " + error_).c_str());
    return;
  }
  if (rows_.empty()) {
    draw->AddText(ImVec2(origin.x + 12, origin.y + 12), style.text,
                  "No system to compare: the lab's params.protocols is empty.");
    return;
  }
  // Each system's colour, in the order run_compare measured them.
  std::map<std::string, ImU32> colour_of;
  for (const bench::CompareFit& fit : fits_)
    colour_of.emplace(fit.protocol, colours[colour_of.size() % colours.size()]);

  // The table's columns at the theme's type; smaller type only where the table would leave the
  // chart less than 40 % of the width (a narrow window with the side panel shown).
  const std::size_t columns = std::size(kColumns);
  std::vector<float> widths(columns, 0);
  float table_width = 0;
  auto measure_columns = [&] {
    const float pad = std::round(ImGui::GetFontSize() * 0.6f);
    table_width = 0;
    for (std::size_t c = 0; c < columns; ++c) {
      widths[c] = std::max(ImGui::CalcTextSize(kColumns[c].line1).x, ImGui::CalcTextSize(kColumns[c].line2).x);
      for (const bench::CompareRow& r : rows_) {
        widths[c] =
            std::max(widths[c], ImGui::CalcTextSize(cell_text(kColumns[c].value(r), kColumns[c].percent).c_str()).x);
      }
      widths[c] += 1.5f * pad;
      table_width += widths[c];
    }
  };
  measure_columns();
  const float type_scale = std::clamp(0.6f * size.x / std::max(1.0f, table_width), 0.6f, 1.0f);
  if (type_scale < 1.0f) {
    ImGui::SetWindowFontScale(type_scale);
    measure_columns();
  }
  const float font = ImGui::GetFontSize(), line = ImGui::GetTextLineHeightWithSpacing(), pad = std::round(font * 0.6f);

  // The header over the page, wrapped if the view is narrow.
  char header[256];
  std::snprintf(header, sizeof header,
                "The lecture's complexity table, measured: N = %s .. %s peers, %d searches per system and N",
                tick_text(std::ldexp(1.0, options_.min_log2)).c_str(),
                tick_text(std::ldexp(1.0, options_.max_log2)).c_str(), options_.queries);
  const float wrap = size.x - 2 * pad;
  draw->AddText(ImGui::GetFont(), font, ImVec2(origin.x + pad, origin.y + pad), style.text, header, nullptr, wrap);
  const float top = origin.y + pad + ImGui::CalcTextSize(header, nullptr, false, wrap).y + line * 0.4f;

  // The N the table lists: all of them if they fit, else every k-th (always the largest); the
  // chart shows all.
  std::vector<std::uint64_t> sizes;
  for (const bench::CompareRow& r : rows_) {
    if (std::find(sizes.begin(), sizes.end(), r.peers) == sizes.end()) sizes.push_back(r.peers);
  }
  const float row_height = line;
  const float table_room = origin.y + size.y - top - pad;
  auto listed_count = [&](std::size_t k) { return sizes.empty() ? 0 : (sizes.size() - 1) / k + 1; };
  auto table_height = [&](std::size_t k) {
    return row_height * static_cast<float>(2 + fits_.size() * (1 + listed_count(k)) + (k > 1 ? 1 : 0)) + pad;
  };
  std::size_t every = 1;
  while (every < sizes.size() && table_height(every) > table_room) ++every;
  auto listed = [&](std::uint64_t peers) {
    const auto i = static_cast<std::size_t>(std::find(sizes.begin(), sizes.end(), peers) - sizes.begin());
    return (sizes.size() - 1 - i) % every == 0;
  };

  // Chart left, table right; under the chart each system's measured growth beside the lecture's
  // (split in two lines where the chart is narrow).
  const ImVec2 table_at(origin.x + size.x - table_width - pad, top);
  const ImVec2 chart_min(origin.x + pad, top);
  const float chart_right = table_at.x - 2 * pad;
  struct FitLine {
    std::string text, first, second;
    std::string protocol;
  };
  std::vector<FitLine> fit_lines;
  float fits_height = line * 0.5f;
  for (const bench::CompareFit& fit : fits_) {
    FitLine f{display_name(fit.protocol) + ": measured " + fit.measured + ", lecture " + lecture_growth(fit.lecture),
              "", "", fit.protocol};
    if (ImGui::CalcTextSize(f.text.c_str()).x > chart_right - chart_min.x - pad) {
      f.first = display_name(fit.protocol) + ": measured " + fit.measured + ",";
      f.second = "    lecture " + lecture_growth(fit.lecture);
      fits_height += 2 * line;
    } else {
      f.first = f.text;
      fits_height += line;
    }
    fit_lines.push_back(std::move(f));
  }
  const ImVec2 chart_max(chart_right, std::max(top + 8 * line, origin.y + size.y - fits_height - pad));

  // The chart: messages per search against N, both on log scales.
  Chart chart;
  chart.name = "comparison";
  chart.x = {"N (peers, log scale)", AxisScale::Log2, 0, 0, false, ""};
  chart.y = {"messages per search (log scale)", AxisScale::Log10, 0, 0, false, ""};
  for (const bench::CompareFit& fit : fits_) {
    ChartSeries s;
    s.name = fit.protocol;
    s.colour = colour_of[fit.protocol];
    s.end_label = display_name(fit.protocol);
    for (const bench::CompareRow& r : rows_) {
      if (r.protocol != fit.protocol) continue;
      s.x.push_back(static_cast<double>(r.peers));
      s.y.push_back(r.mean_messages);
    }
    chart.lines.push_back(std::move(s));
  }
  draw_chart(draw, chart_min, chart_max, chart, style, record ? &chart_record_ : nullptr);

  float y = chart_max.y + line * 0.5f;
  for (const FitLine& f : fit_lines) {
    const ImVec2 at(chart_min.x + pad, y);
    const ImU32 colour = colour_of[f.protocol];
    draw->AddText(at, colour, f.first.c_str());
    ImVec2 far(at.x + ImGui::CalcTextSize(f.first.c_str()).x, at.y + line);
    y += line;
    if (!f.second.empty()) {
      draw->AddText(ImVec2(at.x, y), colour, f.second.c_str());
      far = ImVec2(std::max(far.x, at.x + ImGui::CalcTextSize(f.second.c_str()).x), y + line);
      y += line;
    }
    if (record) fit_texts_.push_back({"fit", f.text, f.protocol, at, ImVec2(far.x, far.y - (line - font))});
  }

  // The table: right-aligned numbers, the headers' two lines, a rule under them, then each
  // system's name in its colour over its rows.
  auto cell = [&](float x, float cell_y, std::size_t c, const std::string& text, ImU32 colour,
                  const std::string& protocol, std::uint64_t peers, double value) {
    const ImVec2 extent = ImGui::CalcTextSize(text.c_str());
    const ImVec2 at(x + widths[c] - pad * 0.75f - extent.x, cell_y);
    draw->AddText(at, colour, text.c_str());
    if (record)
      cells_.push_back({protocol, kColumns[c].name, text, peers, value, at, ImVec2(at.x + extent.x, at.y + extent.y)});
  };
  float x = table_at.x;
  for (std::size_t c = 0; c < columns; ++c) {
    cell(x, table_at.y, c, kColumns[c].line1, style.text, "", 0, 0);
    cell(x, table_at.y + row_height, c, kColumns[c].line2, style.text_dim, "", 0, 0);
    x += widths[c];
  }
  y = table_at.y + 2 * row_height + pad * 0.3f;
  draw->AddLine(ImVec2(table_at.x, y - pad * 0.15f), ImVec2(table_at.x + table_width, y - pad * 0.15f), style.axis,
                1.5f);
  for (const bench::CompareFit& fit : fits_) {
    const ImU32 colour = colour_of[fit.protocol];
    const std::string name = display_name(fit.protocol);
    draw->AddText(ImVec2(table_at.x + pad * 0.5f, y), colour, name.c_str());
    if (record) {
      const ImVec2 extent = ImGui::CalcTextSize(name.c_str());
      cells_.push_back({fit.protocol, "system", name, 0, 0, ImVec2(table_at.x + pad * 0.5f, y),
                        ImVec2(table_at.x + pad * 0.5f + extent.x, y + extent.y)});
    }
    y += row_height;
    bool shade = false;
    for (const bench::CompareRow& r : rows_) {
      if (r.protocol != fit.protocol || !listed(r.peers)) continue;
      if (shade)
        draw->AddRectFilled(ImVec2(table_at.x, y), ImVec2(table_at.x + table_width, y + row_height), style.grid);
      shade = !shade;
      x = table_at.x;
      for (std::size_t c = 0; c < columns; ++c) {
        const double value = kColumns[c].value(r);
        cell(x, y, c, cell_text(value, kColumns[c].percent), c == 0 ? style.text_dim : style.text, r.protocol, r.peers,
             value);
        x += widths[c];
      }
      y += row_height;
    }
  }
  if (every > 1) {
    // Say that rows were left out (the chart has them all).
    const std::string note = "(every " + std::to_string(every) +
                             (every == 2   ? "nd"
                              : every == 3 ? "rd"
                                           : "th") +
                             " N; the chart shows all)";
    draw->AddText(ImVec2(table_at.x + pad * 0.5f, y), style.text_dim, note.c_str());
  }
  if (type_scale < 1.0f) ImGui::SetWindowFontScale(1.0f);
}

nlohmann::json ComparisonPage::positions() const {
  nlohmann::json texts = nlohmann::json::array(), points = nlohmann::json::array(), cells = nlohmann::json::array();
  for (const DrawnText& t : chart_record_.texts) {
    texts.push_back({{"kind", t.kind}, {"text", t.text}, {"series", t.series}, {"box", box(t.min, t.max)}});
  }
  for (const DrawnText& t : fit_texts_) {
    texts.push_back({{"kind", t.kind}, {"text", t.text}, {"series", t.series}, {"box", box(t.min, t.max)}});
  }
  for (const DrawnPoint& p : chart_record_.points) {
    points.push_back({{"series", p.series}, {"x", p.x}, {"y", p.y}, {"px", p.at.x}, {"py", p.at.y}});
  }
  for (const DrawnCell& c : cells_) {
    cells.push_back({{"protocol", c.protocol},
                     {"peers", c.peers},
                     {"column", c.column},
                     {"text", c.text},
                     {"value", c.value},
                     {"box", box(c.min, c.max)}});
  }
  return {{"measured", measured_.load()},
          {"seconds", seconds_},
          {"chart",
           {{"box", box(chart_record_.min, chart_record_.max)},
            {"plot", box(chart_record_.plot_min, chart_record_.plot_max)},
            {"texts", texts},
            {"points", points}}},
          {"table", cells}};
}

}  // namespace p2plab::viz
