# One place for compiler flags every p2plab target shares.
add_library(p2plab_flags INTERFACE)
target_compile_options(p2plab_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  # Bit-identical floating point on every machine: no fused multiply-add contraction.
  -ffp-contract=off)
if(P2PLAB_WERROR)
  target_compile_options(p2plab_flags INTERFACE -Werror)
endif()
# AddressSanitizer and UndefinedBehaviorSanitizer, without UBSan's null, alignment, object-size,
# pointer-overflow and vptr checks: the first three double the compile time of every file (a check
# on each memory access), pointer-overflow alone is a sixth of the sanitized build's compile time
# (a check on each pointer arithmetic: 9.2 -> 7.6 s for test_unstructured.cpp, with UBSan's other
# checks kept), and AddressSanitizer already reports what they would catch here: a null
# dereference is a SEGV it reports with a stack trace, an access past an object (where a pointer
# that overflowed leads) is a buffer overflow it reports, and the wire decoders read byte by byte
# (nlohmann::json's CBOR reader), never through a cast pointer. (vptr: a dynamic type check on each
# call through a polymorphic pointer; p2plab's few interfaces are never downcast.)
if(P2PLAB_SANITIZE)
  set(p2plab_sanitizers -fsanitize=address,undefined -fno-sanitize=null,alignment,object-size,pointer-overflow,vptr)
  target_compile_options(p2plab_flags INTERFACE ${p2plab_sanitizers} -fno-omit-frame-pointer
                                                -fno-sanitize-recover=undefined)
  target_link_options(p2plab_flags INTERFACE ${p2plab_sanitizers})
endif()
# ThreadSanitizer, for the parallel simulator's threads (it cannot be combined with
# AddressSanitizer: a build of its own, by hand; README, Tests).
if(P2PLAB_TSAN)
  target_compile_options(p2plab_flags INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(p2plab_flags INTERFACE -fsanitize=thread)
endif()
# LLVM's linker where it is installed (tools/install-deps.sh installs it): the suite links about a
# hundred sanitized programs, and lld links each in about 0.7 s of CPU where GNU ld takes 1.2 s.
include(CheckLinkerFlag)
check_linker_flag(CXX -fuse-ld=lld P2PLAB_HAVE_LLD)
if(P2PLAB_HAVE_LLD)
  target_link_options(p2plab_flags INTERFACE -fuse-ld=lld)
endif()

# Test programs are mostly doctest and JSON templates: -O1 compiles them a third faster, and what
# they test (engine, protocols) keeps the build's full optimization in its own libraries. In the
# sanitizer build (RelWithDebInfo, the suite's) they compile at -O0.
add_library(p2plab_test_flags INTERFACE)
target_compile_options(p2plab_test_flags INTERFACE $<$<CONFIG:Release>:-O1> $<$<CONFIG:RelWithDebInfo>:-O0>)
