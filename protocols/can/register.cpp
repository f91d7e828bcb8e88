// CAN in the registry: how its runs are made, what the views and panels know of it (the view
// model: Geometry::Zones, its neighbour links), and its benchmark command.
#include <algorithm>

#include "can_bench.hpp"
#include "can_run.hpp"
#include "common/dht_model.hpp"

namespace p2plab::can {

namespace {

nlohmann::json params_of(const ScenarioRequest& request) {
  return {{"d", static_cast<int>(dht::param_or(request, "d", 2))}};
}

/// The "new scenario" panel: peers named 1 .. N (short labels on the zone map), random lookups
/// once the network is there.
nlohmann::json panel_scenario(const ScenarioRequest& request) {
  nlohmann::json doc = dht::panel_scenario(request, "can", request.peers, kIdBits, params_of(request));
  nlohmann::json ids = nlohmann::json::array();
  for (int i = 1; i <= request.peers; ++i) ids.push_back(i);
  doc["peers"] = {{"ids", ids}};
  return doc;
}

/// compare's workload on a frozen network of random joins (d = 2 unless asked otherwise).
nlohmann::json compare_scenario(const ScenarioRequest& request) {
  nlohmann::json params = params_of(request);
  params["maintenance"] = false;
  nlohmann::json doc = dht::compare_scenario(request, "can", params);
  // A put walks tens of hops at N = 4096 (over a second): the gets start once every put has
  // arrived, as a user would fetch a file after it was published.
  for (auto& e : doc["events"]) {
    if (e["op"] == "get") e["at_ms"] = e["at_ms"].get<int>() + 10000;
  }
  return doc;
}

ProtocolModel can_model() {
  ProtocolModel model;
  model.geometry = Geometry::Zones;
  model.search_noun = "lookup";
  model.complexity = "O(d N^(1/d))";  // (d/4) N^(1/d) hops on equal zones
  // In the order of kNeighbourLink.
  model.link_kinds = {
      {"neighbour", "neighbour of the selected peer (its zone abuts)", Colour::Green, LinkDrawing::Selected},
  };
  model.roles = {{"peer", "a CAN node (owns one zone, or more after a takeover)", Colour::Blue, 1.0f, 0}};
  model.operations = dht::dht_operations(
      {.key_help = "Any text to hash with SHA-1 (like a file name): its point on the torus; or a number.",
       .key_default = "file.txt",
       .lookup = "Route greedily, neighbour by neighbour, to the peer whose zone contains the key's point.",
       .put = "Store a value at the peer whose zone contains the key's point.",
       .get = "Fetch the value stored under the key.",
       .join_label = "add a peer (join)",
       .join = "A new peer picks a random point; the point's owner splits its zone in half and hands over "
               "the half with the point.",
       .fail = "The peer stops without a word: its neighbours miss its updates, and the smallest of them takes "
               "over its zone.",
       .leave = "The peer hands its zone (and keys) to its smallest neighbour before it goes."});
  model.parameters = {
      {"d", "d (dimensions)", "The torus [0, 1)^d: about (d/4) N^(1/d) hops, 2d neighbours per peer.", 1, kMaxDims, 2,
       true, true, false},
      {"keepalive_ms", "update period (ms)",
       "How often each peer sends its neighbours its zones: a crash is noticed "
       "after three missed updates.",
       50, 10000, 1000, true, false, true},
  };
  model.make_scenario = [](const ScenarioRequest& request) {
    return request.searches.empty() ? panel_scenario(request) : compare_scenario(request);
  };
  return model;
}

}  // namespace

void register_can(ProtocolRegistry& registry) {
  ProtocolInfo info;
  info.name = "can";
  info.description = "CAN (Ratnasamy et al. 2001): zones of a d-dimensional torus, greedy routing, (d/4) N^(1/d) hops";
  info.create = [](const Scenario& scenario) -> std::unique_ptr<Run> { return std::make_unique<CanRun>(scenario); };
  info.model = can_model();
  info.bench = bench_command();
  registry.add(std::move(info));
}

}  // namespace p2plab::can
