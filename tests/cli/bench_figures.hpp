#pragma once
// Runs `p2plab bench ...` as a user does, with --json into a temporary file, and returns what it
// printed, how it ended and the figures it wrote (the test stops if it failed or wrote none).
#include <doctest/doctest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "run_program.hpp"

namespace p2plab::test {

struct BenchRun {
  ProgramOutcome outcome;
  nlohmann::json figures;
};

inline BenchRun run_bench_json(const std::string& arguments) {
  namespace fs = std::filesystem;
  const fs::path json = fs::temp_directory_path() / ("p2plab-bench-" + std::to_string(::getpid()) + ".json");
  BenchRun b;
  b.outcome = run_program(P2PLAB_BINARY, "bench " + arguments + " --json " + json.string());
  CAPTURE(b.outcome.output);
  REQUIRE(b.outcome.exit_code == 0);
  std::ifstream in(json);
  REQUIRE(in);
  b.figures = nlohmann::json::parse(in);
  fs::remove(json);
  return b;
}

}  // namespace p2plab::test
