// Graded tests of exercise chord-intervals: identifier arithmetic modulo 2^m and intervals on the
// circle. Expectations: the lecture's numbers, plain uint64 arithmetic for small m, and Big (a
// separate 160-bit arithmetic, tests/test_util.hpp) for large m.
#include <cstdint>
#include <map>
#include <random>
#include <string>

#include "grading.hpp"
#include "grading_util.hpp"

using namespace p2plab;
using namespace p2plab::grading;
namespace logic = p2plab::chord::logic;

namespace {

using IdFn = Id (*)(const Id&, const Id&, int);
using IntervalFn = bool (*)(const Id&, const Id&, const Id&);

/// One call of an arithmetic function against its expected value.
void check_arith(Mistakes& mistakes, const char* name, IdFn fn, const Id& a, const Id& b, int m, const Id& want,
                 const char* meaning) {
  const Id got = fn(a, b, m);
  if (got != want) {
    mistakes.add(std::string(name) + "(" + dec(a) + ", " + dec(b) + ", " + std::to_string(m) + ") with m = " +
                 std::to_string(m) + ": " + meaning + " is " + dec(want) + ", your code returned " + dec(got));
  }
}

struct IntervalKind {
  const char* name;
  IntervalFn fn;
  bool (*oracle)(const Id&, const Id&, const Id&, int);
  const char* open_left;
  const char* close_right;
};
const IntervalKind kInOpen{"in_open", logic::in_open, oracle_in_open, "(", ")"};
const IntervalKind kInOpenClosed{"in_open_closed", logic::in_open_closed, oracle_in_open_closed, "(", "]"};
const IntervalKind kInClosedOpen{"in_closed_open", logic::in_closed_open, oracle_in_closed_open, "[", ")"};
const IntervalKind kInClosed{"in_closed", logic::in_closed, oracle_in_closed, "[", "]"};

void check_interval(Mistakes& mistakes, const IntervalKind& k, const Id& x, const Id& a, const Id& b, int m) {
  const bool want = k.oracle(x, a, b, m);
  const bool got = k.fn(x, a, b);
  if (got != want) {
    std::string why =
        dec(x) + (want ? " is in " : " is not in ") + k.open_left + dec(a) + ", " + dec(b) + k.close_right;
    if (a == b) why += " (a == b: " + std::string(want ? "the whole circle" : "the whole circle but a") + ")";
    mistakes.add(std::string(k.name) + "(" + dec(x) + ", " + dec(a) + ", " + dec(b) + ") with m = " +
                 std::to_string(m) + ": " + why + ", expected " + yes_no(want) + ", your code said " + yes_no(got));
  }
}

/// Every x, a, b below 2^m (m <= 6: 262144 cases).
void exhaustive(const IntervalKind& k, int m) {
  Mistakes mistakes;
  const std::uint64_t size = std::uint64_t{1} << m;
  for (std::uint64_t a = 0; a < size; ++a) {
    for (std::uint64_t b = 0; b < size; ++b) {
      for (std::uint64_t x = 0; x < size; ++x) check_interval(mistakes, k, Id(x), Id(a), Id(b), m);
    }
  }
  mistakes.summary(std::string("answers of ") + k.name);
}

/// The lecture's m = 3 examples: (6, 1] = {7, 0, 1}, (1, 6) = {2, 3, 4, 5}, [6, 1) = {6, 7, 0},
/// [1, 6] = {1, ..., 6}: literal sets, not computed.
void lecture_sets(const IntervalKind& k, std::uint64_t a, std::uint64_t b, std::uint64_t members_mask) {
  Mistakes mistakes;
  for (std::uint64_t x = 0; x < 8; ++x) {
    const bool want = (members_mask >> x) & 1u;
    const bool got = k.fn(Id(x), Id(a), Id(b));
    if (got != want) {
      mistakes.add(std::string(k.name) + "(" + std::to_string(x) + ", " + std::to_string(a) + ", " + std::to_string(b) +
                   ") with m = 3 (the lecture's example " + k.open_left + std::to_string(a) + ", " + std::to_string(b) +
                   k.close_right + "): " + std::to_string(x) + (want ? " is in it" : " is not in it") + ", expected " +
                   yes_no(want) + ", your code said " + yes_no(got));
    }
  }
}
constexpr std::uint64_t set_of(std::initializer_list<int> xs) {
  std::uint64_t mask = 0;
  for (int x : xs) mask |= std::uint64_t{1} << x;
  return mask;
}

/// Random 160-bit cases, half of them with x, a, b close together or at the ends of the circle.
void random_160(const IntervalKind& k, std::uint64_t seed) {
  Mistakes mistakes;
  std::mt19937_64 rng(seed);
  const std::vector<Id> edges = edge_ids(160);
  for (int t = 0; t < 4000; ++t) {
    Id a = random_id(rng, 160), b = random_id(rng, 160), x = random_id(rng, 160);
    if (t % 4 == 1) {
      b = (Big::add(Big::from(a), Big(rng() % 5), 160)).to_id();  // short arcs, a == b
      x = (Big::sub(Big::from(a), Big(2), 160)).to_id();
      x = (Big::add(Big::from(x), Big(rng() % 9), 160)).to_id();
    } else if (t % 4 == 2) {
      a = edges[rng() % edges.size()];
      b = edges[rng() % edges.size()];
      x = edges[rng() % edges.size()];
    } else if (t % 4 == 3) {
      x = t % 8 == 3 ? a : b;  // the ends themselves
    }
    check_interval(mistakes, k, x, a, b, 160);
  }
  mistakes.summary(std::string("answers of ") + k.name);
}

}  // namespace

