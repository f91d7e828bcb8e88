#pragma once
// One real Chord peer (the real-network mode): the unchanged Protocol in the node shell
// (net/node_shell.hpp), the wire codec (wire.hpp), a console (put, get, lookup, state, leave).
// `p2plab node --protocol chord`; its options (m, r, the maintenance periods) are registered
// here. See README.md ("Real network mode").
#include "chord.hpp"
#include "p2plab/protocol_command.hpp"
#include "p2plab/view_model.hpp"

namespace p2plab::chord {

/// The `node` command (ProtocolInfo::node); monitor reports name links and roles after `model`.
ProtocolCommand node_command(const ProtocolModel& model);

}  // namespace p2plab::chord
