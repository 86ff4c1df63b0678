# The trading desk's messages (examples/messages/trading.h), generated at
# build time for C, C++, Rust and Python into build/examples/messages/.
# trading_messages is an object library holding the C type table and
# trading_register(); the cross-language example links it.  See docs/msggen.md.
if(NOT COMMAND axon_generate_messages)
  include(${PROJECT_SOURCE_DIR}/cmake/AxonMsggen.cmake)
endif()
axon_generate_messages(${CMAKE_CURRENT_SOURCE_DIR}/messages/trading.h
  OUTPUT_DIR ${CMAKE_CURRENT_BINARY_DIR}/messages
  LANGUAGES C CXX RUST PYTHON
  TARGET trading_messages)
