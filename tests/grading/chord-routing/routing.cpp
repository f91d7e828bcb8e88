// Graded tests of exercise chord-routing: closest_preceding_finger and find_successor_step.
// Expectations: the lecture's figure 5 (numbers copied from docs/figures.md) and the brute force of
// grading_util.hpp (the contract evaluated over the sorted id list with Big arithmetic).
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "grading.hpp"
#include "grading_util.hpp"

using namespace p2plab;
using namespace p2plab::grading;
namespace logic = p2plab::chord::logic;

namespace {

const std::vector<std::uint64_t> kFigure4 = {0, 1, 3};

std::vector<Id> to_ids(const std::vector<std::uint64_t>& v) {
  std::vector<Id> out;
  for (std::uint64_t x : v) out.push_back(Id(x));
  return out;
}

std::string where(const NodeView& v) {
  return " (node " + describe(v.self) + ", fingers " + v.fingers_text() + ", successor list " + v.successors_text() +
         ")";
}

void check_cpf(Mistakes& mistakes, const NodeView& v, const Id& key) {
  const Contact want = oracle_closest_preceding(v, key);
  const Contact got = logic::closest_preceding_finger(v.table(), key);
  if (!same(got, want)) {
    mistakes.add(
        "closest_preceding_finger(" + dec(key) + ") at " + describe(v.self) + " should be " + describe(want) +
        (want.peer == v.self.peer ? " (n itself: nothing lies in (n, key))" : " (the farthest entry in (n, key))") +
        ", your code returned " + describe(got) + where(v));
  }
}

void check_step(Mistakes& mistakes, const NodeView& v, const Id& key) {
  const ExpectedStep want = oracle_step(v, key);
  const logic::Step got = logic::find_successor_step(v.table(), key);
  if (!same(got, want)) {
    mistakes.add("find_successor_step at " + describe(v.self) + " for key " + dec(key) + ": expected " +
                 describe(want) + ", your code said " + describe(got) + where(v));
  }
}

/// Every node and every key of a small ring, with r = 3.
template <typename Check>
void every_node_every_key(const std::vector<std::uint64_t>& ids, int m, Check check, const char* what) {
  const TestRing ring(to_ids(ids), m);
  Mistakes mistakes;
  for (std::uint64_t n : ids) {
    const NodeView v = node_view(ring, Id(n), 3);
    for (std::uint64_t key = 0; key < (std::uint64_t{1} << m); ++key) check(mistakes, v, Id(key));
  }
  mistakes.summary(what);
}

/// The lecture's finger tables of figure 5, copied literally (node -> finger 0..5).
NodeView figure5_node(const TestRing& ring, std::uint64_t n, const std::vector<std::uint64_t>& fingers) {
  NodeView v = node_view(ring, Id(n), 3);
  v.fingers.clear();
  for (std::uint64_t f : fingers) v.fingers.push_back(ring.contact(Id(f)));
  return v;
}

}  // namespace

GRADED_TEST("chord-routing", 4, "figure 5: lookup(44) at 52 then 23 then 39 asks 23 then 39 then 42 and 42 answers 45") {
  const TestRing ring(to_ids(kFigure5), 6);
  const NodeView n52 = figure5_node(ring, 52, {54, 54, 56, 60, 4, 23});
  const NodeView n23 = figure5_node(ring, 23, {26, 26, 30, 33, 39, 56});
  const NodeView n39 = figure5_node(ring, 39, {42, 42, 45, 49, 56, 7});
  const NodeView n42 = figure5_node(ring, 42, {45, 45, 49, 52, 60, 13});
  const Contact c52 = logic::closest_preceding_finger(n52.table(), Id(44));
  CHECK_MESSAGE(same(c52, ring.contact(Id(23))),
                "closest_preceding_finger(44) at 52 should be 23 (finger 5 = 23 is the farthest finger in (52, 44)), "
                "your code returned "
                    << describe(c52));
  struct Hop {
    const NodeView* at;
    bool done;
    std::uint64_t answer;
  };
  const Hop hops[] = {{&n52, false, 23}, {&n23, false, 39}, {&n39, false, 42}, {&n42, true, 45}};
  for (const Hop& h : hops) {
    const logic::Step got = logic::find_successor_step(h.at->table(), Id(44));
    if (h.done) {
      CHECK_MESSAGE((got.done && same(got.node, ring.contact(Id(h.answer)))),
                    "lookup(44) at 42: 44 is in (42, 45], so 42 should answer done with owner 45, your code said "
                        << describe(got));
    } else {
      CHECK_MESSAGE((!got.done && same(got.node, ring.contact(Id(h.answer)))),
                    "lookup(44) at " << describe(h.at->self) << " should ask " << h.answer << " next, your code said "
                                     << describe(got));
    }
  }
}

