// Hidden graded test of exercise central-index: crashed peers are unregistered by the server's
// keepalive sweep; peers that rejoin register again.
#include <set>
#include <string>

#include "central_index/central_index.hpp"
#include "grading.hpp"
#include "search_support.hpp"

using namespace p2plab;

GRADED_TEST("central-index", 2, "crashed peers vanish from the index after the keepalive sweep and returning peers register again") {
  nlohmann::json events = nlohmann::json::array();
  for (int k = 0; k < 8; ++k) events.push_back({{"at_ms", 500 + k}, {"op", "fail"}, {"peer", 40 + k}});
  for (int k = 0; k < 4; ++k) events.push_back({{"at_ms", 1000 + k}, {"op", "leave"}, {"peer", 50 + k}});
  for (int k = 0; k < 4; ++k) events.push_back({{"at_ms", 2000 + k}, {"op", "join"}, {"id", 50 + k}});
  for (int k = 0; k < 20; ++k)
    events.push_back(
        {{"at_ms", 6000 + 50 * k}, {"op", "query"}, {"from", 1 + k}, {"name", "item-" + std::to_string(k)}});
  auto run = grading::make_run<central_index::Protocol>(
      {{"protocol", "central_index"},
       {"seed", 3},
       {"params", {{"server", 0}, {"timeout_ms", 500}, {"keepalive_ms", 1000}}},
       {"peers", {{"count", 60}}},
       {"items", {{"count", 20}, {"replicas", 5}}},
       {"events", events},
       {"run_ms", 8000}});
  run->run_to_end();
  const auto& records = run->log().records();
  REQUIRE(records.size() == 20);
  int wrong = 0, found = 0;
  for (const search::QueryRecord& q : records) {
    std::set<PeerIndex> expected;
    for (PeerIndex p : grading::sharers(*run, q.name)) {
      if (run->simulator().is_up(p)) expected.insert(p);
    }
    found += static_cast<int>(q.hits.size());
    wrong += q.hits == expected ? 0 : 1;
  }
  CHECK_MESSAGE(wrong == 0, wrong << " of 20 searches did not return exactly the live providers (peers 40..47 crashed "
                                     "and must be unregistered by the sweep; 50..53 left and came back)");
  CHECK(found > 0);
}
