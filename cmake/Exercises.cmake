# Exercises: functions students write, linked into programs either as the reference solution or
# as the student's code. A protocol library only declares these functions (e.g.
# protocols/chord/logic.hpp); every program links one "code set" that defines them.
#
#   p2plab_exercise(chord-routing REFERENCE <files> STUDENT <files> USES <targets>)
#     declares an exercise and builds one object library per variant that exists
#     (p2plab_ex_chord_routing_reference / _student). The student release has no reference files:
#     then only the student variant exists.
#   p2plab_fast_path(chord NEEDS <exercises> FAST <files> GENERIC <files> USES <targets>)
#     code the protocol needs in either form: FAST (optimized, part of the reference) when every
#     exercise in NEEDS uses the reference, else GENERIC (routes decisions through the exercised
#     functions).
#   p2plab_code_set(<target> STUDENT <exercises> | ALL)
#     an INTERFACE target carrying the objects of one code set: the student's code for the
#     exercises named, the reference for the others. Link it into executables only (never into
#     a static library: its objects would end up in two places).

# A student release (its reference only compiled, in prebuilt/reference/) runs the student's code
# unless asked otherwise; the course's tree runs the reference.
set(_p2plab_code_default reference)
if(EXISTS "${PROJECT_SOURCE_DIR}/prebuilt/reference")
  set(_p2plab_code_default student)
endif()
set(P2PLAB_CODE "${_p2plab_code_default}" CACHE STRING "Which code the exercised functions run: reference or student")
set_property(CACHE P2PLAB_CODE PROPERTY STRINGS reference student)
if(NOT P2PLAB_CODE MATCHES "^(reference|student)$")
  message(FATAL_ERROR "P2PLAB_CODE must be 'reference' or 'student', not '${P2PLAB_CODE}'")
endif()

# Every reference-only file says so in its first line, so that tools/make-student-release can
# leave it out by looking at the file alone; configuring fails if one forgets.
set(P2PLAB_REFERENCE_MARKER "// p2plab: reference-only")
function(_p2plab_check_marker file)
  file(STRINGS "${file}" first LIMIT_COUNT 1)
  string(FIND "${first}" "${P2PLAB_REFERENCE_MARKER}" at)
  if(NOT at EQUAL 0)
    message(FATAL_ERROR "${file}: a reference solution must start with the line '${P2PLAB_REFERENCE_MARKER} ...' "
                        "(tools/make-student-release leaves such files out of the student tree)")
  endif()
endfunction()

# Student code sees the headers only: every protocols/**/*.hpp is linked (a symbolic link, so an
# edit needs no configure) into <build>/student-headers/, and a student file's include path holds
# that folder, the protocol's folder in it ("logic.hpp" and "chord/logic.hpp" both work) and the
# engine's public headers -- never a folder with a reference solution, so that
# __has_include("logic_routing.cpp") is false. (A path relative to the student's file still
# reaches the course tree's sources: the autograder replaces them after building, see
# tools/make-autograder.)
set(P2PLAB_STUDENT_HEADERS "${CMAKE_BINARY_DIR}/student-headers")
file(GLOB_RECURSE _p2plab_protocol_headers CONFIGURE_DEPENDS RELATIVE "${PROJECT_SOURCE_DIR}/protocols"
     "${PROJECT_SOURCE_DIR}/protocols/*.hpp")
foreach(header IN LISTS _p2plab_protocol_headers)
  get_filename_component(folder "${P2PLAB_STUDENT_HEADERS}/${header}" DIRECTORY)
  file(MAKE_DIRECTORY "${folder}")
  file(CREATE_LINK "${PROJECT_SOURCE_DIR}/protocols/${header}" "${P2PLAB_STUDENT_HEADERS}/${header}" SYMBOLIC)
endforeach()

#   p2plab_compile_as_student(<object library> <protocol folder>): the include path and flags of
#   a student's file (also used for the graded mutants and cheats, which stand in for one).
function(p2plab_compile_as_student target protocol_dir)
  file(RELATIVE_PATH protocol "${PROJECT_SOURCE_DIR}/protocols" "${protocol_dir}")
  target_link_libraries(${target} PRIVATE p2plab_engine p2plab_flags)
  target_include_directories(${target} PRIVATE "${P2PLAB_STUDENT_HEADERS}" "${P2PLAB_STUDENT_HEADERS}/${protocol}")
  # __FILE__ relative to the tree ("exercises/chord-routing/routing.cpp"): it names no place on
  # the grading machine (the debug information keeps full paths for the debugger).
  target_compile_options(${target} PRIVATE "-fmacro-prefix-map=${PROJECT_SOURCE_DIR}/=")
endfunction()

