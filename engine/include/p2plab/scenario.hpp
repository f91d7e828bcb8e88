#pragma once
// The protocol-independent part of a scenario file: protocol name, seed, network, bootstrap,
// churn and run length. `params`, `peers` and `events` are read by the protocol, which knows its
// id space and its operations.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "p2plab/network.hpp"
#include "p2plab/types.hpp"

namespace p2plab {

/// Session lifetimes (the churn literature's models): every peer that joins draws how long it
/// stays; when that time is up it fails (or leaves, if `graceful`), and if `replace` is set a new
/// peer with a fresh id joins in its place, keeping the population steady.
struct ChurnConfig {
  enum class Model { None, Exponential, Weibull };
  Model model = Model::None;
  double mean_ms = 0;   // exponential
  double shape = 1;     // weibull k (< 1: heavy-tailed sessions, as measured in deployed systems)
  double scale_ms = 0;  // weibull lambda
  bool graceful = false;
  bool replace = true;
  SimTime start = 0;  // lifetimes count from this time (peers present before it start then)
};

struct Scenario {
  std::string file;    // for error messages
  nlohmann::json doc;  // the whole document, for the protocol's own fields
  std::string protocol;
  std::string title, note;  // shown by `p2plab list` and the visualizer's lab browser
  std::uint64_t seed = 1;
  NetworkConfig network;
  std::string bootstrap = "oracle";  // "oracle" or "join"
  SimTime join_interval = from_ms(std::int64_t{100});
  SimTime run_time = from_ms(std::int64_t{60000});
  ChurnConfig churn;
};

/// Reads and checks the generic fields. Throws ScenarioError naming file, field and reason.
Scenario parse_scenario(const nlohmann::json& doc, const std::string& file);
/// Reads the file (JSON syntax errors are reported with line and column) and parses it.
Scenario load_scenario(const std::string& path);

/// The top-level fields parse_scenario understands (protocols add "params", "peers", "events"...).
inline constexpr const char* kGenericScenarioFields[] = {
    "protocol", "title", "note", "seed", "network", "bootstrap", "join_interval_ms", "run_ms", "churn"};

}  // namespace p2plab
