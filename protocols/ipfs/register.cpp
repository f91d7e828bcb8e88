// IPFS in the registry: its content-addressing tools (`p2plab ipfs add|dag|cid`) and its
// simulation (peers with block stores and Bitswap on the Kademlia module's DHT, ipfs_run.hpp),
// with the view model the views and panels read.
#include <algorithm>

#include "common/dht_model.hpp"
#include "ipfs_run.hpp"
#include "kademlia_run.hpp"
#include "p2plab/registry.hpp"
#include "tools.hpp"

namespace p2plab::ipfs {

namespace {

/// The "new scenario" panel's network: the peers, nothing added yet (the action panel adds and
/// fetches).
nlohmann::json panel_scenario(const ScenarioRequest& request) {
  const int m = static_cast<int>(dht::param_or(request, "m", 8));
  const int k = static_cast<int>(dht::param_or(request, "k", 4));
  const int alpha = std::min(k, static_cast<int>(dht::param_or(request, "alpha", 3)));
  nlohmann::json doc = dht::panel_scenario(request, "ipfs", request.peers, m, {{"m", m}, {"k", k}, {"alpha", alpha}});
  doc["events"] = nlohmann::json::array();
  return doc;
}

/// compare's workload: item k is a file of 300 KiB (two chunks and a root) added by `replicas`
/// peers, each search a fetch of one item (GET_PROVIDERS, then Bitswap). The ops name their peers,
/// so the ids are given: 32 bits, spread evenly. A frozen network with k = 8, as Kademlia's row.
nlohmann::json compare_scenario(const ScenarioRequest& request) {
  const auto n = static_cast<std::uint64_t>(std::max(1, request.peers));
  const auto id = [&](std::uint64_t rank) { return ((rank % n) << 32) / n; };
  nlohmann::json ids = nlohmann::json::array();
  for (std::uint64_t i = 0; i < n; ++i) ids.push_back(id(i));
  nlohmann::json events = nlohmann::json::array();
  const int replicas = std::max(1, request.replicas);
  for (int item = 0; item < request.items; ++item) {
    for (int r = 0; r < replicas; ++r) {
      const std::string name = "item-" + std::to_string(item);
      events.push_back({{"at_ms", 10 + item},
                        {"op", "add"},
                        {"from", id(static_cast<std::uint64_t>(item) * 7919 + static_cast<std::uint64_t>(r) * n / 2)},
                        {"name", r == 0 ? name : name + "-copy-" + std::to_string(r)},
                        {"size", 300 * 1024},
                        {"seed", item + 1}});
    }
  }
  for (std::size_t i = 0; i < request.searches.size(); ++i) {
    events.push_back({{"at_ms", request.first_search_ms + request.search_gap_ms * static_cast<int>(i)},
                      {"op", "fetch"},
                      {"from", id(static_cast<std::uint64_t>(request.searches[i].first))},
                      {"file", "item-" + std::to_string(request.searches[i].second)}});
  }
  return {{"protocol", "ipfs"},
          {"seed", request.seed},
          {"params", {{"m", 32}, {"k", 8}, {"alpha", 3}, {"cache", false}, {"maintenance", false}}},
          {"peers", {{"ids", ids}}},
          {"bootstrap", "oracle"},
          {"events", events}};
}

ProtocolModel ipfs_model() {
  // Kademlia's geometry (XOR trie), link kinds (its peer_view makes the links) and parameters;
  // IPFS's own roles, operations, words and scenarios.
  ProtocolModel model = kademlia::kademlia_model();
  model.search_noun = "fetch";
  model.hop_noun = "step";  // a lookup's round, or a fetch's block
  model.complexity = "O(log N) to find providers, then one round trip per DAG level";
  // In the order of kNodeRole, kJoiningRole, kHolderRole, kCorruptRole.
  model.roles = {{"node", "an IPFS peer (a Kademlia node) without blocks", Colour::Blue, 1.0f, 0},
                 {"joining", "a peer still looking up its own id", Colour::Grey, 1.0f, 0},
                 {"holds blocks", "a peer that stores blocks (added or fetched)", Colour::Green, 1.3f, 0},
                 {"corrupt", "a peer that sends corrupted blocks (they fail verification)", Colour::Red, 1.3f, 0}};
  model.key_owner_is_successor = false;
  const OperationField cid{"cid", "CID", OperationField::Kind::Name,
                           "A CID's text (Qm... or bafy...): the root of a file added in this run.",
                           "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"};
  model.operations = {
      {"add",
       "add a file",
       "The selected peer adds a file of this many bytes: chunks, a Merkle DAG, its blocks stored, the root "
       "announced (ADD_PROVIDER at the k closest to its key).",
       "from",
       {{"size", "bytes", OperationField::Kind::Number, "The file's size (its bytes come from the scenario's seed).",
         "1048576"}}},
      {"fetch",
       "fetch",
       "GET_PROVIDERS for the CID, then Bitswap: want-block to a provider, every block checked against its CID.",
       "from",
       {cid}},
      {"find_providers",
       "find providers",
       "GET_PROVIDERS: the providers the k closest to the CID's key know.",
       "from",
       {cid}},
      {"provide", "provide", "Announce the CID: ADD_PROVIDER at the k closest to its key.", "from", {cid}},
      {"corrupt",
       "serve corrupted blocks",
       "From now on this peer sends every block with one bit changed.",
       "from",
       {}},
      {"join",
       "add a peer (join)",
       "A new peer looks up its own id through a live one, then refreshes its farther buckets.",
       "",
       {{"id", "new id", OperationField::Kind::Number, "Empty: the id is SHA-1 of a new address.", ""}}},
      {"fail", "crash", "The peer stops answering: its provider records stay until they expire.", "peer", {}},
      {"leave", "leave", "Kademlia has no goodbye: the peer just stops answering.", "peer", {}},
  };
  for (ParameterInfo& p : model.parameters) {
    if (p.name == "m") p.help = "Identifiers 0 .. 2^m - 1; IPFS's DHT uses 256 (here at most 160).";
    if (p.name == "k") p.help = "Contacts per bucket and provider records per CID (IPFS: 20).";
  }
  model.make_scenario = [](const ScenarioRequest& request) {
    return request.searches.empty() ? panel_scenario(request) : compare_scenario(request);
  };
  return model;
}

}  // namespace

void register_ipfs(ProtocolRegistry& registry) {
  ProtocolInfo info;
  info.name = "ipfs";
  info.description =
      "IPFS: CIDs, UnixFS Merkle DAGs of 256 KiB chunks (kubo's CID profiles), provider records on Kademlia, "
      "Bitswap block exchange with every block verified";
  info.commands = tool_commands();
  info.create = [](const Scenario& scenario) -> std::unique_ptr<Run> { return std::make_unique<IpfsRun>(scenario); };
  info.model = ipfs_model();
  registry.add(std::move(info));
}

}  // namespace p2plab::ipfs
