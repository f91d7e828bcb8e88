// Flooding in the registry: its runs, its view model and its benchmark command.
#include "common/search_run.hpp"
#include "flooding.hpp"
#include "flooding_bench.hpp"
#include "flooding_node.hpp"

namespace p2plab::flooding {

namespace {

ProtocolModel flooding_model() {
  ProtocolModel model;
  model.geometry = Geometry::Graph;
  model.search_noun = "query";
  model.complexity = "O(N)";
  model.link_kinds = {{"neighbor", "overlay neighbour", Colour::Neutral, LinkDrawing::Always}};  // kNeighborLink
  model.roles = {{"peer", "a servent: client and server at once", Colour::Blue, 1.0f, 0}};       // kPeerRole
  model.operations = search::search_operations();
  model.parameters = {
      search::ttl_parameter("How many hops a query may travel. Small: fewer messages, more false "
                            "negatives.")};
  model.make_scenario = [](const ScenarioRequest& request) {
    const double ttl = search::request_param(request, "ttl", 4);
    const nlohmann::json params =
        request.searches.empty() ? nlohmann::json{{"ttl", static_cast<int>(ttl)}}
                                 : nlohmann::json{{"ttl", static_cast<int>(ttl)}, {"degree", 4}, {"keepalive_ms", 0}};
    return search::search_scenario(request, "flooding", params, nullptr);
  };
  return model;
}

}  // namespace

void register_flooding(ProtocolRegistry& registry) {
  ProtocolInfo info;
  info.name = "flooding";
  info.description =
      "Flooding, Gnutella 0.4: queries flooded to all neighbours with a TTL (O(N) messages, false negatives)";
  info.create = [](const Scenario& s) -> std::unique_ptr<Run> {
    return std::make_unique<search::SearchRun<Protocol>>(s);
  };
  info.model = flooding_model();
  info.node = node_command(info.model);
  info.bench = bench_command();
  registry.add(std::move(info));
}

}  // namespace p2plab::flooding
