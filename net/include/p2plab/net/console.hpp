#pragma once
// What every real peer's main loop shares, whatever the protocol: console lines from stdin
// (a terminal or a pipe) read without blocking, and SIGINT / SIGTERM turned into a flag.
#include <functional>
#include <string>

namespace p2plab::net {

class Console {
 public:
  /// Calls `on_line` for every complete line waiting on stdin (never blocks). At end of input
  /// it stops reading (a peer started without a console keeps running).
  void poll(const std::function<void(const std::string&)>& on_line);
  bool closed() const { return closed_; }

 private:
  std::string pending_;
  bool closed_ = false;
};

/// SIGINT and SIGTERM set a flag instead of killing the process (a peer leaves gracefully);
/// SIGPIPE is ignored.
void install_stop_signals();
bool stop_requested();

}  // namespace p2plab::net
