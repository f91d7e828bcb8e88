#include "compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>

#include "chord/chord_run.hpp"
#include "p2plab/scenario.hpp"
#include "register_all.hpp"

namespace p2plab::bench {

namespace {

/// The shared workload: the same items (item-0 .. item-K-1, R replicas) and the same queries
/// (requester position and name, in order) for every protocol.
nlohmann::json unstructured_scenario(const std::string& protocol, int n, const CompareOptions& o,
                                     const std::vector<std::pair<int, int>>& queries) {
  nlohmann::json params = nlohmann::json::object();
  if (protocol == "flooding") params = {{"ttl", o.ttl}, {"degree", 4}, {"keepalive_ms", 0}};
  if (protocol == "superpeer") params = {{"ttl", 4}, {"superpeer_ratio", 0.1}, {"keepalive_ms", 0}, {"leaves_per_superpeer", 100}};
  if (protocol == "central_index") params = {{"keepalive_ms", 0}};
  nlohmann::json events = nlohmann::json::array();
  for (std::size_t i = 0; i < queries.size(); ++i) {
    events.push_back({{"at_ms", 1000 + 5000 * static_cast<int>(i)}, {"op", "query"}, {"from", queries[i].first},
                      {"name", "item-" + std::to_string(queries[i].second)}});
  }
  nlohmann::json peers = {{"count", n}};
  if (protocol == "superpeer") peers["capacities"] = {{"random", true}, {"nat_fraction", 0.3}};
  return {{"protocol", protocol},
          {"seed", o.seed},
          {"params", params},
          {"network", {{"latency", {{"model", "uniform"}, {"min_ms", 10}, {"max_ms", 100}}}}},
          {"peers", peers},
          {"items", {{"count", o.items}, {"replicas", o.replicas}}},
          {"bootstrap", "oracle"},
          {"events", events},
          {"run_ms", 1000 + 5000 * static_cast<int>(queries.size()) + 10000}};
}

nlohmann::json chord_scenario(int n, const CompareOptions& o, const std::vector<std::pair<int, int>>& queries) {
  nlohmann::json events = nlohmann::json::array();
  for (int k = 0; k < o.items; ++k) {
    events.push_back({{"at_ms", 10 + k}, {"op", "put"}, {"name", "item-" + std::to_string(k)}, {"value", "provider list"}});
  }
  for (std::size_t i = 0; i < queries.size(); ++i) {
    events.push_back({{"at_ms", 1000 + 5000 * static_cast<int>(i)}, {"op", "get"}, {"name", "item-" + std::to_string(queries[i].second)}});
  }
  const int r = std::max(2, static_cast<int>(std::lround(std::log2(n))));
  return {{"protocol", "chord"},
          {"seed", o.seed},
          {"params", {{"m", 32}, {"successors", std::min(r, 32)}, {"maintenance", false}}},
          {"network", {{"latency", {{"model", "uniform"}, {"min_ms", 10}, {"max_ms", 100}}}}},
          {"peers", {{"count", n}}},
          {"bootstrap", "oracle"},
          {"events", events},
          {"run_ms", 1000 + 5000 * static_cast<int>(queries.size()) + 10000}};
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

CompareRow measure(const std::string& protocol, int n, const CompareOptions& o, const std::vector<std::pair<int, int>>& queries) {
  const nlohmann::json doc = protocol == "chord" ? chord_scenario(n, o, queries) : unstructured_scenario(protocol, n, o, queries);
  const Scenario scenario = parse_scenario(doc, "compare:" + protocol);
  std::unique_ptr<Run> run = all_protocols().create(scenario);
  run->run_to_end();
  const nlohmann::json result = run->result();
  CompareRow row;
  row.protocol = protocol;
  row.peers = static_cast<std::uint64_t>(n);
  std::vector<double> messages, hops, latency;
  std::uint64_t found = 0, false_negatives = 0;
  if (protocol == "chord") {
    for (const auto& s : result["storage"]) {
      if (s["op"] != "get") continue;
      messages.push_back(s["messages"].get<double>());
      hops.push_back(s["hops"].get<double>());
      latency.push_back(s["latency_ms"].get<double>());
      if (s["ok"].get<bool>()) {
        ++found;
      } else {
        ++false_negatives;  // the key was stored: not finding it is a false negative
      }
    }
  } else {
    for (const auto& q : result["queries"]) {
      messages.push_back(q["messages"].get<double>());
      if (q.contains("first_hit_hops")) hops.push_back(q["first_hit_hops"].get<double>());
      if (q.contains("latency_ms")) latency.push_back(q["latency_ms"].get<double>());
      found += q["ok"].get<bool>();
      false_negatives += q["false_negative"].get<bool>();
    }
  }
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0.0 : s / static_cast<double>(v.size());
  };
  row.mean_messages = mean(messages);
  row.p99_messages = quantile(messages, 0.99);
  row.success_rate = found + false_negatives == 0 ? 1.0 : static_cast<double>(found) / static_cast<double>(found + false_negatives);
  row.mean_hops = mean(hops);
  row.mean_latency_ms = mean(latency);
  if (protocol == "chord") {
    // Distinct peers each node knows (fingers, successors, predecessor).
    auto* chord_run = dynamic_cast<chord::ChordRun*>(run.get());
    double total = 0, most = 0;
    for (const auto& [id, p] : chord_run->simulator().live_by_id()) {
      (void)id;
      const auto s = static_cast<double>(chord_run->protocol().state_entries(p));
      total += s;
      most = std::max(most, s);
    }
    row.mean_state = total / static_cast<double>(chord_run->simulator().live_count());
    row.max_state = most;
  } else {
    row.mean_state = result["metrics"]["mean_state_entries"].get<double>();
    row.max_state = result["metrics"]["max_state_entries"].get<double>();
  }
  return row;
}

std::string lecture_claim(const std::string& protocol) {
  if (protocol == "central_index") return "O(1)";
  if (protocol == "flooding") return "O(N)";
  if (protocol == "chord") return "O(log N)";
  return "O(N/k): a flood among the N/k superpeers";
}

}  // namespace

std::pair<std::vector<CompareRow>, std::vector<CompareFit>> run_compare(const CompareOptions& o) {
  std::vector<CompareRow> rows;
  std::vector<CompareFit> fits;
  for (const std::string& protocol : o.protocols) {
    std::vector<double> log_n, log_messages, messages, log_state;
    for (int e = o.min_log2; e <= o.max_log2; ++e) {
      const int n = 1 << e;
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
    // Growth class from the fits: near-linear on log-log is O(N); flat is O(1); in between, a
    // steady increase per doubling of N is O(log N).
    if (fit.loglog_slope > 0.6) {
      fit.measured = "O(N)";
    } else if (fit.loglog_slope < 0.08) {
      fit.measured = "O(1)";
    } else {
      fit.measured = "O(log N)";
    }
    fit.lecture = lecture_claim(protocol);
    fits.push_back(fit);
  }
  return {rows, fits};
}

nlohmann::json compare_json(const std::vector<CompareRow>& rows, const std::vector<CompareFit>& fits) {
  nlohmann::json out;
  for (const CompareRow& r : rows) {
    out["rows"].push_back({{"protocol", r.protocol}, {"peers", r.peers}, {"mean_messages_per_search", r.mean_messages},
                           {"p99_messages_per_search", r.p99_messages}, {"success_rate", r.success_rate},
                           {"mean_state_per_peer", r.mean_state}, {"max_state_at_any_peer", r.max_state},
                           {"mean_hops", r.mean_hops}, {"mean_latency_ms", r.mean_latency_ms}});
  }
  for (const CompareFit& f : fits) {
    out["fits"].push_back({{"protocol", f.protocol}, {"messages_loglog_slope", f.loglog_slope},
                           {"messages_per_doubling", f.per_doubling}, {"measured_growth", f.measured},
                           {"lecture", f.lecture}, {"state_loglog_slope", f.state_loglog_slope}});
  }
  return out;
}

int compare_command(const CompareOptions& o) {
  if (!o.quiet) std::fprintf(stderr, "p2plab compare: N = 2^%d .. 2^%d, %d searches each, %d items x %d replicas\n",
                             o.min_log2, o.max_log2, o.queries, o.items, o.replicas);
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
