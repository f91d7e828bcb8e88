// Graded tests of exercise kademlia-lookup: choose_round, the iterative lookup's choice of whom to
// ask next and when it is done. Expectations: hand-worked shortlists, the paper's rule (section
// 2.3) written out here over a sorted copy, and the real protocol's lookups against the true k
// closest by brute force.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "grading.hpp"
#include "kademlia_support.hpp"

using namespace p2plab;
using namespace p2plab::grading::kad;
namespace logic = p2plab::kademlia::logic;
using State = Candidate::State;

namespace {

/// A candidate at XOR distance `d` from the target (its id is d: the target is 0).
struct Seen {
  std::uint64_t d;
  State state = State::NotAsked;
};

std::vector<Candidate> shortlist(const std::vector<Seen>& seen) {
  std::vector<Candidate> out;
  for (const Seen& s : seen) {
    Candidate c;
    c.contact = contact(s.d);
    c.distance = Id(s.d);
    c.state = s.state;
    c.heard = static_cast<std::uint32_t>(out.size());
    out.push_back(c);
  }
  return out;
}

std::string truth(bool b) { return b ? "true" : "false"; }

const char* state_name(State s) {
  switch (s) {
    case State::NotAsked:
      return "not asked";
    case State::Asked:
      return "asked";
    case State::Answered:
      return "answered";
    case State::Failed:
      return "failed";
  }
  return "?";
}

std::string describe(const std::vector<Candidate>& seen, const std::optional<Id>& before, std::size_t k,
                     std::size_t alpha) {
  std::string out = "k = " + std::to_string(k) + ", alpha = " + std::to_string(alpha) +
                    ", closest before the last round: " + (before ? name(*before) : std::string("none (first round)")) +
                    ", seen (distance: state) ";
  for (std::size_t i = 0; i < seen.size(); ++i) {
    out += (i ? ", " : "") + name(seen[i].distance) + ": " + state_name(seen[i].state);
  }
  return out;
}

/// The distances of the candidates a choice asks, in its order.
std::vector<std::uint64_t> asked(const std::vector<Candidate>& seen, const logic::RoundChoice& c) {
  std::vector<std::uint64_t> out;
  for (std::size_t i : c.ask) out.push_back(i < seen.size() ? seen[i].distance.low64() : 999999);
  return out;
}

struct Expected {
  bool done = false;
  std::vector<std::uint64_t> ask;  // distances, closest first
};

/// The paper's rule over a copy sorted by distance (the test's own).
Expected oracle(const std::vector<Candidate>& seen, const std::optional<Id>& before, std::size_t k, std::size_t alpha) {
  std::vector<Candidate> sorted = seen;
  std::sort(sorted.begin(), sorted.end(),
            [](const Candidate& a, const Candidate& b) { return a.distance < b.distance; });
  std::vector<Candidate> closest;
  for (const Candidate& c : sorted) {
    if (c.state != State::Failed && closest.size() < k) closest.push_back(c);
  }
  Expected e;
  bool out = false;
  for (const Candidate& c : closest) {
    if (c.state == State::NotAsked) e.ask.push_back(c.distance.low64());
    out = out || c.state == State::Asked;
  }
  if (e.ask.empty()) {
    e.done = !out;
    return e;
  }
  const bool closer = !before || (!sorted.empty() && sorted.front().distance < *before);
  if (closer && e.ask.size() > alpha) e.ask.resize(alpha);
  return e;
}

/// choose_round must give `want` (asked by distance, in order).
void expect(const std::vector<Seen>& s, std::optional<std::uint64_t> before_d, std::size_t k, std::size_t alpha,
            const Expected& want, const char* why) {
  const std::vector<Candidate> seen = shortlist(s);
  std::optional<Id> before;
  if (before_d) before = Id(*before_d);
  const logic::RoundChoice got = logic::choose_round(seen, before, k, alpha);
  INFO(why << "; " << describe(seen, before, k, alpha));
  CHECK_MESSAGE(got.done == want.done, "done should be " << truth(want.done) << ", your code said " << truth(got.done));
  CHECK_MESSAGE(asked(seen, got) == want.ask, "the round should ask (by distance, closest first) "
                                                  << list(want.ask) << ", your code asks " << list(asked(seen, got)));
}

}  // namespace

