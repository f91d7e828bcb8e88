#pragma once
// One real superpeer-protocol (Gnutella 0.6) peer, leaf or superpeer: the unchanged
// superpeer::Protocol in the node shell (net/node_shell.hpp) with the search protocols' console
// (common/search_node.hpp). `p2plab node --protocol superpeer`; its options are registered here.
#include "p2plab/protocol_command.hpp"
#include "p2plab/view_model.hpp"
#include "superpeer.hpp"

namespace p2plab::superpeer {

/// The `node` command (ProtocolInfo::node); monitor reports name links and roles after `model`.
ProtocolCommand node_command(const ProtocolModel& model);

}  // namespace p2plab::superpeer
