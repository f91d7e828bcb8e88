#include "p2plab/registry.hpp"

#include <cstdio>
#include <sstream>

#include "p2plab/json_util.hpp"

namespace p2plab {

std::string Run::id_text(const Id& id) const {
  const int d = id_digit_bits();
  return d > 0 ? id.to_digits(id_bits(), d) : id.to_decimal();
}

nlohmann::json RunSummary::to_json() const {
  return {{"operation", operation},
          {"peers_total", peers_total},
          {"peers_live", peers_live},
          {"lookups", lookups},
          {"lookups_ok", lookups_ok},
          {"lookups_wrong", lookups_wrong},
          {"lookups_failed", lookups_failed},
          {"lookups_unfinished", lookups_unfinished},
          {"success_rate", success_rate},
          {"mean_hops", mean_hops},
          {"p99_hops", p99_hops},
          {"mean_latency_ms", mean_latency_ms},
          {"p99_latency_ms", p99_latency_ms},
          {"messages_sent", messages_sent},
          {"messages_delivered", messages_delivered},
          {"messages_dropped", messages_dropped},
          {"events", events},
          {"simulated_ms", simulated_ms}};
}

std::string RunSummary::to_text() const {
  // A lookup's wrong answer is a lie; a query's is a false negative (a live provider existed).
  const bool queries = operation == "queries";
  const char* outcome_format =
      queries
          ? "%-14s %llu, %.2f%% found (%llu found, %llu false negatives, %llu with nothing to find, %llu unfinished)\n"
          : "%-14s %llu, %.2f%% correct (%llu ok, %llu wrong, %llu failed, %llu unfinished)\n";
  char outcome[256];
  std::snprintf(outcome, sizeof outcome, outcome_format, operation.c_str(), static_cast<unsigned long long>(lookups),
                100.0 * success_rate, static_cast<unsigned long long>(lookups_ok),
                static_cast<unsigned long long>(lookups_wrong), static_cast<unsigned long long>(lookups_failed),
                static_cast<unsigned long long>(lookups_unfinished));
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "peers          %llu live (%llu created)\n"
                "%s"
                "%s mean %.2f, p99 %u\n"
                "latency        mean %.1f ms, p99 %.0f ms\n"
                "messages       %llu sent, %llu delivered, %llu dropped\n"
                "simulated time %.3f s (%llu events)\n"
                "wall time      %.3f s\n",
                static_cast<unsigned long long>(peers_live), static_cast<unsigned long long>(peers_total), outcome,
                queries ? "hops to hit   " : "hops          ", mean_hops, p99_hops, mean_latency_ms, p99_latency_ms,
                static_cast<unsigned long long>(messages_sent), static_cast<unsigned long long>(messages_delivered),
                static_cast<unsigned long long>(messages_dropped), simulated_ms / 1000.0,
                static_cast<unsigned long long>(events), wall_ms / 1000.0);
  return buf;
}

void ProtocolRegistry::add(ProtocolInfo info) { protocols_.push_back(std::move(info)); }

const ProtocolInfo* ProtocolRegistry::find(const std::string& name) const {
  for (const auto& p : protocols_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::vector<const ProtocolInfo*> ProtocolRegistry::simulated() const {
  std::vector<const ProtocolInfo*> out;
  for (const auto& p : protocols_) {
    if (p.simulated()) out.push_back(&p);
  }
  return out;
}

const ProtocolInfo* ProtocolRegistry::find_simulated(const std::string& name) const {
  const ProtocolInfo* info = find(name);
  return info != nullptr && info->simulated() ? info : nullptr;
}

std::string ProtocolRegistry::names() const {
  std::string out;
  for (const auto& p : protocols_) out += (out.empty() ? "" : ", ") + p.name;
  return out;
}

std::string ProtocolRegistry::simulated_names() const {
  std::string out;
  for (const ProtocolInfo* p : simulated()) out += (out.empty() ? "" : ", ") + p->name;
  return out;
}

std::unique_ptr<Run> ProtocolRegistry::create(const Scenario& scenario) const {
  const ProtocolInfo* info = find(scenario.protocol);
  if (info == nullptr) {
    throw ScenarioError(scenario.file, "protocol",
                        "unknown protocol \"" + scenario.protocol + "\" (known: " + simulated_names() + ")");
  }
  if (!info->simulated()) {
    throw ScenarioError(
        scenario.file, "protocol",
        "\"" + scenario.protocol + "\" has tools only, no simulation yet (simulated: " + simulated_names() + ")");
  }
  return info->create(scenario);
}

namespace {
// Function-local: registrars in other translation units may run before any other static here.
std::vector<ProtocolInfo>& registrations() {
  static std::vector<ProtocolInfo> list;
  return list;
}
}  // namespace

RegisterProtocol::RegisterProtocol(ProtocolInfo info) { registrations().push_back(std::move(info)); }

const std::vector<ProtocolInfo>& registered_protocols() { return registrations(); }

}  // namespace p2plab
