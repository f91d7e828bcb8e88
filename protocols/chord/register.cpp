// Chord in the registry: how its runs are made, what the views and panels know of it (the view
// model), and its benchmark command.
#include <algorithm>
#include <cmath>

#include "bench.hpp"
#include "chord_node.hpp"
#include "chord_run.hpp"
#include "common/dht_model.hpp"

namespace p2plab::chord {

namespace {

/// The "new scenario" panel's ring: random lookups once the ring is there.
nlohmann::json panel_scenario(const ScenarioRequest& request) {
  const int m = static_cast<int>(dht::param_or(request, "m", 8));
  nlohmann::json params = {{"m", m}, {"successors", static_cast<int>(dht::param_or(request, "successors", 3))}};
  if (request.params.count("stabilize_ms")) params["stabilize_ms"] = request.params.at("stabilize_ms");
  return dht::panel_scenario(request, "chord", request.peers, m, std::move(params));
}

/// compare's workload on a frozen converged ring whose successor lists grow like log N.
nlohmann::json compare_scenario(const ScenarioRequest& request) {
  const int r = std::max(2, static_cast<int>(std::lround(std::log2(request.peers))));
  return dht::compare_scenario(request, "chord",
                               {{"m", 32}, {"successors", std::min(r, kMaxSuccessors)}, {"maintenance", false}});
}

ProtocolModel chord_model() {
  ProtocolModel model;
  model.geometry = Geometry::Ring;
  model.search_noun = "lookup";
  model.complexity = "O(log N)";
  // In the order of kSuccessorLink, kPredecessorLink, kFingerLink.
  model.link_kinds = {
      {"successor", "successor (the next peer clockwise)", Colour::Green, LinkDrawing::Adjacent},
      {"predecessor", "predecessor (the previous peer)", Colour::Neutral, LinkDrawing::Hidden},
      {"finger", "finger of the selected peer", Colour::Orange, LinkDrawing::Selected},
  };
  model.roles = {{"peer", "a Chord node", Colour::Blue, 1.0f, 0}};
  model.key_owner_is_successor = true;  // successor(k) stores k
  model.operations = dht::dht_operations({.key_help = "A number, or any text to hash with SHA-1 (like a file name).",
                                          .key_default = "44",
                                          .lookup = "Find the successor of the key, starting at the selected peer.",
                                          .put = "Store a value under the key at its successor.",
                                          .get = "Fetch the value stored under the key.",
                                          .join_label = "add a peer (join)",
                                          .join = "A new peer joins through a live one.",
                                          .fail = "The peer stops without a word (its neighbours notice by timeouts).",
                                          .leave = "The peer hands over its keys and tells its neighbours first."});
  model.parameters = {
      {"m", "m (id bits)", "Identifiers 0 .. 2^m - 1. The lecture's figures use m = 3, 6 and 12.", 3, 160, 8, true,
       true, false},
      {"successors", "successors (r)", "Length of the successor list: how many failures in a row the ring survives.", 1,
       kMaxSuccessors, 3, true, true, false},
      {"stabilize_ms", "stabilize (ms)",
       "How often every peer runs stabilize: slower means a newcomer stays unknown longer.", 50, 5000, 500, true, false,
       true},
  };
  model.make_scenario = [](const ScenarioRequest& request) {
    return request.searches.empty() ? panel_scenario(request) : compare_scenario(request);
  };
  return model;
}

}  // namespace

void register_chord(ProtocolRegistry& registry) {
  ProtocolInfo info;
  info.name = "chord";
  info.description = "Chord DHT (Stoica et al. 2001): consistent hashing on a ring, finger tables, O(log N) lookups";
  info.create = [](const Scenario& scenario) -> std::unique_ptr<Run> { return std::make_unique<ChordRun>(scenario); };
  info.model = chord_model();
  info.node = node_command(info.model);
  info.bench = bench_command();
  registry.add(std::move(info));
}

}  // namespace p2plab::chord
