// `p2plab-viz --attach`: the live run fed by real `p2plab node --monitor` processes on
// 127.0.0.1 shows every peer and the successor links Chord converges to; malformed reports are
// dropped and counted. No display needed.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "live.hpp"
#include "p2plab/rng.hpp"

using namespace p2plab;
using namespace std::chrono_literals;

namespace {

struct Child {
  pid_t pid = -1;
  explicit Child(std::vector<std::string> args) {
    const pid_t parent = ::getpid();
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      args.insert(args.begin(), P2PLAB_BINARY);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(P2PLAB_BINARY, argv.data());
      ::_exit(127);
    }
  }
  ~Child() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

}  // namespace

TEST_CASE("live view: three real peers appear with the successor links Chord converges to" *
          doctest::test_suite("net")) {
  // A port for the monitor: try a few derived from the pid until one binds.
  std::unique_ptr<viz::LiveRun> live;
  int port = 0;
  for (int attempt = 0; attempt < 20 && !live; ++attempt) {
    port = 20000 + static_cast<int>((::getpid() * 7 + attempt * 101) % 40000);
    try {
      live = std::make_unique<viz::LiveRun>(port);
    } catch (const std::exception&) {
    }
  }
  REQUIRE(live != nullptr);
  const std::string monitor = "127.0.0.1:" + std::to_string(port);
  const std::vector<std::string> common = {"node",      "--protocol",     "chord", "--quiet",          "--bits",
                                           "16",        "--stabilize-ms", "100",   "--fix-fingers-ms", "100",
                                           "--monitor", monitor};
  auto args = [&](const std::string& id, const std::string& listen, const std::string& join) {
    std::vector<std::string> a = common;
    a.insert(a.end(), {"--id", id, "--listen", listen});
    if (!join.empty()) a.insert(a.end(), {"--join", join});
    return a;
  };
  const int base = 20000 + static_cast<int>((::getpid() * 13) % 40000);
  Child a(args("100", "127.0.0.1:" + std::to_string(base), ""));
  std::this_thread::sleep_for(200ms);
  Child b(args("30000", "127.0.0.1:" + std::to_string(base + 1), "127.0.0.1:" + std::to_string(base)));
  Child c(args("60000", "127.0.0.1:" + std::to_string(base + 2), "127.0.0.1:" + std::to_string(base)));

  // Expected: successors 100 -> 30000 -> 60000 -> 100.
  const std::vector<std::pair<std::uint64_t, std::uint64_t>> ring = {{100, 30000}, {30000, 60000}, {60000, 100}};
  bool converged = false;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (!converged && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    live->poll();
    const SimulatorCore& sim = live->simulator();
    if (sim.live_count() != 3) continue;
    converged = true;
    for (const auto& [from, to] : ring) {
      const PeerIndex p = sim.find_live(Id(from));
      bool linked = false;
      if (p != kNoPeer) {
        for (const Link& l : live->inspect(p).links) {
          if (l.kind == LinkKind::Successor && l.index == 0) linked = sim.peer_id(l.target) == Id(to);
        }
      }
      converged = converged && linked;
    }
  }
  CHECK(converged);
  CHECK(live->id_bits() == 16);
  CHECK(live->reports() > 0);
  // Every finger 0..15 of peer 100 is drawn (reported at change points, filled in between).
  const PeerView v = live->inspect(live->simulator().find_live(Id(100)));
  CHECK(std::count_if(v.links.begin(), v.links.end(), [](const Link& l) { return l.kind == LinkKind::Finger; }) == 16);

  // Garbage and reports of another ring are dropped and counted, never shown.
  const std::uint64_t dropped = live->dropped();
  const std::size_t peers = live->simulator().peer_count();
  Rng rng(5);
  for (int i = 0; i < 1000; ++i) {
    std::vector<std::uint8_t> junk(rng.below(300));
    for (auto& byte : junk) byte = static_cast<std::uint8_t>(rng.next_u64());
    CHECK_FALSE(live->handle(junk.data(), junk.size()));
  }
  const auto other = nlohmann::json::to_cbor(nlohmann::json{{"v", 1},
                                                            {"proto", "chord"},
                                                            {"m", 32},
                                                            {"id", nlohmann::json::binary({1, 2, 3, 4})},
                                                            {"k", "state"},
                                                            {"succ", nlohmann::json::array()},
                                                            {"fingers", nlohmann::json::array()}});
  CHECK_FALSE(live->handle(other.data(), other.size()));
  const auto too_big = nlohmann::json::to_cbor(nlohmann::json{{"v", 1},
                                                              {"proto", "chord"},
                                                              {"m", 16},
                                                              {"id", nlohmann::json::binary({1, 2, 3})},
                                                              {"k", "state"},
                                                              {"succ", nlohmann::json::array()},
                                                              {"fingers", nlohmann::json::array()}});
  CHECK_FALSE(live->handle(too_big.data(), too_big.size()));  // id 66051 >= 2^16
  CHECK(live->dropped() == dropped + 1002);
  CHECK(live->simulator().peer_count() == peers);
}
