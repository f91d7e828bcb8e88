// The charts as the room sees them: the complexity-comparison lab opens in p2plab-viz as a log-log
// chart and a table, and the Metrics panel draws its charts with axes, ticks and units. Each
// picture is rendered under Xvfb with `--screenshot --positions`; the test reads where the page
// says it drew every tick label, line end, point and table cell, checks the numbers against
// bench::run_compare computed here with the lab's own options (an oracle independent of the
// window), checks that no two texts overlap, and checks the picture's pixels at the points.
#include <doctest/doctest.h>
#include <stb_image.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "compare.hpp"
#include "p2plab/scenario.hpp"

#include "window_test_util.hpp"

using viz_test::in_xvfb;
using viz_test::run;

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Image {
  int width = 0, height = 0;
  std::vector<unsigned char> rgba;
  std::uint32_t at(double x, double y) const {
    const auto px = static_cast<std::size_t>(std::clamp<long>(std::lround(x), 0, width - 1));
    const auto py = static_cast<std::size_t>(std::clamp<long>(std::lround(y), 0, height - 1));
    const std::size_t i = 4 * (py * static_cast<std::size_t>(width) + px);
    return rgba[i] | (rgba[i + 1] << 8) | (rgba[i + 2] << 16);
  }
};

Image load_png(const std::string& path) {
  Image image;
  int channels = 0;
  unsigned char* data = stbi_load(path.c_str(), &image.width, &image.height, &channels, 4);
  REQUIRE(data != nullptr);
  image.rgba.assign(data, data + static_cast<std::size_t>(image.width) * image.height * 4);
  stbi_image_free(data);
  return image;
}

/// The colour most pixels of the rectangle have: the background there.
std::uint32_t most_common(const Image& image, double x0, double y0, double x1, double y1) {
  std::map<std::uint32_t, int> counts;
  for (double y = y0; y < y1; y += 3) {
    for (double x = x0; x < x1; x += 3) ++counts[image.at(x, y)];
  }
  return std::max_element(counts.begin(), counts.end(),
                          [](const auto& a, const auto& b) { return a.second < b.second; })
      ->first;
}

struct Box {
  double x0, y0, x1, y1;
  std::string text;
};

Box box_of(const json& item) {
  const json& b = item.at("box");
  return {b[0].get<double>(), b[1].get<double>(), b[2].get<double>(), b[3].get<double>(),
          item.at("text").get<std::string>()};
}

/// Every pair of boxes is apart (touching edges allowed).
void check_apart(const std::vector<Box>& boxes) {
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    for (std::size_t j = i + 1; j < boxes.size(); ++j) {
      const Box &a = boxes[i], &b = boxes[j];
      const bool overlap = a.x0 < b.x1 - 0.5 && b.x0 < a.x1 - 0.5 && a.y0 < b.y1 - 0.5 && b.y0 < a.y1 - 0.5;
      CAPTURE(a.text);
      CAPTURE(b.text);
      CHECK_FALSE(overlap);
    }
  }
}

/// "4,096" -> 4096.
double number(std::string text) {
  text.erase(std::remove(text.begin(), text.end(), ','), text.end());
  return std::stod(text);
}

bool close(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b)); }

/// The tick labels stand where their values are: a point with that x value is centred under
/// an x label (when one is drawn for it), and a point above a y label's value is drawn above it.
void check_ticks_at_values(const json& texts, const json& points, bool log_y) {
  int matched = 0;
  for (const json& t : texts) {
    const std::string kind = t.at("kind");
    if (kind != "x_tick" && kind != "y_tick") continue;
    const Box b = box_of(t);
    const std::string text = b.text.substr(0, b.text.find('%'));
    const double value = number(text);
    for (const json& p : points) {
      CAPTURE(b.text);
      CAPTURE(p.dump());
      if (kind == "x_tick" && p.at("x").get<double>() == value) {
        CHECK(std::abs((b.x0 + b.x1) / 2 - p.at("px").get<double>()) < 1.0);
        ++matched;
      }
      if (kind == "y_tick") {
        const double y = p.at("y").get<double>(), centre = (b.y0 + b.y1) / 2;
        if (log_y && y <= 0) continue;
        if (y > value * (1 + 1e-9) + 1e-9) CHECK(p.at("py").get<double>() < centre);
        if (y < value * (1 - 1e-9) - 1e-9) CHECK(p.at("py").get<double>() > centre);
      }
    }
  }
  CHECK(matched >= 2);  // at least two x labels stand under points of their value
}

