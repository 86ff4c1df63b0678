# AxonMsggen.cmake - generate code for axon message IDL headers at build time.
#
#   include(${PROJECT_SOURCE_DIR}/cmake/AxonMsggen.cmake)
#
#   axon_generate_messages(<header>
#     OUTPUT_DIR <dir>
#     [LANGUAGES C CXX RUST PYTHON]   # default: all four
#     [TARGET <name>]                 # default: <stem>_messages
#     [INCLUDE_PREFIX <prefix>]       # generated C says #include "<prefix><stem>.h"
#     [OUTPUT_VARIABLE <var>])        # receives the list of generated files
#
# Runs tools/axon-msggen whenever the header or the tool changes and writes
# <dir>/<stem>.axon.h + .axon.c (C), <stem>.hpp (CXX), <stem>.rs (RUST) and
# <stem>.py (PYTHON).  It defines:
#
#   <TARGET>      with C: an OBJECT library compiling <stem>.axon.c (the type
#                 table and <stem>_register()); otherwise an INTERFACE library.
#                 Either way its users get <dir>, the header's directory and
#                 axon's include directory on their include path:
#                     target_link_libraries(app PRIVATE trading_messages)
#                     #include "trading.axon.h"   /  #include "trading.hpp"
#   <TARGET>_gen  a custom target, part of `all`, that runs the generator, so
#                 the Rust and Python files exist after a plain build.
#
# See docs/msggen.md.
include_guard(GLOBAL)

get_filename_component(_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(AXON_MSGGEN "${_root}/tools/axon-msggen" CACHE FILEPATH
    "The axon-msggen script run by axon_generate_messages()")
unset(_root)
find_package(Python3 3.7 COMPONENTS Interpreter QUIET)

function(axon_generate_messages header)
  # Paths relative to this file, not to the caller (variables set when the
  # file was included are not visible from other directories).
  get_filename_component(root "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/.." ABSOLUTE)
  file(GLOB tool_sources "${root}/tools/msggen/*.py")
  cmake_parse_arguments(G "" "OUTPUT_DIR;TARGET;INCLUDE_PREFIX;OUTPUT_VARIABLE" "LANGUAGES"
                        ${ARGN})
  if(G_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "axon_generate_messages: unknown arguments: ${G_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT G_OUTPUT_DIR)
    message(FATAL_ERROR "axon_generate_messages(${header}): OUTPUT_DIR is required")
  endif()
  if(NOT Python3_EXECUTABLE)
    find_package(Python3 3.7 COMPONENTS Interpreter)
    if(NOT Python3_EXECUTABLE)
      message(FATAL_ERROR "axon_generate_messages: axon-msggen needs python3")
    endif()
  endif()
  if(NOT G_LANGUAGES)
    set(G_LANGUAGES C CXX RUST PYTHON)
  endif()

  get_filename_component(hdr "${header}" ABSOLUTE)
  get_filename_component(hdr_dir "${hdr}" DIRECTORY)
  get_filename_component(stem "${hdr}" NAME_WLE)
  get_filename_component(out "${G_OUTPUT_DIR}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  if(NOT G_TARGET)
    set(G_TARGET ${stem}_messages)
  endif()

  set(langs)
  set(outputs)
  foreach(lang ${G_LANGUAGES})
    string(TOUPPER "${lang}" lang)
    if(lang STREQUAL "C")
      list(APPEND langs c)
      list(APPEND outputs "${out}/${stem}.axon.h" "${out}/${stem}.axon.c")
    elseif(lang STREQUAL "CXX" OR lang STREQUAL "CPP")
      list(APPEND langs cpp)
      list(APPEND outputs "${out}/${stem}.hpp")
    elseif(lang STREQUAL "RUST")
      list(APPEND langs rust)
      list(APPEND outputs "${out}/${stem}.rs")
    elseif(lang STREQUAL "PYTHON")
      list(APPEND langs python)
      list(APPEND outputs "${out}/${stem}.py")
    else()
      message(FATAL_ERROR "axon_generate_messages: unknown language ${lang} "
                          "(use C, CXX, RUST, PYTHON)")
    endif()
  endforeach()
  list(JOIN langs "," lang_arg)
  set(prefix_arg)
  if(G_INCLUDE_PREFIX)
    set(prefix_arg --include-prefix "${G_INCLUDE_PREFIX}")
  endif()

  add_custom_command(
    OUTPUT ${outputs}
    COMMAND "${Python3_EXECUTABLE}" "${AXON_MSGGEN}" --lang ${lang_arg} --out "${out}"
            ${prefix_arg} "${hdr}"
    DEPENDS "${hdr}" "${AXON_MSGGEN}" ${tool_sources}
    COMMENT "axon-msggen: ${stem}.h -> ${lang_arg}"
    VERBATIM)
  add_custom_target(${G_TARGET}_gen ALL DEPENDS ${outputs})

  if("c" IN_LIST langs)
    add_library(${G_TARGET} OBJECT "${out}/${stem}.axon.c")
    target_compile_features(${G_TARGET} PUBLIC c_std_11)
    set(scope PUBLIC)
    if(TARGET axon_flags)
      target_link_libraries(${G_TARGET} PRIVATE axon_flags)
    endif()
  else()
    add_library(${G_TARGET} INTERFACE)
    set(scope INTERFACE)
  endif()
  # The generator runs first; sharing its outputs with a second independent
  # target would let two builds of them race.
  add_dependencies(${G_TARGET} ${G_TARGET}_gen)
  target_include_directories(${G_TARGET} ${scope} "${out}" "${hdr_dir}" "${root}/include")

  if(G_OUTPUT_VARIABLE)
    set(${G_OUTPUT_VARIABLE} ${outputs} PARENT_SCOPE)
  endif()
endfunction()
