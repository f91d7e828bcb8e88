#pragma once
#include "p2plab/registry.hpp"

namespace p2plab {
/// The registry with every protocol module built into this program, then every protocol added
/// with RegisterProtocol.
const ProtocolRegistry& all_protocols();
}  // namespace p2plab
