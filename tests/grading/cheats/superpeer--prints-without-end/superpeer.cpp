// Cheat (or accident) of exercise superpeer: the untouched stub, and a static initializer that
// prints without end (once: 1 GB of grader memory in 2 s, gigabytes of disk per test). Must score
// zero, each test stopped by the output limit, the grader staying small.
#include <cstdio>

#include "../../../../exercises/superpeer/superpeer.cpp"

namespace {

bool print_forever() {
  for (;;) std::fputs("debug: still here, printing one more line of output to fill the log\n", stdout);
}

[[maybe_unused]] const bool printed = print_forever();

}  // namespace
