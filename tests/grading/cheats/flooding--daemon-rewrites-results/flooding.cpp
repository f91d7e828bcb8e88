// Cheat of exercise flooding: the untouched stub, and a static initializer that leaves behind a
// daemon (a new session, its parent gone) which, from 300 ms on and for 4 s, overwrites the
// grader's results.json with full marks. On Gradescope it would aim at
// /autograder/results/results.json; here at the files the CI's checks read,
// <build>/grading-cheats/*/results.json (the test program lives in <build>/bin). It must change
// nothing: the grader ends every process a test started before it writes its results.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "../../../../exercises/flooding/flooding.cpp"

namespace {

void rewrite_results_for_a_while() {
  std::error_code error;
  const auto build = std::filesystem::read_symlink("/proc/self/exe", error).parent_path().parent_path();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int i = 0; i < 40; ++i) {
    for (const auto& entry : std::filesystem::directory_iterator(build / "grading-cheats", error)) {
      const auto results = entry.path() / "results.json";
      if (std::filesystem::exists(results, error)) std::ofstream(results) << "{\"score\": 150, \"tests\": []}\n";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

bool start_daemon() {
  if (fork() != 0) return true;  // the test program goes on as if nothing happened
  setsid();
  if (fork() != 0) _exit(0);  // the daemon's parent is gone: it is nobody's child in the session
  rewrite_results_for_a_while();
  _exit(0);
}

[[maybe_unused]] const bool daemon_started = start_daemon();

}  // namespace
