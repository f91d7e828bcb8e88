// Hidden graded tests of exercise chord-failures (grading time only).
#include <cstdint>
#include <string>
#include <vector>

#include "grading.hpp"
#include "grading_util.hpp"

using namespace p2plab;
using namespace p2plab::grading;

GRADED_TEST("chord-failures", 1, "hidden: on the lecture ring 45 and 49 crash and 42 routes around them and key 44 survives") {
  const std::vector<std::uint64_t> ring = {4,  7,  13, 14, 16, 19, 23, 26, 30, 33,
                                           37, 39, 42, 45, 49, 52, 54, 56, 60, 63};
  const nlohmann::json events = {{{"at_ms", 100}, {"op", "put"}, {"from", 4}, {"key", 44}, {"value", "forty-four"}},
                                 {{"at_ms", 1000}, {"op", "fail"}, {"peer", 45}},
                                 {{"at_ms", 1000}, {"op", "fail"}, {"peer", 49}},
                                 {{"at_ms", 5000}, {"op", "get"}, {"from", 23}, {"key", 44}},
                                 {{"at_ms", 5100}, {"op", "lookup"}, {"from", 52}, {"key", 44}}};
  auto run = run_scenario(chord_scenario(6, 3, ring, "oracle", events, 6000, 13));
  const std::vector<std::string> errors = test::routing_state_errors(*run);
  CHECK_MESSAGE(errors.empty(), "4 s after 45 and 49 crashed:" << test::first_errors(errors));
  bool got_it = false, lookup_right = false;
  for (const chord::LookupRecord& r : run->protocol().records()) {
    if (r.purpose == chord::Purpose::Get)
      got_it = r.completed && r.found && run->protocol().value(r.value) == "forty-four";
    if (r.purpose == chord::Purpose::User) lookup_right = r.completed && peer_name(*run, r.owner) == "52";
  }
  CHECK_MESSAGE(got_it, "get(44) after 45 (its owner) and 49 crashed should find \"forty-four\" on 52 (a replica)");
  CHECK_MESSAGE(lookup_right, "lookup(44) after 45 and 49 crashed should answer 52");
}
