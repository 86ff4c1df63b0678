/* conn_hs.h - the axon handshake on one connection (conn_hs.c). */
#ifndef AXN_CONN_HS_H
#define AXN_CONN_HS_H

#include "net/net_int.h"

/* The transport is ready: send the preamble and HELLO. */
void axn_hs_begin(axn_conn *c);
/* Consume handshake input from the buffer: 1 progress (call again), 0
 * more bytes needed, -1 the connection closed. */
int axn_hs_input(axn_conn *c);

#endif
