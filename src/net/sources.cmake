# Links between systems (src/net): transports, codec, handshake, links.
list(APPEND AXON_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/frame.c
  ${CMAKE_CURRENT_LIST_DIR}/handshake.c
  ${CMAKE_CURRENT_LIST_DIR}/sock.c
  ${CMAKE_CURRENT_LIST_DIR}/resolve.c
  ${CMAKE_CURRENT_LIST_DIR}/tls.c
  ${CMAKE_CURRENT_LIST_DIR}/outq.c
  ${CMAKE_CURRENT_LIST_DIR}/conn.c
  ${CMAKE_CURRENT_LIST_DIR}/conn_hs.c
  ${CMAKE_CURRENT_LIST_DIR}/link.c
  ${CMAKE_CURRENT_LIST_DIR}/deliver.c
  ${CMAKE_CURRENT_LIST_DIR}/node.c
  ${CMAKE_CURRENT_LIST_DIR}/net.c
  ${CMAKE_CURRENT_LIST_DIR}/names_remote.c
  ${CMAKE_CURRENT_LIST_DIR}/monitor_remote.c)
find_package(OpenSSL 3.0 REQUIRED)
list(APPEND AXON_LINK_LIBS OpenSSL::SSL OpenSSL::Crypto)
