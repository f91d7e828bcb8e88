// Cheat of exercise chord-routing: the untouched stub, and a static initializer that ends the
// program with status 0 before any test runs (which once scored full marks). Must score zero.
#include <unistd.h>

#include "../../../../exercises/chord-routing/routing.cpp"

namespace {
[[maybe_unused]] const int ended_before_main = (_exit(0), 0);
}  // namespace
