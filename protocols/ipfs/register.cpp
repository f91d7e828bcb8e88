// IPFS in the registry: for now its content-addressing tools only (`p2plab ipfs add|dag|cid`); no
// `create`, so runs, labs, panels and compare skip it until it has a simulation (provider records
// and block exchange on the Kademlia module).
#include "p2plab/registry.hpp"
#include "tools.hpp"

namespace p2plab::ipfs {

void register_ipfs(ProtocolRegistry& registry) {
  ProtocolInfo info;
  info.name = "ipfs";
  info.description = "IPFS content addressing: CIDs, UnixFS Merkle DAGs of 256 KiB chunks (kubo's CID profiles)";
  info.commands = tool_commands();
  registry.add(std::move(info));
}

}  // namespace p2plab::ipfs
