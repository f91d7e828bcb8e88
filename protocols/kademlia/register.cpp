// Kademlia in the registry: how its runs are made, what the views and panels know of it (the
// view model), and its benchmark command.
#include <algorithm>
#include <cmath>

#include "bench.hpp"
#include "bep5/bep5_node.hpp"
#include "kademlia_run.hpp"

namespace p2plab::kademlia {

namespace {

double param_or(const ScenarioRequest& request, const std::string& name, double fallback) {
  const auto it = request.params.find(name);
  return it == request.params.end() ? fallback : it->second;
}

/// The "new scenario" panel's network: random lookups once it is there.
nlohmann::json panel_scenario(const ScenarioRequest& request) {
  const int peers = request.peers;
  const int m = static_cast<int>(param_or(request, "m", 8));
  const int k = static_cast<int>(param_or(request, "k", 4));
  const int alpha = std::min(k, static_cast<int>(param_or(request, "alpha", 3)));
  nlohmann::json doc = {{"protocol", "kademlia"},
                        {"seed", request.seed},
                        {"peers", {{"count", peers}}},
                        {"title", "New kademlia scenario with " + std::to_string(peers) + " peers"},
                        {"run_ms", 60000}};
  doc["params"] = {{"m", m}, {"k", k}, {"alpha", alpha}};
  doc["bootstrap"] = request.join ? "join" : "oracle";
  doc["join_interval_ms"] = 500;
  doc["events"] = {
      {{"at_ms", request.join ? 500 * peers + 5000 : 1000}, {"op", "lookups"}, {"count", 20}, {"spread_ms", 20000}}};
  if (m < 20 && peers > (1 << m)) doc["peers"]["count"] = 1 << m;  // no more peers than ids
  return doc;
}

/// compare's workload: every item stored (put) at its k closest, then each search a get of one
/// item, on a frozen network with BitTorrent's k = 8.
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
  return {{"protocol", "kademlia"},
          {"seed", request.seed},
          // No caching: every get goes to the k closest, as the first one does.
          {"params", {{"m", 160}, {"k", 8}, {"alpha", 3}, {"cache", false}, {"maintenance", false}}},
          {"peers", {{"count", request.peers}}},
          {"bootstrap", "oracle"},
          {"events", events}};
}

ProtocolModel kademlia_model() {
  ProtocolModel model;
  // Distance is XOR, not the arc: ids as the leaves of a binary trie, each k-bucket a subtree.
  model.geometry = Geometry::XorTrie;
  model.search_noun = "lookup";
  model.hop_noun = "round";  // a hop's index is the round of alpha parallel queries it belongs to
  model.complexity = "O(log N)";
  // In the order of kBucketLink, kReplacementLink.
  model.link_kinds = {
      {"bucket contact", "k-bucket contact of the selected node (bucket i: XOR distance [2^i, 2^(i+1)))",
       Colour::Orange, LinkDrawing::Selected},
      {"replacement", "replacement cache entry (waits for a bucket slot)", Colour::Grey, LinkDrawing::Hidden},
  };
  // In the order of kNodeRole, kJoiningRole.
  model.roles = {{"node", "a Kademlia node", Colour::Blue, 1.0f, 0},
                 {"joining", "a node still looking up its own id", Colour::Grey, 1.0f, 0}};
  model.key_owner_is_successor = false;  // the k closest by XOR hold a key
  const OperationField key{"key", "key", OperationField::Kind::Key,
                           "A number, or any text to hash with SHA-1 (like a torrent's info-hash).", "44"};
  model.operations = {
      {"lookup", "lookup", "Find the k nodes closest to the key by XOR, starting at the selected node.", "from", {key}},
      {"put",
       "put",
       "Store a value under the key at the k closest nodes (a lookup, then STORE to each).",
       "from",
       {key, {"value", "value", OperationField::Kind::Name, "What to store.", "a value"}}},
      {"get", "get", "FIND_VALUE: stops at the first node that has the value, then caches it.", "from", {key}},
      {"join",
       "add a node (join)",
       "A new node looks up its own id through a live one, then refreshes its farther buckets.",
       "",
       {{"id", "new id", OperationField::Kind::Number, "Empty: the id is SHA-1 of a new address.", ""}}},
      {"fail", "crash", "The node stops answering (others notice by timeouts).", "peer", {}},
      {"leave", "leave", "Kademlia has no goodbye: the node just stops answering.", "peer", {}},
  };
  model.parameters = {
      {"m", "m (id bits)", "Identifiers 0 .. 2^m - 1; BitTorrent uses 160. A classroom figure uses 4 or 5.", 2, 160, 8,
       true, true, false},
      {"k", "k (bucket size)", "Contacts per bucket and copies per key (BitTorrent: 8; the paper: 20).", 1, kMaxK, 4,
       true, true, false},
      {"alpha", "alpha (parallel queries)", "Queries sent at once in each round of a lookup.", 1, kMaxK, 3, true, true,
       true},
      {"rpc_timeout_ms", "RPC timeout (ms)", "An RPC unanswered this long counts as failed.", 10, 60000, 1000, true,
       false, true},
  };
  model.make_scenario = [](const ScenarioRequest& request) {
    return request.searches.empty() ? panel_scenario(request) : compare_scenario(request);
  };
  return model;
}

}  // namespace

void register_kademlia(ProtocolRegistry& registry) {
  ProtocolInfo info;
  info.name = "kademlia";
  info.description =
      "Kademlia DHT (Maymounkov & Mazieres 2002): XOR distance, k-buckets, iterative parallel lookups, O(log N)";
  info.create = [](const Scenario& scenario) -> std::unique_ptr<Run> {
    return std::make_unique<KademliaRun>(scenario);
  };
  info.model = kademlia_model();
  info.bench = bench_command();
  info.node = node_command(info.model);  // real network mode: BEP 5 (bep5/)
  registry.add(std::move(info));
}

}  // namespace p2plab::kademlia
