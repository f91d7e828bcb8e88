// Graded tests of exercise chord-failures: successor lists, check_predecessor, recovery after
// crashes, responsibility and replication. Expectations: the lecture's ring (figure 5), the
// contract written out case by case, the independent interval oracle, and crash scenarios of the
// real protocol judged by the brute force over the surviving peers.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "grading.hpp"
#include "grading_util.hpp"

using namespace p2plab;
using namespace p2plab::grading;
namespace logic = p2plab::chord::logic;

namespace {

TestRing lecture_ring() {
  std::vector<Id> ids;
  for (std::uint64_t x : kFigure5) ids.push_back(Id(x));
  return TestRing(ids, 6);
}

/// Contacts of the lecture ring by id (0 = nobody).
ContactList list_of(const TestRing& ring, const std::vector<std::uint64_t>& ids) {
  ContactList out;
  for (std::uint64_t x : ids) out.push_back(x == 0 ? Contact{} : ring.contact(Id(x)));
  return out;
}
std::vector<Contact> vector_of(const TestRing& ring, const std::vector<std::uint64_t>& ids) {
  std::vector<Contact> out;
  for (std::uint64_t x : ids) out.push_back(x == 0 ? Contact{} : ring.contact(Id(x)));
  return out;
}

struct StoredGets {
  std::size_t gets = 0, right = 0;
  std::vector<std::string> wrong;
};

/// The gets of a run: each must find the value its put stored ("value-<key>").
StoredGets check_gets(const chord::ChordRun& run) {
  StoredGets g;
  for (const chord::LookupRecord& r : run.protocol().records()) {
    if (r.purpose != chord::Purpose::Get) continue;
    ++g.gets;
    const std::string want = "value-" + dec(r.key);
    const std::string got =
        r.found && r.value != chord::kNoValue ? run.protocol().value(r.value) : std::string("nothing");
    if (r.completed && r.found && got == want) {
      ++g.right;
    } else if (g.wrong.size() < 5) {
      g.wrong.push_back("get(" + dec(r.key) + ") from " + peer_name(run, r.from) + " asked " + peer_name(run, r.owner) +
                        (r.completed ? " and found " + got : " and gave up") + ", expected " + want);
    }
  }
  return g;
}

}  // namespace

GRADED_TEST("chord-failures", 3, "successor_list: the lecture's 45 then 49 52 54 and r larger than the list and r = 1") {
  const TestRing ring = lecture_ring();
  struct Case {
    std::uint64_t successor;
    std::vector<std::uint64_t> theirs;
    int r;
    std::vector<std::uint64_t> want;
  };
  const Case cases[] = {
      {45, {49, 52, 54}, 3, {45, 49, 52}},              // the lecture's example (logic.hpp)
      {45, {49, 52, 54}, 4, {45, 49, 52, 54}},          // the whole list fits
      {45, {49, 52, 54}, 8, {45, 49, 52, 54}},          // r larger than what is known
      {45, {49, 52, 54}, 1, {45}},                      // r = 1: just the successor
      {63, {}, 3, {63}},                                // the successor knows no successors yet
      {60, {63, 4, 7, 13, 14}, 5, {60, 63, 4, 7, 13}},  // across the wrap-around
  };
  for (const Case& c : cases) {
    const ContactList theirs = list_of(ring, c.theirs), want = list_of(ring, c.want);
    const ContactList got = logic::successor_list(ring.contact(Id(c.successor)), theirs, c.r);
    CHECK_MESSAGE(same(got, want), "successor_list(successor " << c.successor << ", its list " << describe(theirs)
                                                               << ", r = " << c.r << ") should be " << describe(want)
                                                               << ", your code returned " << describe(got));
  }
}

GRADED_TEST("chord-failures", 2, "check_predecessor: keeps a predecessor that answered and forgets a silent one") {
  const TestRing ring = lecture_ring();
  for (std::uint64_t p : {42, 4, 63}) {
    const Contact pred = ring.contact(Id(p));
    const Contact kept = logic::check_predecessor(pred, true);
    CHECK_MESSAGE(same(kept, pred), "check_predecessor: predecessor "
                                        << p << " answered the ping, so it stays; your code returned "
                                        << describe(kept));
    const Contact dropped = logic::check_predecessor(pred, false);
    CHECK_MESSAGE(!dropped.known(), "check_predecessor: predecessor "
                                        << p << " did not answer the ping, so it becomes nil; your code returned "
                                        << describe(dropped));
  }
  const Contact none = logic::check_predecessor(Contact{}, true);
  CHECK_MESSAGE(!none.known(),
                "check_predecessor with no predecessor must stay nil, your code returned " << describe(none));
}

