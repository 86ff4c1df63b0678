/* ask_fx.h - what the ask tests share (ask_test.c, ask_edge_test.c,
 * ask_cb_test.c): the actors they ask (a doubler, a sink that never
 * answers until told to, a recorder, a poisoner), and the asking
 * coroutine actor that runs a per-test script.  Header-only, as cafx.h. */
#ifndef AXON_ASK_FX_H
#define AXON_ASK_FX_H

#include "cafx.h"

/* ---- actors the tests ask ------------------------------------------------------ */

/* Replies v * 2 to every T_U64; remembers the reply addresses it saw. */
typedef struct doubler {
    int n;
    ax_id from[16];
    int replies; /* answers per request (1 normally) */
    int stop_after_reply;
    int spin_ms; /* busy work before answering */
} doubler;

static inline void doubler_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    doubler *d = state;
    if (d->n < 16)
        d->from[d->n] = ax_sender(ctx);
    d->n++;
    if (d->spin_ms)
        ca_spin_ms(d->spin_ms);
    uint64_t v = ca_u64(msg) * 2;
    int k = d->replies ? d->replies : 1;
    for (int i = 0; i < k; i++) {
        uint64_t r = v + (uint64_t)i;
        tu_ok(ax_reply(ctx, T_U64, &r, sizeof r));
    }
    if (d->stop_after_reply)
        ax_stop(ctx);
}

/* Keeps the reply addresses, never answers; T_EMPTY makes it answer all of
 * them (late). */
typedef struct sink {
    ax_id from[64];
    int n;
    int late_rc[64];
    int late_n;
    int stop_on_request; /* ax_stop() without answering */
} sink;

static inline void sink_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    sink *s = state;
    if (msg->type == T_EMPTY) {
        for (int i = 0; i < s->n; i++) {
            uint64_t v = 99;
            s->late_rc[s->late_n++] = ax_send(ctx, s->from[i], T_U64, &v, sizeof v);
        }
        return;
    }
    if (s->n < 64)
        s->from[s->n++] = ax_sender(ctx);
    if (s->stop_on_request)
        ax_stop(ctx);
}

/* Records what it receives (from, type, value). */
typedef struct recorder {
    int n;
    ax_id from[16];
    uint32_t type[16];
    uint64_t v[16];
} recorder;

static inline void recorder_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    recorder *r = state;
    if (r->n < 16) {
        r->from[r->n] = ax_sender(ctx);
        r->type[r->n] = msg->type;
        r->v[r->n] = ca_u64(msg);
    }
    r->n++;
}

/* ---- the asking coroutine actor: a per-test script ------------------------------ */

typedef struct asker asker;
typedef void (*script_fn)(asker *a, ax_ctx *ctx, const ax_msg *msg);

struct asker {
    script_fn script;
    ax_id peer[8];
    int rc[8];
    uint64_t got[8];
    uint32_t got_size[8];
    ax_id reply_to;
    int64_t elapsed_ns;
    int runs, done;
    int flag;
};

static inline void asker_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    asker *a = state;
    a->runs++;
    a->script(a, ctx, msg);
    a->done++;
}

static inline ax_id spawn_asker(ca *f, asker *a, script_fn fn)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < 8; i++)
        a->rc[i] = 12345;
    a->script = fn;
    ax_id id;
    tu_ok(ax_spawn_coro(f->sys, asker_receive, a, NULL, &id));
    return id;
}

static inline void go(ca *f, ax_id to)
{
    tu_ok(ax_system_send(f->sys, ax_id_nil(), to, T_GO, NULL, 0));
}

static inline int ask_u64(ax_ctx *ctx, ax_id to, uint64_t v, uint64_t *out, ax_duration timeout)
{
    const ax_msg *reply = NULL;
    int rc = ax_ask(ctx, to, T_U64, &v, sizeof v, &reply, timeout);
    if (rc == 0) {
        if (!reply || reply->type != T_U64 || reply->size != 8)
            return -1000;
        *out = ca_u64(reply);
    } else if (reply != NULL) {
        return -1001; /* *reply must be NULL on failure */
    }
    return rc;
}

/* The script most tests use: one ask of 21, answered with 42. */
static inline void script_ask_once(asker *a, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    a->rc[0] = ask_u64(ctx, a->peer[0], 21, &a->got[0], AX_SEC(10));
}

/* A target that answers with a poison pill ("poison whoever sent me
 * this"): the pill reaches the reply address, not the asker.  The asker
 * is not being stopped, so its ax_ask must not fail with AX_ECANCELED, and
 * a callback ask still gets its callback exactly once. */
static inline void poisoner_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    (*(int *)state)++;
    tu_ok(ax_reply(ctx, AX_MSG_POISON, NULL, 0));
}

#endif /* AXON_ASK_FX_H */
