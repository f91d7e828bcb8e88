// `p2plab node`: one real peer. `p2plab cluster`: N real peers as child processes on loopback.
// The protocol named by --protocol runs the peer (ProtocolInfo::node, usually built on the node
// shell, net/node_shell.hpp); this file only parses its options and starts processes.
#include "real_network.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "p2plab/net/endpoint.hpp"
#include "p2plab/net/node_shell.hpp"
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

/// One option of the protocol's node command as the parser holds it.
struct ParsedOption {
  CommandOption option;
  std::vector<std::string> values;  // what was given (flags: empty)
  CLI::Option* cli = nullptr;
};

struct RealNetworkCommands::Options {
  std::string protocol;
  const ProtocolInfo* info = nullptr;
  std::vector<ParsedOption> node, cluster;  // the protocol's options on each subcommand
  // cluster
  int peers = 8, base_port = 4000;
  double duration = 0;
  std::string monitor;
};

namespace {

/// Adds the protocol's node options to a subcommand (all of them, or all but the shell's).
void add_options(CLI::App* command, const ProtocolCommand& node, const std::set<std::string>& skip,
                 std::vector<ParsedOption>& out) {
  out.reserve(node.options.size());
  for (const CommandOption& o : node.options) {
    if (skip.count(o.name) != 0) continue;
    out.push_back({o, {}, nullptr});
    ParsedOption& p = out.back();
    std::string names = "--" + o.name;
    if (!o.short_name.empty()) names += ",-" + o.short_name;
    if (o.flag) {
      p.cli = command->add_flag(names, o.help);
      continue;
    }
    p.cli = command->add_option(names, p.values, o.help);
    if (!o.repeatable) p.cli->expected(1);
    if (!o.default_value.empty()) p.cli->default_str(o.default_value);
  }
}

/// The parsed values by name: given, or the default; repeatable ones one per line.
CommandArgs args_of(const std::vector<ParsedOption>& options) {
  CommandArgs args;
  for (const ParsedOption& p : options) {
    if (p.option.flag) {
      if (p.cli->count() > 0) args[p.option.name] = "true";
      continue;
    }
    if (p.cli->count() == 0) {
      if (!p.option.default_value.empty()) args[p.option.name] = p.option.default_value;
      continue;
    }
    std::string joined;
    for (const std::string& v : p.values) joined += (joined.empty() ? "" : "\n") + v;
    args[p.option.name] = joined;
  }
  return args;
}

}  // namespace

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
  cluster_->add_option("--base-port", o.base_port, "UDP port of the first peer; the others use the next ports")
      ->check(CLI::Range(1, 65535))
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

  const pid_t parent = ::getpid();
  std::vector<pid_t> children;
  auto stop_all = [&](int sig) {
    for (pid_t c : children) {
      if (c > 0) ::kill(c, sig);
    }
  };
  for (int i = 0; i < o.peers; ++i) {
    std::vector<std::string> args = {self_path,
                                     "node",
                                     "--protocol",
                                     o.protocol,
                                     "--quiet",
                                     "--listen",
                                     "127.0.0.1:" + std::to_string(o.base_port + i),
                                     "--seed",
                                     std::to_string(i + 1)};
    args.insert(args.end(), forwarded.begin(), forwarded.end());
    if (i > 0) {
      args.push_back("--join");
      args.push_back("127.0.0.1:" + std::to_string(o.base_port));
    }
    if (!o.monitor.empty()) {
      args.push_back("--monitor");
      args.push_back(o.monitor);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
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
      ::execv(self_path, argv.data());
      ::_exit(127);
    }
    children.push_back(pid);
    std::this_thread::sleep_for(std::chrono::milliseconds(i == 0 ? 200 : 20));  // the first one is up before the joins
  }
  std::printf("p2plab cluster: %zu %s peers on 127.0.0.1:%d..%d (pids", children.size(), o.protocol.c_str(),
              o.base_port, o.base_port + o.peers - 1);
  for (pid_t c : children) std::printf(" %d", static_cast<int>(c));
  std::printf("); Ctrl-C stops them\n");
  std::string talk = "p2plab node --protocol " + o.protocol;
  for (const std::string& f : forwarded) talk += " " + f;
  std::printf("  talk to one: %s --listen 127.0.0.1:0 --join 127.0.0.1:%d\n", talk.c_str(), o.base_port);
  std::fflush(stdout);

  const auto start = std::chrono::steady_clock::now();
  std::size_t running = children.size();
  bool failed_early = false, stopping = false;
  auto stop_deadline = std::chrono::steady_clock::time_point::max();
  while (running > 0) {
    int status = 0;
    const pid_t done = ::waitpid(-1, &status, WNOHANG);
    if (done > 0) {
      for (pid_t& c : children) {
        if (c != done) continue;
        c = -1;
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
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::printf("p2plab cluster: all peers stopped\n");
  return failed_early ? 1 : 0;
}

}  // namespace
}  // namespace p2plab::cli
