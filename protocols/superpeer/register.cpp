// Superpeers in the registry: their runs and their view model.
#include "common/search_run.hpp"
#include "superpeer.hpp"
#include "superpeer_node.hpp"

namespace p2plab::superpeer {

namespace {

ProtocolModel superpeer_model() {
  ProtocolModel model;
  model.geometry = Geometry::Graph;
  model.search_noun = "query";
  model.complexity = "O(N/k): a flood among the N/k superpeers";
  // In the order of kSuperpeerLink, kLeafLink, kOverlayLink. A leaf's link is drawn once, from
  // the leaf (faint, thin); the superpeers' overlay, which the queries flood, strong and thick.
  model.link_kinds = {
      {"superpeer", "a leaf's link to its superpeer", Colour::Neutral, LinkDrawing::Always},
      {"leaf", "a superpeer's link to one of its leaves", Colour::Neutral, LinkDrawing::Hidden},
      {"overlay", "a link between two superpeers: the overlay queries are flooded on", Colour::Grey,
       LinkDrawing::Always},
  };
  // In the order of kSuperpeerRole, kLeafRole.
  model.roles = {
      {"superpeer", "superpeer: indexes its leaves' files, floods queries among superpeers", Colour::Orange, 1.6f, 0},
      {"leaf", "leaf: announces its files to its superpeers and asks them", Colour::Blue, 0.8f, 1},
  };
  model.operations = search::search_operations();
  model.parameters = {search::ttl_parameter("How many hops a query may travel among the superpeers.")};
  model.make_scenario = [](const ScenarioRequest& request) {
    if (request.searches.empty()) {
      return search::search_scenario(request, "superpeer",
                                     {{"ttl", static_cast<int>(search::request_param(request, "ttl", 4))}},
                                     {{"random", true}});
    }
    // compare: the superpeers' own TTL of 4 (their flood spans the superpeers only), a tenth of
    // the peers superpeers, a third behind NATs.
    return search::search_scenario(
        request, "superpeer",
        {{"ttl", 4}, {"superpeer_ratio", 0.1}, {"keepalive_ms", 0}, {"leaves_per_superpeer", 100}},
        {{"random", true}, {"nat_fraction", 0.3}});
  };
  return model;
}

}  // namespace

void register_superpeer(ProtocolRegistry& registry) {
  ProtocolInfo info;
  info.name = "superpeer";
  info.description =
      "Superpeers, Gnutella 0.6 / Skype: leaves announce files to elected superpeers; queries flood among superpeers "
      "only";
  info.create = [](const Scenario& s) -> std::unique_ptr<Run> {
    return std::make_unique<search::SearchRun<Protocol>>(s);
  };
  info.model = superpeer_model();
  info.node = node_command(info.model);
  registry.add(std::move(info));
}

}  // namespace p2plab::superpeer
