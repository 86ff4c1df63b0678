# ring_dist needs the test certificate generator (TLS runs make their
# certificates at start; nothing is committed).
if(TARGET ring_dist)
  target_sources(ring_dist PRIVATE ${PROJECT_SOURCE_DIR}/tests/net/certgen.c)
  target_include_directories(ring_dist PRIVATE ${PROJECT_SOURCE_DIR}/tests/net)
endif()