GRADED_TEST("kademlia-lookup", 3, "the first round asks the alpha closest by XOR distance and closest first") {
  expect({{9}, {4}, {12}, {6}, {5}, {30}, {2}}, std::nullopt, 4, 2, {false, {2, 4}},
         "the first round: the 2 closest of the 4 closest");
  expect({{9}, {4}, {12}, {6}, {5}, {30}, {2}}, std::nullopt, 4, 3, {false, {2, 4, 5}}, "the first round, alpha 3");
  expect({{17}, {3}}, std::nullopt, 8, 3, {false, {3, 17}}, "fewer candidates than alpha: all of them");
  expect({{40}, {33}, {35}, {34}}, std::nullopt, 2, 3, {false, {33, 34}}, "alpha 3 but k 2: only the 2 closest");
  // 160-bit distances, random order: the alpha closest among 30.
  std::mt19937_64 rng(314);
  const Id target = random_id(rng);
  std::vector<Candidate> seen;
  for (int i = 0; i < 30; ++i) {
    Candidate c;
    c.contact = Contact{random_id(rng), 7000 + static_cast<std::uint64_t>(i)};
    c.distance = x_or(c.contact.id, target);
    c.heard = static_cast<std::uint32_t>(i);
    seen.push_back(c);
  }
  std::vector<Candidate> sorted = seen;
  std::sort(sorted.begin(), sorted.end(),
            [](const Candidate& a, const Candidate& b) { return a.distance < b.distance; });
  const logic::RoundChoice got = logic::choose_round(seen, std::nullopt, 20, 3);
  std::vector<std::string> want_text, got_text;
  for (int i = 0; i < 3; ++i) want_text.push_back(name(sorted[static_cast<std::size_t>(i)].distance));
  for (std::size_t i : got.ask) got_text.push_back(i < seen.size() ? name(seen[i].distance) : "out of range");
  CHECK_MESSAGE((!got.done && got_text == want_text),
                "30 candidates with 160-bit distances, k 20, alpha 3: the round should ask the 3 closest"
                    << lines(want_text) << "\nyour code asks (done = " << truth(got.done) << ")" << lines(got_text));
}

GRADED_TEST("kademlia-lookup", 4, "after a round that brought a closer contact the alpha closest not yet asked among the k closest") {
  using S = State;
  expect({{9, S::Answered}, {4}, {12}, {6, S::Failed}, {5}}, 9, 3, 2, {false, {4, 5}},
         "logic.hpp's example: 4 is closer than 9, the k closest leave out failed 6");
  expect({{8, S::Answered}, {3}, {6, S::Answered}, {7}, {2, S::Answered}, {11}, {1}}, 8, 4, 3, {false, {1, 3}},
         "the 4 closest are 1, 2, 3, 6: ask 1 and 3, not 7 or 11 beyond them");
  expect({{20, S::Answered}, {10, S::Answered}, {5}, {4}, {3}, {2}, {1}}, 10, 6, 3, {false, {1, 2, 3}},
         "alpha 3 of the 5 not asked");
  expect({{20, S::Answered}, {15, S::Failed}, {14, S::Failed}, {16}, {17}}, 20, 2, 1, {false, {16}},
         "two failed contacts leave room: the 2 closest are 16 and 17");
  expect({{20, S::Answered}, {6, S::Asked}, {7}, {8}, {9}}, 20, 3, 2, {false, {7, 8}},
         "6 is still out (a slow query): it counts among the k closest, 7 and 8 are asked");
}

GRADED_TEST("kademlia-lookup", 4, "after a round that brought nothing closer every not yet asked contact among the k closest") {
  using S = State;
  expect({{4, S::Answered}, {9}, {6}, {12}, {5}, {30}}, 4, 5, 2, {false, {5, 6, 9, 12}},
         "nothing closer than 4 came: all of the 5 closest not asked, not just alpha, and not 30 beyond them");
  expect({{4, S::Answered}, {9, S::Answered}, {6}, {12, S::Failed}, {5}, {30}}, 4, 5, 1, {false, {5, 6, 30}},
         "nothing closer than 4: the 5 closest without failed 12 are 4, 5, 6, 9, 30");
  expect({{2, S::Answered}, {3, S::Failed}, {7}, {8}}, 2, 8, 1, {false, {7, 8}},
         "2 has answered, 3 failed, nothing closer came: both 7 and 8");
  expect({{10, S::Answered}, {12}, {11, S::Asked}, {13}, {14}}, 10, 4, 1, {false, {12, 13}},
         "nothing closer: every not asked one among the 4 closest (11 still out, 14 beyond)");
}

