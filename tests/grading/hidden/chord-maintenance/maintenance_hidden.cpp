// Hidden graded tests of exercise chord-maintenance (grading time only).
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "grading.hpp"
#include "grading_util.hpp"

using namespace p2plab;
using namespace p2plab::grading;
namespace logic = p2plab::chord::logic;

GRADED_TEST("chord-maintenance", 1, "hidden: stabilize and notify on random 160-bit ids near the wrap-around") {
  std::mt19937_64 rng(99);
  Mistakes mistakes;
  for (int t = 0; t < 3000; ++t) {
    std::vector<Id> ids;
    for (int k = 0; k < 3; ++k) ids.push_back(t % 3 == 0 ? edge_ids(160)[rng() % 6] : random_id(rng, 160));
    const Contact a{ids[0], 1}, b{ids[1], ids[1] == ids[0] ? PeerIndex{1} : PeerIndex{2}};
    const Contact c{ids[2], ids[2] == ids[0] ? PeerIndex{1} : ids[2] == ids[1] ? b.peer : PeerIndex{3}};
    // stabilize(self a, successor b, x c)
    const bool x_better = c.peer != a.peer && oracle_in_open(c.id, a.id, b.id, 160);
    const Contact s = logic::stabilize(a, b, c);
    if (!same(s, x_better ? c : b)) {
      mistakes.add("stabilize at " + describe(a) + " with successor " + describe(b) + " and x = " + describe(c) +
                   ": expected " + describe(x_better ? c : b) + ", your code returned " + describe(s));
    }
    // notify(self a, predecessor b, candidate c)
    if (c.peer == a.peer) continue;
    const bool accept = oracle_in_open(c.id, b.id, a.id, 160);
    const Contact p = logic::notify(a, b, c);
    if (!same(p, accept ? c : b)) {
      mistakes.add("notify at " + describe(a) + " with predecessor " + describe(b) + " from " + describe(c) +
                   ": expected " + describe(accept ? c : b) + ", your code returned " + describe(p));
    }
  }
  mistakes.summary("answers");
}

GRADED_TEST("chord-maintenance", 1, "hidden: a ring of one takes its first partner and a third peer joins through the second") {
  // Peer 10 creates the ring, 40 joins through it; at 2 s peer 25 joins through 40 (m = 6).
  auto run = run_scenario(chord_scenario(6, 2, {10, 40}, "join",
                                         {{{"at_ms", 2000}, {"op", "join"}, {"id", 25}, {"via", 40}},
                                          {{"at_ms", 7000}, {"op", "lookups"}, {"count", 40}, {"spread_ms", 500}}},
                                         8000, 3));
  const std::vector<std::string> errors = test::routing_state_errors(*run);
  CHECK_MESSAGE(errors.empty(), "the ring 10, 25, 40 did not converge:" << test::first_errors(errors));
  const LookupCheck c = check_user_lookups(*run);
  CHECK_MESSAGE((c.total == 40 && c.right == 40),
                c.right << " of " << c.total << " lookups right (40 expected):" << lines(c.wrong));
}
