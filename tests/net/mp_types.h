/* mp_types.h - the messages of the multi-process tests (node_proc.c and
 * multiproc_test.c register the same table). */
#ifndef AXON_MP_TYPES_H
#define AXON_MP_TYPES_H

#include "axon.h"
#include "axon/node.h"

enum {
    MP_SEQ = 200,       /* u64: logged by "sink" */
    MP_PING = 201,      /* u64: "echo" replies MP_PONG */
    MP_PONG = 202,      /* u64 */
    MP_STOP = 203,      /* empty: "victim" stops */
    MP_STATS = 204,     /* empty: "stats" replies MP_STATS_REP */
    MP_STATS_REP = 205, /* ax_link_stats */
    MP_SYNC = 206,      /* u64: "sink" replies MP_ACK (after logging what came before) */
    MP_ACK = 207,       /* u64 */
    MP_STOP_NODE = 208  /* empty: "echo" makes the node exit cleanly */
};

static inline int mp_register_types(ax_system *sys)
{
    int rc = 0;
    rc = rc ? rc : ax_msg_register_pod(sys, MP_SEQ, "seq", 8, 8);
    rc = rc ? rc : ax_msg_register_pod(sys, MP_PING, "ping", 8, 8);
    rc = rc ? rc : ax_msg_register_pod(sys, MP_PONG, "pong", 8, 8);
    rc = rc ? rc : ax_msg_register_pod(sys, MP_STOP, "stop", 0, 1);
    rc = rc ? rc : ax_msg_register_pod(sys, MP_STATS, "stats", 0, 1);
    rc = rc ? rc : ax_msg_register_pod(sys, MP_STATS_REP, "stats_rep", sizeof(ax_link_stats), 8);
    rc = rc ? rc : ax_msg_register_pod(sys, MP_SYNC, "sync", 8, 8);
    rc = rc ? rc : ax_msg_register_pod(sys, MP_ACK, "ack", 8, 8);
    rc = rc ? rc : ax_msg_register_pod(sys, MP_STOP_NODE, "stop_node", 0, 1);
    return rc;
}

#endif
