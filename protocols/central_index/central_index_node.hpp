#pragma once
// One real central-index (Napster) peer: the index server (the first peer) or a peer that
// registers its names there and searches it. The unchanged central_index::Protocol in the node
// shell (net/node_shell.hpp) with the search protocols' console (common/search_node.hpp).
// `p2plab node --protocol central_index`; its options are registered here.
#include "central_index.hpp"
#include "p2plab/protocol_command.hpp"
#include "p2plab/view_model.hpp"

namespace p2plab::central_index {

/// The `node` command (ProtocolInfo::node); monitor reports name links and roles after `model`.
ProtocolCommand node_command(const ProtocolModel& model);

}  // namespace p2plab::central_index
