#pragma once
// `p2plab compare`: the lecture's complexity table, measured. Sweeps N over every registered
// protocol that builds a compare workload (ProtocolModel::make_scenario), on the same searches,
// and fits the growth of each figure.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "p2plab/scenario.hpp"

namespace p2plab::bench {

/// Every registered protocol with a compare workload, in registry order.
std::vector<std::string> default_protocols();

struct CompareOptions {
  int min_log2 = 7, max_log2 = 12;  // N = 2^min .. 2^max
  int queries = 50;
  int items = 100;
  int replicas = 2;
  int ttl = 7;  // the TTL of a flood over all peers (a protocol may keep its own)
  std::uint64_t seed = 1;
  std::vector<std::string> protocols = default_protocols();
  std::string csv_out, json_out;
  bool quiet = false;
  /// Called before each measurement (protocol, N, measurements done so far, all of them); false
  /// stops the sweep, and run_compare returns what it measured so far (a window that closes or
  /// opens another lab while it measures). Empty: no calls.
  std::function<bool(const std::string& protocol, int peers, int done, int total)> progress;
};

struct CompareRow {
  std::string protocol;
  std::uint64_t peers = 0;
  double mean_messages = 0, p99_messages = 0;
  double success_rate = 0;  // found / (found + false negatives)
  double mean_state = 0, max_state = 0;
  double mean_hops = 0, mean_latency_ms = 0;
};

struct CompareFit {
  std::string protocol;
  double loglog_slope = 0;  // d log(messages) / d log(N): 1 for O(N), 0 for O(1)
  double per_doubling = 0;  // messages added per doubling of N: constant for O(log N)
  std::string measured;     // "O(1)", "O(log N)", "O(N)"
  std::string lecture;      // the lecture's claim
  double state_loglog_slope = 0;
};

/// A lab whose "protocol" is "compare" runs the complexity sweep (labs/complexity-comparison.json).
bool is_compare_lab(const Scenario& scenario);
/// The sweep a compare lab asks for: its seed and params (min_log2, max_log2, queries, items,
/// replicas, ttl, protocols); a ScenarioError names the file and field of a bad one.
CompareOptions compare_options_for_lab(const Scenario& scenario);

/// Runs the sweep; returns rows (protocol-major) and one fit per protocol.
std::pair<std::vector<CompareRow>, std::vector<CompareFit>> run_compare(const CompareOptions& options);
/// Prints the table, writes CSV/JSON as asked; returns the exit code.
int compare_command(const CompareOptions& options);
nlohmann::json compare_json(const std::vector<CompareRow>& rows, const std::vector<CompareFit>& fits);

}  // namespace p2plab::bench
