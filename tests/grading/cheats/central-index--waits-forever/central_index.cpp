// Runaway submission of exercise central-index: the untouched stub, and a static initializer that
// waits forever. Each test runs into its time limit; the grading as a whole stops at its total
// time limit (grader-args: --total-timeout 3, ctest-timeout: 20 s, where 5 tests of 30 s each
// on 2 jobs would take 90 s), the tests it could not start reported "not run". Must score zero.
#include <chrono>
#include <thread>

#include "../../../../exercises/central-index/central_index.cpp"

namespace {

bool wait_forever() {
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
}

[[maybe_unused]] const bool waited = wait_forever();

}  // namespace
