// `p2plab node`: one real peer. `p2plab cluster`: N real peers as child processes on loopback.
#include "real_network.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "central_index/central_index_node.hpp"
#include "chord/chord_node.hpp"
#include "flooding/flooding_node.hpp"
#include "p2plab/id.hpp"
#include "superpeer/superpeer_node.hpp"

namespace p2plab::cli {

namespace {
constexpr int kBadInput = 2;
volatile sig_atomic_t g_cluster_signal = 0;
extern "C" void on_cluster_signal(int sig) { g_cluster_signal = sig; }
}  // namespace

struct RealNetworkCommands::Options {
  std::string protocol, listen = "0.0.0.0:4000", join, id, monitor, lookup = "iterative";
  int bits = 32, successors = 3;
  int ttl = 0, degree = 4;  // ttl 0: the protocol's default (flooding 7, superpeer 4)
  double collect_ms = 3000;
  std::vector<std::string> share;
  double superpeer_ratio = 0.1;
  double stabilize_ms = 500, fix_fingers_ms = 500, check_predecessor_ms = 1000, rpc_timeout_ms = 1000;
  double join_timeout = 10, duration = 0;
  bool json = false, quiet = false;
  std::uint64_t seed = 1;
  // cluster
  int peers = 8, base_port = 4000;
};

namespace {

void add_protocol_options(CLI::App* c, RealNetworkCommands* /*unused*/, auto& o) {
  c->add_option("--protocol", o.protocol, "Protocol module: chord, flooding, superpeer or central_index")->required();
  c->add_option("--bits,-m", o.bits, "chord: identifier bits m (every peer of one ring must agree)")
      ->check(CLI::Range(4, 160))
      ->capture_default_str();
  c->add_option("--successors,-r", o.successors, "chord: successor list length r (replicas per key)")
      ->check(CLI::Range(1, 32))
      ->capture_default_str();
  c->add_option("--lookup", o.lookup, "chord: lookups iterative or recursive")
      ->check(CLI::IsMember({"iterative", "recursive"}))
      ->capture_default_str();
  c->add_option("--stabilize-ms", o.stabilize_ms, "chord: period of stabilize")
      ->check(CLI::Range(10.0, 600000.0))
      ->capture_default_str();
  c->add_option("--fix-fingers-ms", o.fix_fingers_ms, "chord: period of fix_fingers")
      ->check(CLI::Range(10.0, 600000.0))
      ->capture_default_str();
  c->add_option("--check-predecessor-ms", o.check_predecessor_ms, "chord: period of check_predecessor")
      ->check(CLI::Range(10.0, 600000.0))
      ->capture_default_str();
  c->add_option("--rpc-timeout-ms", o.rpc_timeout_ms,
                "An RPC unanswered this long means the peer failed (flooding: PONG, CONNECT, DOWNLOAD)")
      ->check(CLI::Range(10.0, 600000.0))
      ->capture_default_str();
  c->add_option("--ttl", o.ttl, "flooding, superpeer: TTL of a query (default 7 and 4)")
      ->check(CLI::Range(1, 255))
      ->capture_default_str();
  c->add_option("--degree", o.degree,
                "flooding: neighbours a peer keeps (it accepts twice as many); superpeer: overlay degree")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  c->add_option("--collect-ms", o.collect_ms, "flooding, superpeer: how long a search waits for hits")
      ->check(CLI::Range(10.0, 600000.0))
      ->capture_default_str();
  c->add_option("--monitor", o.monitor,
                "Report state and messages to a monitor (p2plab-viz --attach PORT) at HOST:PORT");
}

int bad(const std::string& command, const std::string& text) {
  std::fprintf(stderr, "p2plab %s: %s\n", command.c_str(), text.c_str());
  return kBadInput;
}

bool check_protocol(const std::string& command, const std::string& protocol, int& code) {
  if (protocol == "chord" || protocol == "flooding" || protocol == "superpeer" || protocol == "central_index") return true;
  code = bad(command, "--protocol: unknown protocol '" + protocol +
                          "' (real network mode: chord, flooding, superpeer, central_index)");
  return false;
}

}  // namespace

RealNetworkCommands::RealNetworkCommands(CLI::App& app) : o_(std::make_shared<Options>()) {
  Options& o = *o_;
  node_ = app.add_subcommand(
      "node", "Run one real peer on a UDP socket (real network mode); console: state, put, get, lookup, leave");
  add_protocol_options(node_, this, o);
  node_->add_option("--listen", o.listen, "UDP address to listen on, HOST:PORT (port 0: any free port)")
      ->capture_default_str();
  node_->add_option("--join", o.join, "Join through the peer at HOST:PORT (default: start a new ring or overlay; central_index: be the index server)");
  node_->add_option("--id", o.id,
                    "This peer's id: chord a number below 2^m, flooding below 2^64 (default: SHA-1 of IP:PORT)");
  node_->add_option("--join-timeout", o.join_timeout, "Seconds to wait for the --join peer to answer")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  node_->add_option("--duration", o.duration, "Leave and exit after this many seconds (0: run until leave or Ctrl-C)")
      ->check(CLI::Range(0.0, 1e7));
  node_
      ->add_option("--superpeer-ratio", o.superpeer_ratio,
                   "superpeer: target share of superpeers (a superpeer refuses capable leaves beyond it)")
      ->check(CLI::Range(0.01, 1.0))
      ->capture_default_str();
  node_->add_option("--share", o.share, "flooding, superpeer, central_index: a name this peer shares from the start (repeatable)");
  node_->add_flag("--json", o.json, "Console answers as one JSON object per line (for scripts and tests)");
  node_->add_flag("--quiet,-q", o.quiet, "Print answers only, no event lines");
  node_->add_option("--seed", o.seed, "Seed of the peer's random stream (timer phases)");

  cluster_ =
      app.add_subcommand("cluster", "Start N real peers as processes on 127.0.0.1 (a quick demo); Ctrl-C stops them");
  add_protocol_options(cluster_, this, o);
  cluster_->add_option("--peers,-n", o.peers, "Number of peers")->check(CLI::Range(1, 256))->capture_default_str();
  cluster_->add_option("--base-port", o.base_port, "UDP port of the first peer; the others use the next ports")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  cluster_->add_option("--duration", o.duration, "Stop after this many seconds (0: until Ctrl-C)")
      ->check(CLI::Range(0.0, 1e7));
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

int command_node(const RealNetworkCommands::Options& o) {
  int code = 0;
  if (!check_protocol("node", o.protocol, code)) return code;
  chord::NodeOptions n;
  std::string error;
  const auto listen = net::parse_endpoint(o.listen, error);
  if (!listen) return bad("node", "--listen: " + error);
  n.listen = *listen;
  if (!o.join.empty()) {
    n.join = net::parse_endpoint(o.join, error);
    if (!n.join) return bad("node", "--join: " + error);
    if (n.join->ip == 0 || n.join->port == 0)
      return bad("node", "--join: needs a concrete address and port, e.g. 192.168.1.20:4000");
  }
  if (!o.monitor.empty()) {
    n.monitor = net::parse_endpoint(o.monitor, error);
    if (!n.monitor) return bad("node", "--monitor: " + error);
    if (n.monitor->ip == 0 || n.monitor->port == 0) return bad("node", "--monitor: needs a concrete address and port");
  }
  if (o.protocol == "superpeer") {
    superpeer::NodeOptions sp;
    sp.listen = n.listen;
    sp.join = n.join;
    if (!o.id.empty()) {
      const auto id = Id::from_decimal(o.id);
      if (!id || !id->fits_u64()) return bad("node", "--id: '" + o.id + "' is not a number below 2^64");
      sp.id = id->low64();
    }
    if (o.ttl > 0) sp.params.ttl = o.ttl;
    sp.params.degree = o.degree;
    sp.params.collect = from_ms(o.collect_ms);
    sp.params.timeout = from_ms(o.rpc_timeout_ms);
    sp.json = o.json;
    sp.quiet = o.quiet;
    sp.join_timeout_s = o.join_timeout;
    sp.duration_s = o.duration;
    sp.seed = o.seed;
    sp.shared = o.share;
    sp.monitor = n.monitor;
    sp.params.superpeer_ratio = o.superpeer_ratio;
    return superpeer::run_node(sp);
  }
  if (o.protocol == "central_index") {
    if (n.monitor) return bad("node", "--monitor: central-index peers do not report to a monitor yet");
    central_index::NodeOptions ci;
    ci.listen = n.listen;
    ci.join = n.join;
    if (!o.id.empty()) {
      const auto id = Id::from_decimal(o.id);
      if (!id || !id->fits_u64()) return bad("node", "--id: '" + o.id + "' is not a number below 2^64");
      ci.id = id->low64();
    }
    ci.params.timeout = from_ms(o.rpc_timeout_ms);
    ci.json = o.json;
    ci.quiet = o.quiet;
    ci.join_timeout_s = o.join_timeout;
    ci.duration_s = o.duration;
    ci.seed = o.seed;
    ci.shared = o.share;
    return central_index::run_node(ci);
  }
  if (o.protocol == "flooding") {
    flooding::NodeOptions f;
    f.listen = n.listen;
    f.join = n.join;
    if (!o.id.empty()) {
      const auto id = Id::from_decimal(o.id);
      if (!id || !id->fits_u64()) return bad("node", "--id: '" + o.id + "' is not a number below 2^64");
      f.id = id->low64();
    }
    if (o.ttl > 0) f.params.ttl = o.ttl;
    f.params.degree = o.degree;
    f.params.max_degree = 2 * o.degree;
    f.params.collect = from_ms(o.collect_ms);
    f.params.timeout = from_ms(o.rpc_timeout_ms);
    f.json = o.json;
    f.quiet = o.quiet;
    f.join_timeout_s = o.join_timeout;
    f.duration_s = o.duration;
    f.seed = o.seed;
    f.shared = o.share;
    f.monitor = n.monitor;
    return flooding::run_node(f);
  }
  const IdSpace space(o.bits);
  if (!o.id.empty()) {
    n.id = Id::from_decimal(o.id);
    if (!n.id || !space.contains(*n.id)) {
      return bad("node", "--id: '" + o.id + "' is not a number below 2^" + std::to_string(o.bits));
    }
  }
  n.params.m = o.bits;
  n.params.successors = o.successors;
  n.params.recursive = o.lookup == "recursive";
  n.params.stabilize = from_ms(o.stabilize_ms);
  n.params.fix_fingers = from_ms(o.fix_fingers_ms);
  n.params.check_predecessor = from_ms(o.check_predecessor_ms);
  n.params.rpc_timeout = from_ms(o.rpc_timeout_ms);
  n.json = o.json;
  n.quiet = o.quiet;
  n.join_timeout_s = o.join_timeout;
  n.duration_s = o.duration;
  n.seed = o.seed;
  return chord::run_node(n);
}

int command_cluster(const RealNetworkCommands::Options& o) {
  int code = 0;
  if (!check_protocol("cluster", o.protocol, code)) return code;
  if (o.base_port + o.peers - 1 > 65535) return bad("cluster", "--base-port: the last peer's port would pass 65535");
  std::string error;
  if (!o.monitor.empty() && !net::parse_endpoint(o.monitor, error)) return bad("cluster", "--monitor: " + error);
  if (!o.monitor.empty() && o.protocol == "central_index")
    return bad("cluster", "--monitor: central-index peers do not report to a monitor yet");
  char self_path[4096];
  const ssize_t len = ::readlink("/proc/self/exe", self_path, sizeof self_path - 1);
  if (len <= 0) return bad("cluster", "cannot find the p2plab program itself (/proc/self/exe)");
  self_path[len] = '\0';

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
                                     "--bits",
                                     std::to_string(o.bits),
                                     "--successors",
                                     std::to_string(o.successors),
                                     "--lookup",
                                     o.lookup,
                                     "--stabilize-ms",
                                     std::to_string(o.stabilize_ms),
                                     "--fix-fingers-ms",
                                     std::to_string(o.fix_fingers_ms),
                                     "--check-predecessor-ms",
                                     std::to_string(o.check_predecessor_ms),
                                     "--rpc-timeout-ms",
                                     std::to_string(o.rpc_timeout_ms),
                                     "--degree",
                                     std::to_string(o.degree),
                                     "--collect-ms",
                                     std::to_string(o.collect_ms),
                                     "--seed",
                                     std::to_string(i + 1)};
    if (o.ttl > 0) {
      args.push_back("--ttl");
      args.push_back(std::to_string(o.ttl));
    }
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
  std::printf("  talk to one: p2plab node --protocol %s%s --listen 127.0.0.1:0 --join 127.0.0.1:%d\n",
              o.protocol.c_str(), o.protocol == "chord" ? (" --bits " + std::to_string(o.bits)).c_str() : "",
              o.base_port);
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
