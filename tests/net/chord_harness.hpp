#pragma once
// What the Chord process tests share: starting a real Chord peer (fast maintenance periods),
// the brute-force ring its state must converge to, and commands sent to many peers at once.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "node_harness.hpp"

namespace p2plab::test {

using nlohmann::json;
using namespace std::chrono_literals;

inline const std::vector<std::string> kFast = {
    "--json", "--bits",           "32", "--successors",           "5",   "--stabilize-ms",
    "100",    "--fix-fingers-ms", "50", "--check-predecessor-ms", "200", "--rpc-timeout-ms",
    "400"};

struct ChordPeer {
  std::unique_ptr<Peer> peer;
  std::uint64_t id = 0;
  int port = 0;
};

inline ChordPeer start_peer(const std::string& join_port = "", const std::vector<std::string>& extra = {},
                            const std::vector<std::string>& base = kFast) {
  std::vector<std::string> args = {"node", "--protocol", "chord", "--listen", "127.0.0.1:0"};
  args.insert(args.end(), base.begin(), base.end());
  args.insert(args.end(), extra.begin(), extra.end());
  if (!join_port.empty()) {
    args.push_back("--join");
    args.push_back("127.0.0.1:" + join_port);
  }
  ChordPeer s;
  s.peer = std::make_unique<Peer>(args);
  const auto hello = s.peer->wait_for([](const json& j) { return j.value("event", "") == "listening"; }, 5000ms);
  REQUIRE_MESSAGE(hello.has_value(), "a peer did not start");
  s.id = std::stoull((*hello)["id"].get<std::string>());
  s.port = (*hello)["port"].get<int>();
  return s;
}

/// Chord by brute force over the sorted ids (m = 32, plain 64-bit arithmetic).
struct Oracle {
  std::vector<std::uint64_t> ids;  // sorted
  std::uint64_t successor(std::uint64_t key) const {
    auto it = std::lower_bound(ids.begin(), ids.end(), key);
    return it == ids.end() ? ids.front() : *it;
  }
  /// Empty when `state` is what Chord converges to, else what differs first.
  std::string check(std::uint64_t id, const json& state, int r) const {
    const auto pos = static_cast<std::size_t>(std::lower_bound(ids.begin(), ids.end(), id) - ids.begin());
    const std::size_t n = ids.size();
    const std::string who = "peer " + std::to_string(id) + ": ";
    if (!state.value("in_ring", false)) return who + "not in the ring";
    const auto& pred = state["predecessor"];
    const std::uint64_t want_pred = ids[(pos + n - 1) % n];
    if (pred.is_null() || std::stoull(pred["id"].get<std::string>()) != want_pred) {
      return who + "predecessor " + pred.dump() + ", expected " + std::to_string(want_pred);
    }
    const std::size_t count = std::min<std::size_t>(static_cast<std::size_t>(r), n - 1);
    const auto& succ = state["successors"];
    if (succ.size() != count) return who + "successor list " + succ.dump() + " has the wrong length";
    for (std::size_t j = 0; j < count; ++j) {
      const std::uint64_t want = ids[(pos + 1 + j) % n];
      if (std::stoull(succ[j]["id"].get<std::string>()) != want) {
        return who + "successor " + std::to_string(j) + " is " + succ[j].dump() + ", expected " + std::to_string(want);
      }
    }
    const auto& fingers = state["fingers"];
    if (fingers.size() != 32) return who + "not 32 fingers";
    for (std::size_t i = 0; i < 32; ++i) {
      const std::uint64_t want = successor((id + (std::uint64_t{1} << i)) & 0xffffffffu);
      if (fingers[i].is_null() || std::stoull(fingers[i].get<std::string>()) != want) {
        return who + "finger " + std::to_string(i) + " is " + fingers[i].dump() + ", expected " + std::to_string(want);
      }
    }
    return "";
  }
};

/// Polls every peer's state until all match the oracle; the last difference on timeout.
inline std::string converge(std::vector<ChordPeer*>& peers, std::chrono::milliseconds timeout) {
  Oracle oracle;
  for (auto* p : peers) oracle.ids.push_back(p->id);
  std::sort(oracle.ids.begin(), oracle.ids.end());
  const auto deadline = Clock::now() + timeout;
  std::string diff = "never checked";
  while (Clock::now() < deadline) {
    diff.clear();
    for (auto* p : peers) {
      const auto state = p->peer->state();
      diff = state ? oracle.check(p->id, *state, 5) : "peer " + std::to_string(p->id) + " does not answer";
      if (!diff.empty()) break;
    }
    if (diff.empty()) return "";
    std::this_thread::sleep_for(250ms);
  }
  return diff;
}

/// Sends each command to its peer, then collects one answer per command (matched on "arg").
inline std::map<std::string, json> ask_all(const std::vector<std::pair<Peer*, std::string>>& commands,
                                           const std::string& op, std::chrono::milliseconds timeout) {
  std::map<Peer*, int> expected;
  for (const auto& [peer, command] : commands) {
    peer->send(command);
    ++expected[peer];
  }
  std::map<std::string, json> answers;
  const auto deadline = Clock::now() + timeout;
  for (auto& [peer, count] : expected) {
    for (int k = 0; k < count; ++k) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      const auto a = peer->wait_for([&](const json& j) { return j.value("op", "") == op; }, std::max(left, 1ms));
      if (!a) break;
      answers[(*a)["arg"].get<std::string>()] = *a;
    }
  }
  return answers;
}

/// A process's resident memory in KiB (VmRSS), or -1.
inline long rss_kib(pid_t pid) {
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
  if (f == nullptr) return -1;
  char line[256];
  long kib = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
  }
  std::fclose(f);
  return kib;
}

}  // namespace p2plab::test
