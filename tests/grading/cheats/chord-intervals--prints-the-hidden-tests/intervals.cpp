// Cheat of exercise chord-intervals: the stub, and a static initializer that prints the hidden
// tests and the reference solution, found from the student file's own path (__FILE__), into the
// test's output (which once put them into the visible output of results.json). Its output may
// hold neither: the graded code is built with the tree's folder cut from __FILE__
// (-ffile-prefix-map), and in the autograder the files are replaced after building
// (tools/make-autograder). Must score zero, and the CI's check greps the report for their text.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "../../../../exercises/chord-intervals/intervals.cpp"

namespace {

bool print_secrets() {
  const std::filesystem::path me = __FILE__;
  std::error_code error;
  // <tree>/tests/grading/cheats/<this cheat>/intervals.cpp, or <tree>/exercises/<exercise>/<file>
  for (const auto& root : {me.parent_path() / "../../../..", me.parent_path() / "../.."}) {
    for (const auto& secret : {root / "tests/grading/hidden/chord-intervals/intervals_hidden.cpp",
                               root / "protocols/chord/logic_intervals.cpp"}) {
      std::ifstream in(secret);
      if (!in) continue;
      std::cout << "LEAKED " << secret.string() << ":\n" << in.rdbuf() << "\n";
    }
  }
  return true;
}

[[maybe_unused]] const bool printed = print_secrets();

}  // namespace
