# Test programs compile doctest and nlohmann::json (directly or through the engine's headers) in
# every translation unit: parsing them is about half of a test's compile time. With P2PLAB_PCH
# they are precompiled once per build (hosted by p2plab_test_main) and every test target reuses
# that header. Reuse needs identical compiler flags, which p2plab_test_flags and p2plab_flags give
# every test target. Off by default when a compiler launcher such as ccache is set: ccache does
# not cache a compile that uses a precompiled header (unless its sloppiness is configured).
if(CMAKE_CXX_COMPILER_LAUNCHER)
  set(_p2plab_pch_default OFF)
else()
  set(_p2plab_pch_default ON)
endif()
option(P2PLAB_PCH "Precompile doctest and nlohmann::json once for all test programs" ${_p2plab_pch_default})

# The targets defined in `dir` and below.
function(_p2plab_targets_below dir out)
  get_property(targets DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    _p2plab_targets_below("${sub}" more)
    list(APPEND targets ${more})
  endforeach()
  set(${out} ${targets} PARENT_SCOPE)
endfunction()

# The project's targets that compile a source file of their own (executables, object and static
# libraries; not a graded test binary, which is linked from objects): those a header can serve.
function(_p2plab_compiling_targets out)
  _p2plab_targets_below("${PROJECT_SOURCE_DIR}" targets)
  set(compiling "")
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(NOT type MATCHES "^(EXECUTABLE|OBJECT_LIBRARY|STATIC_LIBRARY)$")
      continue()
    endif()
    get_target_property(sources ${target} SOURCES)
    foreach(source IN LISTS sources)
      if(source MATCHES "\\.cpp$" AND NOT source MATCHES "^\\$<")
        list(APPEND compiling ${target})
        break()
      endif()
    endforeach()
  endforeach()
  set(${out} ${compiling} PARENT_SCOPE)
endfunction()

# Called once at the end of the top-level CMakeLists.txt, so it also finds test targets added
# later in any folder: every target that is compiled with p2plab_test_flags and includes doctest
# (links p2plab_test_main or doctest::doctest) reuses the header. `hosts` build it; `skip` are
# doctest's main()s, which define DOCTEST_CONFIG_IMPLEMENT before including doctest themselves.
function(p2plab_precompile_test_headers)
  cmake_parse_arguments(PCH "" "HOST" "SKIP" ${ARGN})
  if(NOT P2PLAB_PCH OR NOT TARGET ${PCH_HOST})
    return()
  endif()
  target_link_libraries(${PCH_HOST} PRIVATE nlohmann_json::nlohmann_json)
  target_precompile_headers(${PCH_HOST} PRIVATE <doctest/doctest.h> <nlohmann/json.hpp>)
  get_target_property(host_sources ${PCH_HOST} SOURCES)
  get_target_property(host_dir ${PCH_HOST} SOURCE_DIR)
  set_source_files_properties(${host_sources} DIRECTORY "${host_dir}" PROPERTIES SKIP_PRECOMPILE_HEADERS ON)

  _p2plab_compiling_targets(targets)
  foreach(target IN LISTS targets)
    if(target STREQUAL PCH_HOST OR target IN_LIST PCH_SKIP)
      continue()
    endif()
    get_target_property(libs ${target} LINK_LIBRARIES)
    if(NOT libs OR NOT "p2plab_test_flags" IN_LIST libs)
      continue()
    endif()
    if("${PCH_HOST}" IN_LIST libs OR "doctest::doctest" IN_LIST libs)
      target_precompile_headers(${target} REUSE_FROM ${PCH_HOST})
    endif()
  endforeach()
endfunction()

# The libraries and programs (every target not compiled as a test): nlohmann::json and the
# standard library's common headers, precompiled once by `HOST` (an object library with no code
# of its own, given what the engine gives every target, so that GCC accepts the header for
# them) and reused by every other target with a source file of its own: about
# 1.3-2.8 s less of a sanitized library file's 4-14 s (about 50 s of compiling in the suite's
# build, 25 s of its time on 2 cores).
# Not for students' code (an exercise's student files, the grading's mutants, which stand in
# for them): a header it forgot to include must fail to compile there as it would anywhere; nor
# for small files that load the header in more time than they take to compile (the exercises'
# reference files, the code sets' generated descriptions `_info`, the programs' main()s).
# Called after p2plab_precompile_test_headers: a target reusing the tests' header keeps it. A
# target whose flags differ from the host's (GCC checks them) parses the headers as text: slower,
# never wrong.
function(p2plab_precompile_library_headers)
  cmake_parse_arguments(PCH "" "HOST" "" ${ARGN})
  if(NOT P2PLAB_PCH)
    return()
  endif()
  add_library(${PCH_HOST} OBJECT "${PROJECT_SOURCE_DIR}/cmake/precompiled_headers_host.cpp")
  # What p2plab_engine gives every target that links it (the host cannot link the engine, which
  # reuses the host's header): its flags and macros are then the libraries' own.
  get_target_property(engine_usage p2plab_engine INTERFACE_LINK_LIBRARIES)
  target_link_libraries(${PCH_HOST} PRIVATE ${engine_usage})
  target_precompile_headers(${PCH_HOST} PRIVATE
    <nlohmann/json.hpp> <algorithm> <array> <cstdint> <functional> <map> <memory> <optional>
    <set> <span> <string> <string_view> <unordered_map> <utility> <vector>)

  _p2plab_compiling_targets(targets)
  foreach(target IN LISTS targets)
    if(target STREQUAL PCH_HOST OR target MATCHES "^p2plab_ex_.*_(student|reference)$" OR target MATCHES "^grading_mutant_"
       OR target MATCHES "_info$")
      continue()
    endif()
    get_target_property(type ${target} TYPE)
    get_target_property(reused ${target} PRECOMPILE_HEADERS_REUSE_FROM)
    get_target_property(own_headers ${target} PRECOMPILE_HEADERS)
    get_target_property(libs ${target} LINK_LIBRARIES)
    # (Programs are a main() over their libraries; a target that links nothing is compiled
    # without the project's flags, which the header needs.)
    if(NOT type STREQUAL "EXECUTABLE" AND libs AND NOT reused AND NOT own_headers AND NOT "p2plab_test_flags" IN_LIST libs)
      target_precompile_headers(${target} REUSE_FROM ${PCH_HOST})
    endif()
  endforeach()
endfunction()
