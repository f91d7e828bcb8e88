# p2plab_uses_programs(TARGET PROGRAM...): TARGET's tests run the programs PROGRAM... (their
# paths compiled in as $<TARGET_FILE:...>), so those are built before TARGET is linked.
# With Ninja the programs are a file dependency of TARGET's link step only: add_dependencies
# would also hold back the compiling of every file of TARGET until the programs are linked
# (test_viz_window's 15 s of compiling then ran alone at the end of the sanitized build, one core
# idle). Other generators get add_dependencies.
function(p2plab_uses_programs target)
  if(CMAKE_GENERATOR MATCHES "Ninja")
    foreach(program IN LISTS ARGN)
      set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "$<TARGET_FILE:${program}>")
    endforeach()
  else()
    add_dependencies(${target} ${ARGN})
  endif()
endfunction()
