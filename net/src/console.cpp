#include "p2plab/net/console.hpp"

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <csignal>

namespace p2plab::net {

namespace {
std::atomic<int> g_stop{0};
extern "C" void p2plab_net_on_stop_signal(int sig) { g_stop = sig; }
}  // namespace

void Console::poll(const std::function<void(const std::string&)>& on_line) {
  if (closed_) return;
  pollfd p{STDIN_FILENO, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return;
  char buffer[4096];
  const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
  if (n <= 0) {
    closed_ = true;
    return;
  }
  pending_.append(buffer, static_cast<std::size_t>(n));
  std::size_t start = 0, nl;
  while ((nl = pending_.find('\n', start)) != std::string::npos) {
    on_line(pending_.substr(start, nl - start));
    start = nl + 1;
  }
  pending_.erase(0, start);
  if (pending_.size() > 65536) pending_.clear();  // a line that never ends
}

void install_stop_signals() {
  struct sigaction action {};
  action.sa_handler = p2plab_net_on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

bool stop_requested() { return g_stop != 0; }

}  // namespace p2plab::net
