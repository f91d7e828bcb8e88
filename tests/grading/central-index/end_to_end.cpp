// Graded test of exercise central-index: the real protocol (Napster) running on your code.
#include <set>
#include <string>

#include "central_index/central_index.hpp"
#include "grading.hpp"
#include "search_support.hpp"

using namespace p2plab;

GRADED_TEST("central-index", 4, "a Napster run: searches return exactly the live providers before and after peers leave") {
  nlohmann::json events = nlohmann::json::array();
  for (int k = 0; k < 20; ++k)
    events.push_back(
        {{"at_ms", 100 + 50 * k}, {"op", "query"}, {"from", 1 + k}, {"name", "item-" + std::to_string(k)}});
  for (int k = 0; k < 10; ++k) events.push_back({{"at_ms", 3000 + k}, {"op", "leave"}, {"peer", 30 + k}});
  for (int k = 0; k < 20; ++k)
    events.push_back(
        {{"at_ms", 5000 + 50 * k}, {"op", "query"}, {"from", 1 + k}, {"name", "item-" + std::to_string(k)}});
  auto run = grading::make_run<central_index::Protocol>({{"protocol", "central_index"},
                                                         {"seed", 8},
                                                         {"params", {{"server", 0}, {"timeout_ms", 1000}}},
                                                         {"peers", {{"count", 80}}},
                                                         {"items", {{"count", 20}, {"replicas", 4}}},
                                                         {"events", events},
                                                         {"run_ms", 9000}});
  run->run_to_end();
  const auto& records = run->log().records();
  REQUIRE(records.size() == 40);
  int found = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const search::QueryRecord& q = records[i];
    std::set<PeerIndex> expected;  // brute force over the peers' own file lists
    for (PeerIndex p : grading::sharers(*run, q.name)) {
      const std::uint64_t id = run->id_of(p);
      if (i < 20 || id < 30 || id >= 40) expected.insert(p);
    }
    found += static_cast<int>(q.hits.size());
    CHECK_MESSAGE(q.hits == expected,
                  "SEARCH \"" << run->catalogue().name(q.name) << "\" " << std::string(i < 20 ? "before" : "after")
                              << " peers 30..39 left: the server must answer with the providers "
                              << grading::set_text(expected) << ", it answered " << grading::set_text(q.hits));
  }
  CHECK(found > 0);
}