function(p2plab_exercise name)
  cmake_parse_arguments(EX "" "" "REFERENCE;STUDENT;USES" ${ARGN})
  string(REPLACE "-" "_" id "${name}")
  set(has_reference TRUE)
  foreach(file IN LISTS EX_REFERENCE)
    if(NOT EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/${file}" AND NOT EXISTS "${file}")
      set(has_reference FALSE)
    endif()
  endforeach()
  set(reference_sources ${has_reference})
  set(prebuilt "${PROJECT_SOURCE_DIR}/prebuilt/reference/${id}")
  if(has_reference)
    foreach(file IN LISTS EX_REFERENCE)
      _p2plab_check_marker("${CMAKE_CURRENT_SOURCE_DIR}/${file}")
    endforeach()
    add_library(p2plab_ex_${id}_reference OBJECT ${EX_REFERENCE})
    target_link_libraries(p2plab_ex_${id}_reference PRIVATE ${EX_USES} p2plab_flags)
    set(reference_objects "$<TARGET_OBJECTS:p2plab_ex_${id}_reference>")
    # Where tools/make-student-release finds this exercise's compiled reference.
    file(GENERATE OUTPUT "${CMAKE_BINARY_DIR}/reference-objects/${id}.txt"
         CONTENT "$<JOIN:$<TARGET_OBJECTS:p2plab_ex_${id}_reference>,\n>\n")
    set_property(GLOBAL APPEND PROPERTY P2PLAB_REFERENCE_OBJECT_TARGETS p2plab_ex_${id}_reference)
  elseif(EXISTS "${prebuilt}")
    # A student release: the reference compiled by tools/make-student-release (no sources), so
    # that every program links the reference for the exercises the student is not graded on.
    file(GLOB reference_objects "${prebuilt}/*.o")
    if(reference_objects)
      set(has_reference TRUE)
    endif()
  endif()
  add_library(p2plab_ex_${id}_student OBJECT ${EX_STUDENT})
  p2plab_compile_as_student(p2plab_ex_${id}_student ${CMAKE_CURRENT_SOURCE_DIR})
  set_property(GLOBAL APPEND PROPERTY P2PLAB_EXERCISES ${name})
  # HAS_REFERENCE: reference code can be linked (sources or compiled); REFERENCE_SOURCES: this is
  # the course's tree, with the reference's sources.
  set_property(GLOBAL PROPERTY P2PLAB_EXERCISE_${id}_HAS_REFERENCE ${has_reference})
  set_property(GLOBAL PROPERTY P2PLAB_EXERCISE_${id}_REFERENCE_SOURCES ${reference_sources})
  set_property(GLOBAL PROPERTY P2PLAB_EXERCISE_${id}_REFERENCE_OBJECTS "${reference_objects}")
  set_property(GLOBAL PROPERTY P2PLAB_EXERCISE_${id}_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  # off-limits.txt beside the student's file: code the student's objects must not call (the
  # engine's own solution of the exercise); the grader checks their symbols (tools/grader).
  list(GET EX_STUDENT 0 first_student_file)
  get_filename_component(student_dir "${first_student_file}" DIRECTORY)
  set(off_limits "")
  if(EXISTS "${student_dir}/off-limits.txt")
    set(off_limits "${student_dir}/off-limits.txt")
  endif()
  set_property(GLOBAL PROPERTY P2PLAB_EXERCISE_${id}_OFF_LIMITS "${off_limits}")
  set_property(GLOBAL APPEND PROPERTY P2PLAB_EXERCISE_USES ${EX_USES})
endfunction()

function(p2plab_fast_path name)
  cmake_parse_arguments(FP "" "" "NEEDS;FAST;GENERIC;USES" ${ARGN})
  set(has_fast TRUE)
  foreach(file IN LISTS FP_FAST)
    if(NOT EXISTS "${CMAKE_CURRENT_SOURCE_DIR}/${file}")
      set(has_fast FALSE)
    endif()
  endforeach()
  if(has_fast)
    foreach(file IN LISTS FP_FAST)
      _p2plab_check_marker("${CMAKE_CURRENT_SOURCE_DIR}/${file}")
    endforeach()
    add_library(p2plab_fast_${name}_fast OBJECT ${FP_FAST})
    target_link_libraries(p2plab_fast_${name}_fast PRIVATE ${FP_USES} p2plab_flags)
  endif()
  add_library(p2plab_fast_${name}_generic OBJECT ${FP_GENERIC})
  target_link_libraries(p2plab_fast_${name}_generic PRIVATE ${FP_USES} p2plab_flags)
  set_property(GLOBAL APPEND PROPERTY P2PLAB_FAST_PATHS ${name})
  set_property(GLOBAL APPEND PROPERTY P2PLAB_EXERCISE_USES ${FP_USES})
  set_property(GLOBAL PROPERTY P2PLAB_FAST_${name}_NEEDS ${FP_NEEDS})
  set_property(GLOBAL PROPERTY P2PLAB_FAST_${name}_HAS_FAST ${has_fast})
endfunction()

# The variant an exercise uses in a code set whose student exercises are `student_list`.
function(_p2plab_variant out name student_list)
  string(REPLACE "-" "_" id "${name}")
  get_property(has_reference GLOBAL PROPERTY P2PLAB_EXERCISE_${id}_HAS_REFERENCE)
  if(NOT has_reference OR "ALL" IN_LIST student_list OR name IN_LIST student_list)
    set(${out} student PARENT_SCOPE)
  else()
    set(${out} reference PARENT_SCOPE)
  endif()
endfunction()

#   p2plab_code_set(<target> ... OVERRIDE <exercise> <object library> [<exercise> <object library>...])
#     links each object library for its exercise instead (a deliberately broken variant:
#     tests/grading/mutants/).
function(p2plab_code_set target)
  cmake_parse_arguments(CS "" "" "STUDENT;OVERRIDE" ${ARGN})
  add_library(${target} INTERFACE)
  get_property(exercises GLOBAL PROPERTY P2PLAB_EXERCISES)
  set(overridden "")
  set(remaining ${CS_OVERRIDE})
  while(remaining)
    list(POP_FRONT remaining override_exercise override_library)
    list(APPEND overridden ${override_exercise})
    set(override_library_${override_exercise} ${override_library})
  endwhile()
  foreach(name IN LISTS exercises)
    string(REPLACE "-" "_" id "${name}")
    _p2plab_variant(variant ${name} "${CS_STUDENT}")
    if(name IN_LIST overridden)
      target_sources(${target} INTERFACE $<TARGET_OBJECTS:${override_library_${name}}>)
      set(variant mutant)  # the fast path below must not replace it
      list(APPEND CS_STUDENT ${name})
    elseif(variant STREQUAL "reference")
      get_property(objects GLOBAL PROPERTY P2PLAB_EXERCISE_${id}_REFERENCE_OBJECTS)
      target_sources(${target} INTERFACE ${objects})
    else()
      target_sources(${target} INTERFACE $<TARGET_OBJECTS:p2plab_ex_${id}_${variant}>)
    endif()
  endforeach()
  get_property(fast_paths GLOBAL PROPERTY P2PLAB_FAST_PATHS)
  foreach(name IN LISTS fast_paths)
    get_property(needs GLOBAL PROPERTY P2PLAB_FAST_${name}_NEEDS)
    get_property(form GLOBAL PROPERTY P2PLAB_FAST_${name}_HAS_FAST)
    set(form_name fast)
    if(NOT form)
      set(form_name generic)
    endif()
    foreach(exercise IN LISTS needs)
      _p2plab_variant(variant ${exercise} "${CS_STUDENT}")
      if(variant STREQUAL "student")
        set(form_name generic)
      endif()
    endforeach()
    target_sources(${target} INTERFACE $<TARGET_OBJECTS:p2plab_fast_${name}_${form_name}>)
  endforeach()
  # The libraries the objects call into (a program that links only some protocol needs them all).
  get_property(uses GLOBAL PROPERTY P2PLAB_EXERCISE_USES)
  list(REMOVE_DUPLICATES uses)
  target_link_libraries(${target} INTERFACE ${uses})
  # What the program can say about its code (p2plab/code_info.hpp).
  set(entries "")
  foreach(name IN LISTS exercises)
    _p2plab_variant(variant ${name} "${CS_STUDENT}")
    if(name IN_LIST overridden OR variant STREQUAL "student")
      string(APPEND entries "      {\"${name}\", true},\n")
    else()
      string(APPEND entries "      {\"${name}\", false},\n")
    endif()
  endforeach()
  set(info "${CMAKE_BINARY_DIR}/code_sets/${target}.cpp")
  file(GENERATE OUTPUT "${info}" CONTENT "// Generated by cmake/Exercises.cmake for the code set ${target}.
#include \"p2plab/linked_code.hpp\"

namespace p2plab {

const ExerciseCode linked_exercise_table[] = {
${entries}      {nullptr, false},
};

}  // namespace p2plab
")
  # Compiled once, in its own object library: as an INTERFACE source it would be compiled again
  # in every program and, being generated, would make Ninja see a dependency cycle between
  # programs that depend on each other (test_bad_input runs p2plab).
  add_library(${target}_info OBJECT "${info}")
  target_link_libraries(${target}_info PRIVATE p2plab_engine p2plab_flags)
  target_sources(${target} INTERFACE $<TARGET_OBJECTS:${target}_info>)
endfunction()

# TRUE in the course's tree (every exercise has its reference's sources), FALSE in a student
# release (even one with the compiled reference).
function(p2plab_tree_has_reference out)
  get_property(exercises GLOBAL PROPERTY P2PLAB_EXERCISES)
  set(result TRUE)
  foreach(name IN LISTS exercises)
    string(REPLACE "-" "_" id "${name}")
    get_property(has GLOBAL PROPERTY P2PLAB_EXERCISE_${id}_REFERENCE_SOURCES)
    if(NOT has)
      set(result FALSE)
    endif()
  endforeach()
  set(${out} ${result} PARENT_SCOPE)
endfunction()
