#pragma once
// One real flooding (Gnutella 0.4) peer: the unchanged flooding::Protocol in the node shell
// (net/node_shell.hpp) with the search protocols' console (common/search_node.hpp): share,
// search, state, leave. `p2plab node --protocol flooding`; its options are registered here.
#include "flooding.hpp"
#include "p2plab/protocol_command.hpp"
#include "p2plab/view_model.hpp"

namespace p2plab::flooding {

/// The `node` command (ProtocolInfo::node); monitor reports name links and roles after `model`.
ProtocolCommand node_command(const ProtocolModel& model);

}  // namespace p2plab::flooding
