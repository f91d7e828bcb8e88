#include "compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>

#include "p2plab/json_util.hpp"
#include "p2plab/registry.hpp"
#include "p2plab/scenario.hpp"

namespace p2plab::bench {

namespace {

/// The experiment around each protocol's workload: the same network, a converged start, and
/// time for the last search to end.
constexpr int kFirstSearchMs = 1000, kSearchGapMs = 5000, kTailMs = 10000;

nlohmann::json scenario_for(const ProtocolInfo& protocol, int n, const CompareOptions& o,
                            const std::vector<std::pair<int, int>>& queries) {
  ScenarioRequest request;
  request.peers = n;
  request.seed = o.seed;
  request.params["ttl"] = o.ttl;
  request.searches = queries;
  request.items = o.items;
  request.replicas = o.replicas;
  request.first_search_ms = kFirstSearchMs;
  request.search_gap_ms = kSearchGapMs;
  nlohmann::json doc = protocol.model.make_scenario(request);
  doc["seed"] = o.seed;
  doc["network"] = {{"latency", {{"model", "uniform"}, {"min_ms", 10}, {"max_ms", 100}}}};
  doc["bootstrap"] = "oracle";
  doc["run_ms"] = kFirstSearchMs + kSearchGapMs * static_cast<int>(queries.size()) + kTailMs;
  return doc;
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

/// Least-squares slope of y over x.
double slope(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sx += x[i];
    sy += y[i];
    sxx += x[i] * x[i];
    sxy += x[i] * y[i];
  }
  const double d = n * sxx - sx * sx;
  return d == 0 ? 0 : (n * sxy - sx * sy) / d;
}

CompareRow measure(const std::string& protocol, int n, const CompareOptions& o,
                   const std::vector<std::pair<int, int>>& queries) {
  const ProtocolInfo* info = all_protocols().find_simulated(protocol);
  if (info == nullptr || !info->model.make_scenario) {
    throw ScenarioError("compare", "protocols", "protocol \"" + protocol + "\" cannot build a compare workload");
  }
  const Scenario scenario = parse_scenario(scenario_for(*info, n, o, queries), "compare:" + protocol);
  std::unique_ptr<Run> run = all_protocols().create(scenario);
  run->run_to_end();
  CompareRow row;
  row.protocol = protocol;
  row.peers = static_cast<std::uint64_t>(n);
  std::vector<double> messages, hops, latency;
  std::uint64_t found = 0, false_negatives = 0;
  for (const SearchOutcome& s : run->requested_searches()) {
    messages.push_back(s.messages);
    if (s.has_hops) hops.push_back(s.hops);
    if (s.has_latency) latency.push_back(s.latency_ms);
    found += s.found;
    false_negatives += s.false_negative;
  }
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0.0 : s / static_cast<double>(v.size());
  };
  row.mean_messages = mean(messages);
  row.p99_messages = quantile(messages, 0.99);
  row.success_rate =
      found + false_negatives == 0 ? 1.0 : static_cast<double>(found) / static_cast<double>(found + false_negatives);
  row.mean_hops = mean(hops);
  row.mean_latency_ms = mean(latency);
  const StateSize state = run->state_size();
  row.mean_state = state.mean;
  row.max_state = state.max;
  return row;
}

}  // namespace

std::vector<std::string> default_protocols() {
  std::vector<std::string> names;
  for (const ProtocolInfo* p : all_protocols().simulated()) {
    if (p->model.make_scenario) names.push_back(p->name);
  }
  return names;
}

bool is_compare_lab(const Scenario& scenario) { return scenario.protocol == "compare"; }

CompareOptions compare_options_for_lab(const Scenario& scenario) {
  CompareOptions options;
  const JsonObject top(scenario.doc, scenario.file, "");
  top.only_keys({"protocol", "title", "note", "seed", "params"});
  options.seed = scenario.seed;
  if (auto params = top.find_object("params")) {
    params->only_keys({"min_log2", "max_log2", "queries", "items", "replicas", "ttl", "protocols"});
    options.min_log2 = static_cast<int>(params->get_int("min_log2", 7, 3, 24));
    options.max_log2 = static_cast<int>(params->get_int("max_log2", 12, options.min_log2, 24));
    options.queries = static_cast<int>(params->get_int("queries", 50, 1, 100000));
    options.items = static_cast<int>(params->get_int("items", 100, 1, 1000000));
    options.replicas = static_cast<int>(params->get_int("replicas", 2, 1, 1000));
    options.ttl = static_cast<int>(params->get_int("ttl", 7, 1, 255));
    if (params->has("protocols")) {
      options.protocols.clear();
      const auto& list = params->get_array("protocols");
      for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string path = params->field_path("protocols") + "[" + std::to_string(i) + "]";
        if (!list[i].is_string() || all_protocols().find_simulated(list[i].get<std::string>()) == nullptr) {
          throw ScenarioError(scenario.file, path,
                              "expected a protocol name (" + all_protocols().simulated_names() + ")");
        }
        options.protocols.push_back(list[i].get<std::string>());
      }
    }
  }
  return options;
}