GRADED_TEST("chord-routing", 4, "closest_preceding_finger: every node and every key of the 3-bit and 6-bit lecture rings") {
  every_node_every_key(kFigure4, 3, check_cpf, "answers of closest_preceding_finger");
  every_node_every_key(kFigure5, 6, check_cpf, "answers of closest_preceding_finger");
}

GRADED_TEST("chord-routing", 3, "closest_preceding_finger: unknown fingers are skipped and the successor list counts") {
  Mistakes mistakes;
  const TestRing ring(to_ids(kFigure5), 6);
  std::mt19937_64 rng(7);
  for (std::uint64_t n : kFigure5) {
    for (int pattern = 0; pattern < 6; ++pattern) {
      NodeView v = node_view(ring, Id(n), 4);
      // Forget some fingers (a node still joining): every other one, the upper half, all, or at
      // random; sometimes without a successor list.
      for (int i = 0; i < 6; ++i) {
        const bool forget = pattern == 0 ? i % 2 == 1 : pattern == 1 ? i >= 3 : pattern == 2 ? true : (rng() % 2 == 0);
        if (forget) v.fingers[static_cast<std::size_t>(i)] = Contact{};
      }
      if (pattern == 5) v.successors.clear();
      for (std::uint64_t key = 0; key < 64; ++key) check_cpf(mistakes, v, Id(key));
    }
  }
  // The lecture's node 52 with only finger 0 known (54) and the successor list 54, 56, 60, 63:
  // for key 4 the farthest entry before it is 63 (successor list), not finger 0.
  NodeView v = node_view(ring, Id(52), 4);
  for (std::size_t i = 1; i < v.fingers.size(); ++i) v.fingers[i] = Contact{};
  const Contact got = logic::closest_preceding_finger(v.table(), Id(4));
  CHECK_MESSAGE(
      same(got, ring.contact(Id(63))),
      "closest_preceding_finger(4) at 52 knowing only finger 0 = 54 and the successor list 54, 56, 60, 63 should be 63 "
      "(the farthest successor-list entry in (52, 4) lies beyond the finger), your code returned "
          << describe(got));
  mistakes.summary("answers of closest_preceding_finger");
}

GRADED_TEST("chord-routing", 4, "find_successor_step: every node and every key of the lecture rings including keys equal to node ids") {
  every_node_every_key(kFigure4, 3, check_step, "answers of find_successor_step");
  every_node_every_key(kFigure5, 6, check_step, "answers of find_successor_step");
}

