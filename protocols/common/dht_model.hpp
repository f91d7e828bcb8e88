#pragma once
// Pieces of the view model the structured overlays share: the scenarios the "new scenario" panel
// and `p2plab compare` ask for, and the operations every DHT offers (in each protocol's words).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "p2plab/view_model.hpp"

namespace p2plab::dht {

/// The request's value of parameter `name`, or `fallback`.
double param_or(const ScenarioRequest& request, const std::string& name, double fallback);

/// The "new scenario" panel's network: `peers` peers (at most 2^m) with `params`, built by the
/// oracle or joining one by one (request.join), then 20 random lookups.
nlohmann::json panel_scenario(const ScenarioRequest& request, const std::string& protocol, int peers, int m,
                              nlohmann::json params);

/// compare's workload: every item put once, then each requested search a get of one item, on a
/// frozen network the oracle builds with `params`.
nlohmann::json compare_scenario(const ScenarioRequest& request, const std::string& protocol, nlohmann::json params);

/// The texts of the operations every DHT offers: what a button does, in the protocol's words.
struct OperationTexts {
  std::string key_help, key_default;  ///< the key field: "A number, or any text to hash ...", "44"
  std::string lookup, put, get;
  std::string join_label, join;  ///< "add a peer (join)", what a join does
  std::string fail, leave;
};

/// lookup, put, get, join, fail (crash) and leave, with these texts.
std::vector<OperationInfo> dht_operations(const OperationTexts& texts);

}  // namespace p2plab::dht