std::pair<std::vector<CompareRow>, std::vector<CompareFit>> run_compare(const CompareOptions& o) {
  std::vector<CompareRow> rows;
  std::vector<CompareFit> fits;
  const int total = static_cast<int>(o.protocols.size()) * (o.max_log2 - o.min_log2 + 1);
  for (const std::string& protocol : o.protocols) {
    std::vector<double> log_n, log_messages, messages, log_state;
    for (int e = o.min_log2; e <= o.max_log2; ++e) {
      const int n = 1 << e;
      if (o.progress && !o.progress(protocol, n, static_cast<int>(rows.size()), total)) return {rows, fits};
      // The same queries for every protocol at this N: (requester position, item number).
      Rng rng = Rng::derive(o.seed, static_cast<std::uint64_t>(n));
      std::vector<std::pair<int, int>> queries;
      for (int q = 0; q < o.queries; ++q) {
        queries.emplace_back(static_cast<int>(rng.below(static_cast<std::uint64_t>(n))),
                             static_cast<int>(rng.below(static_cast<std::uint64_t>(o.items))));
      }
      CompareRow row = measure(protocol, n, o, queries);
      if (!o.quiet) {
        std::fprintf(stderr, "  %-14s N = %6d: %10.1f messages per search\n", protocol.c_str(), n, row.mean_messages);
      }
      log_n.push_back(std::log2(static_cast<double>(n)));
      log_messages.push_back(std::log2(std::max(row.mean_messages, 1e-9)));
      messages.push_back(row.mean_messages);
      log_state.push_back(std::log2(std::max(row.mean_state, 1e-9)));
      rows.push_back(row);
    }
    CompareFit fit;
    fit.protocol = protocol;
    fit.loglog_slope = slope(log_n, log_messages);
    fit.per_doubling = slope(log_n, messages);
    fit.state_loglog_slope = slope(log_n, log_state);
    // Growth class from the fits: near-linear on log-log is O(N); flat is O(1); a slope of a few
    // tenths is a power of N (CAN's d N^(1/d): slope 1/d), faster than any log N over the sweep
    // (log N's log-log slope is 1 / ln N: under 0.21 from N = 128 on); in between, a steady
    // increase per doubling of N is O(log N).
    if (fit.loglog_slope > 0.6) {
      fit.measured = "O(N)";
    } else if (fit.loglog_slope < 0.08) {
      fit.measured = "O(1)";
    } else if (fit.loglog_slope >= 0.3) {
      char power[32];
      std::snprintf(power, sizeof power, "O(N^%.2f)", fit.loglog_slope);
      fit.measured = power;
    } else {
      fit.measured = "O(log N)";
    }
    fit.lecture = all_protocols().find(protocol)->model.complexity;
    fits.push_back(fit);
  }
  return {rows, fits};
}

nlohmann::json compare_json(const std::vector<CompareRow>& rows, const std::vector<CompareFit>& fits) {
  nlohmann::json out;
  for (const CompareRow& r : rows) {
    out["rows"].push_back({{"protocol", r.protocol},
                           {"peers", r.peers},
                           {"mean_messages_per_search", r.mean_messages},
                           {"p99_messages_per_search", r.p99_messages},
                           {"success_rate", r.success_rate},
                           {"mean_state_per_peer", r.mean_state},
                           {"max_state_at_any_peer", r.max_state},
                           {"mean_hops", r.mean_hops},
                           {"mean_latency_ms", r.mean_latency_ms}});
  }
  for (const CompareFit& f : fits) {
    out["fits"].push_back({{"protocol", f.protocol},
                           {"messages_loglog_slope", f.loglog_slope},
                           {"messages_per_doubling", f.per_doubling},
                           {"measured_growth", f.measured},
                           {"lecture", f.lecture},
                           {"state_loglog_slope", f.state_loglog_slope}});
  }
  return out;
}

int compare_command(const CompareOptions& o) {
  if (!o.quiet)
    std::fprintf(stderr, "p2plab compare: N = 2^%d .. 2^%d, %d searches each, %d items x %d replicas\n", o.min_log2,
                 o.max_log2, o.queries, o.items, o.replicas);
  const auto [rows, fits] = run_compare(o);
  std::printf("%-14s %8s %12s %10s %9s %11s %10s %7s %11s\n", "protocol", "N", "msgs/search", "p99 msgs", "found",
              "state/peer", "max state", "hops", "latency ms");
  for (const CompareRow& r : rows) {
    std::printf("%-14s %8llu %12.1f %10.0f %8.1f%% %11.1f %10.0f %7.2f %11.1f\n", r.protocol.c_str(),
                static_cast<unsigned long long>(r.peers), r.mean_messages, r.p99_messages, 100.0 * r.success_rate,
                r.mean_state, r.max_state, r.mean_hops, r.mean_latency_ms);
  }
  std::printf("\nGrowth of messages per search with N (fitted) next to the lecture's claim:\n");
  for (const CompareFit& f : fits) {
    std::printf("  %-14s measured %-9s (log-log slope %.2f, +%.1f messages per doubling of N)   lecture: %s\n",
                f.protocol.c_str(), f.measured.c_str(), f.loglog_slope, f.per_doubling, f.lecture.c_str());
  }
  if (!o.csv_out.empty()) {
    std::ofstream csv(o.csv_out);
    csv << "protocol,peers,mean_messages_per_search,p99_messages_per_search,success_rate,mean_state_per_peer,"
           "max_state_at_any_peer,mean_hops,mean_latency_ms\n";
    for (const CompareRow& r : rows) {
      csv << r.protocol << ',' << r.peers << ',' << r.mean_messages << ',' << r.p99_messages << ',' << r.success_rate
          << ',' << r.mean_state << ',' << r.max_state << ',' << r.mean_hops << ',' << r.mean_latency_ms << '\n';
    }
    if (!csv) {
      std::fprintf(stderr, "p2plab compare: cannot write %s\n", o.csv_out.c_str());
      return 1;
    }
  }
  if (!o.json_out.empty()) {
    std::ofstream json(o.json_out);
    json << compare_json(rows, fits).dump(2) << '\n';
    if (!json) {
      std::fprintf(stderr, "p2plab compare: cannot write %s\n", o.json_out.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace p2plab::bench
