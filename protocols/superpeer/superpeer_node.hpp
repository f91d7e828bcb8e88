#pragma once
// One real superpeer-protocol (Gnutella 0.6) peer: the unchanged superpeer::Protocol on a
// SocketTransport, its wire codec and a console. `p2plab node --protocol superpeer`.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "p2plab/net/endpoint.hpp"
#include "superpeer.hpp"

namespace p2plab::superpeer {

struct NodeOptions {
  net::Endpoint listen;
  std::optional<net::Endpoint> join;
  std::optional<std::uint64_t> id;  // default: SHA-1 of "IP:PORT", its low 64 bits
  Params params;
  std::vector<std::string> shared;  // names shared from the start (announced when attaching)
  std::optional<net::Endpoint> monitor;  // where to send state and message reports (--monitor)
  bool json = false, quiet = false;
  double join_timeout_s = 10, duration_s = 0;
  std::uint64_t seed = 1;
};

int run_node(const NodeOptions& options);

}  // namespace p2plab::superpeer
