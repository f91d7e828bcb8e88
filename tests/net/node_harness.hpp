#pragma once
// Runs real `p2plab node` processes for the tests: each with its stdin and stdout on pipes
// (commands in, one JSON object per line out, --json). Children die with the test
// (PR_SET_PDEATHSIG) and are killed and reaped when the Peer goes out of scope, on failure too.
// Also what the search protocols' tests share: starting a peer, reading the overlay the peers
// report, searching, and garbage sent at a peer.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "p2plab/rng.hpp"

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

/// A started peer: its process, id and port.
struct Started {
  std::unique_ptr<Peer> peer;
  std::string id;
  int port = 0;
};

/// Starts `p2plab node ARGS --listen 127.0.0.1:0 --json --quiet [--join 127.0.0.1:JOIN_PORT]` and
/// reads its "listening" line; `peer` is null when none came within 5 s.
/// A UDP socket bound to 127.0.0.1 on a port the system picks (`port`), closed at the end of
/// its scope: a forger's socket, or a port to hold taken.
struct LoopbackSocket {
  int fd = -1;
  int port = 0;
  LoopbackSocket() {
    fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
    socklen_t size = sizeof local;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &size) == 0);
    port = ntohs(local.sin_port);
  }
  ~LoopbackSocket() { ::close(fd); }
  LoopbackSocket(const LoopbackSocket&) = delete;
  LoopbackSocket& operator=(const LoopbackSocket&) = delete;
  /// One datagram to 127.0.0.1:port, from this socket's address.
  void send(int to_port, const std::vector<std::uint8_t>& bytes) const {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(static_cast<std::uint16_t>(to_port));
    ::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  }
};

/// A counter of the peer's `state` (a path of keys), or 0.
inline std::uint64_t counter(const nlohmann::json& state, std::initializer_list<const char*> path) {
  const nlohmann::json* at = &state;
  for (const char* key : path) {
    if (!at->is_object() || !at->contains(key)) return 0;
    at = &(*at)[key];
  }
  return at->is_number_unsigned() ? at->get<std::uint64_t>() : 0;
}

/// Flow control: waits until the peer has received `expected` datagrams in all (at most 10 s).
inline std::uint64_t wait_received(Peer& peer, std::uint64_t expected) {
  std::uint64_t received = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    const auto s = peer.state();
    REQUIRE_MESSAGE(s.has_value(), "the flooded peer stopped answering its console");
    received = counter(*s, {"datagrams", "received"});
    if (received >= expected) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return received;
}

/// Sends `count` datagrams, make(n) for n = 0 .. count - 1, to `peer` (listening on `port`) from
/// `sources` fresh loopback sockets in turn, and after every `batch` waits until the peer has
/// received them all (flow control: its socket buffer never overflows, so every datagram is
/// handled and counted).
template <class Make>
void send_paced(Peer& peer, int port, int count, int sources, int batch, Make make) {
  const auto before = peer.state();
  REQUIRE(before.has_value());
  std::uint64_t expected = counter(*before, {"datagrams", "received"});
  std::vector<std::unique_ptr<LoopbackSocket>> senders;
  for (int s = 0; s < sources; ++s) senders.push_back(std::make_unique<LoopbackSocket>());
  for (int n = 0; n < count; ++n) {
    const std::vector<std::uint8_t> bytes = make(n);
    REQUIRE(!bytes.empty());
    senders[static_cast<std::size_t>(n) % senders.size()]->send(port, bytes);
    ++expected;
    if (n % batch == batch - 1 || n == count - 1) CHECK(wait_received(peer, expected) >= expected);
  }
}

inline Started start_node(std::vector<std::string> args, const std::string& join_port = "") {
  args.insert(args.begin(), "node");
  args.insert(args.end(), {"--listen", "127.0.0.1:0", "--json", "--quiet"});
  if (!join_port.empty()) args.insert(args.end(), {"--join", "127.0.0.1:" + join_port});
  Started s;
  s.peer = std::make_unique<Peer>(args);
  const auto hello = s.peer->wait_for([](const nlohmann::json& j) { return j.value("event", "") == "listening"; },
                                      std::chrono::milliseconds(5000));
  if (!hello) {
    s.peer.reset();
    return s;
  }
  s.id = (*hello)["id"].get<std::string>();
  s.port = (*hello)["port"].get<int>();
  return s;
}

/// The overlay as the peers' `state` reports it: neighbours and role of each peer id.
struct Overlay {
  std::map<std::string, std::set<std::string>> graph;
  std::map<std::string, std::string> role;
  bool ready = false;  // symmetric (both ends list every link) and `settled`
};