GRADED_TEST("chord-intervals", 3, "add_mod and sub_mod: lecture examples and every a b for m = 3 and m = 6 and random 160-bit") {
  Mistakes mistakes;
  check_arith(mistakes, "add_mod", logic::add_mod, Id(60), Id(10), 6, Id(6), "(60 + 10) mod 64");
  check_arith(mistakes, "sub_mod", logic::sub_mod, Id(4), Id(10), 6, Id(58), "(4 - 10) mod 64");
  for (const int m : {3, 6}) {
    const std::uint64_t size = std::uint64_t{1} << m;
    for (std::uint64_t a = 0; a < size; ++a) {
      for (std::uint64_t b = 0; b < size; ++b) {
        check_arith(mistakes, "add_mod", logic::add_mod, Id(a), Id(b), m, Id((a + b) % size), "(a + b) mod 2^m");
        check_arith(mistakes, "sub_mod", logic::sub_mod, Id(a), Id(b), m, Id((a + size - b) % size), "(a - b) mod 2^m");
      }
    }
  }
  std::mt19937_64 rng(160);
  for (int t = 0; t < 2000; ++t) {
    const int m = t % 3 == 0 ? 160 : 1 + static_cast<int>(rng() % 160);
    const Id a = random_id(rng, m), b = t % 5 == 0 ? edge_ids(m)[rng() % 6] : random_id(rng, m);
    check_arith(mistakes, "add_mod", logic::add_mod, a, b, m, Big::add(Big::from(a), Big::from(b), m).to_id(),
                "(a + b) mod 2^m");
    check_arith(mistakes, "sub_mod", logic::sub_mod, a, b, m, Big::sub(Big::from(a), Big::from(b), m).to_id(),
                "(a - b) mod 2^m");
  }
  mistakes.summary("results");
}

