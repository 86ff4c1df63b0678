/* actor_fixture.h - what the actor tests share: a counting allocator, a
 * loop and system with a recording dead-letter hook, a handful of message
 * types, a recording actor, and a watchdog that turns a hang inside one
 * ax_loop_step() into a clear failure instead of a CTest timeout.
 *
 * Header-only (static functions) so each test binary stays one file. */
#ifndef AXON_ACTOR_FIXTURE_H
#define AXON_ACTOR_FIXTURE_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/testutil.h"

/* ---- message types ---------------------------------------------------- */

enum {
    T_U64 = 100,   /* uint64_t */
    T_EMPTY = 101, /* no payload */
    T_SEQ = 102,   /* fx_seq */
    T_PING = 103,  /* uint64_t round */
    T_PONG = 104,  /* uint64_t round */
    T_BLOB = 105,  /* varsize bytes */
    T_BIG = 106,   /* fx_big: larger than a small size class */
    T_UNREG = 999  /* never registered */
};

typedef struct fx_seq {
    uint32_t stream; /* which sender */
    uint32_t seq;    /* 0, 1, 2, ... per stream */
} fx_seq;

typedef struct fx_big {
    uint64_t v[40];
} fx_big;

static inline void fx_register_types(ax_system *sys)
{
    tu_ok(ax_msg_register_pod(sys, T_U64, "u64", sizeof(uint64_t), _Alignof(uint64_t)));
    tu_ok(ax_msg_register_pod(sys, T_EMPTY, "empty", 0, 1));
    tu_ok(ax_msg_register_pod(sys, T_SEQ, "seq", sizeof(fx_seq), _Alignof(fx_seq)));
    tu_ok(ax_msg_register_pod(sys, T_PING, "ping", sizeof(uint64_t), _Alignof(uint64_t)));
    tu_ok(ax_msg_register_pod(sys, T_PONG, "pong", sizeof(uint64_t), _Alignof(uint64_t)));
    ax_msg_type blob = {
        .id = T_BLOB, .name = "blob", .size = 0, .align = 1, .flags = AX_MSG_F_VARSIZE};
    tu_ok(ax_msg_register(sys, &blob));
    tu_ok(ax_msg_register_pod(sys, T_BIG, "big", sizeof(fx_big), _Alignof(fx_big)));
}

/* ---- dead letters ----------------------------------------------------- */

#define FX_DL_KEEP 64

typedef struct fx_dl {
    uint64_t n;                   /* hook calls */
    ax_dead_letter v[FX_DL_KEEP]; /* the first FX_DL_KEEP */
    uint64_t by_reason[32];       /* count per -reason */
} fx_dl;

static inline void fx_dl_hook(void *arg, const ax_dead_letter *dl)
{
    fx_dl *d = arg;
    if (d->n < FX_DL_KEEP)
        d->v[d->n] = *dl;
    d->n++;
    if (dl->reason < 0 && -dl->reason < 32)
        d->by_reason[-dl->reason]++;
}

static inline void fx_watchdog(const char *what, unsigned secs);
static inline void fx_watchdog_off(void);

/* ---- the fixture ------------------------------------------------------ */

typedef struct fx {
    tu_alloc ta;
    tu_env env;
    fx_dl dl;
    ax_loop *loop;
    ax_system *sys;
} fx;

/* Loop + system on a counting allocator, dead letters recorded, test
 * types registered.  `opt` may be NULL; its hook (if any) is replaced. */
static inline void fx_open(fx *f, const ax_system_options *opt)
{
    memset(f, 0, sizeof *f);
    fx_watchdog("test body", 25);
    tu_alloc_init(&f->ta);
    tu_env_open_dl(&f->env, &f->ta.a, opt, fx_dl_hook, &f->dl);
    f->loop = f->env.loop;
    f->sys = f->env.sys;
    fx_register_types(f->sys);
}

/* Free system and loop (asserting success), then check nothing leaked. */
static inline void fx_close(fx *f)
{
    fx_watchdog_off();
    tu_env_close(&f->env);
    f->loop = NULL;
    f->sys = NULL;
    if (f->ta.live_blocks != 0 || f->ta.live_bytes != 0)
        fail_msg("leak: %lld blocks, %lld bytes still allocated", (long long)f->ta.live_blocks,
                 (long long)f->ta.live_bytes);
}

static inline ax_stats fx_stats(const ax_system *sys)
{
    ax_stats st;
    memset(&st, 0xAB, sizeof st);
    ax_system_stats(sys, &st);
    return st;
}

/* ---- a recording actor ------------------------------------------------ */

#define FX_REC_KEEP 256

typedef struct fx_got {
    uint32_t type;
    uint32_t size;
    ax_id sender;
    ax_id self;
    uint64_t u64; /* first 8 payload bytes, if any */
} fx_got;

