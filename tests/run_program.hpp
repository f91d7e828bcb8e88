#pragma once
// Runs a program the way a user does, from a shell command line, and collects what it printed
// (standard output and error together) and how it ended. For tests of whole programs (p2plab,
// p2plab-toy): exit codes and messages are part of what they promise.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace p2plab::test {

struct ProgramOutcome {
  int exit_code = -1;     ///< -1 when the program did not exit by itself (a signal ended it)
  bool signaled = false;  ///< a signal ended it (a crash: SIGSEGV, SIGABRT, ...)
  std::string output;     ///< standard output and standard error, interleaved
};

/// `binary arguments 2>&1` through the shell (arguments may hold quotes and redirections).
inline ProgramOutcome run_program(const std::string& binary, const std::string& arguments) {
  const std::string command = binary + " " + arguments + " 2>&1";
  ProgramOutcome o;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) o.output += buffer.data();
  const int status = pclose(pipe);
  o.signaled = WIFSIGNALED(status);
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

}  // namespace p2plab::test
