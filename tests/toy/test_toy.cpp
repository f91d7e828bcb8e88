// The toy protocol (toy_protocol.cpp) through the real command line: `p2plab-toy` is p2plab linked
// with that one file, and must list it and run it like a built-in protocol. Every lookup's answer
// is checked against the brute-force successor of its key among the scenario's ids.
#include <doctest/doctest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "run_program.hpp"

namespace {

using Outcome = p2plab::test::ProgramOutcome;

Outcome run_toy(const std::string& arguments) { return p2plab::test::run_program(P2PLAB_TOY_BINARY, arguments); }

/// The first id at or after key on the circle, wrapping to the smallest.
std::uint64_t brute_successor(std::vector<std::uint64_t> ids, std::uint64_t key) {
  std::sort(ids.begin(), ids.end());
  for (std::uint64_t id : ids) {
    if (id >= key) return id;
  }
  return ids.front();
}

}  // namespace

TEST_CASE("toy protocol: p2plab-toy lists it beside the built-in protocols") {
  const Outcome o = run_toy("list --labs " P2PLAB_TOY_DIR);
  CAPTURE(o.output);
  CHECK(o.exit_code == 0);
  CHECK(o.output.find("  toy_ring ") != std::string::npos);
  CHECK(o.output.find("each peer knows only its successor") != std::string::npos);
}

TEST_CASE("toy protocol: its tool is a command of p2plab-toy, with its argument and option") {
  Outcome o = run_toy("toy_ring successor 6 --ids 9,2,5,14");
  CAPTURE(o.output);
  CHECK(o.exit_code == 0);
  CHECK(o.output == "9\n");
  CHECK(run_toy("toy_ring successor 15 --ids 9,2,5,14").output == "2\n");  // past the last id: wraps
  o = run_toy("toy_ring successor seven --ids 1");
  CHECK(o.exit_code == 2);
  CHECK(o.output.find("must be whole numbers") != std::string::npos);
  CHECK(run_toy("toy_ring successor").exit_code == 2);  // the argument is required
  CHECK(run_toy("toy_ring --help").output.find("successor") != std::string::npos);
}

TEST_CASE("toy protocol: p2plab-toy runs its scenario and every lookup finds the true successor") {
  const std::filesystem::path out =
      std::filesystem::temp_directory_path() / ("p2plab-toy-" + std::to_string(::getpid()) + ".json");
  const Outcome o = run_toy("run " P2PLAB_TOY_DIR "/toy_scenario.json --out " + out.string());
  CAPTURE(o.output);
  REQUIRE(o.exit_code == 0);
  std::ifstream in(out);
  const nlohmann::json result = nlohmann::json::parse(in);
  std::filesystem::remove(out);
  std::ifstream scenario_file(P2PLAB_TOY_DIR "/toy_scenario.json");
  const nlohmann::json scenario = nlohmann::json::parse(scenario_file);
  const auto ids = scenario["peers"]["ids"].get<std::vector<std::uint64_t>>();

  CHECK(result["protocol"] == "toy_ring");
  const auto& lookups = result["lookups"];
  REQUIRE(lookups.size() == 44);  // four single lookups and a batch of 40
  for (const auto& l : lookups) {
    CAPTURE(l.dump());
    REQUIRE(l["completed"] == true);
    CHECK(l["ok"] == true);  // the toy's own oracle agrees
    const auto key = l["key"].get<std::uint64_t>();
    CHECK(key < 64);
    CHECK(l["owner"].get<std::uint64_t>() == brute_successor(ids, key));
    // One successor per step: the walk takes as many hops as peers lie strictly between the
    // requester and the owner, going clockwise.
    const auto from = l["from"].get<std::uint64_t>(), owner = l["owner"].get<std::uint64_t>();
    std::uint64_t between = 0;
    for (std::uint64_t id : ids) {
      const std::uint64_t d_id = (id - from + 64) % 64, d_owner = (owner - from + 64) % 64;
      between += d_id > 0 && (d_owner == 0 ? id != from : d_id < d_owner);
    }
    CHECK(l["hops"].get<std::uint64_t>() == between);
  }
  CHECK(lookups[0]["owner"] == 56);  // key 54: 56 is the next id
  CHECK(lookups[1]["owner"] == 1);   // key 0 wraps to the smallest id
  CHECK(lookups[2]["owner"] == 1);   // a peer's own id: it is its own key's successor
  CHECK(result["metrics"]["lookups"] == 44);
  CHECK(result["metrics"]["lookups_ok"] == 44);
  CHECK(result["peers"].size() == ids.size());
}

TEST_CASE("toy protocol: compare measures it through its model, and finds the walk O(N)") {
  // A lookup that walks successor by successor costs about N/2 messages: doubling N doubles it.
  const Outcome o = run_toy("compare --protocols toy_ring --min-log2 4 --max-log2 7 --queries 30 --items 10 --quiet");
  CAPTURE(o.output);
  REQUIRE(o.exit_code == 0);
  CHECK(o.output.find("toy_ring       measured O(N)") != std::string::npos);
  CHECK(o.output.find("lecture: O(N)") != std::string::npos);
}
