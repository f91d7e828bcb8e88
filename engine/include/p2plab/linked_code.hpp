#pragma once
// The table the build generates for each program's code set (cmake/Exercises.cmake). No standard
// header: each of a build's ~30 code sets then compiles in milliseconds (with <vector> and the
// sanitizers, half a second each).

namespace p2plab {

struct ExerciseCode {
  const char* exercise;  // e.g. "chord-routing"
  bool student;          // true: the student's code (exercises/<exercise>/), false: the reference
};

/// Every exercise linked into this program, in declaration order, then {nullptr, false}.
extern const ExerciseCode linked_exercise_table[];

}  // namespace p2plab
