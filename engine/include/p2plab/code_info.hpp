#pragma once
// Which code a program runs for each exercise: the reference solution or the student's
// (exercises/README.md). The build generates the definition for each program's code set, so a
// program can say on screen whose code it shows.
#include <string>
#include <vector>

#include "p2plab/linked_code.hpp"

namespace p2plab {

/// Every exercise linked into this program, in declaration order.
const std::vector<ExerciseCode>& linked_exercise_code();

/// "the reference code", or "your code for chord-intervals, chord-routing (reference for the
/// rest)", for status lines.
std::string describe_linked_code();

}  // namespace p2plab