GRADED_TEST("chord-intervals", 3, "distance and finger_start: the starts of node 52 and exhaustive m = 6 and random 160-bit") {
  Mistakes mistakes;
  // Lecture, m = 6: distance(52, 8) = 20, distance(8, 52) = 44, distance(5, 5) = 0.
  check_arith(mistakes, "distance", logic::distance, Id(52), Id(8), 6, Id(20), "the clockwise distance from 52 to 8");
  check_arith(mistakes, "distance", logic::distance, Id(8), Id(52), 6, Id(44), "the clockwise distance from 8 to 52");
  check_arith(mistakes, "distance", logic::distance, Id(5), Id(5), 6, Id(0), "the clockwise distance from 5 to 5");
  // Figure 5: the starts of node 52 are 53, 54, 56, 60, 4, 20; of node 42: 43, 44, 46, 50, 58, 10.
  const std::uint64_t starts52[] = {53, 54, 56, 60, 4, 20}, starts42[] = {43, 44, 46, 50, 58, 10};
  // Figure 4 (m = 3): node 3 has starts 4, 5, 7; node 1: 2, 3, 5.
  const std::uint64_t starts3[] = {4, 5, 7}, starts1[] = {2, 3, 5};
  auto start = [&](std::uint64_t n, int i, int m, std::uint64_t want) {
    const Id got = logic::finger_start(Id(n), i, m);
    if (got != Id(want)) {
      mistakes.add("finger_start(" + std::to_string(n) + ", " + std::to_string(i) + ", " + std::to_string(m) +
                   "): the start of finger " + std::to_string(i) + " of node " + std::to_string(n) + " is (" +
                   std::to_string(n) + " + 2^" + std::to_string(i) + ") mod 2^" + std::to_string(m) + " = " +
                   std::to_string(want) + ", your code returned " + dec(got));
    }
  };
  for (int i = 0; i < 6; ++i) start(52, i, 6, starts52[i]), start(42, i, 6, starts42[i]);
  for (int i = 0; i < 3; ++i) start(3, i, 3, starts3[i]), start(1, i, 3, starts1[i]);
  for (std::uint64_t a = 0; a < 64; ++a) {
    for (std::uint64_t b = 0; b < 64; ++b) {
      check_arith(mistakes, "distance", logic::distance, Id(a), Id(b), 6, Id((b + 64 - a) % 64),
                  "the clockwise distance from a to b");
    }
    for (int i = 0; i < 6; ++i) start(a, i, 6, (a + (std::uint64_t{1} << i)) % 64);
  }
  std::mt19937_64 rng(52);
  for (int t = 0; t < 2000; ++t) {
    const int m = t % 2 == 0 ? 160 : 1 + static_cast<int>(rng() % 160);
    const Id a = t % 7 == 0 ? edge_ids(m)[rng() % 6] : random_id(rng, m), b = random_id(rng, m);
    check_arith(mistakes, "distance", logic::distance, a, b, m, oracle_distance(a, b, m).to_id(),
                "the clockwise distance from a to b");
    const int i = static_cast<int>(rng() % static_cast<std::uint64_t>(m));
    const Id want = Big::add(Big::from(a), Big::pow2(i), m).to_id();
    const Id got = logic::finger_start(a, i, m);
    if (got != want) {
      mistakes.add("finger_start(" + dec(a) + ", " + std::to_string(i) + ", " + std::to_string(m) + ") should be " +
                   dec(want) + " (n + 2^i mod 2^m), your code returned " + dec(got));
    }
  }
  mistakes.summary("results");
}

GRADED_TEST("chord-intervals", 3, "in_open: the lecture's open interval from 1 to 6 and every x a b for m = 3 and m = 6 including a == b") {
  lecture_sets(kInOpen, 1, 6, set_of({2, 3, 4, 5}));
  lecture_sets(kInOpen, 6, 1, set_of({7, 0}));
  lecture_sets(kInOpen, 5, 5, set_of({0, 1, 2, 3, 4, 6, 7}));
  exhaustive(kInOpen, 3);
  exhaustive(kInOpen, 6);
}

GRADED_TEST("chord-intervals", 3, "in_open_closed: the lecture's wrapping interval from 6 to 1 and every x a b for m = 3 and m = 6 including a == b") {
  lecture_sets(kInOpenClosed, 6, 1, set_of({7, 0, 1}));
  lecture_sets(kInOpenClosed, 1, 6, set_of({2, 3, 4, 5, 6}));
  lecture_sets(kInOpenClosed, 3, 3, set_of({0, 1, 2, 3, 4, 5, 6, 7}));
  exhaustive(kInOpenClosed, 3);
  exhaustive(kInOpenClosed, 6);
}