GRADED_TEST("chord-failures", 3, "drop_failed: removes every entry of the failed peer and keeps the order of the rest") {
  const TestRing ring = lecture_ring();
  const std::vector<Contact> fingers = vector_of(ring, {45, 45, 49, 52, 60, 13});  // node 42's fingers (figure 5)
  struct Case {
    std::vector<std::uint64_t> successors;
    std::uint64_t failed;
    std::vector<std::uint64_t> want;
  };
  const Case cases[] = {
      {{45, 49, 52}, 45, {49, 52}},      // the successor failed: the next one takes its place
      {{45, 49, 52}, 49, {45, 52}},      // one in the middle
      {{45, 49, 52}, 52, {45, 49}},      // the last one
      {{45, 49, 52}, 60, {45, 49, 52}},  // not in the list: nothing changes
      {{45, 49, 45, 52}, 45, {49, 52}},  // every entry of it goes
  };
  for (const Case& c : cases) {
    const ContactList successors = list_of(ring, c.successors), want = list_of(ring, c.want);
    const ContactList got = logic::drop_failed(ring.contact(Id(42)), successors, fingers, ring.contact(Id(c.failed)));
    CHECK_MESSAGE(same(got, want), "node 42 with successor list "
                                       << describe(successors) << ": " << c.failed << " failed, the list should become "
                                       << describe(want) << ", your code returned " << describe(got));
  }
}

GRADED_TEST("chord-failures", 3, "drop_failed: when no successor is left it falls back to the first usable finger") {
  const TestRing ring = lecture_ring();
  const Contact self = ring.contact(Id(42));
  struct Case {
    std::vector<std::uint64_t> successors;
    std::vector<std::uint64_t> fingers;  // 0: unknown
    std::uint64_t failed;
    std::vector<std::uint64_t> want;
    const char* why;
  };
  const Case cases[] = {
      {{45},
       {45, 45, 49, 52, 60, 13},
       45,
       {49},
       "fingers 0 and 1 are the failed 45: finger 2 = 49 is the first usable one"},
      {{45, 45}, {0, 0, 0, 52, 60, 13}, 45, {52}, "fingers 0 to 2 are unknown: finger 3 = 52"},
      {{49},
       {42, 49, 0, 4, 60, 13},
       49,
       {4},
       "finger 0 is the node itself, finger 1 failed, finger 2 unknown: finger 3 = 4"},
      {{45}, {45, 45, 45, 42, 0, 0}, 45, {}, "no finger is usable: the node has lost the ring (an empty list)"},
      {{}, {0, 0, 0, 0, 0, 54}, 45, {54}, "an empty successor list: finger 5 = 54"},
  };
  for (const Case& c : cases) {
    const ContactList successors = list_of(ring, c.successors), want = list_of(ring, c.want);
    std::vector<Contact> fingers;
    for (std::uint64_t f : c.fingers) fingers.push_back(f == 0 ? Contact{} : f == 42 ? self : ring.contact(Id(f)));
    std::string fingers_text;
    for (std::size_t i = 0; i < fingers.size(); ++i) fingers_text += (i ? ", " : "") + describe(fingers[i]);
    const ContactList got = logic::drop_failed(self, successors, fingers, ring.contact(Id(c.failed)));
    CHECK_MESSAGE(same(got, want), "node 42 with successor list "
                                       << describe(successors) << " and fingers " << fingers_text << ": " << c.failed
                                       << " failed; " << std::string(c.why) << ", expected " << describe(want)
                                       << ", your code returned " << describe(got));
  }
}

GRADED_TEST("chord-failures", 3, "is_responsible: every node and predecessor and key of the 3-bit and 6-bit rings and no predecessor") {
  for (const int m : {3, 6}) {
    Mistakes mistakes;
    const std::uint64_t size = std::uint64_t{1} << m;
    for (std::uint64_t n = 0; n < size; ++n) {
      const Contact self{Id(n), kPeerBase + static_cast<PeerIndex>(n)};
      for (std::uint64_t p = 0; p <= size; ++p) {  // p == size: no predecessor
        const Contact pred = p == size ? Contact{} : Contact{Id(p), kPeerBase + static_cast<PeerIndex>(p)};
        for (std::uint64_t k = 0; k < size; ++k) {
          const bool want = p == size || oracle_in_open_closed(Id(k), Id(p), Id(n), m);
          const bool got = logic::is_responsible(self, pred, Id(k));
          if (got != want) {
            const std::string why = p == size
                                        ? "n has no predecessor, so it takes every key"
                                        : "key " + std::to_string(k) + (want ? " lies in (" : " does not lie in (") +
                                              std::to_string(p) + ", " + std::to_string(n) + "]";
            mistakes.add("is_responsible at " + std::to_string(n) + " with predecessor " + describe(pred) +
                         " for key " + std::to_string(k) + " (m = " + std::to_string(m) + "): " + why + ", expected " +
                         yes_no(want) + ", your code said " + yes_no(got));
          }
        }
      }
    }
    mistakes.summary("answers of is_responsible");
  }
}

