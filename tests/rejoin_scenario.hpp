#pragma once
// A join whose bootstrap peer crashes under it, for the DHTs whose scenarios try a failed join
// again (dht::DhtScenario::rejoin_through: CAN, Pastry). Each protocol's test then checks that
// the newcomer holds its part of the overlay.
#include <doctest/doctest.h>

#include <string>

#include <nlohmann/json.hpp>

namespace p2plab::test {

/// Eight peers; 100 joins through 3, which crashes a millisecond later, before the join's request
/// arrives; 20 lookups at 60 s.
inline nlohmann::json rejoin_scenario(const std::string& protocol) {
  return {{"protocol", protocol},
          {"seed", 5},
          {"network", {{"latency", {{"model", "uniform"}, {"min_ms", 5}, {"max_ms", 50}}}}},
          {"peers", {{"ids", {1, 2, 3, 4, 5, 6, 7, 8}}}},
          {"bootstrap", "join"},
          {"join_interval_ms", 1000},
          {"events",
           {{{"at_ms", 20000}, {"op", "join"}, {"id", 100}, {"via", 3}},
            {{"at_ms", 20001}, {"op", "fail"}, {"peer", 3}},
            {{"at_ms", 60000}, {"op", "lookups"}, {"count", 20}, {"spread_ms", 2000}}}},
          {"run_ms", 70000}};
}

/// The run's result says, once, that 100's join failed after the crash and that it joins again
/// through a live peer other than 3; and every lookup found its key's owner.
inline void check_rejoined(const nlohmann::json& result) {
  REQUIRE(result.at("warnings").size() == 1);
  const std::string warning = result.at("warnings")[0];
  const std::string head = "peer 100: join failed at ";
  REQUIRE(warning.rfind(head, 0) == 0);
  CHECK(std::stod(warning.substr(head.size())) > 20001.0);
  const std::string through = warning.substr(warning.rfind(' ') + 1);
  CHECK(warning.find(" ms; joining again through " + through) != std::string::npos);
  CHECK(through != "3");
  CHECK(through != "100");
  REQUIRE(result.at("lookups").size() == 20);
  for (const auto& l : result.at("lookups")) CHECK(l.at("ok") == true);
}

}  // namespace p2plab::test
