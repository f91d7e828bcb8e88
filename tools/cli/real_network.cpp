// `p2plab node`: one real peer. `p2plab cluster`: N real peers as child processes on loopback.
// The protocol named by --protocol runs the peer (ProtocolInfo::node, usually built on the node
// shell, net/node_shell.hpp); this file only parses its options and starts processes.
#include "real_network.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "command_options.hpp"
#include "p2plab/net/endpoint.hpp"
#include "p2plab/net/node_shell.hpp"
#include "p2plab/net/udp.hpp"
#include "p2plab/registry.hpp"

namespace p2plab::cli {

namespace {
constexpr int kBadInput = 2;
volatile sig_atomic_t g_cluster_signal = 0;
extern "C" void on_cluster_signal(int sig) { g_cluster_signal = sig; }

/// The value of --protocol in argv ("" when absent): known before parsing, so that the
/// protocol's options can be added to the parser.
std::string protocol_in(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--protocol") == 0 && i + 1 < argc) return argv[i + 1];
    if (std::strncmp(argv[i], "--protocol=", 11) == 0) return argv[i] + 11;
  }
  return "";
}

/// Protocols with a real-network mode, for --help and errors.
std::string node_protocols() {
  std::string names;
  for (const ProtocolInfo& p : all_protocols().all()) {
    if (p.node) names += (names.empty() ? "" : ", ") + p.name;
  }
  return names;
}

int bad(const std::string& command, const std::string& text) {
  std::fprintf(stderr, "p2plab %s: %s\n", command.c_str(), text.c_str());
  return kBadInput;
}
}  // namespace

struct RealNetworkCommands::Options {
  std::string protocol;
  const ProtocolInfo* info = nullptr;
  std::vector<ParsedOption> node, cluster;  // the protocol's options on each subcommand
  // cluster
  int peers = 8, base_port = 4000;
  double duration = 0;
  std::string monitor;
};