GRADED_TEST("chord-failures", 2, "replica_holders: the successors in order without n and without repeats and at most copies") {
  const TestRing ring = lecture_ring();
  const Contact self = ring.contact(Id(42));
  struct Case {
    std::vector<std::uint64_t> successors;
    int copies;
    std::vector<std::uint64_t> want;
  };
  const Case cases[] = {
      {{45, 49, 52}, 3, {45, 49, 52}},
      {{45, 49, 52}, 2, {45, 49}},
      {{45, 49, 52, 54}, 8, {45, 49, 52, 54}},
      {{45, 42, 45, 49}, 3, {45, 49}},  // a small ring: the list wraps around to n itself
      {{42}, 3, {}},                    // a ring of one: nobody else holds copies
  };
  for (const Case& c : cases) {
    ContactList successors;
    for (std::uint64_t s : c.successors) successors.push_back(s == 42 ? self : ring.contact(Id(s)));
    const ContactList want = list_of(ring, c.want);
    const ContactList got = logic::replica_holders(self, successors, c.copies);
    CHECK_MESSAGE(same(got, want), "replica_holders at 42 with successor list "
                                       << describe(successors) << " and copies = " << c.copies << " should be "
                                       << describe(want) << ", your code returned " << describe(got));
  }
}

GRADED_TEST("chord-failures", 3, "end to end: 6 of 40 peers crash and with r = 3 every stored key stays readable and the ring repairs") {
  std::vector<std::uint64_t> ids = random_u64_ids(40, 32, 777);
  std::vector<std::uint64_t> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  nlohmann::json events = nlohmann::json::array();
  // 30 keys put from random peers (each stored at its owner and copied on its 3 successors).
  std::vector<std::uint64_t> keys = random_u64_ids(30, 32, 778);
  for (std::size_t k = 0; k < keys.size(); ++k) {
    events.push_back({{"at_ms", 100 + 10 * static_cast<int>(k)},
                      {"op", "put"},
                      {"key", keys[k]},
                      {"value", "value-" + std::to_string(keys[k])}});
  }
  // Crash 6 peers at once without goodbye, among them two neighbours and three in a row.
  for (std::size_t pos : {3, 4, 10, 20, 21, 22})
    events.push_back({{"at_ms", 2000}, {"op", "fail"}, {"peer", sorted[pos]}});
  for (std::size_t k = 0; k < keys.size(); ++k) {
    events.push_back({{"at_ms", 7000 + 10 * static_cast<int>(k)}, {"op", "get"}, {"key", keys[k]}});
  }
  events.push_back({{"at_ms", 7500}, {"op", "lookups"}, {"count", 100}, {"spread_ms", 400}});
  auto run = run_scenario(chord_scenario(32, 3, ids, "oracle", events, 8000, 21));
  CHECK(run->simulator().live_count() == 34);
  const StoredGets g = check_gets(*run);
  CHECK_MESSAGE(g.gets == keys.size(), "expected " << keys.size() << " finished gets, there were " << g.gets);
  CHECK_MESSAGE(g.right == g.gets, (g.gets - g.right)
                                       << " of " << g.gets
                                       << " stored keys could not be read after the crash:" << lines(g.wrong));
  // Successor lists skip the dead, and the successors of crashed peers cleared their
  // predecessor (check_predecessor) so that notify could install the live one.
  std::vector<std::string> stale;
  for (const chord::PeerSnapshot& s : live_snapshots(*run)) {
    if (s.predecessor != kNoPeer && !run->simulator().is_up(s.predecessor)) {
      stale.push_back("peer " + dec(s.id) + " still names the crashed " + peer_name(*run, s.predecessor) +
                      " as its predecessor (check_predecessor should have cleared it)");
    }
    for (PeerIndex succ : s.successors) {
      if (!run->simulator().is_up(succ)) {
        stale.push_back("peer " + dec(s.id) + " still lists the crashed " + peer_name(*run, succ) +
                        " among its successors");
      }
    }
  }
  CHECK_MESSAGE(stale.empty(), stale.size()
                                   << " pointers to crashed peers 5 s after the crash:" << test::first_errors(stale));
  const std::vector<std::string> errors = test::routing_state_errors(*run);
  CHECK_MESSAGE(errors.empty(), errors.size()
                                    << " pointers still differ from the ring of survivors 5 s after the crash:"
                                    << test::first_errors(errors));
  const LookupCheck c = check_user_lookups(*run);
  CHECK_MESSAGE((c.total == 100 && c.right == c.total),
                c.right << " of " << c.total << " lookups right (100 expected):" << lines(c.wrong));
  // Each key is held as primary (is_responsible) by its true successor among the survivors.
  const RingOracle oracle = test::live_oracle(*run);
  std::vector<std::string> not_held;
  for (std::uint64_t k : keys) {
    const PeerIndex owner = run->simulator().find_live(oracle.successor_of(Big(k)).to_id());
    const chord::PeerSnapshot s = run->protocol().snapshot(owner);
    if (std::find(s.keys.begin(), s.keys.end(), Id(k)) == s.keys.end() && not_held.size() < 5) {
      not_held.push_back("key " + std::to_string(k) + " is not held as primary by its owner " + peer_name(*run, owner));
    }
  }
  CHECK_MESSAGE(not_held.empty(), "after the repair:" << lines(not_held));
}
