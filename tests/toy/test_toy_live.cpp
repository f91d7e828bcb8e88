// The toy protocol (toy_protocol.cpp) as three real peers on 127.0.0.1: `p2plab-toy node --protocol
// toy_ring` runs the node the toy registers in its own file (on the node shell of net/), and their
// monitor reports reach a live run that knows the toy only from the registry: the peers appear,
// with their successor links (the kind named as the toy's model names it) forming the ring, and
// the messages they send.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "live.hpp"
#include "node_harness.hpp"

using namespace p2plab;
using namespace std::chrono_literals;

TEST_CASE("three real toy peers report to a live run: peers and successor links appear" * doctest::test_suite("net")) {
  // The monitor's port: a free one the system picks, read back (no guessing, no clash).
  auto live = std::make_unique<viz::LiveRun>(0);
  const int port = live->port();
  REQUIRE(port > 0);
  const std::string monitor = "127.0.0.1:" + std::to_string(port);
  // Ids 100, 30000, 60000 of m = 16; the first one is the bootstrap of the other two.
  std::vector<test::Started> peers;
  for (const char* id : {"100", "30000", "60000"}) {
    peers.push_back(test::start_node({"--protocol", "toy_ring", "--bits", "16", "--id", id, "--monitor", monitor},
                                     peers.empty() ? "" : std::to_string(peers.front().port)));
    REQUIRE_MESSAGE(peers.back().peer, "a toy peer did not start");
    std::this_thread::sleep_for(500ms);  // its join (a lookup of its own id) is done before the next
  }
  // Each newcomer's lookup of its own id walks the circle to its successor, so that every peer
  // meets its neighbours: the successors are those of the ring, the next id clockwise.
  const std::map<std::uint64_t, std::uint64_t> successor = {{100, 30000}, {30000, 60000}, {60000, 100}};
  bool shown = false;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (!shown && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
    live->poll();
    const SimulatorCore& sim = live->simulator();
    if (live->model() == nullptr || sim.live_count() != 3) continue;
    const int kind = live->model()->link_kind("successor");
    shown = kind >= 0;
    for (const auto& [from, to] : successor) {
      const PeerIndex p = sim.find_live(Id(from));
      bool linked = false;
      if (p != kNoPeer) {
        for (const Link& l : live->inspect(p).links)
          linked = linked || (l.kind == kind && sim.peer_id(l.target) == Id(to));
      }
      shown = shown && linked;
    }
  }
  CHECK(shown);
  CHECK(live->protocol() == "toy_ring");
  CHECK(live->scenario().protocol == "toy_ring");
  CHECK(live->id_bits() == 16);
  // The newcomers' lookups of their own ids went through the bootstrap: FORWARD and FOUND.
  const auto& names = live->vocabulary().message_types;
  for (const char* type : {"FORWARD", "FOUND"}) {
    const auto it = std::find(names.begin(), names.end(), type);
    REQUIRE_MESSAGE(it != names.end(), type);
    bool seen = false;
    for (const TraceEvent& e : live->simulator().event_trace().events()) {
      seen = seen || (e.kind == TraceKind::Send && e.detail == it - names.begin());
    }
    CHECK_MESSAGE(seen, type);
  }
}