RealNetworkCommands::RealNetworkCommands(CLI::App& app, int argc, const char* const* argv)
    : o_(std::make_shared<Options>()) {
  Options& o = *o_;
  o.info = all_protocols().find(protocol_in(argc, argv));
  if (o.info != nullptr && !o.info->node) o.info = nullptr;
  const std::string protocols = "Protocol module (" + node_protocols() + "); --protocol X --help lists X's options";

  node_ = app.add_subcommand("node", "Run one real peer on a UDP socket (real network mode)");
  node_->add_option("--protocol", o.protocol, protocols)->required();
  if (o.info != nullptr) add_options(node_, o.info->node, {}, o.node);

  cluster_ =
      app.add_subcommand("cluster", "Start N real peers as processes on 127.0.0.1 (a quick demo); Ctrl-C stops them");
  cluster_->add_option("--protocol", o.protocol, protocols)->required();
  cluster_->add_option("--peers,-n", o.peers, "Number of peers")->check(CLI::Range(1, 256))->capture_default_str();
  cluster_
      ->add_option("--base-port", o.base_port,
                   "UDP port of the first peer; the others use the next ports (0: free ports the system picks)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cluster_->add_option("--duration", o.duration, "Stop after this many seconds (0: until Ctrl-C)")
      ->check(CLI::Range(0.0, 1e7));
  cluster_->add_option("--monitor", o.monitor,
                       "Every peer reports to a monitor (p2plab-viz --attach PORT) at HOST:PORT");
  if (o.info != nullptr) {
    // The shell's options are the cluster's to set (addresses, seeds); the protocol's go to every peer.
    std::set<std::string> shell;
    for (const CommandOption& s : net::node_shell_options()) shell.insert(s.name);
    add_options(cluster_, o.info->node, shell, o.cluster);
  }
}

namespace {

int command_node(const RealNetworkCommands::Options& o);
int command_cluster(const RealNetworkCommands::Options& o);

}  // namespace

bool RealNetworkCommands::dispatch(int& exit_code) const {
  if (node_->parsed()) {
    exit_code = command_node(*o_);
    return true;
  }
  if (cluster_->parsed()) {
    exit_code = command_cluster(*o_);
    return true;
  }
  return false;
}

namespace {

bool check_protocol(const std::string& command, const RealNetworkCommands::Options& o, int& code) {
  if (o.info != nullptr && o.info->name == o.protocol) return true;
  code =
      bad(command, "--protocol: unknown protocol '" + o.protocol + "' (real network mode: " + node_protocols() + ")");
  return false;
}

int command_node(const RealNetworkCommands::Options& o) {
  int code = 0;
  if (!check_protocol("node", o, code)) return code;
  return o.info->node.run(args_of(o.node));
}

/// One child of `p2plab cluster`: its process, its console (a pipe), its output (a pipe the
/// cluster prints with the peer's number in front).
struct ClusterChild {
  pid_t pid = -1;
  int console = -1, output = -1;
  int port = 0;
  std::string pending;  // output not yet printed (no newline yet)
  bool listening = false;
};

/// Prints every complete line a child wrote, as "[N] line"; true when it printed its listening
/// line. Returns false when the pipe is closed.
bool relay_output(ClusterChild& c, std::size_t n) {
  char buffer[4096];
  const ssize_t got = ::read(c.output, buffer, sizeof buffer);
  if (got <= 0) {
    ::close(c.output);
    c.output = -1;
    return false;
  }
  c.pending.append(buffer, static_cast<std::size_t>(got));
  for (std::size_t nl; (nl = c.pending.find('\n')) != std::string::npos;) {
    const std::string line = c.pending.substr(0, nl);
    c.pending.erase(0, nl + 1);
    if (line.find("listening on UDP") != std::string::npos) c.listening = true;
    std::printf("[%zu] %s\n", n, line.c_str());
  }
  std::fflush(stdout);
  return true;
}

/// The ports of the cluster: `base`.. (each checked free), or with base 0 free ports the system
/// picks. False with `error` naming a port that is taken.
bool cluster_ports(int base, int count, std::vector<int>& ports, std::string& error) {
  std::vector<std::unique_ptr<net::UdpSocket>> held;  // held until all are chosen: no duplicates
  for (int i = 0; i < count; ++i) {
    auto socket = std::make_unique<net::UdpSocket>();
    const net::Endpoint at{0x7f000001u, static_cast<std::uint16_t>(base == 0 ? 0 : base + i)};
    std::string why;
    if (!socket->bind(at, why)) {
      error = "--base-port: " + why;
      return false;
    }
    ports.push_back(socket->local_port());
    held.push_back(std::move(socket));
  }
  return true;
}

int command_cluster(const RealNetworkCommands::Options& o) {
  int code = 0;
  if (!check_protocol("cluster", o, code)) return code;
  if (o.base_port + o.peers - 1 > 65535) return bad("cluster", "--base-port: the last peer's port would pass 65535");
  std::string error;
  if (!o.monitor.empty() && !net::parse_endpoint(o.monitor, error)) return bad("cluster", "--monitor: " + error);
  char self_path[4096];
  const ssize_t len = ::readlink("/proc/self/exe", self_path, sizeof self_path - 1);
  if (len <= 0) return bad("cluster", "cannot find the p2plab program itself (/proc/self/exe)");
  self_path[len] = '\0';
  std::vector<int> ports;
  if (!cluster_ports(o.base_port, o.peers, ports, error)) {
    std::fprintf(stderr, "p2plab cluster: %s\n", error.c_str());
    return 1;
  }

  // The protocol's options given on the command line go to every peer as they were given.
  std::vector<std::string> forwarded;
  for (const ParsedOption& p : o.cluster) {
    if (p.cli->count() == 0) continue;
    if (p.option.flag) {
      forwarded.push_back("--" + p.option.name);
      continue;
    }
    for (const std::string& v : p.values) {
      forwarded.push_back("--" + p.option.name);
      forwarded.push_back(v);
    }
  }

  struct sigaction action {};
  action.sa_handler = on_cluster_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a peer that is gone: its console write fails, nothing more

  const pid_t parent = ::getpid();
  std::vector<ClusterChild> children;
  auto stop_all = [&](int sig) {
    for (const ClusterChild& c : children) {
      if (c.pid > 0) ::kill(c.pid, sig);
    }
  };
  for (int i = 0; i < o.peers; ++i) {
    std::vector<std::string> args = {self_path,
                                     "node",
                                     "--protocol",
                                     o.protocol,
                                     "--quiet",
                                     "--listen",
                                     "127.0.0.1:" + std::to_string(ports[static_cast<std::size_t>(i)]),
                                     "--seed",
                                     std::to_string(i + 1)};
    args.insert(args.end(), forwarded.begin(), forwarded.end());
    if (i > 0) {
      args.push_back("--join");
      args.push_back("127.0.0.1:" + std::to_string(ports[0]));
    }
    if (!o.monitor.empty()) {
      args.push_back("--monitor");
      args.push_back(o.monitor);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) {
      std::fprintf(stderr, "p2plab cluster: cannot start peer %d (no pipe)\n", i);
      stop_all(SIGTERM);
      break;
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
      std::fprintf(stderr, "p2plab cluster: cannot start peer %d (fork failed)\n", i);
      stop_all(SIGTERM);
      break;
    }
    if (pid == 0) {
      // The child dies with the cluster, even if the cluster is killed with SIGKILL.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(1);
      signal(SIGINT, SIG_DFL);
      signal(SIGTERM, SIG_DFL);
      signal(SIGPIPE, SIG_DFL);
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::dup2(out[1], 2);
      for (int fd : {in[0], in[1], out[0], out[1]}) ::close(fd);
      for (const ClusterChild& c : children) {  // the other peers' pipes are not this one's
        ::close(c.console);
        ::close(c.output);
      }
      ::execv(self_path, argv.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ClusterChild c;
    c.pid = pid;
    c.console = in[1];
    c.output = out[0];
    c.port = ports[static_cast<std::size_t>(i)];
    children.push_back(c);
    // The first one is up before the joins: wait for its listening line (at most 5 s).
    for (int wait = 0; i == 0 && wait < 100 && !children[0].listening && children[0].output >= 0; ++wait) {
      pollfd p{children[0].output, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) relay_output(children[0], 0);
    }
  }

  // Every peer listening, or the reason one is not (its own message, relayed), before the
  // cluster says it is up.
  const auto up_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool all_up = false, one_ended = false;
  while (!all_up && !one_ended && std::chrono::steady_clock::now() < up_deadline && g_cluster_signal == 0) {
    std::vector<pollfd> fds;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < children.size(); ++i) {
      if (children[i].output >= 0) {
        fds.push_back({children[i].output, POLLIN, 0});
        which.push_back(i);
      }
    }
    if (!fds.empty() && ::poll(fds.data(), fds.size(), 50) > 0) {
      for (std::size_t k = 0; k < fds.size(); ++k) {
        if (fds[k].revents != 0) relay_output(children[which[k]], which[k]);
      }
    }
    all_up = static_cast<int>(children.size()) == o.peers;
    for (ClusterChild& c : children) {
      all_up = all_up && c.listening;
      int status = 0;
      if (c.pid > 0 && ::waitpid(c.pid, &status, WNOHANG) == c.pid) {
        c.pid = -1;
        one_ended = true;
      }
    }
  }
  if (!all_up) {
    for (std::size_t i = 0; i < children.size(); ++i) {  // what they said so far (the reason)
      pollfd p{children[i].output, POLLIN, 0};
      while (children[i].output >= 0 && ::poll(&p, 1, 100) > 0 && relay_output(children[i], i))
        p.fd = children[i].output;
    }
    std::fprintf(stderr, "p2plab cluster: %s; stopping the others\n",
                 one_ended ? "a peer ended while starting (its message is above)" : "the peers did not all start");
    stop_all(SIGTERM);
    for (ClusterChild& c : children) {
      if (c.pid > 0) ::waitpid(c.pid, nullptr, 0);
    }
    return 1;
  }

  std::printf("p2plab cluster: %zu %s peers on 127.0.0.1 ports", children.size(), o.protocol.c_str());
  for (const ClusterChild& c : children) std::printf(" %d", c.port);
  std::printf(" (pids");
  for (const ClusterChild& c : children) std::printf(" %d", static_cast<int>(c.pid));
  std::printf("); Ctrl-C stops them\n");
  std::printf("  type N: COMMAND for peer N (0..%zu), all: COMMAND for every peer, e.g. 0: state\n",
              children.size() - 1);
  std::string talk = "p2plab node --protocol " + o.protocol;
  for (const std::string& f : forwarded) talk += " " + f;
  std::printf("  or start another: %s --listen 127.0.0.1:0 --join 127.0.0.1:%d\n", talk.c_str(), ports[0]);
  std::fflush(stdout);

  const auto start = std::chrono::steady_clock::now();
  std::size_t running = children.size();
  bool failed_early = false, stopping = false, console_open = true;
  std::string typed;
  auto stop_deadline = std::chrono::steady_clock::time_point::max();
  auto to_peer = [&](const std::string& line) {
    const auto colon = line.find(':');
    const std::string who = colon == std::string::npos ? "" : line.substr(0, colon);
    const std::string command = colon == std::string::npos ? "" : line.substr(colon + 1) + "\n";
    const bool all = who == "all";
    const bool number = !who.empty() && who.find_first_not_of("0123456789") == std::string::npos && who.size() < 6;
    const std::size_t n = number ? std::stoul(who) : 0;
    if (!all && (!number || n >= children.size())) {
      std::printf("p2plab cluster: type N: COMMAND (N = 0..%zu) or all: COMMAND\n", children.size() - 1);
      std::fflush(stdout);
      return;
    }
    for (std::size_t i = 0; i < children.size(); ++i) {
      if ((all || i == n) && children[i].console >= 0) {
        if (::write(children[i].console, command.data(), command.size()) < 0) {
          ::close(children[i].console);
          children[i].console = -1;
        }
      }
    }
  };
  while (running > 0) {
    int status = 0;
    const pid_t done = ::waitpid(-1, &status, WNOHANG);
    if (done > 0) {
      for (ClusterChild& c : children) {
        if (c.pid != done) continue;
        c.pid = -1;
        --running;
        if (!stopping) {
          failed_early = true;
          std::fprintf(stderr, "p2plab cluster: peer pid %d ended on its own (%s %d)\n", static_cast<int>(done),
                       WIFEXITED(status) ? "exit code" : "signal",
                       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        }
      }
      continue;
    }
    // The cluster's console and the peers' output, for at most 50 ms.
    std::vector<pollfd> fds;
    std::vector<std::size_t> which;
    if (console_open) {
      fds.push_back({0, POLLIN, 0});
      which.push_back(children.size());
    }
    for (std::size_t i = 0; i < children.size(); ++i) {
      if (children[i].output >= 0) {
        fds.push_back({children[i].output, POLLIN, 0});
        which.push_back(i);
      }
    }
    if (fds.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } else if (::poll(fds.data(), fds.size(), 50) > 0) {
      for (std::size_t k = 0; k < fds.size(); ++k) {
        if (fds[k].revents == 0) continue;
        if (which[k] < children.size()) {
          relay_output(children[which[k]], which[k]);
          continue;
        }
        char buffer[4096];
        const ssize_t got = ::read(0, buffer, sizeof buffer);
        if (got <= 0) {
          console_open = false;  // no console (or it closed): the peers keep running
          continue;
        }
        typed.append(buffer, static_cast<std::size_t>(got));
        if (typed.size() > 65536) typed.clear();  // a line that never ends: dropped
        for (std::size_t nl; (nl = typed.find('\n')) != std::string::npos;) {
          const std::string line = typed.substr(0, nl);
          typed.erase(0, nl + 1);
          if (line.find_first_not_of(" \t\r") != std::string::npos) to_peer(line);
        }
      }
    }
    const auto now = std::chrono::steady_clock::now();
    const bool timed_out = o.duration > 0 && now - start >= std::chrono::duration<double>(o.duration);
    if (!stopping && (g_cluster_signal != 0 || timed_out)) {
      stopping = true;
      std::printf("p2plab cluster: stopping %zu peers\n", running);
      std::fflush(stdout);
      stop_all(SIGTERM);
      stop_deadline = now + std::chrono::seconds(3);
    }
    if (stopping && now > stop_deadline) {
      stop_all(SIGKILL);  // a peer that did not stop in time
      stop_deadline = std::chrono::steady_clock::time_point::max();
    }
  }
  for (ClusterChild& c : children) {
    if (c.console >= 0) ::close(c.console);
    if (c.output >= 0) ::close(c.output);
  }
  std::printf("p2plab cluster: all peers stopped\n");
  return failed_early ? 1 : 0;
}

}  // namespace
}  // namespace p2plab::cli
