#pragma once
// The content-addressing tools on the command line: `p2plab ipfs add FILE`, `p2plab ipfs dag
// CID`, `p2plab ipfs cid CID` (registered as ProtocolInfo::commands, see register.cpp).
#include <vector>

#include "p2plab/protocol_command.hpp"

namespace p2plab::ipfs {

std::vector<ProtocolCommand> tool_commands();

}  // namespace p2plab::ipfs
