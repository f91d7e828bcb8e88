# One place for compiler flags every p2plab target shares.
add_library(p2plab_flags INTERFACE)
target_compile_options(p2plab_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  # Bit-identical floating point on every machine: no fused multiply-add contraction.
  -ffp-contract=off)
if(P2PLAB_WERROR)
  target_compile_options(p2plab_flags INTERFACE -Werror)
endif()
# AddressSanitizer and UndefinedBehaviorSanitizer, without UBSan's null, alignment and object-size
# checks: those three double the compile time of every file (a check on each memory access), and
# AddressSanitizer already reports what they would catch here: a null dereference is a SEGV it
# reports with a stack trace, an access past an object is a buffer overflow it reports, and the
# wire decoders read byte by byte (nlohmann::json's CBOR reader), never through a cast pointer.
if(P2PLAB_SANITIZE)
  set(p2plab_sanitizers -fsanitize=address,undefined -fno-sanitize=null,alignment,object-size)
  target_compile_options(p2plab_flags INTERFACE ${p2plab_sanitizers} -fno-omit-frame-pointer
                                                -fno-sanitize-recover=undefined)
  target_link_options(p2plab_flags INTERFACE ${p2plab_sanitizers})
endif()

# Test programs are mostly doctest and JSON templates: -O1 compiles them a third faster, and what
# they test (engine, protocols) keeps the build's full optimization in its own libraries. In the
# sanitizer build (RelWithDebInfo, which skips the slow tests) they compile at -O0.
add_library(p2plab_test_flags INTERFACE)
target_compile_options(p2plab_test_flags INTERFACE $<$<CONFIG:Release>:-O1> $<$<CONFIG:RelWithDebInfo>:-O0>)
