# One place for compiler flags every p2plab target shares.
add_library(p2plab_flags INTERFACE)
target_compile_options(p2plab_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  # Bit-identical floating point on every machine: no fused multiply-add contraction.
  -ffp-contract=off)
if(P2PLAB_WERROR)
  target_compile_options(p2plab_flags INTERFACE -Werror)
endif()
if(P2PLAB_SANITIZE)
  target_compile_options(p2plab_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                                -fno-sanitize-recover=undefined)
  target_link_options(p2plab_flags INTERFACE -fsanitize=address,undefined)
endif()

# Test programs are mostly doctest and JSON templates: -O1 compiles them a third faster, and what
# they test (engine, protocols) keeps the build's full optimization in its own libraries. In the
# sanitizer build (RelWithDebInfo, which skips the slow tests) they compile at -O0.
add_library(p2plab_test_flags INTERFACE)
target_compile_options(p2plab_test_flags INTERFACE $<$<CONFIG:Release>:-O1> $<$<CONFIG:RelWithDebInfo>:-O0>)
