// Hidden graded test of exercise superpeer: a network grown by real joins (ATTACH, refusals,
// promotions, ANNOUNCE messages), then searched.
#include "grading.hpp"
#include "search_support.hpp"
#include "superpeer/superpeer.hpp"

using namespace p2plab;

GRADED_TEST("superpeer", 3, "a network grown by joins: capable peers refused by full superpeers serve and every search succeeds") {
  auto run = grading::make_run<superpeer::Protocol>(
      {{"protocol", "superpeer"},
       {"seed", 4},
       {"params", {{"superpeer_ratio", 0.1}, {"superpeers_per_leaf", 2}}},
       {"peers", {{"count", 120}, {"capacities", {{"random", true}, {"nat_fraction", 0.3}}}}},
       {"items", {{"count", 30}, {"replicas", 2}}},
       {"bootstrap", "join"},
       {"join_interval_ms", 50},
       {"events", {{{"at_ms", 9000}, {"op", "queries"}, {"count", 60}, {"spread_ms", 10000}}}},
       {"run_ms", 25000}});
  run->run_to_end();
  const auto& protocol = run->protocol();
  int superpeers = 0, orphans = 0;
  for (PeerIndex p = 0; p < 120; ++p) {
    if (protocol.is_superpeer(p)) {
      ++superpeers;
    } else if (protocol.superpeers_of(p).empty()) {
      ++orphans;
    }
  }
  CHECK_MESSAGE(superpeers >= 6,
                "120 peers joined with superpeer_ratio 0.1: capable newcomers refused by superpeers that "
                "have their share must become superpeers; only "
                    << superpeers << " did");
  CHECK_MESSAGE(superpeers <= 90, superpeers
                                      << " of 120 peers are superpeers: superpeers must accept leaves (ATTACH) up to "
                                         "their share");
  CHECK_MESSAGE(orphans <= 6, orphans << " of the leaves have no superpeer (ATTACH must be accepted)");
  const RunSummary s = run->summary();
  CHECK_MESSAGE(s.success_rate >= 0.95, "only " << s.success_rate * 100
                                                << "% of 60 searches found a file that exists: "
                                                   "leaves must ANNOUNCE their files and "
                                                   "superpeers answer for them");
}
