// Chord in the registry: how its runs are made, what the views and panels know of it (the view
// model), and its benchmark command.
#include <algorithm>
#include <cmath>

#include "bench.hpp"
#include "chord_node.hpp"
#include "chord_run.hpp"

namespace p2plab::chord {

namespace {

double param_or(const ScenarioRequest& request, const std::string& name, double fallback) {
  const auto it = request.params.find(name);
  return it == request.params.end() ? fallback : it->second;
}

/// The "new scenario" panel's ring: random lookups once the ring is there.
nlohmann::json panel_scenario(const ScenarioRequest& request) {
  const int peers = request.peers;
  const int m = static_cast<int>(param_or(request, "m", 8));
  nlohmann::json doc = {{"protocol", "chord"},
                        {"seed", request.seed},
                        {"peers", {{"count", peers}}},
                        {"title", "New chord scenario with " + std::to_string(peers) + " peers"},
                        {"run_ms", 60000}};
  doc["params"] = {{"m", m}, {"successors", static_cast<int>(param_or(request, "successors", 3))}};
  if (request.params.count("stabilize_ms")) doc["params"]["stabilize_ms"] = request.params.at("stabilize_ms");
  doc["bootstrap"] = request.join ? "join" : "oracle";
  doc["join_interval_ms"] = 500;
  doc["events"] = {
      {{"at_ms", request.join ? 500 * peers + 5000 : 1000}, {"op", "lookups"}, {"count", 20}, {"spread_ms", 20000}}};
  if (m < 20 && peers > (1 << m)) doc["peers"]["count"] = 1 << m;  // no more peers than ids
  return doc;
}

/// compare's workload: every item stored once (put), then each search a get of one item, on a
/// frozen converged ring whose successor lists grow like log N.
nlohmann::json compare_scenario(const ScenarioRequest& request) {
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
  const int r = std::max(2, static_cast<int>(std::lround(std::log2(request.peers))));
  return {{"protocol", "chord"},
          {"seed", request.seed},
          {"params", {{"m", 32}, {"successors", std::min(r, kMaxSuccessors)}, {"maintenance", false}}},
          {"peers", {{"count", request.peers}}},
          {"bootstrap", "oracle"},
          {"events", events}};
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
  const OperationField key{"key", "key", OperationField::Kind::Key,
                           "A number, or any text to hash with SHA-1 (like a file name).", "44"};
  model.operations = {
      {"lookup", "lookup", "Find the successor of the key, starting at the selected peer.", "from", {key}},
      {"put",
       "put",
       "Store a value under the key at its successor.",
       "from",
       {key, {"value", "value", OperationField::Kind::Name, "What to store.", "a value"}}},
      {"get", "get", "Fetch the value stored under the key.", "from", {key}},
      {"join",
       "add a peer (join)",
       "A new peer joins through a live one.",
       "",
       {{"id", "new id", OperationField::Kind::Number, "Empty: the id is SHA-1 of a new address.", ""}}},
      {"fail", "crash", "The peer stops without a word (its neighbours notice by timeouts).", "peer", {}},
      {"leave", "leave", "The peer hands over its keys and tells its neighbours first.", "peer", {}},
  };
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
