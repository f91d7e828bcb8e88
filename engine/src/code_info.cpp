// Separate from the rest of the engine: only programs that link a code set (cmake/Exercises.cmake)
// define linked_exercise_table, and only they pull this file in.
#include "p2plab/code_info.hpp"

namespace p2plab {

const std::vector<ExerciseCode>& linked_exercise_code() {
  static const std::vector<ExerciseCode> code = [] {
    std::vector<ExerciseCode> entries;
    for (const ExerciseCode* c = linked_exercise_table; c->exercise != nullptr; ++c) entries.push_back(*c);
    return entries;
  }();
  return code;
}

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
