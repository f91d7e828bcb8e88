// Graded tests of exercise chord-maintenance: join, stabilize, notify, fix_fingers (the paper's
// Figure 7). Expectations: the contract evaluated with the independent interval oracle, and rings
// built by the real protocol compared to the brute force (tests/test_util.hpp).
#include <cstdint>
#include <string>
#include <vector>

#include "grading.hpp"
#include "grading_util.hpp"

using namespace p2plab;
using namespace p2plab::grading;
namespace logic = p2plab::chord::logic;

namespace {

/// Every id 0 .. 2^m - 1 is a node (so any triple can be asked about).
TestRing full_ring(int m) {
  std::vector<Id> ids;
  for (std::uint64_t x = 0; x < (std::uint64_t{1} << m); ++x) ids.push_back(Id(x));
  return TestRing(ids, m);
}

Contact expected_stabilize(const Contact& self, const Contact& successor, const Contact& x, int m) {
  if (x.known() && x.peer != self.peer && oracle_in_open(x.id, self.id, successor.id, m)) return x;
  return successor;
}

Contact expected_notify(const Contact& self, const Contact& predecessor, const Contact& candidate, int m) {
  if (!predecessor.known() || oracle_in_open(candidate.id, predecessor.id, self.id, m)) return candidate;
  return predecessor;
}

void check_stabilize(Mistakes& mistakes, const Contact& self, const Contact& successor, const Contact& x, int m) {
  const Contact want = expected_stabilize(self, successor, x, m);
  const Contact got = logic::stabilize(self, successor, x);
  if (!same(got, want)) {
    std::string why;
    if (!x.known()) {
      why = "the successor has no predecessor (x = nil): keep the successor";
    } else if (self.peer == successor.peer) {
      why = x.peer == self.peer ? "a ring of one and x is n itself: keep the successor"
                                : "a ring of one (n is its own successor): any other x is a better successor";
    } else {
      why = describe(x) + (same(want, x) ? " lies in (" : " does not lie in (") + describe(self) + ", " +
            describe(successor) + ")";
    }
    mistakes.add("stabilize at " + describe(self) + " with successor " + describe(successor) +
                 " whose predecessor is x = " + describe(x) + ": " + why + ", so the successor should be " +
                 describe(want) + ", your code returned " + describe(got));
  }
}

void check_notify(Mistakes& mistakes, const Contact& self, const Contact& predecessor, const Contact& candidate,
                  int m) {
  const Contact want = expected_notify(self, predecessor, candidate, m);
  const Contact got = logic::notify(self, predecessor, candidate);
  if (!same(got, want)) {
    const std::string why = !predecessor.known()
                                ? "n has no predecessor: accept the candidate"
                                : describe(candidate) + (same(want, candidate) ? " lies in (" : " does not lie in (") +
                                      describe(predecessor) + ", " + describe(self) + ")";
    mistakes.add("notify at " + describe(self) + " with predecessor " + describe(predecessor) + " from candidate " +
                 describe(candidate) + ": " + why + ", so the predecessor should be " + describe(want) +
                 ", your code returned " + describe(got));
  }
}

/// Brute-force routing state and lookups of a finished run, in the student's terms.
void check_converged(const chord::ChordRun& run, std::size_t lookups) {
  const std::vector<std::string> errors = test::routing_state_errors(run);
  CHECK_MESSAGE(errors.empty(), "after the joins and stabilization, "
                                    << errors.size()
                                    << " pointers differ from the brute-force ring (successor(n), "
                                       "predecessor(n), successor(n + 2^i)):"
                                    << test::first_errors(errors));
  const LookupCheck c = check_user_lookups(run);
  CHECK_MESSAGE(c.total == lookups, "expected " << lookups << " finished lookups, there were " << c.total);
  CHECK_MESSAGE(c.right == c.total,
                (c.total - c.right) << " of " << c.total << " lookups did not find successor(key):" << lines(c.wrong));
}

}  // namespace

