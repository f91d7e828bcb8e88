// Hidden graded tests of exercise chord-intervals (grading time only).
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "grading.hpp"
#include "grading_util.hpp"

using namespace p2plab;
using namespace p2plab::grading;
namespace logic = p2plab::chord::logic;

GRADED_TEST("chord-intervals", 1, "hidden: add_mod and sub_mod and finger_start at the 64-bit limb boundaries and for m = 1") {
  Mistakes mistakes;
  std::mt19937_64 rng(64);
  for (const int m : {1, 2, 63, 64, 65, 127, 128, 129, 159, 160}) {
    std::vector<Id> values = edge_ids(m);
    for (const int bit : {63, 64, 127, 128}) {
      if (bit < m) {
        values.push_back(Big::pow2(bit).to_id());
        values.push_back(Big::sub(Big::pow2(bit), Big(1), m).to_id());
      }
    }
    for (int t = 0; t < 4; ++t) values.push_back(random_id(rng, m));
    for (const Id& a : values) {
      for (const Id& b : values) {
        const Id add = logic::add_mod(a, b, m), sub = logic::sub_mod(a, b, m);
        const Id want_add = Big::add(Big::from(a), Big::from(b), m).to_id(),
                 want_sub = Big::sub(Big::from(a), Big::from(b), m).to_id();
        if (add != want_add) {
          mistakes.add("add_mod(" + dec(a) + ", " + dec(b) + ", " + std::to_string(m) + ") should be " + dec(want_add) +
                       ", your code returned " + dec(add));
        }
        if (sub != want_sub) {
          mistakes.add("sub_mod(" + dec(a) + ", " + dec(b) + ", " + std::to_string(m) + ") should be " + dec(want_sub) +
                       ", your code returned " + dec(sub));
        }
      }
      for (int i = 0; i < m; i += (m > 8 ? 7 : 1)) {
        const Id got = logic::finger_start(a, i, m), want = Big::add(Big::from(a), Big::pow2(i), m).to_id();
        if (got != want) {
          mistakes.add("finger_start(" + dec(a) + ", " + std::to_string(i) + ", " + std::to_string(m) + ") should be " +
                       dec(want) + ", your code returned " + dec(got));
        }
      }
    }
  }
  mistakes.summary("results");
}

GRADED_TEST("chord-intervals", 1, "hidden: figure 3 address space with m = 12: my data 3107 is stored on 3485 and every lookup is right") {
  // Nodes of the lecture's figure 3; 3485 holds 2907..3485 and 611 holds 3486..4095 and 0..611.
  const std::vector<std::uint64_t> nodes = {611, 709, 1008, 1622, 2011, 2207, 2906, 3485};
  nlohmann::json events = {{{"at_ms", 10}, {"op", "put"}, {"from", 709}, {"key", 3107}, {"value", "my data"}}};
  const std::uint64_t keys[] = {0, 1, 611, 612, 709, 2906, 2907, 3107, 3485, 3486, 4095};
  int at = 100;
  for (std::uint64_t from : nodes) {
    for (std::uint64_t key : keys)
      events.push_back({{"at_ms", at += 5}, {"op", "lookup"}, {"from", from}, {"key", key}});
  }
  auto run = run_scenario(chord_scenario(12, 3, nodes, "oracle", events, 2000, 5, {{"maintenance", false}}));
  const chord::PeerSnapshot s = run->protocol().snapshot(run->peer_by_id(Id(3485)));
  CHECK_MESSAGE(
      std::find(s.keys.begin(), s.keys.end(), Id(3107)) != s.keys.end(),
      "H(\"my data\") = 3107 lies in (2906, 3485]: node 3485 should hold it, with your intervals it does not");
  const LookupCheck c = check_user_lookups(*run);
  CHECK_MESSAGE((c.total == nodes.size() * std::size(keys) && c.right == c.total),
                c.right << " of " << c.total << " lookups right:" << lines(c.wrong));
}
