// Helpers the window tests share (test_screenshots.cpp, test_interactive.cpp, test_charts.cpp:
// one test program, compiled as one translation unit).
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <string>

namespace viz_test {

/// Runs a shell command; its exit status, or -1 if a signal ended it.
inline int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// The start of a shell command that runs what follows in a fresh X server of `size` pixels
/// ("1280x800"). -n: a display number from the shell's pid, where xvfb-run would try 99 first
/// (-a then steps to a free one), so tests run side by side do not race for the same display.
inline std::string in_xvfb(const std::string& size) {
  return "xvfb-run -n $((100 + $$ % 20000)) -a -s '-screen 0 " + size + "x24' ";
}

/// Bits in x XOR y (0 for x == y): k-bucket xor_bits(x, y) - 1 of x holds y.
/// Example: x = 5 (101), y = 4 (100): x ^ y = 1, one bit: y is in x's bucket 0.
inline int xor_bits(long x, long y) {
  int bits = 0;
  for (unsigned long d = static_cast<unsigned long>(x ^ y); d != 0; d >>= 1) ++bits;
  return bits;
}

}  // namespace viz_test
