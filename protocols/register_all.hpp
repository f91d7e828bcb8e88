#pragma once
// all_protocols() is declared with the registry (p2plab/registry.hpp) and defined in
// register_all.cpp; this header stays for the code that includes it by this name.
#include "p2plab/registry.hpp"