GRADED_TEST("kademlia-lookup", 3, "done exactly when the k closest seen have all answered and waiting while one is still out") {
  using S = State;
  expect({{3, S::Answered}, {1, S::Answered}, {2, S::Answered}, {9}, {8}}, 1, 3, 3, {true, {}},
         "the 3 closest have answered: done, although 8 and 9 were never asked");
  expect({{3, S::Answered}, {1, S::Asked}, {2, S::Answered}, {9}}, 1, 3, 3, {false, {}},
         "1 is still out among the 3 closest: wait (ask nobody, not done)");
  expect({{3, S::Answered}, {1, S::Failed}, {2, S::Answered}, {9, S::Answered}}, 1, 3, 2, {true, {}},
         "1 failed: the 3 closest are 2, 3, 9, all answered");
  expect({{3, S::Answered}, {1, S::Failed}, {2, S::Answered}, {9}}, 1, 3, 2, {false, {9}},
         "1 failed: 9 moves into the 3 closest and must be asked");
  expect({{5, S::Failed}, {6, S::Failed}}, 5, 4, 2, {true, {}}, "everyone failed: nothing left to ask");
  expect({}, std::nullopt, 4, 2, {true, {}}, "nobody known at all");
}

GRADED_TEST("kademlia-lookup", 2, "2000 random shortlists against the paper's rule") {
  std::mt19937_64 rng(2718);
  int wrong = 0;
  for (int n = 0; n < 2000; ++n) {
    const std::size_t k = 1 + rng() % 8, alpha = 1 + rng() % 4, size = rng() % 16;
    std::set<std::uint64_t> used;
    std::vector<Seen> s;
    while (s.size() < size) {
      const std::uint64_t d = 1 + rng() % 200;
      if (!used.insert(d).second) continue;
      s.push_back({d, static_cast<State>(rng() % 4)});
    }
    std::optional<std::uint64_t> before;
    const std::uint64_t low = used.empty() ? 0 : *used.begin();
    switch (rng() % 3) {
      case 0:
        break;  // first round
      case 1:
        before = low;
        break;  // nothing closer
      default:
        before = low + 1 + rng() % 50;  // something closer came
    }
    const std::vector<Candidate> seen = shortlist(s);
    std::optional<Id> before_id;
    if (before) before_id = Id(*before);
    const Expected want = oracle(seen, before_id, k, alpha);
    const logic::RoundChoice got = logic::choose_round(seen, before_id, k, alpha);
    if ((got.done != want.done || asked(seen, got) != want.ask) && ++wrong <= 3) {
      CHECK_MESSAGE(false, describe(seen, before_id, k, alpha)
                               << ": expected done = " << truth(want.done) << ", ask " << list(want.ask)
                               << "; your code: done = " << truth(got.done) << ", ask " << list(asked(seen, got)));
    }
  }
  CHECK_MESSAGE(wrong == 0, wrong << " of 2000 random shortlists got a wrong answer (the first are shown above)");
}

GRADED_TEST("kademlia-lookup", 2, "end to end: 150 lookups on 300 nodes with 160-bit ids find the true k closest asking alpha first and nobody twice") {
  const nlohmann::json doc = {{"protocol", "kademlia"},
                              {"seed", 31},
                              {"params", {{"m", 160}, {"k", 8}, {"alpha", 3}, {"rpc_timeout_ms", 1000}}},
                              {"network", {{"latency", {{"model", "uniform"}, {"min_ms", 10}, {"max_ms", 100}}}}},
                              {"peers", {{"count", 300}}},
                              {"bootstrap", "oracle"},
                              {"events", {{{"at_ms", 1000}, {"op", "lookups"}, {"count", 150}, {"spread_ms", 10000}}}},
                              {"run_ms", 20000}};
  const nlohmann::json result = run_scenario(doc);
  const LookupTally t = check_lookups(result, 8);
  CHECK_MESSAGE(t.total == 150, "150 lookups should have finished, " << t.total << " did");
  CHECK_MESSAGE(t.right == t.total, (t.total - t.right)
                                        << " of " << t.total
                                        << " lookups did not return the true 8 closest:" << lines(t.wrong));
  std::vector<std::string> odd;
  for (const auto& l : result["lookups"]) {
    std::set<std::string> asked_ids;
    std::size_t first_round = 0;
    for (const auto& hop : l["path"]) {
      const std::string who = hop["asked"].dump();
      if (!asked_ids.insert(who).second && odd.size() < 3) odd.push_back(who + " was asked twice in one lookup");
      if (hop["round"].get<int>() == 1) ++first_round;
    }
    if (first_round != 3 && odd.size() < 3) {
      odd.push_back("the first round asked " + std::to_string(first_round) + " nodes, alpha = 3 expected");
    }
  }
  CHECK_MESSAGE(odd.empty(), "lookups that do not follow the rounds:" << lines(odd));
}