GRADED_TEST("chord-intervals", 2, "in_closed_open and in_closed: the lecture's examples from 6 to 1 and from 1 to 6 and every x a b for m = 3 and m = 6") {
  lecture_sets(kInClosedOpen, 6, 1, set_of({6, 7, 0}));
  lecture_sets(kInClosedOpen, 2, 2, set_of({0, 1, 2, 3, 4, 5, 6, 7}));
  lecture_sets(kInClosed, 1, 6, set_of({1, 2, 3, 4, 5, 6}));
  lecture_sets(kInClosed, 6, 1, set_of({6, 7, 0, 1}));
  lecture_sets(kInClosed, 0, 0, set_of({0, 1, 2, 3, 4, 5, 6, 7}));
  for (const int m : {3, 6}) {
    exhaustive(kInClosedOpen, m);
    exhaustive(kInClosed, m);
  }
}

GRADED_TEST("chord-intervals", 2, "all four intervals on random 160-bit ids: wrap-around past 0 and a == b and the ends") {
  random_160(kInOpen, 1);
  random_160(kInOpenClosed, 2);
  random_160(kInClosedOpen, 3);
  random_160(kInClosed, 4);
}

GRADED_TEST("chord-intervals", 2, "end to end: with your intervals lookup(44) from 52 goes 52 -> 23 -> 39 -> 42 and answers 45 and keys 1 2 6 of the 3-bit ring reach 1 3 0") {
  const std::vector<std::uint64_t> ring = {4,  7,  13, 14, 16, 19, 23, 26, 30, 33,
                                           37, 39, 42, 45, 49, 52, 54, 56, 60, 63};
  for (const std::string style : {"iterative", "recursive"}) {
    CAPTURE(style);
    auto run = run_scenario(chord_scenario(6, 3, ring, "oracle",
                                           {{{"at_ms", 100}, {"op", "lookup"}, {"from", 52}, {"key", 44}}}, 1000, 5,
                                           {{"lookup", style}, {"maintenance", false}}));
    const auto& records = run->protocol().records();
    REQUIRE_MESSAGE(records.size() == 1, "the lookup did not finish");
    const chord::LookupRecord& r = records.front();
    const std::string path = path_text(*run, r.path);
    CHECK_MESSAGE(path == "52 -> 23 -> 39 -> 42",
                  "lookup(44) from 52 (" << style
                                         << ") should visit 52 -> 23 -> 39 -> 42, with your intervals it visited "
                                         << path);
    CHECK_MESSAGE(peer_name(*run, r.owner) == "45",
                  "lookup(44) should answer 45 (44 is in (42, 45]), with your intervals it answered "
                      << peer_name(*run, r.owner) << std::string(r.completed ? "" : " (it gave up)"));
  }
  // Figure 4 (m = 3, nodes 0, 1, 3): successor(1) = 1 (a key equal to a node id), successor(2) = 3,
  // successor(6) = 0 (the wrap-around), asked from every node.
  nlohmann::json events = nlohmann::json::array();
  int at = 100;
  for (int from : {0, 1, 3}) {
    for (int key : {1, 2, 6}) events.push_back({{"at_ms", at += 10}, {"op", "lookup"}, {"from", from}, {"key", key}});
  }
  auto run = run_scenario(chord_scenario(3, 3, {0, 1, 3}, "oracle", events, 1000, 5, {{"maintenance", false}}));
  const std::map<std::uint64_t, std::string> owner = {{1, "1"}, {2, "3"}, {6, "0"}};
  std::size_t count = 0;
  for (const chord::LookupRecord& r : run->protocol().records()) {
    ++count;
    CHECK_MESSAGE((r.completed && peer_name(*run, r.owner) == owner.at(r.key.low64())),
                  "on the 3-bit ring lookup("
                      << dec(r.key) << ") from " << peer_name(*run, r.from) << " should answer "
                      << owner.at(r.key.low64()) << " (successor(" << dec(r.key) << ")), with your intervals it "
                      << (r.completed ? "answered " + peer_name(*run, r.owner) : std::string("gave up")));
  }
  CHECK_MESSAGE(count == 9, "9 lookups on the 3-bit ring should have finished, " << count << " did");
}