json read_json(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  return json::parse(in);
}

}  // namespace

TEST_CASE("the complexity-comparison lab opens as a log-log chart and a table of run_compare's measurements") {
  const std::string lab = std::string(P2PLAB_SOURCE_DIR) + "/labs/complexity-comparison.json";
  const fs::path out = fs::temp_directory_path() / "p2plab-charts";
  fs::create_directories(out);
  const fs::path png = out / "comparison.png", positions = out / "comparison.json";
  fs::remove(png);
  fs::remove(positions);
  // The window measures on its thread while this test measures the same sweep (two cores).
  const std::string command = in_xvfb("1920x1080") + std::string(P2PLAB_VIZ) + " " + lab + " --screenshot " +
                              png.string() + " --positions " + positions.string() + " --size 1920x1080 --projector > " +
                              (out / "comparison.log").string() + " 2>&1";
  int status = -1;
  std::thread window([&] { status = run(command); });
  const p2plab::Scenario scenario = p2plab::load_scenario(lab);
  REQUIRE(p2plab::bench::is_compare_lab(scenario));
  p2plab::bench::CompareOptions options = p2plab::bench::compare_options_for_lab(scenario);
  options.quiet = true;
  const auto measured_here = p2plab::bench::run_compare(options);
  const auto& rows = measured_here.first;
  const auto& fits = measured_here.second;
  window.join();
  CAPTURE(command);
  REQUIRE(status == 0);
  REQUIRE(rows.size() == fits.size() * static_cast<std::size_t>(options.max_log2 - options.min_log2 + 1));
  const json doc = read_json(positions);
  const Image image = load_png(png.string());
  REQUIRE(doc.contains("comparison"));
  const json& page = doc.at("comparison");
  CHECK(page.at("measured").get<bool>());

  {  // the lab browser lists it last, after every protocol's labs
    const json& labs = doc.at("labs");
    REQUIRE(labs.size() >= 2);
    CHECK(labs.back().at("name") == "complexity-comparison");
    for (std::size_t i = 0; i + 1 < labs.size(); ++i) CHECK(labs[i].at("protocol") != "compare");
  }

  {  // the table shows every system's measures at every N, as run_compare measured them
    const json& cells = page.at("table");
    const char* columns[] = {"peers", "messages_per_search", "state_per_peer", "max_state", "found"};
    for (const auto& row : rows) {
      const double expected[] = {static_cast<double>(row.peers), row.mean_messages, row.mean_state, row.max_state,
                                 row.success_rate};
      for (std::size_t c = 0; c < std::size(columns); ++c) {
        CAPTURE(row.protocol);
        CAPTURE(row.peers);
        CAPTURE(columns[c]);
        const auto cell = std::find_if(cells.begin(), cells.end(), [&](const json& x) {
          return x.at("protocol") == row.protocol && x.at("peers") == row.peers && x.at("column") == columns[c];
        });
        REQUIRE(cell != cells.end());
        CHECK(close(cell->at("value").get<double>(), expected[c]));
        // The text says the value, rounded as shown (a percentage for "found").
        const double shown = number(cell->at("text").get<std::string>());
        const double value = std::string(columns[c]) == "found" ? 100 * expected[c] : expected[c];
        CHECK(std::abs(shown - value) <= 0.5 + 1e-9);
        // Readable from the back row: text at least 24 px high.
        const Box b = box_of(*cell);
        CHECK(b.y1 - b.y0 >= 24);
      }
    }
    std::vector<Box> boxes;
    for (const json& cell : cells) boxes.push_back(box_of(cell));
    check_apart(boxes);
  }

  {  // the chart has labelled axes: N in powers of two, messages in powers of ten, no two texts overlapping
    std::vector<Box> boxes;
    std::vector<double> x_ticks, y_ticks;
    std::string x_title, y_title;
    for (const json& t : page.at("chart").at("texts")) {
      const std::string kind = t.at("kind");
      if (kind == "fit") continue;  // under the chart
      boxes.push_back(box_of(t));
      if (kind == "x_tick") x_ticks.push_back(number(t.at("text")));
      if (kind == "y_tick") y_ticks.push_back(number(t.at("text")));
      if (kind == "x_title") x_title = t.at("text");
      if (kind == "y_title") y_title = t.at("text");
    }
    check_apart(boxes);
    CHECK(x_title.find("N") != std::string::npos);
    CHECK(x_title.find("peers") != std::string::npos);
    CHECK(y_title.find("messages per search") != std::string::npos);
    REQUIRE(x_ticks.size() >= 3);
    for (double n : x_ticks) {
      CAPTURE(n);
      CHECK(std::exp2(std::round(std::log2(n))) == n);
      CHECK(n >= std::exp2(options.min_log2));
      CHECK(n <= std::exp2(options.max_log2));
    }
    REQUIRE(y_ticks.size() >= 3);
    for (double m : y_ticks) CHECK(std::pow(10, std::round(std::log10(m))) == doctest::Approx(m));
    // The y ticks span every system's messages per search.
    for (const auto& row : rows) {
      CHECK(row.mean_messages >= *std::min_element(y_ticks.begin(), y_ticks.end()));
      CHECK(row.mean_messages <= *std::max_element(y_ticks.begin(), y_ticks.end()));
    }
  }

  {  // the tick labels stand at their values: N under the points of that N, messages by height
    check_ticks_at_values(page.at("chart").at("texts"), page.at("chart").at("points"), true);
  }

  {  // one line per system through its measurements, named at its end, in the order of its messages
    const json& points = page.at("chart").at("points");
    const json& texts = page.at("chart").at("texts");
    const json plot = page.at("chart").at("plot");
    const std::uint32_t background = most_common(image, plot[0], plot[1], plot[2], plot[3]);
    struct End {
      std::string protocol;
      double messages, y;
    };
    std::vector<End> ends;
    for (const auto& fit : fits) {
      CAPTURE(fit.protocol);
      std::vector<json> line;
      for (const json& p : points) {
        if (p.at("series") == fit.protocol) line.push_back(p);
      }
      std::vector<const p2plab::bench::CompareRow*> measured;
      for (const auto& row : rows) {
        if (row.protocol == fit.protocol) measured.push_back(&row);
      }
      REQUIRE(line.size() == measured.size());
      for (std::size_t i = 0; i < line.size(); ++i) {
        CHECK(line[i].at("x").get<double>() == static_cast<double>(measured[i]->peers));
        CHECK(close(line[i].at("y").get<double>(), measured[i]->mean_messages));
        // Drawn there, and along the line to the next point.
        CHECK(image.at(line[i].at("px"), line[i].at("py")) != background);
        if (i + 1 < line.size()) {
          const double mx = (line[i].at("px").get<double>() + line[i + 1].at("px").get<double>()) / 2;
          const double my = (line[i].at("py").get<double>() + line[i + 1].at("py").get<double>()) / 2;
          CHECK(image.at(mx, my) != background);
        }
      }
      // Further right means larger N; higher means more messages.
      for (std::size_t i = 1; i < line.size(); ++i)
        CHECK(line[i].at("px").get<double>() > line[i - 1].at("px").get<double>());
      const auto end = std::find_if(texts.begin(), texts.end(), [&](const json& t) {
        return t.at("kind") == "line_end" && t.at("series") == fit.protocol;
      });
      REQUIRE(end != texts.end());
      const Box label = box_of(*end);
      CHECK(label.x0 >= line.back().at("px").get<double>());  // right of the last point
      ends.push_back({fit.protocol, measured.back()->mean_messages, line.back().at("py").get<double>()});
      // The measured growth beside the lecture's.
      const auto said = std::find_if(texts.begin(), texts.end(), [&](const json& t) {
        return t.at("kind") == "fit" && t.at("series") == fit.protocol;
      });
      REQUIRE(said != texts.end());
      const std::string sentence = said->at("text");
      CHECK(sentence.find("measured " + fit.measured) != std::string::npos);
      CHECK(sentence.find("lecture " + fit.lecture.substr(0, fit.lecture.find(':'))) != std::string::npos);
    }
    for (const End& a : ends) {
      for (const End& b : ends) {
        CAPTURE(a.protocol);
        CAPTURE(b.protocol);
        if (a.messages > b.messages * 1.05) CHECK(a.y < b.y);  // y grows downwards
      }
    }
  }
}

