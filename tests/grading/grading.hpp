#pragma once
// Graded tests: doctest test cases that carry an exercise name and points.
//
//   GRADED_TEST("chord-routing", 3, "lookup(44) from 52 follows the lecture's route") {
//     ...
//     CHECK_MESSAGE(next == 23, "lookup(44) at 52 should ask 23 next, your code asked " << next);
//   }
//
// The test case is named "<exercise>: <name>" and sits in the doctest test suite <exercise>.
// Names must not contain , * ? [ ] \ (doctest reads them as filter syntax) nor ; (a CMake list).
// A test is all or nothing: any failed CHECK/REQUIRE costs its points. Tests in
// tests/grading/hidden/ are compiled with P2PLAB_GRADING_HIDDEN=1: they run at grading time
// only and never ship to students (tools/make-student-release leaves that folder out).
// Failure messages speak to the student: what was expected, what their code did, in the
// lecture's words.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "p2plab/id.hpp"

// Failed checks show ids as numbers ("values: CHECK( 6 == 0 )"), not as {?}.
namespace doctest {
template <>
struct StringMaker<p2plab::Id> {
  static String convert(const p2plab::Id& id) { return id.to_decimal().c_str(); }
};
}  // namespace doctest

#ifndef P2PLAB_GRADING_HIDDEN
#define P2PLAB_GRADING_HIDDEN 0
#endif

namespace p2plab::grading {

struct GradedTest {
  std::string exercise;
  std::string name;  // the doctest name: "<exercise>: <name>"
  double points = 0;
  bool hidden = false;
  std::string file;
};

/// Every graded test linked into this binary, in registration order.
std::vector<GradedTest>& registry();

struct Registrar {
  Registrar(const char* exercise, const char* name, double points, bool hidden, const char* file);
};

}  // namespace p2plab::grading

#define P2PLAB_GRADING_CAT2(a, b) a##b
#define P2PLAB_GRADING_CAT(a, b) P2PLAB_GRADING_CAT2(a, b)
#define GRADED_TEST(exercise, points, name)                                                     \
  static const ::p2plab::grading::Registrar P2PLAB_GRADING_CAT(graded_registrar_, __COUNTER__)( \
      exercise, exercise ": " name, points, P2PLAB_GRADING_HIDDEN != 0, __FILE__);              \
  TEST_CASE(exercise ": " name* doctest::test_suite(exercise))
