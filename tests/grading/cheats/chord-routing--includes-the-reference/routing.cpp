// Cheat of exercise chord-routing: compiles the reference solution in place of its own code when
// the reference's folder is on the include path (which once scored 25/25 on a stub). A student's
// file sees only the student-facing headers (p2plab_compile_as_student), so this is the stub.
// Must score zero.
#if __has_include("logic_routing.cpp")
#include "logic_routing.cpp"
#else
#include "../../../../exercises/chord-routing/routing.cpp"
#endif
