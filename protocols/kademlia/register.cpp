// Kademlia in the registry: how its runs are made, what the views and panels know of it (the
// view model), and its benchmark command.
#include <algorithm>
#include <cmath>

#include "bench.hpp"
#include "bep5/bep5_node.hpp"
#include "common/dht_model.hpp"
#include "kademlia_run.hpp"

namespace p2plab::kademlia {

namespace {

/// The "new scenario" panel's network: random lookups once it is there.
nlohmann::json panel_scenario(const ScenarioRequest& request) {
  const int m = static_cast<int>(dht::param_or(request, "m", 8));
  const int k = static_cast<int>(dht::param_or(request, "k", 4));
  const int alpha = std::min(k, static_cast<int>(dht::param_or(request, "alpha", 3)));
  return dht::panel_scenario(request, "kademlia", request.peers, m, {{"m", m}, {"k", k}, {"alpha", alpha}});
}

/// compare's workload: every item stored (put) at its k closest, then each search a get of one
/// item, on a frozen network with BitTorrent's k = 8. No caching: every get goes to the k
/// closest, as the first one does.
nlohmann::json compare_scenario(const ScenarioRequest& request) {
  return dht::compare_scenario(request, "kademlia",
                               {{"m", 160}, {"k", 8}, {"alpha", 3}, {"cache", false}, {"maintenance", false}});
}

}  // namespace

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
  model.operations = dht::dht_operations(
      {.key_help = "A number, or any text to hash with SHA-1 (like a torrent's info-hash).",
       .key_default = "44",
       .lookup = "Find the k nodes closest to the key by XOR, starting at the selected node.",
       .put = "Store a value under the key at the k closest nodes (a lookup, then STORE to each).",
       .get = "FIND_VALUE: stops at the first node that has the value, then caches it.",
       .join_label = "add a node (join)",
       .join = "A new node looks up its own id through a live one, then refreshes its farther buckets.",
       .fail = "The node stops answering (others notice by timeouts).",
       .leave = "Kademlia has no goodbye: the node just stops answering."});
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