TEST_CASE("the Metrics panel draws its charts with axes, ticks and units") {
  // A lab whose searches have finished: Chord's lookups through a crash of a quarter of the ring.
  const std::string lab = std::string(P2PLAB_SOURCE_DIR) + "/labs/chord-failures.json";
  const fs::path out = fs::temp_directory_path() / "p2plab-charts";
  fs::create_directories(out);
  const fs::path png = out / "metrics.png", positions = out / "metrics.json";
  fs::remove(positions);
  const std::string command = in_xvfb("1600x1000") + std::string(P2PLAB_VIZ) + " " + lab + " --screenshot " +
                              png.string() + " --positions " + positions.string() +
                              " --size 1600x1000 --at 1e9 > /dev/null 2>&1";
  CAPTURE(command);
  REQUIRE(run(command) == 0);
  const json doc = read_json(positions);
  struct Expected {
    const char* name;
    const char* x_title;
    const char* y_title;
  };
  const Expected expected[] = {{"hops", "hops", "searches"},
                               {"messages", "messages", "searches"},
                               {"peers_alive", "time (s)", "peers"},
                               {"success", "time (s)", "%"}};
  for (const Expected& e : expected) {
    CAPTURE(e.name);
    const auto chart = std::find_if(doc.at("charts").begin(), doc.at("charts").end(),
                                    [&](const json& c) { return c.at("name") == e.name; });
    REQUIRE(chart != doc.at("charts").end());
    std::string x_title, y_title;
    std::vector<double> x_ticks, y_ticks;
    std::vector<Box> boxes;
    for (const json& t : chart->at("texts")) {
      const std::string kind = t.at("kind"), text = t.at("text");
      if (kind == "title") continue;  // written over the chart by the panel
      boxes.push_back(box_of(t));
      if (kind == "x_title") x_title = text;
      if (kind == "y_title") y_title = text;
      if (kind == "x_tick") x_ticks.push_back(number(text));
      if (kind == "y_tick") {
        if (std::string(e.name) == "success") CHECK(text.back() == '%');
        y_ticks.push_back(number(text.substr(0, text.find('%'))));
      }
    }
    CHECK(x_title.find(e.x_title) != std::string::npos);
    CHECK(y_title.find(e.y_title) != std::string::npos);
    CHECK(x_ticks.size() >= 2);
    CHECK(y_ticks.size() >= 2);
    CHECK(std::is_sorted(x_ticks.begin(), x_ticks.end()));
    check_apart(boxes);
    if (std::string(e.name) == "success") {
      CHECK(y_ticks.front() == 0);
      CHECK(y_ticks.back() == 100);
    }
    if (std::string(e.name) == "hops") check_ticks_at_values(chart->at("texts"), chart->at("points"), false);
    if (std::string(e.name) == "peers_alive") {
      // The lab runs 200 peers and crashes a quarter: the axis reaches 200.
      CHECK(y_ticks.back() >= 200);
    }
  }
}

TEST_CASE("a comparison lab with a bad sweep is a clear error naming the field, not a window") {
  const fs::path out = fs::temp_directory_path() / "p2plab-charts";
  fs::create_directories(out);
  const fs::path lab = out / "bad-comparison.json", log = out / "bad-comparison.log";
  std::ofstream(lab)
      << R"({"protocol": "compare", "params": {"min_log2": 7, "max_log2": 9, "protocols": ["no_such_system"]}})";
  // No display needed: the lab is read before a window opens.
  CHECK(run("env -u DISPLAY " + std::string(P2PLAB_VIZ) + " " + lab.string() + " > " + log.string() + " 2>&1") == 2);
  std::ifstream in(log);
  const std::string said((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CAPTURE(said);
  CHECK(said.find("params.protocols[0]") != std::string::npos);
  CHECK(said.find("expected a protocol name") != std::string::npos);
  std::ofstream(lab) << R"({"protocol": "compare", "params": {"min_log2": 9, "max_log2": 7}})";
  CHECK(run("env -u DISPLAY " + std::string(P2PLAB_VIZ) + " " + lab.string() + " > " + log.string() + " 2>&1") == 2);
}
