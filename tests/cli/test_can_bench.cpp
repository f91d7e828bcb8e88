// `p2plab bench can` says before a long run why it will be long: CAN's path length (d/4) N^(1/d)
// at the chosen d, and a d whose paths are short (at N = 10^6 and the default d = 2 a run sat
// silent for minutes). The estimate is checked against the run's own mean hops.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "bench_figures.hpp"

TEST_CASE("bench can: a long path length is announced first, with a dimension count that routes shorter") {
  // d = 1 among 2000 peers: (1/4) 2000 = 500 hops; d = 2 would take (2/4) sqrt(2000) = 22.
  const p2plab::test::BenchRun line = p2plab::test::run_bench_json("can --peers 2000 --seconds 0.05 --d 1");
  const std::string& out = line.outcome.output;
  CAPTURE(out);
  const auto warning = out.find("with d = 1 a lookup among 2000 peers takes about (d/4) N^(1/d) = 500 hops");
  REQUIRE(warning != std::string::npos);
  CHECK(out.find("(--d 2: about 22 hops)", warning) != std::string::npos);
  CHECK(warning < out.find("p2plab bench can: N = 2000"));  // before the run, not after it
  // The estimate is what the run measures (random joins: zones of unequal sizes, within a fifth).
  const double mean = line.figures["mean_hops"].get<double>();
  CHECK(mean > 400);
  CHECK(mean < 600);

  // Short paths: nothing said.
  const p2plab::test::BenchRun grid = p2plab::test::run_bench_json("can --peers 2000 --seconds 0.05 --d 2");
  CHECK(grid.outcome.output.find("takes about") == std::string::npos);
}
