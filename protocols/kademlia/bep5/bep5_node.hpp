#pragma once
// One real Kademlia node speaking BitTorrent's Mainline DHT (BEP 5) on a UDP socket:
// `p2plab node --protocol kademlia`. It interoperates with real BitTorrent clients (libtorrent,
// aria2: see README.md here). Console: ping, find_node, get_peers, announce, state, leave.
#include "p2plab/protocol_command.hpp"
#include "p2plab/view_model.hpp"

namespace p2plab::kademlia {

/// The `node` command (ProtocolInfo::node). `model` names the protocol's links and roles (kept
/// for monitor reports, as the other protocols' node commands).
ProtocolCommand node_command(const ProtocolModel& model);

}  // namespace p2plab::kademlia
