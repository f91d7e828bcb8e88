#include "common/dht_model.hpp"

namespace p2plab::dht {

double param_or(const ScenarioRequest& request, const std::string& name, double fallback) {
  const auto it = request.params.find(name);
  return it == request.params.end() ? fallback : it->second;
}

nlohmann::json panel_scenario(const ScenarioRequest& request, const std::string& protocol, int peers, int m,
                              nlohmann::json params) {
  nlohmann::json doc = {{"protocol", protocol},
                        {"seed", request.seed},
                        {"peers", {{"count", peers}}},
                        {"title", "New " + protocol + " scenario with " + std::to_string(peers) + " peers"},
                        {"run_ms", 60000}};
  doc["params"] = std::move(params);
  doc["bootstrap"] = request.join ? "join" : "oracle";
  doc["join_interval_ms"] = 500;
  doc["events"] = {
      {{"at_ms", request.join ? 500 * peers + 5000 : 1000}, {"op", "lookups"}, {"count", 20}, {"spread_ms", 20000}}};
  if (m < 20 && peers > (1 << m)) doc["peers"]["count"] = 1 << m;  // no more peers than ids
  return doc;
}

nlohmann::json compare_scenario(const ScenarioRequest& request, const std::string& protocol, nlohmann::json params) {
  nlohmann::json events = nlohmann::json::array();
  for (int k = 0; k < request.items; ++k) {
    events.push_back(
        {{"at_ms", 10 + k}, {"op", "put"}, {"name", "item-" + std::to_string(k)}, {"value", "provider list"}});
  }
  for (std::size_t i = 0; i < request.searches.size(); ++i) {
    events.push_back({{"at_ms", request.first_search_ms + request.search_gap_ms * static_cast<int>(i)},
                      {"op", "get"},
                      {"name", "item-" + std::to_string(request.searches[i].second)}});
  }
  return {{"protocol", protocol},        {"seed", request.seed},
          {"params", std::move(params)}, {"peers", {{"count", request.peers}}},
          {"bootstrap", "oracle"},       {"events", events}};
}

std::vector<OperationInfo> dht_operations(const OperationTexts& t) {
  const OperationField key{"key", "key", OperationField::Kind::Key, t.key_help, t.key_default};
  return {
      {"lookup", "lookup", t.lookup, "from", {key}},
      {"put", "put", t.put, "from", {key, {"value", "value", OperationField::Kind::Name, "What to store.", "a value"}}},
      {"get", "get", t.get, "from", {key}},
      {"join",
       t.join_label,
       t.join,
       "",
       {{"id", "new id", OperationField::Kind::Number, "Empty: the id is SHA-1 of a new address.", ""}}},
      {"fail", "crash", t.fail, "peer", {}},
      {"leave", "leave", t.leave, "peer", {}},
  };
}

}  // namespace p2plab::dht
