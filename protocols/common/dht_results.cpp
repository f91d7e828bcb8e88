#include "common/dht_results.hpp"

#include <algorithm>

namespace p2plab::dht {

std::vector<Id> stored_keys(const StoredItems* items) {
  std::vector<Id> keys;
  if (items != nullptr) {
    for (const auto& item : *items) keys.push_back(item.first);
  }
  return keys;
}

nlohmann::json stored_keys_json(const StoredItems* items, int id_bits) {
  nlohmann::json keys = nlohmann::json::array();
  for (const Id& key : stored_keys(items)) keys.push_back(id_to_json(key, id_bits));
  return keys;
}

RunSummary lookup_summary(const LookupStats& st, const SimulatorCore& sim, std::uint64_t unfinished, double wall_ms) {
  RunSummary s;
  s.peers_total = sim.peer_count();
  s.peers_live = sim.live_count();
  s.lookups = st.started_count();
  s.lookups_ok = st.correct_count();
  s.lookups_failed = st.failed_count();
  s.lookups_wrong = st.finished_count() - st.correct_count();
  s.lookups_unfinished = unfinished;
  s.success_rate = st.success_rate();
  s.mean_hops = st.mean_hops();
  s.p99_hops = st.hops_quantile(0.99);
  s.mean_latency_ms = st.mean_latency_ms();
  s.p99_latency_ms = st.latency_quantile_ms(0.99);
  s.messages_sent = sim.messages().total_sent();
  s.messages_delivered = sim.messages().total_delivered();
  s.messages_dropped = sim.messages().total_dropped();
  s.events = sim.events_processed();
  s.simulated_ms = to_ms(sim.current_time());
  s.wall_ms = wall_ms;
  return s;
}

nlohmann::json lookup_metrics(const RunSummary& summary, const SimulatorCore& sim,
                              const std::vector<std::string>& message_types, const LookupStats& stats,
                              const StateSize& state) {
  nlohmann::json metrics = summary.to_json();
  nlohmann::json by_type = nlohmann::json::object();
  const MessageStats& ms = sim.messages();
  for (std::size_t t = 0; t < std::min(message_types.size(), ms.sent.size()); ++t) {
    if (ms.sent[t] == 0) continue;
    by_type[message_types[t]] = {
        {"sent", ms.sent[t]}, {"delivered", ms.delivered[t]}, {"lost", ms.lost[t]}, {"to_dead_peer", ms.to_dead[t]}};
  }
  metrics["messages_by_type"] = by_type;
  nlohmann::json hist = nlohmann::json::array();
  for (auto c : stats.hop_histogram()) hist.push_back(c);
  metrics["hop_histogram"] = hist;
  metrics["mean_state_entries"] = state.mean;
  return metrics;
}

StateSize live_state_size(const SimulatorCore& sim, const std::function<double(PeerIndex)>& entries) {
  StateSize size;
  double total = 0;
  for (const auto& [id, p] : sim.live_by_id()) {
    (void)id;
    const double e = entries(p);
    total += e;
    size.max = std::max(size.max, e);
  }
  size.mean = sim.live_count() ? total / static_cast<double>(sim.live_count()) : 0.0;
  return size;
}

}  // namespace p2plab::dht
