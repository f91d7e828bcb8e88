// Hidden graded tests of exercise chord-routing (grading time only).
#include <cstdint>
#include <string>
#include <vector>

#include "grading.hpp"
#include "grading_util.hpp"

using namespace p2plab;
using namespace p2plab::grading;

GRADED_TEST("chord-routing", 2, "hidden: every key from every node of the 6-bit lecture ring with maintenance running both lookup styles") {
  const std::vector<std::uint64_t> ring = {4,  7,  13, 14, 16, 19, 23, 26, 30, 33,
                                           37, 39, 42, 45, 49, 52, 54, 56, 60, 63};
  for (const std::string style : {"iterative", "recursive"}) {
    CAPTURE(style);
    // fix_fingers refreshes the fingers with lookups that run through your routing too.
    nlohmann::json events = nlohmann::json::array();
    int at = 2000;
    for (std::uint64_t from : ring) {
      for (int key = 0; key < 64; ++key) {
        events.push_back({{"at_ms", at}, {"op", "lookup"}, {"from", from}, {"key", key}});
        at += 3;
      }
    }
    auto run = run_scenario(chord_scenario(6, 3, ring, "oracle", events, at + 3000.0, 9, {{"lookup", style}}));
    const LookupCheck c = check_user_lookups(*run);
    CHECK_MESSAGE(c.total == 20 * 64,
                  "expected " << 20 * 64 << " finished lookups (" << style << "), there were " << c.total);
    CHECK_MESSAGE(c.right == c.total,
                  (c.total - c.right) << " lookups (" << style << ") did not find successor(key):" << lines(c.wrong));
    CHECK_MESSAGE(c.max_hops <= 6, "a lookup took " << c.max_hops << " hops, at most m = 6 expected");
  }
}
