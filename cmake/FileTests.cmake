# Test programs built from several test files compile them as one translation unit (the files
# share most of their headers, which were most of each file's compile time), yet each file's
# cases keep a ctest prefix, labels and limits of their own:
#   p2plab_file_tests(TARGET FILES PREFIX [doctest_discover_tests arguments...])
# registers the cases of TARGET defined in the files FILES matches (a file name, or a pattern
# such as test_ipfs*.cpp) as "PREFIX<case>", through doctest's --source-file filter.
# Example: p2plab_file_tests(test_protocols test_chord_oracle.cpp "test_chord_oracle: " COST 100).
include_guard(GLOBAL)
include(doctest)

function(p2plab_file_tests target files prefix)
  # doctest_discover_tests makes its spec "--test-case=<spec>": the list's second item is a
  # second argument, the file filter. TEST_LIST names a list per call (one per target by default).
  string(MAKE_C_IDENTIFIER "${target}_${files}" list_name)
  doctest_discover_tests(${target} TEST_SPEC "*;--source-file=*/${files}" TEST_PREFIX "${prefix}" TEST_LIST ${list_name}
                         ${ARGN})
endfunction()
