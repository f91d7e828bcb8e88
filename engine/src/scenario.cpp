#include "p2plab/scenario.hpp"

#include <fstream>
#include <sstream>

#include "p2plab/json_util.hpp"

namespace p2plab {

namespace {

NetworkConfig parse_network(const JsonObject& net) {
  net.only_keys({"latency", "loss"});
  NetworkConfig config;
  config.loss = net.get_number("loss", 0.0, 0.0, 1.0);
  if (auto lat = net.find_object("latency")) {
    const std::string model = lat->get_string("model");
    LatencyModel& m = config.latency;
    if (model == "constant") {
      lat->only_keys({"model", "ms"});
      m.kind = LatencyModel::Kind::Constant;
      m.ms = lat->get_number("ms", 0.0, 1e7);
    } else if (model == "uniform") {
      lat->only_keys({"model", "min_ms", "max_ms"});
      m.kind = LatencyModel::Kind::Uniform;
      m.min_ms = lat->get_number("min_ms", 0.0, 1e7);
      m.max_ms = lat->get_number("max_ms", 0.0, 1e7);
      if (m.max_ms < m.min_ms) lat->fail("max_ms", "must be at least min_ms");
    } else if (model == "coordinates") {
      lat->only_keys({"model", "base_ms", "ms_per_unit", "area", "jitter_ms"});
      m.kind = LatencyModel::Kind::Coordinates;
      m.base_ms = lat->get_number("base_ms", 5.0, 0.0, 1e7);
      m.ms_per_unit = lat->get_number("ms_per_unit", 1.0, 0.0, 1e7);
      m.area = lat->get_number("area", 100.0, 0.0, 1e9);
      m.jitter_ms = lat->get_number("jitter_ms", 0.0, 0.0, 1e7);
    } else {
      lat->fail("model", "unknown latency model \"" + model + "\" (known: constant, uniform, coordinates)");
    }
  }
  return config;
}

ChurnConfig parse_churn(const JsonObject& churn) {
  churn.only_keys({"model", "mean_ms", "shape", "scale_ms", "departure", "replace", "start_ms"});
  ChurnConfig c;
  const std::string model = churn.get_string("model");
  if (model == "none") {
    c.model = ChurnConfig::Model::None;
  } else if (model == "exponential") {
    c.model = ChurnConfig::Model::Exponential;
    c.mean_ms = churn.get_number("mean_ms", 1.0, 1e12);
  } else if (model == "weibull") {
    c.model = ChurnConfig::Model::Weibull;
    c.shape = churn.get_number("shape", 0.05, 20.0);
    c.scale_ms = churn.get_number("scale_ms", 1.0, 1e12);
  } else {
    churn.fail("model", "unknown churn model \"" + model + "\" (known: none, exponential, weibull)");
  }
  const std::string departure = churn.get_string("departure", "fail");
  if (departure != "fail" && departure != "leave") churn.fail("departure", "must be \"fail\" or \"leave\"");
  c.graceful = departure == "leave";
  c.replace = churn.get_bool("replace", true);
  c.start = from_ms(churn.get_number("start_ms", 0.0, 0.0, 1e12));
  return c;
}

}  // namespace

Scenario parse_scenario(const nlohmann::json& doc, const std::string& file) {
  const JsonObject top(doc, file, "");
  Scenario s;
  s.file = file;
  s.doc = doc;
  s.protocol = top.get_string("protocol");
  s.title = top.get_string("title", "");
  s.note = top.get_string("note", "");
  s.seed = static_cast<std::uint64_t>(top.get_int("seed", 1, 0, INT64_MAX));
  if (auto net = top.find_object("network")) s.network = parse_network(*net);
  s.bootstrap = top.get_string("bootstrap", "oracle");
  if (s.bootstrap != "oracle" && s.bootstrap != "join") {
    top.fail("bootstrap", "must be \"oracle\" (converged ring at time 0) or \"join\" (real protocol joins)");
  }
  s.join_interval = from_ms(top.get_number("join_interval_ms", 100.0, 0.0, 1e9));
  s.run_time = from_ms(top.get_number("run_ms", 60000.0, 0.0, 1e12));
  if (auto churn = top.find_object("churn")) s.churn = parse_churn(*churn);
  return s;
}

Scenario load_scenario(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ScenarioError(path, "", "cannot open the file");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix: the rest names line and column.
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    throw ScenarioError(path, "", "malformed JSON: " + what);
  }
  return parse_scenario(doc, path);
}

}  // namespace p2plab
