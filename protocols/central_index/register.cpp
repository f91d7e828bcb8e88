// The central index in the registry: its runs and its view model.
#include "central_index.hpp"
#include "common/search_run.hpp"

namespace p2plab::central_index {

namespace {

ProtocolModel central_index_model() {
  ProtocolModel model;
  model.geometry = Geometry::Graph;
  model.search_noun = "query";
  model.complexity = "O(1)";
  // In the order of kServerLink, kClientLink.
  model.link_kinds = {
      // Both directions drawn, in the overlay's neutral colour: the picture the lab always had
      // (the query wave, drawn red to teal, stays visible over them).
      {"server", "a peer's connection to the index server", Colour::Neutral, LinkDrawing::Always},
      {"client", "the server's link to a registered peer", Colour::Neutral, LinkDrawing::Always},
  };
  // In the order of kPeerRole, kServerRole.
  model.roles = {
      {"peer", "a peer: registers its files, asks the server, downloads peer to peer", Colour::Blue, 1.0f, 1},
      {"server", "the index server: one point of failure", Colour::Red, 2.4f, 0},
  };
  model.operations = search::search_operations();
  model.make_scenario = [](const ScenarioRequest& request) {
    const nlohmann::json params =
        request.searches.empty() ? nlohmann::json::object() : nlohmann::json{{"keepalive_ms", 0}};
    return search::search_scenario(request, "central_index", params, nullptr);
  };
  return model;
}

}  // namespace

void register_central_index(ProtocolRegistry& registry) {
  ProtocolInfo info;
  info.name = "central_index";
  info.description =
      "Central index, Napster-style: one server indexes all files (O(1) messages per search, a single point of "
      "failure)";
  info.create = [](const Scenario& s) -> std::unique_ptr<Run> {
    return std::make_unique<search::SearchRun<Protocol>>(s);
  };
  info.model = central_index_model();
  registry.add(std::move(info));
}

}  // namespace p2plab::central_index
