#pragma once
// One real Chord peer (the real-network mode): the unchanged Protocol on a SocketTransport, the
// wire codec, a console (put, get, lookup, state, leave) and optional reports to a monitor.
// `p2plab node --protocol chord` runs it; see README.md ("Real network mode").
#include <cstdint>
#include <optional>
#include <string>

#include "chord.hpp"
#include "p2plab/net/endpoint.hpp"

namespace p2plab::chord {

struct NodeOptions {
  net::Endpoint listen;                  // port 0: any free port (printed at start)
  std::optional<net::Endpoint> join;     // bootstrap peer; none: create a new ring
  std::optional<Id> id;                  // default: SHA-1 of "IP:PORT" mod 2^m
  std::optional<net::Endpoint> monitor;  // where to send state and message reports
  Params params;
  bool json = false;           // console answers as one JSON object per line
  bool quiet = false;          // no event lines, answers only
  double join_timeout_s = 10;  // give up when the bootstrap peer does not answer this long
  double duration_s = 0;       // > 0: leave and exit after this long
  std::uint64_t seed = 1;
};

/// Runs the peer until `leave`, end of duration, SIGINT or SIGTERM (which leave gracefully).
/// Returns the exit code: 0 done, 1 network error (cannot bind, bootstrap does not answer).
int run_node(const NodeOptions& options);

}  // namespace p2plab::chord
