// Graded tests of exercise flooding: the functions of protocols/flooding/logic.hpp on their own.
#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "flooding/logic.hpp"
#include "grading.hpp"

using namespace p2plab;
using namespace p2plab::flooding;

namespace {
std::string header_text(const std::optional<QueryHeader>& h) {
  if (!h) return "not forwarded (std::nullopt)";
  return "forwarded with TTL " + std::to_string(h->ttl) + ", hops " + std::to_string(h->hops);
}
}  // namespace

GRADED_TEST("flooding", 3, "TTL: a QUERY is forwarded with TTL - 1 and hops + 1 until the TTL runs out") {
  for (int ttl = 0; ttl <= 255; ++ttl) {
    for (const int hops : {0, 1, 2, 5, 100, 254}) {
      const QueryHeader received{static_cast<std::uint8_t>(ttl), static_cast<std::uint8_t>(hops)};
      const std::optional<QueryHeader> got = logic::forward(received);
      std::optional<QueryHeader> expected;
      if (ttl > 1) expected = QueryHeader{static_cast<std::uint8_t>(ttl - 1), static_cast<std::uint8_t>(hops + 1)};
      const std::string what = "a QUERY received with TTL " + std::to_string(ttl) + ", hops " + std::to_string(hops);
      if (expected) {
        REQUIRE_MESSAGE(got == expected,
                        what << " must be " << header_text(expected) << ", your code: " << header_text(got));
      } else {
        REQUIRE_MESSAGE(!got.has_value(),
                        what << " must not be forwarded (the TTL has run out), your code " << header_text(got));
      }
    }
  }
}

GRADED_TEST("flooding", 3, "GUID cache: the first copy of a QUERY is processed and every later copy dropped") {
  GuidCache cache;
  CHECK_MESSAGE(cache.first_time(7),
                "a new GUID cache has seen nothing: the first QUERY with GUID 7 must be processed "
                "(first_time(7) = true), your code said false");
  CHECK_MESSAGE(!cache.first_time(7),
                "GUID 7 came a second time: that copy is a duplicate and must be dropped "
                "(first_time(7) = false), your code said true");
  CHECK_MESSAGE(cache.first_time(3),
                "GUID 3 is new (only 7 was seen): first_time(3) must be true, your code said false");
  CHECK_MESSAGE(!cache.first_time(7), "GUID 7 again, after 3: still a duplicate, your code said first_time(7) = true");
  CHECK_MESSAGE(cache.first_time(0), "GUID 0 is a GUID like any other: the first time it must be processed");
  CHECK_MESSAGE(!cache.first_time(0), "GUID 0 a second time: a duplicate, your code processed it again");
  // Many GUIDs in random order, each offered three times.
  std::mt19937 rng(42);
  std::vector<Guid> guids;
  for (Guid g = 100; g < 5100; ++g) guids.push_back(g * 7919u % 1000003u);
  std::vector<Guid> offers;
  for (int round = 0; round < 3; ++round) offers.insert(offers.end(), guids.begin(), guids.end());
  std::shuffle(offers.begin(), offers.end(), rng);
  std::vector<int> seen_count(1000003, 0);
  for (Guid g : offers) {
    const bool expected = seen_count[g]++ == 0;
    REQUIRE_MESSAGE(
        cache.first_time(g) == expected,
        "GUID " << g << " offered for the " << seen_count[g] << ". time (after 5000 other GUIDs were mixed in): "
                << std::string(expected ? "the first copy must be processed" : "a later copy must be dropped"));
  }
}

GRADED_TEST("flooding", 3, "reverse path: a QUERYHIT goes back to the neighbour its QUERY came from") {
  RouteTable routes;
  CHECK_MESSAGE(logic::reverse_path_next(routes, 7) == kNoPeer,
                "a peer that never saw QUERY 7 has no way back for its QUERYHIT: expected kNoPeer (drop it)");
  logic::remember_route(routes, 7, 12);
  logic::remember_route(routes, 9, 4);
  logic::remember_route(routes, 11, 30);  // the peer's own query: it stored itself (30)
  PeerIndex got = logic::reverse_path_next(routes, 7);
  CHECK_MESSAGE(got == 12, "QUERY 7 came from neighbour 12: its QUERYHIT must go back to 12, your code chose " << got);
  got = logic::reverse_path_next(routes, 9);
  CHECK_MESSAGE(got == 4, "QUERY 9 came from neighbour 4: its QUERYHIT must go back to 4, your code chose " << got);
  got = logic::reverse_path_next(routes, 11);
  CHECK_MESSAGE(
      got == 30,
      "peer 30 started QUERY 11 (remember_route(11, 30)): the hit has arrived, expected 30, your code " << got);
  got = logic::reverse_path_next(routes, 8);
  CHECK_MESSAGE(got == kNoPeer, "no QUERY 8 was seen: expected kNoPeer, your code chose " << got);
  logic::remember_route(routes, 7, 25);  // a later copy over another path
  got = logic::reverse_path_next(routes, 7);
  CHECK_MESSAGE(got == 12,
                "QUERY 7 first came from 12 (a copy from 25 came later): the reverse path is the first one, "
                "expected 12, your code chose "
                    << got);
  for (Guid g = 1000; g < 3000; ++g) logic::remember_route(routes, g, static_cast<PeerIndex>(g % 97));
  for (Guid g = 1000; g < 3000; ++g) {
    REQUIRE_MESSAGE(logic::reverse_path_next(routes, g) == static_cast<PeerIndex>(g % 97),
                    "after 2000 QUERYs, the hit for GUID " << g << " must go back to " << g % 97);
  }
}

GRADED_TEST("flooding", 2, "forward targets: every neighbour except the one the QUERY came from") {
  // "[4, 9, 30]": the targets in the order the code wrote them.
  auto text = [](const std::vector<PeerIndex>& peers) {
    std::string out;
    for (PeerIndex p : peers) out += (out.empty() ? "" : ", ") + std::to_string(p);
    return "[" + out + "]";
  };
  auto targets = [](const std::vector<PeerIndex>& neighbours, PeerIndex from) {
    std::vector<PeerIndex> out(neighbours.size(), kNoPeer);
    const std::size_t count = logic::forward_targets(neighbours, from, out);
    REQUIRE_MESSAGE(count <= out.size(),
                    "forward_targets returned " << count << " for " << neighbours.size() << " neighbours");
    out.resize(count);
    return out;
  };
  const std::vector<PeerIndex> all_but_12 = {4, 9, 30}, all = {4, 9, 12, 30}, eight_six = {8, 6};
  std::vector<PeerIndex> got = targets({4, 9, 12, 30}, 12);
  CHECK_MESSAGE(got == all_but_12,
                "neighbours 4, 9, 12, 30, the QUERY came from 12: copies go to [4, 9, 30]; your code: " << text(got));
  got = targets({4, 9, 12, 30}, kNoPeer);
  CHECK_MESSAGE(got == all,
                "the requester floods its own QUERY to all its neighbours [4, 9, 12, 30]; your code: " << text(got));
  got = targets({5}, 5);
  CHECK_MESSAGE(got.empty(),
                "a peer whose only neighbour sent the QUERY has nobody to forward it to; your code: " << text(got));
  got = targets({}, 3);
  CHECK_MESSAGE(got.empty(), "no neighbours: no copies; your code: " << text(got));
  got = targets({8, 2, 6}, 2);
  CHECK_MESSAGE(got == eight_six,
                "neighbours 8, 2, 6 (in this order), from 2: copies go to [8, 6] in this order; "
                "your code: "
                    << text(got));
}
