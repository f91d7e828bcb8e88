// Separate from the rest of the engine: only programs that link a code set (cmake/Exercises.cmake)
// define linked_exercise_code(), and only they pull this file in.
#include "p2plab/code_info.hpp"

namespace p2plab {

std::string describe_linked_code() {
  std::string mine;
  bool all = true;
  for (const ExerciseCode& c : linked_exercise_code()) {
    if (!c.student) {
      all = false;
      continue;
    }
    if (!mine.empty()) mine += ", ";
    mine += c.exercise;
  }
  if (mine.empty()) return "the reference code";
  return "your code for " + mine + (all ? "" : " (reference for the rest)");
}

}  // namespace p2plab
