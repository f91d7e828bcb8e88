#pragma once
// One real central-index (Napster) peer: the unchanged central_index::Protocol on a
// SocketTransport, its wire codec and a console (share, search, state, leave). The peer started
// without --join is the index server; the others --join it (or any peer that knows it), register
// their shared names there, search through it and download straight from a provider.
// `p2plab node --protocol central_index`.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "central_index.hpp"
#include "p2plab/net/endpoint.hpp"

namespace p2plab::central_index {

struct NodeOptions {
  net::Endpoint listen;
  std::optional<net::Endpoint> join;  // the server, or a peer that knows it; none: be the server
  std::optional<std::uint64_t> id;    // default: SHA-1 of "IP:PORT", its low 64 bits
  Params params;
  std::vector<std::string> shared;  // names shared from the start (registered when joining)
  bool json = false, quiet = false;
  double join_timeout_s = 10, duration_s = 0;
  std::uint64_t seed = 1;
};

int run_node(const NodeOptions& options);

}  // namespace p2plab::central_index