GRADED_TEST("chord-routing", 2, "find_successor_step: a ring of one and a node without successor and a two-node ring") {
  // A ring of one: node 5 is its own successor, so (5, 5] is the whole circle: every key is done at 5.
  const TestRing one({Id(5)}, 3);
  const NodeView alone = node_view(one, Id(5), 3);
  for (std::uint64_t key = 0; key < 8; ++key) {
    const logic::Step got = logic::find_successor_step(alone.table(), Id(key));
    CHECK_MESSAGE((got.done && same(got.node, alone.self)), "a ring of one (node 5, its own successor): lookup("
                                                                << key
                                                                << ") is in (5, 5], the whole circle, so the answer is "
                                                                   "done with owner 5; your code said "
                                                                << describe(got));
  }
  // Without any successor: {false, nobody}.
  NodeView lost = node_view(one, Id(5), 3);
  lost.successors.clear();
  for (auto& f : lost.fingers) f = Contact{};
  const logic::Step none = logic::find_successor_step(lost.table(), Id(3));
  CHECK_MESSAGE((!none.done && !none.node.known()),
                "a node without any successor must answer not done and nobody, your code said " << describe(none));
  // Two nodes 1 and 6 (m = 3): every key from both.
  every_node_every_key({1, 6}, 3, check_step, "answers of find_successor_step");
}

GRADED_TEST("chord-routing", 3, "both functions on random rings of 160-bit ids against the brute force") {
  Mistakes mistakes;
  std::mt19937_64 rng(2001);
  for (int trial = 0; trial < 6; ++trial) {
    std::vector<Id> ids;
    const int count = trial == 0 ? 2 : 40 * trial;
    for (int k = 0; k < count; ++k) ids.push_back(random_id(rng, 160));
    if (trial == 1) ids.push_back(Id());  // id 0 and 2^160 - 1: the wrap
    if (trial == 1) ids.push_back(edge_ids(160)[2]);
    const TestRing ring(ids, 160);
    for (int t = 0; t < 150; ++t) {
      const Id n = ring.id(static_cast<std::size_t>(rng() % ring.size()));
      const NodeView v = node_view(ring, n, 1 + static_cast<int>(rng() % 5));
      Id key = random_id(rng, 160);
      if (t % 5 == 1) key = ring.id(static_cast<std::size_t>(rng() % ring.size()));  // a key equal to a node id
      if (t % 5 == 2) key = Big::add(Big::from(n), Big(1), 160).to_id();
      if (t % 5 == 3) key = n;
      check_cpf(mistakes, v, key);
      check_step(mistakes, v, key);
    }
  }
  mistakes.summary("answers");
}

GRADED_TEST("chord-routing", 3, "end to end: on a frozen ring of 200 peers every lookup finds the brute-force owner in O(log N) hops") {
  // 200 peers with random 160-bit ids (SHA-1 of addresses), the converged ring installed, no
  // maintenance: only your routing decides. 400 lookups of random keys from random peers.
  auto run = run_scenario({{"protocol", "chord"},
                           {"seed", 77},
                           {"params", {{"m", 160}, {"successors", 4}, {"maintenance", false}}},
                           {"network", {{"latency", {{"model", "uniform"}, {"min_ms", 2}, {"max_ms", 20}}}}},
                           {"peers", {{"count", 200}}},
                           {"bootstrap", "oracle"},
                           {"events", {{{"at_ms", 100}, {"op", "lookups"}, {"count", 400}, {"spread_ms", 2000}}}},
                           {"run_ms", 10000}});
  const LookupCheck c = check_user_lookups(*run);
  CHECK_MESSAGE(c.total == 400, "expected 400 finished lookups, there were " << c.total);
  CHECK_MESSAGE(c.right == c.total,
                (c.total - c.right) << " of " << c.total << " lookups did not find successor(key):" << lines(c.wrong));
  // The lecture: each step at least halves the distance to the key, so O(log N) hops; about
  // (1/2) log2 N = 3.8 on average for N = 200.
  const double log2n = std::log2(200.0);
  CHECK_MESSAGE(c.mean_hops <= log2n, "lookups took " << c.mean_hops
                                                      << " hops on average, expected about (1/2) log2 N = " << log2n / 2
                                                      << " and at most log2 N = " << log2n
                                                      << " (do you take the farthest finger before the key?)");
  CHECK_MESSAGE(c.max_hops <= 2 * 8 + 1,
                "a lookup took " << c.max_hops << " hops, expected O(log N): at most 17 for N = 200");
}
