#pragma once
// A bundle of plausible mistakes (tests/grading/mutants/<exercise>--plausible-mistakes/): a
// correct solution of the exercise in which each mistake is one `if (mistake("name"))`. The
// environment variable P2PLAB_MISTAKE names the one the program makes; without it the bundle is
// correct (CI checks that it then scores full marks, so each mistake alone loses the points).
// One program per exercise instead of one per mistake: the suite links 7, not 40.
#include <cstdlib>
#include <cstring>

inline bool mistake(const char* name) {
  static const char* const chosen = std::getenv("P2PLAB_MISTAKE");
  return chosen != nullptr && std::strcmp(chosen, name) == 0;
}
