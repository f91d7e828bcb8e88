// Pastry in the registry: how its runs are made, what the views and panels know of it (the view
// model), and its benchmark command.
#include <algorithm>
#include <cmath>

#include "common/dht_model.hpp"
#include "pastry_bench.hpp"
#include "pastry_run.hpp"

namespace p2plab::pastry {

namespace {

/// The "new scenario" panel: a small id space in hex so the digits can be read, random lookups
/// once the network is there.
nlohmann::json panel_scenario(const ScenarioRequest& request) {
  const int b = static_cast<int>(dht::param_or(request, "b", 4));
  int m = static_cast<int>(dht::param_or(request, "m", 16));
  m = std::max(b, m / b * b);  // a multiple of b
  const int peers = m < 20 ? std::min(request.peers, 1 << m) : request.peers;
  return dht::panel_scenario(
      request, "pastry", peers, m,
      {{"m", m}, {"b", b}, {"leaf_set", static_cast<int>(dht::param_or(request, "leaf_set", 8))}});
}

/// compare's workload on a frozen converged network (m = 128, b = 4, |L| = 16: the paper's
/// configuration).
nlohmann::json compare_scenario(const ScenarioRequest& request) {
  return dht::compare_scenario(request, "pastry", {{"m", 128}, {"b", 4}, {"leaf_set", 16}, {"maintenance", false}});
}

ProtocolModel pastry_model() {
  ProtocolModel model;
  model.geometry = Geometry::Ring;
  model.search_noun = "lookup";
  model.complexity = "O(log N)";  // log_{2^b} N hops
  // In the order of kNextLink, kLeafLink, kTableLink, kNeighbourLink.
  model.link_kinds = {
      {"next", "the numerically next peer (nearest larger leaf)", Colour::Green, LinkDrawing::Adjacent},
      {"leaf", "leaf set of the selected peer (L/2 each side; the arc inside the ring spans it)", Colour::Teal,
       LinkDrawing::Span},
      {"routing", "routing-table entry of the selected peer", Colour::Orange, LinkDrawing::Selected},
      {"neighbourhood", "neighbourhood set (nearest in the underlay)", Colour::Grey, LinkDrawing::Hidden},
  };
  model.roles = {{"peer", "a Pastry node", Colour::Blue, 1.0f, 0}};
  model.key_owner_is_successor = false;  // the numerically closest node owns a key
  model.operations = dht::dht_operations(
      {.key_help = "A number, or any text to hash with SHA-1 (like a file name).",
       .key_default = "1000",
       .lookup = "Route to the node numerically closest to the key, from the selected peer.",
       .put = "Store a value at the node numerically closest to the key.",
       .get = "Fetch the value stored under the key.",
       .join_label = "add a peer (join)",
       .join = "A new node joins through the node nearest to it; its join message is routed to its own id.",
       .fail = "The node stops without a word (its leaf set notices by keep-alives).",
       .leave = "The node tells its leaf set before it goes."});
  model.parameters = {
      {"m", "m (id bits)", "Identifiers 0 .. 2^m - 1, m / b digits; 16 bits and b = 4: four hex digits.", 4, 160, 16,
       true, true, false},
      {"b", "b (bits per digit)", "Digits in base 2^b: 2^b columns per routing-table row, about log_{2^b} N hops.", 1,
       kMaxDigitBits, 4, true, true, false},
      {"leaf_set", "leaf set L", "L/2 numerically closest smaller and L/2 larger ids.", 2, kMaxList, 8, true, true,
       false},
      {"keepalive_ms", "keep-alive (ms)", "How often each node pings its leaf set: a crash is noticed this fast.", 50,
       10000, 1000, true, false, true},
  };
  model.make_scenario = [](const ScenarioRequest& request) {
    return request.searches.empty() ? panel_scenario(request) : compare_scenario(request);
  };
  return model;
}

}  // namespace

void register_pastry(ProtocolRegistry& registry) {
  ProtocolInfo info;
  info.name = "pastry";
  info.description =
      "Pastry DHT (Rowstron & Druschel 2001): prefix routing in base 2^b, leaf sets, proximity, log_{2^b} N hops";
  info.create = [](const Scenario& scenario) -> std::unique_ptr<Run> { return std::make_unique<PastryRun>(scenario); };
  info.model = pastry_model();
  info.bench = bench_command();
  registry.add(std::move(info));
}

}  // namespace p2plab::pastry
