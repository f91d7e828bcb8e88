// `p2plab bench chord|kademlia|pastry|can --threads 2 --json FILE` as a user runs it: the
// partitions the figures name cover the peers in order, their events add up to the run's, the
// printed line says the same, and CAN's partitions (cut at equal work) are about even.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "bench_figures.hpp"

TEST_CASE("bench --threads 2: each partition's first peer and events, adding up to the run's events") {
  for (const std::string arguments : {"chord --peers 3000 --seconds 5", "kademlia --peers 2000 --seconds 1",
                                      "pastry --peers 3000 --seconds 5", "can --peers 3000 --seconds 5 --d 3"}) {
    CAPTURE(arguments);
    const p2plab::test::BenchRun b = p2plab::test::run_bench_json(arguments + " --threads 2");
    CAPTURE(b.outcome.output);
    const nlohmann::json& f = b.figures;
    REQUIRE(f.contains("partitions"));
    const auto starts = f["partitions"]["starts"].get<std::vector<std::uint64_t>>();
    const auto events = f["partitions"]["events"].get<std::vector<std::uint64_t>>();
    REQUIRE(starts.size() == 2);
    REQUIRE(events.size() == 2);
    CHECK(starts[0] == 0);
    CHECK(starts[1] > 0);
    CHECK(starts[1] < f["peers"].get<std::uint64_t>());
    CHECK(events[0] + events[1] == f["events"].get<std::uint64_t>());
    CHECK(events[0] > 0);
    CHECK(events[1] > 0);
    // The printed line names the same first peers.
    CHECK(b.outcome.output.find("first peers 0, " + std::to_string(starts[1]) + "\n") != std::string::npos);
    if (arguments.starts_with("can")) {
      // Cut at equal work: the first partition holds the large early zones, so fewer peers.
      const double busiest =
          static_cast<double>(std::max(events[0], events[1])) / static_cast<double>(events[0] + events[1]);
      CHECK(busiest < 0.55);
      CHECK(starts[1] < f["peers"].get<std::uint64_t>() / 2);
    } else {
      CHECK(starts[1] == f["peers"].get<std::uint64_t>() / 2);  // equal counts
    }
  }
}