/// Reads the peers' states every 200 ms until the links are symmetric and `settled(overlay)`
/// holds, at most `attempts` times.
template <class Settled>
Overlay read_overlay(std::vector<Started>& peers, int attempts, Settled settled) {
  Overlay o;
  for (int attempt = 0; attempt < attempts && !o.ready; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    o.graph.clear();
    bool all = true;
    for (auto& p : peers) {
      const auto s = p.peer->state();
      if (!s) {
        all = false;
        continue;
      }
      o.role[p.id] = s->value("role", "");
      o.graph[p.id];
      for (const auto& n : (*s)["neighbors"]) o.graph[p.id].insert(n["id"].get<std::string>());
    }
    o.ready = all && o.graph.size() == peers.size();
    for (const auto& [a, ns] : o.graph) {
      for (const auto& b : ns) o.ready = o.ready && o.graph.count(b) == 1 && o.graph[b].count(a) == 1;
    }
    o.ready = o.ready && settled(o);
  }
  return o;
}

/// `search KEYWORDS` on a peer: its answer, or nullopt after 10 s.
inline std::optional<nlohmann::json> run_search(Peer& peer, const std::string& keywords) {
  peer.send("search " + keywords);
  return peer.wait_for([](const nlohmann::json& j) { return j.value("op", "") == "search"; },
                       std::chrono::milliseconds(10000));
}

inline std::set<std::string> hits_of(const nlohmann::json& answer) {
  std::set<std::string> out;
  for (const auto& h : answer["hits"]) out.insert(h.get<std::string>());
  return out;
}

/// How many garbage datagrams were sent at a peer, and how many more it counts as dropped.
struct Garbage {
  std::uint64_t sent = 0, dropped = 0;
};

/// Sends 2000 datagrams at the peer listening on `port` (every other one random bytes, the others
/// `seed` with one byte changed), those `decodes` refuses only; then reads the peer's drop count
/// until it has counted them all (or 2.5 s passed).
template <class Decodes>
Garbage send_garbage(Peer& peer, int port, const std::vector<std::uint8_t>& seed, std::uint64_t rng_seed,
                     Decodes decodes) {
  Garbage g;
  const auto before = peer.state();
  if (!before) return g;
  const auto dropped_before = (*before)["datagrams"]["dropped"].get<std::uint64_t>();
  const int sock = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (sock < 0) return g;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  Rng rng(rng_seed);
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::uint8_t> junk;
    if (i % 2 == 0) {
      junk.resize(rng.below(1500));
      for (auto& b : junk) b = static_cast<std::uint8_t>(rng.next_u64());
    } else {
      junk = seed;
      junk[rng.below(junk.size())] = static_cast<std::uint8_t>(rng.next_u64());
    }
    if (decodes(junk)) continue;  // well-formed: not garbage
    ++g.sent;
    ::sendto(sock, junk.data(), junk.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    if (i % 100 == 99) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::close(sock);
  for (int attempt = 0; attempt < 50 && g.dropped < g.sent; ++attempt) {
    const auto s = peer.state();
    if (!s) break;
    g.dropped = (*s)["datagrams"]["dropped"].get<std::uint64_t>() - dropped_before;
    if (g.dropped < g.sent) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return g;
}

/// What the flooding tests check at peer 0, whose overlay reaches `reachable` (a brute force):
/// "song" finds exactly those and downloads from one, "song 4" finds `provider4` only, a name
/// nobody shares finds nothing; then 2000 garbage datagrams (see send_garbage) are all dropped
/// and counted, and "song 4" is still found.
template <class Decodes>
void check_searches(Started& peer0, const std::set<std::string>& reachable, const std::string& provider4,
                    const std::vector<std::uint8_t>& seed, std::uint64_t rng_seed, Decodes decodes) {
  const auto all = run_search(*peer0.peer, "song");
  REQUIRE(all.has_value());
  CHECK(hits_of(*all) == reachable);
  CHECK((*all)["ok"] == true);
  CHECK(reachable.count((*all)["downloaded_from"].get<std::string>()) == 1);
  const auto one = run_search(*peer0.peer, "song 4");
  REQUIRE(one.has_value());
  CHECK((*one)["hits"] == nlohmann::json::array({provider4}));
  CHECK((*one)["downloaded_from"] == provider4);
  const auto none = run_search(*peer0.peer, "nobody has this");
  REQUIRE(none.has_value());
  CHECK((*none)["hits"].empty());
  CHECK((*none)["ok"] == false);
  const Garbage garbage = send_garbage(*peer0.peer, peer0.port, seed, rng_seed, decodes);
  CHECK(garbage.sent > 1800);
  CHECK(garbage.dropped == garbage.sent);
  const auto again = run_search(*peer0.peer, "song 4");
  REQUIRE(again.has_value());
  CHECK((*again)["downloaded_from"] == provider4);
}

}  // namespace p2plab::test