GRADED_TEST("chord-maintenance", 3, "join: the predecessor becomes nil and the successor list is just the node found") {
  const TestRing ring(std::vector<Id>{Id(4), Id(23), Id(39), Id(42), Id(45), Id(52)}, 6);
  struct Case {
    std::uint64_t self, predecessor;
    std::vector<std::uint64_t> successors;
    std::uint64_t found;
  };
  const Case cases[] = {{42, 39, {45, 52, 4}, 45}, {23, 4, {}, 39}, {52, 45, {4}, 4}, {39, 0, {42, 45}, 42}};
  for (const Case& c : cases) {
    logic::Neighbours n;
    n.self = ring.contact(Id(c.self));
    if (c.predecessor != 0) n.predecessor = ring.contact(Id(c.predecessor));
    for (std::uint64_t s : c.successors) n.successors.push_back(ring.contact(Id(s)));
    const Contact found = ring.contact(Id(c.found));
    const std::string before = "node " + describe(n.self) + " (predecessor " + describe(n.predecessor) +
                               ", successor list " + describe(n.successors) +
                               ") joins and the lookup of its id answered " + describe(found);
    logic::join(n, found);
    CHECK_MESSAGE(!n.predecessor.known(),
                  before << ": the predecessor must be nil afterwards, your code left " << describe(n.predecessor));
    CHECK_MESSAGE(same(n.successors, ContactList{found}), before << ": the successor list must be [" << describe(found)
                                                                 << "], your code made it " << describe(n.successors));
    CHECK_MESSAGE(same(n.self, ring.contact(Id(c.self))),
                  before << ": join must not change self, your code made it " << describe(n.self));
  }
}

GRADED_TEST("chord-maintenance", 5, "stabilize: every node and successor and x of the 3-bit and 6-bit rings and x nil and a ring of one") {
  for (const int m : {3, 6}) {
    Mistakes mistakes;
    const TestRing ring = full_ring(m);
    for (std::size_t a = 0; a < ring.size(); ++a) {
      for (std::size_t b = 0; b < ring.size(); ++b) {
        const Contact self = ring.contact_at(a), successor = ring.contact_at(b);
        check_stabilize(mistakes, self, successor, Contact{}, m);
        for (std::size_t x = 0; x < ring.size(); ++x) check_stabilize(mistakes, self, successor, ring.contact_at(x), m);
      }
    }
    mistakes.summary("answers of stabilize");
  }
}

GRADED_TEST("chord-maintenance", 5, "notify: every node and predecessor and candidate of the 3-bit and 6-bit rings and no predecessor") {
  for (const int m : {3, 6}) {
    Mistakes mistakes;
    const TestRing ring = full_ring(m);
    for (std::size_t a = 0; a < ring.size(); ++a) {
      for (std::size_t c = 0; c < ring.size(); ++c) {
        const Contact self = ring.contact_at(a), candidate = ring.contact_at(c);
        if (c == a) continue;  // a node is never notified by itself
        check_notify(mistakes, self, Contact{}, candidate, m);
        for (std::size_t p = 0; p < ring.size(); ++p) check_notify(mistakes, self, ring.contact_at(p), candidate, m);
      }
    }
    mistakes.summary("answers of notify");
  }
}

GRADED_TEST("chord-maintenance", 3, "fix_fingers: round robin over 0 .. m-1 for m = 1 and 3 and 6 and 160") {
  for (const int m : {1, 3, 6, 160}) {
    int next = 0;
    std::string seen;
    bool right = true;
    for (int call = 0; call < 3 * m + 2; ++call) {
      const int i = logic::fix_fingers(next, m);
      if (call < 12) seen += (call ? ", " : "") + std::to_string(i);
      right = right && i == call % m;
    }
    std::string want;
    for (int call = 0; call < std::min(12, 3 * m + 2); ++call) want += (call ? ", " : "") + std::to_string(call % m);
    CHECK_MESSAGE(right, "fix_fingers with m = " << m << " starting from next = 0 should refresh fingers " << want
                                                 << ", ... (round robin), your code chose " << seen
                                                 << std::string(3 * m + 2 > 12 ? ", ..." : ""));
  }
}

GRADED_TEST("chord-maintenance", 4, "end to end: the 12 peers of the join lab join one by one and converge to the brute-force ring") {
  // labs/chord-join-stabilize.json: ids 4, 52, 23, ... join through peer 4 (m = 6, r = 3).
  const std::vector<std::uint64_t> ids = {4, 52, 23, 39, 13, 45, 30, 60, 42, 16, 8, 33};
  auto run = run_scenario(chord_scenario(
      6, 3, ids, "join", {{{"at_ms", 9000}, {"op", "lookups"}, {"count", 100}, {"spread_ms", 500}}}, 10000, 7));
  CHECK(run->simulator().live_count() == ids.size());
  check_converged(*run, 100);
}

GRADED_TEST("chord-maintenance", 3, "end to end: 60 peers with random 32-bit ids join one by one and converge and every lookup is right") {
  const std::vector<std::uint64_t> ids = random_u64_ids(60, 32, 4242);
  auto run = run_scenario(chord_scenario(
      32, 4, ids, "join", {{{"at_ms", 19000}, {"op", "lookups"}, {"count", 200}, {"spread_ms", 800}}}, 20000, 11));
  CHECK(run->simulator().live_count() == ids.size());
  check_converged(*run, 200);
}
