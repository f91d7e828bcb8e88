#pragma once
// One real flooding (Gnutella 0.4) peer: the unchanged flooding::Protocol on a SocketTransport,
// its wire codec and a console (share, search, state, leave). `p2plab node --protocol flooding`.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flooding.hpp"
#include "p2plab/net/endpoint.hpp"

namespace p2plab::flooding {

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

}  // namespace p2plab::flooding
