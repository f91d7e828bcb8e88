#pragma once
// A bundle of plausible mistakes (tests/grading/mutants/<exercise>--plausible-mistakes/): a
// correct solution of the exercise in which each mistake is one `if (mistake("name"))`. The
// environment variable P2PLAB_MISTAKE names the one the program makes; without it the bundle is
// correct (CI checks that it then scores full marks, so each mistake alone loses the points).
// Every exercise's bundle is linked into one program, grade_plausible_mistakes (a mistake's name is
// unique across bundles): the suite links 1 program, not one per exercise or per mistake.
#include <cstdlib>
#include <cstring>

inline bool mistake(const char* name) {
  static const char* const chosen = std::getenv("P2PLAB_MISTAKE");
  return chosen != nullptr && std::strcmp(chosen, name) == 0;
}
