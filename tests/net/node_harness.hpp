#pragma once
// Runs real `p2plab node` processes for the tests: each with its stdin and stdout on pipes
// (commands in, one JSON object per line out, --json). Children die with the test
// (PR_SET_PDEATHSIG) and are killed and reaped when the Peer goes out of scope, on failure too.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace p2plab::test {

using Clock = std::chrono::steady_clock;

class Peer {
 public:
  explicit Peer(const std::vector<std::string>& args) {
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) throw std::runtime_error("pipe failed");
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::dup2(out[1], 2);
      ::close(in[0]);
      ::close(in[1]);
      ::close(out[0]);
      ::close(out[1]);
      std::vector<std::string> all = {P2PLAB_BINARY};
      all.insert(all.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& a : all) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(P2PLAB_BINARY, argv.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    in_ = in[1];
    out_ = out[0];
    ::fcntl(in_, F_SETFD, FD_CLOEXEC);
    ::fcntl(out_, F_SETFD, FD_CLOEXEC);
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;
  ~Peer() {
    kill(SIGKILL);
    if (in_ >= 0) ::close(in_);
    if (out_ >= 0) ::close(out_);
  }

  void send(const std::string& line) {
    const std::string l = line + "\n";
    if (in_ < 0 || ::write(in_, l.data(), l.size()) != static_cast<ssize_t>(l.size())) {
      throw std::runtime_error("cannot write to peer " + std::to_string(pid_));
    }
  }
  /// The next output line that is a JSON object matching `want`, within `timeout`; other lines
  /// are skipped. nullopt on timeout or end of output.
  template <class Pred>
  std::optional<nlohmann::json> wait_for(Pred want, std::chrono::milliseconds timeout) {
    std::optional<nlohmann::json> found;
    wait_for_line(
        [&](const std::string& line) {
          auto j = nlohmann::json::parse(line, nullptr, false);
          if (j.is_discarded() || !j.is_object() || !want(j)) return false;
          found = std::move(j);
          return true;
        },
        timeout);
    return found;
  }
  /// The next output line containing `text`, within `timeout` (the lines before it are gone).
  std::optional<std::string> wait_text(const std::string& text, std::chrono::milliseconds timeout) {
    std::optional<std::string> found;
    wait_for_line(
        [&](const std::string& line) {
          if (line.find(text) == std::string::npos) return false;
          found = line;
          return true;
        },
        timeout);
    return found;
  }
  template <class Pred>
  bool wait_for_line(Pred want, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
      std::string line;
      while (next_line(line)) {
        if (want(line)) return true;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0 || out_ < 0) return false;
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char buffer[65536];
      const ssize_t n = ::read(out_, buffer, sizeof buffer);
      if (n <= 0) {
        ::close(out_);
        out_ = -1;
        continue;
      }
      pending_.append(buffer, static_cast<std::size_t>(n));
    }
  }
  /// The peer's state (the `state` command), or nullopt.
  std::optional<nlohmann::json> state(std::chrono::milliseconds timeout = std::chrono::milliseconds(3000)) {
    send("state");
    auto j = wait_for([](const nlohmann::json& x) { return x.value("op", "") == "state"; }, timeout);
    if (!j) return std::nullopt;
    return (*j)["state"];
  }
  void kill(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    if (sig == SIGKILL) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }
  /// Waits for the process to end by itself; its exit code, or -1 (signal or timeout).
  int wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (pid_ > 0 && Clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      ::usleep(20000);
    }
    return -1;
  }
  pid_t pid() const { return pid_; }
  /// The peer's latest event lines (without --quiet), for failure reports.
  std::string events() const {
    std::string all;
    for (const auto& e : events_) all += e + "\n";
    return all;
  }

 private:
  bool next_line(std::string& line) {
    const auto nl = pending_.find('\n');
    if (nl == std::string::npos) return false;
    line = pending_.substr(0, nl);
    pending_.erase(0, nl + 1);
    if (line.rfind("{\"event\"", 0) == 0) {  // event lines: the last ones, for failure reports
      events_.push_back(line);
      if (events_.size() > 200) events_.erase(events_.begin());
    }
    return true;
  }
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  std::string pending_;
  std::vector<std::string> events_;
};

}  // namespace p2plab::test
