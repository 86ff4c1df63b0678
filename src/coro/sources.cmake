# Coroutines: portable C plus one context switch per CPU.
#
# AXON_CORO_BACKEND: auto (assembly for x86-64 and AArch64, ucontext for the
# rest), asm, or ucontext (the slow portable fallback; useful to test it).
# Sets AXON_CORO_SOURCES / AXON_CORO_DEFINITIONS so that a test can build
# the module on its own, and appends them to the library's lists.
set(AXON_CORO_BACKEND "auto" CACHE STRING "Coroutine context switch: auto | asm | ucontext")
set_property(CACHE AXON_CORO_BACKEND PROPERTY STRINGS auto asm ucontext)

string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" _axon_cpu)
set(_axon_coro_switch "")
if(NOT AXON_CORO_BACKEND STREQUAL "ucontext")
  if(_axon_cpu MATCHES "^(x86_64|amd64)$")
    set(_axon_coro_switch ${CMAKE_CURRENT_LIST_DIR}/switch_x86_64.S)
  elseif(_axon_cpu MATCHES "^(aarch64|arm64)$")
    set(_axon_coro_switch ${CMAKE_CURRENT_LIST_DIR}/switch_aarch64.S)
  elseif(AXON_CORO_BACKEND STREQUAL "asm")
    message(FATAL_ERROR "AXON_CORO_BACKEND=asm: no assembly switch for ${CMAKE_SYSTEM_PROCESSOR}")
  endif()
endif()

set(AXON_CORO_SOURCES ${CMAKE_CURRENT_LIST_DIR}/coro.c ${CMAKE_CURRENT_LIST_DIR}/stack.c
                      ${CMAKE_CURRENT_LIST_DIR}/overflow.c)
set(AXON_CORO_DEFINITIONS)
if(_axon_coro_switch)
  # project() enables only C; the .S files need the assembler driver.
  enable_language(ASM)
  list(APPEND AXON_CORO_SOURCES ${_axon_coro_switch})
else()
  list(APPEND AXON_CORO_SOURCES ${CMAKE_CURRENT_LIST_DIR}/switch_ucontext.c)
  list(APPEND AXON_CORO_DEFINITIONS AXI_CORO_UCONTEXT=1)
endif()

list(APPEND AXON_SOURCES ${AXON_CORO_SOURCES})
list(APPEND AXON_DEFINITIONS ${AXON_CORO_DEFINITIONS})
