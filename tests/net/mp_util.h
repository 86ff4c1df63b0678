/* mp_util.h - helpers of the multi-process tests: node processes
 * (node_proc.c) started and reaped, this process as node 1, name lookups,
 * a collector actor for replies. */
#ifndef AXON_MP_UTIL_H
#define AXON_MP_UTIL_H

#include <sys/types.h>

#include "nettest.h"
#include "mp_types.h"

#define SECRET "multiproc-secret"

typedef struct child {
    pid_t pid;
    uint32_t node;
    char addr[300];
    char log[512];
} child;

int tls_mode(void);
/* Start node `node` serving `serve` (NULL: a fresh address); fills c. */
void spawn_node(child *c, uint32_t node, const char *serve, const char *log);
/* Signal it and wait for it. */
void reap(child *c, int sig);

/* This process: node 1, counting its dead letters. */
typedef struct env {
    ax_loop *loop;
    ax_system *sys;
    ax_link_options lo;
    uint64_t dl_lost, dl_full, dl_total;
} env;
extern env E;
int env_setup(void **state);
int env_teardown(void **state);

int64_t now_ms(void);
/* Step the loop until cond(arg) or ms: 1 if it holds (cond NULL: run ms). */
int run_until(int (*cond)(void *), void *arg, int ms);
int up2(void *arg);
/* ax_node_add(c->node) and wait until the link is up. */
void link_to(child *c);

typedef struct resolved {
    int calls, err;
    ax_id id;
} resolved;
ax_id resolve(const char *name, int want_err);

/* A local actor that collects replies: PONG, ACK, STATS_REP, DOWN. */
typedef struct coll {
    uint64_t pongs, acks, downs, last_ack;
    ax_down down;
    ax_link_stats stats;
    int have_stats;
} coll;
void coll_recv(void *state, ax_ctx *ctx, const ax_msg *msg);
int has_pongs(void *arg);
int has_stats(void *arg);
int has_downs(void *arg);
/* The totals of node 2's links, asked over the link ("stats" actor). */
ax_link_stats remote_stats(coll *c, ax_id cid);

#endif