typedef struct fx_rec {
    uint64_t n;            /* messages handled */
    fx_got m[FX_REC_KEEP]; /* the first FX_REC_KEEP */
    int stops;             /* on_stop calls */
    int stop_reason;
    ax_id stop_self;
    ax_id stop_sender;    /* ax_sender() inside on_stop (must be nil) */
    void *seen_state;     /* the state pointer the handler got */
    void *seen_ctx_state; /* ax_ctx_state() inside the handler */
    int stop_after;       /* >0: ax_stop() when n reaches it */
} fx_rec;

static inline void fx_rec_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    fx_rec *r = state;
    r->seen_state = state;
    r->seen_ctx_state = ax_ctx_state(ctx);
    if (r->n < FX_REC_KEEP) {
        fx_got *g = &r->m[r->n];
        g->type = msg->type;
        g->size = msg->size;
        g->sender = ax_sender(ctx);
        g->self = ax_self(ctx);
        g->u64 = 0;
        if (msg->size >= 8)
            memcpy(&g->u64, msg->data, 8);
    }
    r->n++;
    if (r->stop_after > 0 && r->n == (uint64_t)r->stop_after)
        ax_stop(ctx);
}

static inline void fx_rec_stop(void *state, ax_ctx *ctx, int reason)
{
    fx_rec *r = state;
    r->stops++;
    r->stop_reason = reason;
    r->stop_self = ax_self(ctx);
    r->stop_sender = ax_sender(ctx);
}

static inline ax_id fx_spawn_rec(ax_system *sys, fx_rec *r)
{
    ax_spawn_options so;
    memset(&so, 0, sizeof so);
    so.on_stop = fx_rec_stop;
    ax_id id;
    tu_ok(ax_spawn(sys, fx_rec_receive, r, &so, &id));
    return id;
}

/* ---- helpers ---------------------------------------------------------- */

static inline int64_t fx_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int fx_u64_send(ax_system *sys, ax_id from, ax_id to, uint64_t v)
{
    return ax_system_send(sys, from, to, T_U64, &v, sizeof v);
}

/* Run the loop until nothing is left to do (at most 10 s). */
static inline void fx_drain(fx *f)
{
    tu_drain(f->loop, 10000);
}

static inline void fx_assert_id_eq(ax_id a, ax_id b)
{
    if (!ax_id_eq(a, b))
        fail_msg("ids differ: {%u,%u,%u} vs {%u,%u,%u}", a.node, a.index, a.cookie, b.node, b.index,
                 b.cookie);
}

/* A hang inside one ax_loop_step() cannot be caught by tu_run_until; the
 * watchdog turns it into an ordinary test failure (cmocka longjmps out, as
 * its own handler does for SIGSEGV), so the other tests still run.  The
 * hung system is abandoned: the failing test leaks it.  (Under
 * ThreadSanitizer a signal waits for the next intercepted call, so a hang
 * in a tight loop runs into the CTest timeout instead.) */
static const char *fx_watchdog_what = "?";

static inline void fx_watchdog_fire(int sig)
{
    (void)sig;
    fail_msg("watchdog: still running after the time limit - hung (%s)", fx_watchdog_what);
}

static inline void fx_watchdog(const char *what, unsigned secs)
{
    fx_watchdog_what = what;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fx_watchdog_fire;
    sa.sa_flags = SA_NODEFER; /* we leave by longjmp: keep SIGALRM unblocked */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    alarm(secs);
}

static inline void fx_watchdog_off(void)
{
    alarm(0);
}

/* ---- shorthands for steps most tests spell out --------------------------- */

/* Zero `r` and spawn a recording actor on it.  `r` must outlive the actor:
 * keep it in the test's frame, declared before the fx_close(). */
static inline ax_id fx_spawn_new_rec(fx *f, fx_rec *r)
{
    memset(r, 0, sizeof *r);
    return fx_spawn_rec(f->sys, r);
}

/* The usual start: fx_open(f, NULL), then one fresh recording actor. */
static inline ax_id fx_open_rec(fx *f, fx_rec *r)
{
    fx_open(f, NULL);
    return fx_spawn_new_rec(f, r);
}

/* Sends from nobody (nil sender) that must be accepted. */
static inline void fx_poison(fx *f, ax_id to)
{
    tu_ok(ax_system_send(f->sys, ax_id_nil(), to, AX_MSG_POISON, NULL, 0));
}

static inline void fx_send_empty(fx *f, ax_id to)
{
    tu_ok(ax_system_send(f->sys, ax_id_nil(), to, T_EMPTY, NULL, 0));
}

/* A T_PING of round 0. */
static inline void fx_send_ping(fx *f, ax_id to)
{
    uint64_t round = 0;
    tu_ok(ax_system_send(f->sys, ax_id_nil(), to, T_PING, &round, sizeof round));
}

#endif /* AXON_ACTOR_FIXTURE_H */
