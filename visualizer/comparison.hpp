#pragma once
// The comparison lab's page (a lab whose protocol is "compare", labs/complexity-comparison.json):
// the lecture's complexity table measured by bench::run_compare over the lab's sweep, drawn on
// the view as a log-log chart of messages per search against N (one line per system, named at
// its end) with the measured growth beside the lecture's O(), and as a table of the measures
// the lecture's table compares. The systems are whatever run_compare's rows name: no protocol is
// known here by name.
#include <imgui.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "charts.hpp"
#include "compare.hpp"
#include "p2plab/scenario.hpp"

namespace p2plab::viz {

/// Where the table wrote one cell: the row's system and N (empty and 0 for headers), the
/// column, the value shown and its text.
struct DrawnCell {
  std::string protocol, column, text;
  std::uint64_t peers = 0;
  double value = 0;
  ImVec2 min, max;
};

class ComparisonPage {
 public:
  /// Reads the lab's sweep: a ScenarioError for a bad lab (its file and field). The sweep runs
  /// on a background thread (the window stays responsive) from the first draw() or wait().
  explicit ComparisonPage(const Scenario& lab);
  /// Stops the sweep after the measurement under way and waits for it.
  ~ComparisonPage();
  ComparisonPage(const ComparisonPage&) = delete;
  ComparisonPage& operator=(const ComparisonPage&) = delete;

  const Scenario& scenario() const { return lab_; }
  const bench::CompareOptions& options() const { return options_; }
  bool measured() const { return measured_; }
  /// Starts the sweep, if it has not started, on its thread.
  void start();
  /// Blocks until the sweep is measured (a screenshot shows the whole table).
  void wait();
  /// Stops the sweep after the measurement under way and waits for it (before another lab runs
  /// protocol code on the window's thread); the page then says it was stopped.
  void stop();
  /// "measuring N = 1,024 for flooding (9 of 24)", or "" once measured.
  std::string progress() const;
  /// How long the sweep took (seconds), once measured.
  double seconds() const { return seconds_; }

  /// Draws the page into [origin, origin + size]: chart and fits left, table right (or stacked
  /// in a tall area). Records what it drew (for positions()) when `record` is set.
  void draw(ImDrawList* draw, ImVec2 origin, ImVec2 size, bool projector, bool record);
  /// Where the last recorded frame put the chart's texts and points and the table's cells.
  nlohmann::json positions() const;

 private:
  void measure();

  Scenario lab_;
  bench::CompareOptions options_;
  std::thread worker_;
  bool started_ = false;
  std::atomic<bool> stop_{false}, measured_{false};
  mutable std::mutex mutex_;  // guards progress_, done_, total_, rows_, fits_, error_ while measuring
  std::string progress_, error_;
  int done_ = 0, total_ = 1;  // measurements done of all, for the progress bar
  std::vector<bench::CompareRow> rows_;
  std::vector<bench::CompareFit> fits_;
  double seconds_ = 0;
  ChartRecord chart_record_;
  std::vector<DrawnText> fit_texts_;
  std::vector<DrawnCell> cells_;
};

}  // namespace p2plab::viz
