/* ask_test.c - request/reply (src/actor/ask.c): ax_ask from coroutine
 * handlers and ax_ask_cb from plain ones.  One-shot reply addresses, the
 * first answer winning, a reply valid until the next ask or the handler
 * returns (one held at a time), ax_reply
 * after an ask still answering the original sender, chains of coroutine
 * actors asking each other, timeouts (a late reply is a dead letter, never
 * a crash), targets that are dead or die before answering (an error at
 * once, not at the timeout), errors, and shutdown with asks outstanding. */
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

static void doubler_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
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

static void sink_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
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

static void recorder_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
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

static void asker_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    asker *a = state;
    a->runs++;
    a->script(a, ctx, msg);
    a->done++;
}

static ax_id spawn_asker(ca *f, asker *a, script_fn fn)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < 8; i++)
        a->rc[i] = 12345;
    a->script = fn;
    ax_id id;
    tu_ok(ax_spawn_coro(f->sys, asker_receive, a, NULL, &id));
    return id;
}

static void go(ca *f, ax_id to)
{
    tu_ok(ax_system_send(f->sys, ax_id_nil(), to, T_GO, NULL, 0));
}

static int ask_u64(ax_ctx *ctx, ax_id to, uint64_t v, uint64_t *out, ax_duration timeout)
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

/* ---- ax_ask: the reply ------------------------------------------------------------ */

static void script_ask_once(asker *a, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    a->rc[0] = ask_u64(ctx, a->peer[0], 21, &a->got[0], AX_SEC(10));
}

static void test_ask_reply(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    doubler d;
    memset(&d, 0, sizeof d);
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_ask_once);
    tu_ok(ax_spawn(f.sys, doubler_receive, &d, NULL, &a.peer[0]));
    go(&f, aid);
    ca_until_ge(&f, &a.done, 1, 5000);
    tu_ok(a.rc[0]);
    assert_int_equal(a.got[0], 42);
    /* The request came from a one-shot reply address, not the asker. */
    assert_int_equal(d.n, 1);
    assert_false(ax_id_is_nil(d.from[0]));
    assert_false(ax_id_eq(d.from[0], aid));
    assert_int_equal(d.from[0].node, 0);
    /* ... which is gone now: an answer to it is a counted dead letter. */
    uint64_t v = 1;
    tu_assert_err(ax_system_send(f.sys, a.peer[0], d.from[0], T_U64, &v, sizeof v), AX_ESTALE);
    assert_int_equal(f.dl.by_reason[-AX_ESTALE], 1);
    /* A second ask gets a fresh address. */
    go(&f, aid);
    ca_until_ge(&f, &a.done, 2, 5000);
    tu_ok(a.rc[0]);
    assert_false(ax_id_eq(d.from[0], d.from[1]));
    assert_int_equal(ax_actor_count(f.sys), 2);
    assert_int_equal(ca_stacks(f.sys).live, 0);
    ca_close(&f);
}

/* The first answer wins; later answers to the same address are dead
 * letters. */
static void test_ask_first_answer_wins(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    doubler d;
    memset(&d, 0, sizeof d);
    d.replies = 3;
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_ask_once);
    tu_ok(ax_spawn(f.sys, doubler_receive, &d, NULL, &a.peer[0]));
    go(&f, aid);
    ca_until_ge(&f, &a.done, 1, 5000);
    ca_drain(&f);
    tu_ok(a.rc[0]);
    assert_int_equal(a.got[0], 42);
    if (f.dl.n != 2 || f.dl.by_reason[-AX_ESTALE] != 2)
        ca_dl_dump(&f.dl, "want the two later answers as AX_ESTALE dead letters");
    assert_int_equal(f.dl.v[0].type, T_U64);
    ca_close(&f);
}

/* A reply stays readable until the handler's next ax_ask() or until it
 * returns (include/axon/coro.h): across other waits, then released - its
 * free hook runs then, once. */
static int owned_frees;

typedef struct owned_replier {
    int n;
} owned_replier;

static void owned_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    owned_replier *o = state;
    o->n++;
    ca_owned r = {ca_u64(msg) + 1000, &owned_frees};
    tu_ok(ax_reply(ctx, T_OWNED, &r, sizeof r));
}

/* Replies with a blob of the asked size, filled with (i * 7 + size). */
static void blob_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    size_t n = (size_t)ca_u64(msg);
    unsigned char *b = malloc(n ? n : 1);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(i * 7 + n);
    tu_ok(ax_reply(ctx, T_BLOB, b, n));
    free(b);
}

static int blob_ok(const ax_msg *m, size_t n)
{
    if (!m || m->type != T_BLOB || m->size != n)
        return 0;
    const unsigned char *b = m->data;
    for (size_t i = 0; i < n; i++)
        if (b[i] != (unsigned char)(i * 7 + n))
            return 0;
    return 1;
}

static int owned_ok(const ax_msg *m, uint64_t v)
{
    return m && m->type == T_OWNED && m->size == sizeof(ca_owned) &&
           ((const ca_owned *)m->data)->value == v;
}

static void script_reply_lifetime(asker *a, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    const ax_msg *r = NULL;
    uint64_t v = 5;
    /* 1: an owned reply, still intact after a sleep. */
    a->rc[0] = ax_ask(ctx, a->peer[2], T_U64, &v, sizeof v, &r, AX_SEC(10));
    a->rc[1] = ax_sleep(ctx, AX_MSEC(2));
    a->flag |= owned_ok(r, 1005) && owned_frees == 0;
    /* 2: the next ask releases it; a 200 kB blob (allocated on its own). */
    v = 200000;
    a->rc[2] = ax_ask(ctx, a->peer[1], T_U64, &v, sizeof v, &r, AX_SEC(10));
    a->flag |= (owned_frees == 1) << 1;
    a->rc[3] = ax_sleep(ctx, AX_MSEC(2));
    a->flag |= blob_ok(r, 200000) << 2;
    /* 3: another owned reply, kept until the handler returns. */
    v = 6;
    a->rc[4] = ax_ask(ctx, a->peer[2], T_U64, &v, sizeof v, &r, AX_SEC(10));
    a->rc[5] = ax_sleep(ctx, AX_MSEC(2));
    a->flag |= (owned_ok(r, 1006) && owned_frees == 1) << 3;
    /* A failed ask leaves *reply NULL. */
    ax_id gone = {0, 4000, 7};
    a->rc[6] = ax_ask(ctx, gone, T_U64, &v, sizeof v, &r, AX_SEC(10));
    a->flag |= (r == NULL) << 4;
}

static void test_ask_reply_lifetime(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    owned_frees = 0;
    owned_replier o = {0};
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_reply_lifetime);
    tu_ok(ax_spawn(f.sys, blob_receive, NULL, NULL, &a.peer[1]));
    tu_ok(ax_spawn(f.sys, owned_receive, &o, NULL, &a.peer[2]));
    go(&f, aid);
    ca_until_ge(&f, &a.done, 1, 5000);
    for (int i = 0; i < 6; i++)
        tu_ok(a.rc[i]);
    tu_assert_err(a.rc[6], AX_ESTALE);
    if (a.flag != 0x1f)
        fail_msg("reply checks: %#x, want 0x1f (bit 0: first reply intact after a sleep, 1: "
                 "released by the next ask, 2: blob intact, 3: third intact, 4: NULL on error)",
                 a.flag);
    assert_int_equal(owned_frees, 2); /* the last one when the handler returned */
    ca_drain(&f);
    assert_int_equal(owned_frees, 2);
    ca_close(&f);
}

/* A handler asking in a loop holds one reply at a time: memory does not
 * grow with the number of asks. */
static void script_ask_loop(asker *a, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    tu_alloc *ta = (tu_alloc *)(uintptr_t)a->got[7];
    for (int i = 0; i < 500; i++) {
        const ax_msg *r = NULL;
        uint64_t v = 100000;
        int rc = ax_ask(ctx, a->peer[1], T_U64, &v, sizeof v, &r, AX_SEC(10));
        if (rc != 0 || !blob_ok(r, 100000)) {
            a->rc[0] = rc ? rc : -1;
            return;
        }
        if (i == 10)
            a->got[0] = (uint64_t)ta->live_blocks;
    }
    a->got[1] = (uint64_t)ta->live_blocks;
    a->rc[0] = 0;
}

static void test_ask_in_a_loop_holds_one_reply(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_ask_loop);
    a.got[7] = (uint64_t)(uintptr_t)&f.ta;
    tu_ok(ax_spawn(f.sys, blob_receive, NULL, NULL, &a.peer[1]));
    go(&f, aid);
    ca_until_ge(&f, &a.done, 1, 20000);
    tu_ok(a.rc[0]);
    if (a.got[1] > a.got[0])
        fail_msg("live blocks grew from %llu (ask 10) to %llu (ask 500)",
                 (unsigned long long)a.got[0], (unsigned long long)a.got[1]);
    ca_close(&f);
}

/* ax_reply, ax_sender and ax_forward after an ask still refer to the
 * message the handler is handling, not to the reply. */
static void script_reply_after_ask(asker *a, ax_ctx *ctx, const ax_msg *msg)
{
    a->rc[0] = ask_u64(ctx, a->peer[0], ca_u64(msg), &a->got[0], AX_SEC(10));
    a->reply_to = ax_sender(ctx);
    uint64_t v = a->got[0] + 1;
    a->rc[1] = ax_reply(ctx, T_U64, &v, sizeof v);
    a->rc[2] = ax_forward(ctx, a->peer[1]);
}

static void test_ask_then_reply_goes_to_original_sender(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    doubler d;
    memset(&d, 0, sizeof d);
    recorder orig, fwd;
    memset(&orig, 0, sizeof orig);
    memset(&fwd, 0, sizeof fwd);
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_reply_after_ask);
    ax_id oid;
    tu_ok(ax_spawn(f.sys, doubler_receive, &d, NULL, &a.peer[0]));
    tu_ok(ax_spawn(f.sys, recorder_receive, &fwd, NULL, &a.peer[1]));
    tu_ok(ax_spawn(f.sys, recorder_receive, &orig, NULL, &oid));
    tu_ok(ca_send_u64(f.sys, oid, aid, 5));
    ca_until_ge(&f, &a.done, 1, 5000);
    ca_drain(&f);
    tu_ok(a.rc[0]);
    tu_ok(a.rc[1]);
    tu_ok(a.rc[2]);
    ca_assert_id_eq(a.reply_to, oid);
    assert_int_equal(orig.n, 1);
    ca_assert_id_eq(orig.from[0], aid);
    assert_int_equal(orig.v[0], 11);
    /* The forward carries the original message and its original sender. */
    assert_int_equal(fwd.n, 1);
    ca_assert_id_eq(fwd.from[0], oid);
    assert_int_equal(fwd.v[0], 5);
    assert_int_equal(f.dl.n, 0);
    ca_close(&f);
}

/* ---- chains: coroutine actors asking coroutine actors ------------------------------- */

#define CHAIN 8

typedef struct chain_link {
    ax_id next; /* nil: the end of the chain */
    int rc, handled;
} chain_link;

static void link_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    chain_link *l = state;
    uint64_t v = ca_u64(msg);
    l->handled++;
    if (ax_id_is_nil(l->next)) {
        l->rc = ax_sleep(ctx, AX_MSEC(1));
        v *= 10;
    } else {
        uint64_t got = 0;
        l->rc = ask_u64(ctx, l->next, v + 1, &got, AX_SEC(10));
        v = got + 1;
    }
    if (l->rc == 0)
        tu_ok(ax_reply(ctx, T_U64, &v, sizeof v));
}

static void test_ask_chain(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    chain_link l[CHAIN];
    memset(l, 0, sizeof l);
    ax_id id[CHAIN];
    for (int i = CHAIN - 1; i >= 0; i--) {
        l[i].next = i == CHAIN - 1 ? ax_id_nil() : id[i + 1];
        tu_ok(ax_spawn_coro(f.sys, link_receive, &l[i], NULL, &id[i]));
    }
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_ask_once);
    a.peer[0] = id[0];
    go(&f, aid);
    ca_until_ge(&f, &a.done, 1, 5000);
    tu_ok(a.rc[0]);
    /* 21, 22, ..., 28 at the end -> 280, then +1 per chain_link on the way back. */
    uint64_t want = (21 + (CHAIN - 1)) * 10 + (CHAIN - 1);
    assert_int_equal(a.got[0], want);
    for (int i = 0; i < CHAIN; i++) {
        tu_ok(l[i].rc);
        assert_int_equal(l[i].handled, 1);
    }
    assert_int_equal(ca_stacks(f.sys).live, 0);
    assert_int_equal(ax_actor_count(f.sys), CHAIN + 1);
    assert_int_equal(f.dl.n, 0);
    ca_close(&f);
}

/* Two coroutine actors that both ask and answer each other.  In turns,
 * every ask is answered; at the same time, each one's request waits in the
 * other's mailbox (a handler runs at a time), so both time out - and the
 * answers that follow are dead letters, not crashes. */
typedef struct mutual {
    ax_id peer;
    struct mutual *other;
    int wait_other; /* answer only once the other's ask has returned */
    int rc[16];
    uint64_t got[16];
    int asks, answered;
    ax_duration timeout;
} mutual;

static void mutual_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    mutual *m = state;
    if (msg->type == T_GO) {
        int i = m->asks++;
        m->rc[i] = 12345;
        m->rc[i] = ask_u64(ctx, m->peer, (uint64_t)i, &m->got[i], m->timeout);
        return;
    }
    uint64_t v = ca_u64(msg) + 100;
    tu_ok(ax_sleep(ctx, 0));
    while (m->wait_other && m->other->rc[m->other->asks - 1] == 12345)
        tu_ok(ax_sleep(ctx, AX_MSEC(1))); /* its ask has not timed out yet */
    ax_reply(ctx, T_U64, &v, sizeof v);
    m->answered++;
}

static void test_ask_each_other(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    mutual m[2];
    memset(m, 0, sizeof m);
    ax_id id[2];
    tu_ok(ax_spawn_coro(f.sys, mutual_receive, &m[0], NULL, &id[0]));
    tu_ok(ax_spawn_coro(f.sys, mutual_receive, &m[1], NULL, &id[1]));
    m[0].peer = id[1];
    m[1].peer = id[0];
    m[0].other = &m[1];
    m[1].other = &m[0];
    m[0].timeout = m[1].timeout = AX_SEC(10);
    /* In turns: 0 asks 1, then 1 asks 0, several times. */
    for (int i = 0; i < 3; i++) {
        go(&f, id[0]);
        ca_until_ge(&f, &m[1].answered, i + 1, 5000);
        go(&f, id[1]);
        ca_until_ge(&f, &m[0].answered, i + 1, 5000);
    }
    ca_drain(&f);
    for (int i = 0; i < 3; i++) {
        tu_ok(m[0].rc[i]);
        tu_ok(m[1].rc[i]);
        assert_int_equal(m[0].got[i], (uint64_t)i + 100);
        assert_int_equal(m[1].got[i], (uint64_t)i + 100);
    }
    assert_int_equal(f.dl.n, 0);
    /* At once: a deadlock that the timeouts break. */
    m[0].timeout = m[1].timeout = AX_MSEC(30);
    m[0].wait_other = m[1].wait_other = 1;
    go(&f, id[0]);
    go(&f, id[1]);
    ca_until_ge(&f, &m[0].answered, 4, 5000);
    ca_until_ge(&f, &m[1].answered, 4, 5000);
    ca_drain(&f);
    tu_assert_err(m[0].rc[3], AX_ETIMEDOUT);
    tu_assert_err(m[1].rc[3], AX_ETIMEDOUT);
    if (f.dl.n != 2 || f.dl.by_reason[-AX_ESTALE] != 2)
        ca_dl_dump(&f.dl, "want the two late answers as AX_ESTALE dead letters");
    assert_int_equal(ca_stacks(f.sys).live, 0);
    ca_close(&f);
}

/* ---- timeouts ---------------------------------------------------------------------- */

static void script_ask_timeout(asker *a, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    int64_t t0 = ca_now_ns();
    a->rc[0] = ask_u64(ctx, a->peer[0], 1, &a->got[0], AX_MSEC(30));
    a->elapsed_ns = ca_now_ns() - t0;
}

static void test_ask_timeout_then_late_reply(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    sink s;
    memset(&s, 0, sizeof s);
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_ask_timeout);
    tu_ok(ax_spawn(f.sys, sink_receive, &s, NULL, &a.peer[0]));
    go(&f, aid);
    ca_until_ge(&f, &a.done, 1, 5000);
    tu_assert_err(a.rc[0], AX_ETIMEDOUT);
    assert_true(a.elapsed_ns < AX_SEC(5));
    assert_int_equal(ax_timer_count(f.loop), 0);
    assert_int_equal(ax_actor_count(f.sys), 2); /* the reply address is gone */
    /* The late answer: a dead letter; the asker is untouched. */
    assert_int_equal(s.n, 1);
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a.peer[0], T_EMPTY, NULL, 0));
    ca_drain(&f);
    tu_assert_err(s.late_rc[0], AX_ESTALE);
    assert_int_equal(f.dl.n, 1);
    ca_assert_id_eq(f.dl.v[0].to, s.from[0]);
    assert_int_equal(a.runs, 1);
    /* It can ask again. */
    go(&f, aid);
    ca_until_ge(&f, &a.done, 2, 5000);
    tu_assert_err(a.rc[0], AX_ETIMEDOUT);
    assert_int_equal(ca_stacks(f.sys).live, 0);
    ca_close(&f);
}

/* The timeout counts from the call: never early, even late in a turn. */
static void script_ask_timeout_late_in_turn(asker *a, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    ca_spin_ms(60);
    int64_t t0 = ca_now_ns();
    a->rc[0] = ask_u64(ctx, a->peer[0], 1, &a->got[0], AX_MSEC(40));
    a->elapsed_ns = ca_now_ns() - t0;
}

static void test_ask_timeout_never_early(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    sink s;
    memset(&s, 0, sizeof s);
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_ask_timeout_late_in_turn);
    tu_ok(ax_spawn(f.sys, sink_receive, &s, NULL, &a.peer[0]));
    go(&f, aid);
    ca_until_ge(&f, &a.done, 1, 5000);
    tu_assert_err(a.rc[0], AX_ETIMEDOUT);
    if (a.elapsed_ns < AX_MSEC(40))
        fail_msg("ax_ask(timeout 40 ms) timed out after %lld ns: early", (long long)a.elapsed_ns);
    ca_close(&f);
}

/* The answer is queued at the reply address when the timeout fires: the
 * asker gets AX_ETIMEDOUT and the answer becomes a dead letter. */
static void test_ask_timeout_with_answer_queued(void **state)
{
    (void)state;
    ax_system_options o;
    memset(&o, 0, sizeof o);
    o.turn_budget = 1; /* one message per turn: the timer runs in between */
    ca f;
    ca_open(&f, &o);
    doubler d;
    memset(&d, 0, sizeof d);
    d.spin_ms = 60; /* answers after the 30 ms timeout has passed */
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_ask_timeout);
    tu_ok(ax_spawn(f.sys, doubler_receive, &d, NULL, &a.peer[0]));
    go(&f, aid);
    ca_until_ge(&f, &a.done, 1, 5000);
    ca_drain(&f);
    assert_int_equal(d.n, 1);
    tu_assert_err(a.rc[0], AX_ETIMEDOUT);
    if (f.dl.n != 1 || f.dl.v[0].type != T_U64)
        ca_dl_dump(&f.dl, "want the late answer as one dead letter");
    ca_assert_id_eq(f.dl.v[0].to, d.from[0]);
    assert_int_equal(ax_actor_count(f.sys), 2);
    ca_close(&f);
}

static void script_ask_forever(asker *a, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    a->rc[0] = ask_u64(ctx, a->peer[0], 4, &a->got[0], AX_FOREVER);
}

static void slow_doubler(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    tu_ok(ax_sleep(ctx, AX_MSEC(20)));
    uint64_t v = ca_u64(msg) * 2;
    tu_ok(ax_reply(ctx, T_U64, &v, sizeof v));
}

static void test_ask_forever(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_ask_forever);
    tu_ok(ax_spawn_coro(f.sys, slow_doubler, NULL, NULL, &a.peer[0]));
    go(&f, aid);
    ca_until_ge(&f, &a.done, 1, 5000);
    tu_ok(a.rc[0]);
    assert_int_equal(a.got[0], 8);
    ca_close(&f);
}

/* ---- dead targets --------------------------------------------------------------------- */

static void script_ask_long(asker *a, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    int64_t t0 = ca_now_ns();
    a->rc[0] = ask_u64(ctx, a->peer[0], 3, &a->got[0], AX_SEC(30));
    a->elapsed_ns = ca_now_ns() - t0;
}

static void test_ask_dead_target(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    sink s;
    memset(&s, 0, sizeof s);
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_ask_long);
    tu_ok(ax_spawn(f.sys, sink_receive, &s, NULL, &a.peer[0]));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a.peer[0], AX_MSG_POISON, NULL, 0));
    ca_drain(&f);
    go(&f, aid);
    ca_until_ge(&f, &a.done, 1, 5000);
    tu_assert_err(a.rc[0], AX_ESTALE);
    assert_true(a.elapsed_ns < AX_SEC(5));
    assert_int_equal(f.dl.by_reason[-AX_ESTALE], 1); /* the request */
    assert_int_equal(ax_actor_count(f.sys), 1);
    assert_int_equal(ax_timer_count(f.loop), 0);
    ca_close(&f);
}

/* A coroutine target busy in a long sleep when the request arrives. */
typedef struct napper {
    int n;
} napper;

static void napper_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    napper *p = state;
    p->n++;
    ax_sleep(ctx, AX_SEC(30));
}

/* How the target dies before answering. */
enum { DIE_POISON_AFTER_REQUEST, DIE_STOP_ON_REQUEST, DIE_POISON_WHILE_QUEUED };

static void check_target_dies(int how)
{
    ca f;
    ca_open(&f, NULL);
    sink s;
    memset(&s, 0, sizeof s);
    napper p = {0};
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_ask_long);
    if (how == DIE_POISON_WHILE_QUEUED) {
        tu_ok(ax_spawn_coro(f.sys, napper_receive, &p, NULL, &a.peer[0]));
        tu_ok(ca_send_u64(f.sys, ax_id_nil(), a.peer[0], 0));
        ca_until_ge(&f, &p.n, 1, 5000); /* asleep: the request will wait */
    } else {
        s.stop_on_request = how == DIE_STOP_ON_REQUEST;
        tu_ok(ax_spawn(f.sys, sink_receive, &s, NULL, &a.peer[0]));
    }
    go(&f, aid);
    if (how == DIE_POISON_AFTER_REQUEST) {
        ca_until_ge(&f, &s.n, 1, 5000);
        ca_step(&f);
        assert_int_equal(a.done, 0);
        tu_ok(ax_system_send(f.sys, ax_id_nil(), a.peer[0], AX_MSG_POISON, NULL, 0));
    } else if (how == DIE_POISON_WHILE_QUEUED) {
        for (int i = 0; i < 3; i++)
            ca_step(&f);
        assert_int_equal(a.done, 0);
        tu_ok(ax_system_send(f.sys, ax_id_nil(), a.peer[0], AX_MSG_POISON, NULL, 0));
    }
    ca_until_ge(&f, &a.done, 1, 5000);
    tu_assert_err(a.rc[0], AX_ESTALE);
    assert_true(a.elapsed_ns < AX_SEC(10)); /* at once, not at the 30 s timeout */
    ca_drain(&f);
    assert_int_equal(ax_actor_count(f.sys), 1);
    assert_int_equal(ax_timer_count(f.loop), 0);
    assert_int_equal(ca_stacks(f.sys).live, 0);
    ca_close(&f);
}

static void test_ask_target_dies_before_answering(void **state)
{
    (void)state;
    check_target_dies(DIE_POISON_AFTER_REQUEST);
    check_target_dies(DIE_STOP_ON_REQUEST);
    check_target_dies(DIE_POISON_WHILE_QUEUED);
}

/* A target that answers and then ends: the asker has its answer, and
 * nothing is left over (the end of the target is no business of an ask
 * that is already answered: no dead letter either). */
static void test_ask_target_answers_then_stops(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    doubler d;
    memset(&d, 0, sizeof d);
    d.stop_after_reply = 1;
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_ask_once);
    tu_ok(ax_spawn(f.sys, doubler_receive, &d, NULL, &a.peer[0]));
    go(&f, aid);
    ca_until_ge(&f, &a.done, 1, 5000);
    ca_drain(&f);
    tu_ok(a.rc[0]);
    assert_int_equal(a.got[0], 42);
    assert_int_equal(ax_actor_count(f.sys), 1);
    if (f.dl.n != 0)
        ca_dl_dump(&f.dl, "an answered ask whose target then stopped left dead letters");
    ca_close(&f);
}

/* A target that answers with a poison pill ("poison whoever sent me
 * this"): the pill reaches the reply address, not the asker.  The asker
 * is not being stopped, so its ax_ask must not fail with AX_ECANCELED, and
 * a callback ask still gets its callback exactly once. */
static void poisoner_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    (*(int *)state)++;
    tu_ok(ax_reply(ctx, AX_MSG_POISON, NULL, 0));
}

static void script_ask_then_sleep(asker *a, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    const ax_msg *r = NULL;
    uint64_t v = 1;
    a->rc[0] = ax_ask(ctx, a->peer[0], T_U64, &v, sizeof v, &r, AX_SEC(10));
    a->rc[1] = ax_sleep(ctx, AX_MSEC(1)); /* still a working handler */
}

static void test_ask_answered_with_poison(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    int hits = 0;
    ax_id p;
    tu_ok(ax_spawn(f.sys, poisoner_receive, &hits, NULL, &p));
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_ask_then_sleep);
    a.peer[0] = p;
    go(&f, aid);
    ca_until_ge(&f, &a.done, 1, 5000);
    if (a.rc[0] == AX_ECANCELED)
        fail_msg("ax_ask returned AX_ECANCELED: the pill at the reply address was taken "
                 "for a cancel of the asker");
    tu_ok(a.rc[1]);
    assert_int_equal(hits, 1);
    ca_close(&f);
}

/* ---- errors -------------------------------------------------------------------------- */

typedef struct ask_errs {
    int plain_ask;
    int null_reply, remote, unknown_type, bad_size, nil_target;
    const ax_msg *reply_after_error;
    int n;
} ask_errs;

static void ask_errs_plain(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    ask_errs *e = state;
    const ax_msg *r = NULL;
    uint64_t v = 1;
    e->plain_ask = ax_ask(ctx, ax_self(ctx), T_U64, &v, sizeof v, &r, AX_MSEC(10));
    e->n++;
}

static void ask_errs_coro(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    ask_errs *e = state;
    uint64_t v = 1;
    ax_id remote = {7, 1, 1};
    const ax_msg *r = (const ax_msg *)&v; /* must be reset to NULL */
    e->null_reply = ax_ask(ctx, ax_self(ctx), T_U64, &v, sizeof v, NULL, AX_MSEC(10));
    e->remote = ax_ask(ctx, remote, T_U64, &v, sizeof v, &r, AX_MSEC(10));
    e->unknown_type = ax_ask(ctx, ax_self(ctx), T_UNREG, &v, sizeof v, &r, AX_MSEC(10));
    e->bad_size = ax_ask(ctx, ax_self(ctx), T_U64, &v, 4, &r, AX_MSEC(10));
    e->nil_target = ax_ask(ctx, ax_id_nil(), T_U64, &v, sizeof v, &r, AX_MSEC(10));
    e->reply_after_error = r;
    e->n++;
}

static void test_ask_errors(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    ask_errs e;
    memset(&e, 0, sizeof e);
    ax_id p, c;
    tu_ok(ax_spawn(f.sys, ask_errs_plain, &e, NULL, &p));
    tu_ok(ax_spawn_coro(f.sys, ask_errs_coro, &e, NULL, &c));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), p, 1));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), c, 1));
    ca_drain(&f);
    assert_int_equal(e.n, 2);
    tu_assert_err(e.plain_ask, AX_ENOTCORO);
    tu_assert_err(e.null_reply, AX_EINVAL);
    tu_assert_err(e.remote, AX_ENOROUTE);
    tu_assert_err(e.unknown_type, AX_EUNKNOWNTYPE);
    tu_assert_err(e.bad_size, AX_EMSGSIZE);
    tu_assert_err(e.nil_target, AX_ESTALE);
    assert_null(e.reply_after_error);
    const ax_msg *r;
    tu_assert_err(ax_ask(NULL, p, T_U64, NULL, 0, &r, 0), AX_ENOTCORO);
    /* No reply address, timer or watcher left behind by the failures. */
    assert_int_equal(ax_actor_count(f.sys), 2);
    assert_int_equal(ax_timer_count(f.loop), 0);
    assert_int_equal(f.dl.by_reason[-AX_ENOROUTE], 1);
    assert_int_equal(f.dl.by_reason[-AX_ESTALE], 1);
    ca_close(&f);
}

/* An ask waiting for its answer is not an actor: ax_actor_count and the
 * stats count what was spawned (a program that runs "until no actor is
 * left" must not be kept alive by an internal reply address). */
static void test_ask_reply_address_is_not_an_actor(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    sink s;
    memset(&s, 0, sizeof s);
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_ask_long);
    tu_ok(ax_spawn(f.sys, sink_receive, &s, NULL, &a.peer[0]));
    go(&f, aid);
    ca_until_ge(&f, &s.n, 1, 5000);
    ax_stats st = ca_stats(f.sys);
    if (ax_actor_count(f.sys) != 2 || st.live_actors != 2)
        fail_msg("2 actors spawned and alive, ax_actor_count says %zu, live_actors %llu, "
                 "spawned %llu",
                 ax_actor_count(f.sys), (unsigned long long)st.live_actors,
                 (unsigned long long)st.spawned);
    assert_int_equal(st.spawned, 2);
    ca_close(&f);
}

/* An async behaviour handler asks too. */
static void bhv_ask(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    asker *a = state;
    a->rc[0] = ask_u64(ctx, a->peer[0], ca_u64(msg), &a->got[0], AX_SEC(10));
    a->done++;
}

static void bhv_unknown(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)ctx;
    (void)msg;
    asker *a = state;
    a->flag++;
}

static void test_ask_from_async_behavior(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    doubler d;
    memset(&d, 0, sizeof d);
    asker a;
    memset(&a, 0, sizeof a);
    tu_ok(ax_spawn(f.sys, doubler_receive, &d, NULL, &a.peer[0]));
    ax_handler h[] = {{T_U64, bhv_ask, AX_HANDLER_ASYNC}};
    ax_behavior *b;
    tu_ok(ax_behavior_new(f.sys, h, 1, bhv_unknown, &b));
    ax_id id;
    tu_ok(ax_spawn_behavior(f.sys, b, &a, NULL, &id));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), id, 9));
    ca_until_ge(&f, &a.done, 1, 5000);
    tu_ok(a.rc[0]);
    assert_int_equal(a.got[0], 18);
    ca_close(&f);
}

/* Shutdown after the answer reached the reply address but before the
 * asker was resumed: the answer is released (its free hook runs, its
 * memory is freed). */
static void script_ask_owned(asker *a, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    const ax_msg *r = NULL;
    uint64_t v = 1;
    a->rc[0] = ax_ask(ctx, a->peer[0], T_U64, &v, sizeof v, &r, AX_SEC(30));
}

static void test_shutdown_with_answer_not_yet_taken(void **state)
{
    (void)state;
    ax_system_options o;
    memset(&o, 0, sizeof o);
    o.turn_budget = 1;
    ca f;
    ca_open(&f, &o);
    owned_frees = 0;
    owned_replier rp = {0};
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_ask_owned);
    tu_ok(ax_spawn(f.sys, owned_receive, &rp, NULL, &a.peer[0]));
    go(&f, aid);
    ca_until_ge(&f, &rp.n, 1, 5000); /* answered: the answer is queued */
    ca_step(&f);                     /* the reply address takes it */
    assert_int_equal(a.done, 0);     /* the asker has not run yet */
    assert_int_equal(a.rc[0], 12345);
    ca_close(&f);
    assert_int_equal(a.done, 1);
    if (owned_frees != 1)
        fail_msg("the answer's free hook ran %d times, want 1", owned_frees);
}

/* ---- ax_ask_cb --------------------------------------------------------------------------- */

typedef struct cbasker {
    ax_id target;
    ax_duration timeout;
    int call_rc;
    int calls;
    int status;
    int had_reply;
    uint64_t value;
    ax_id cb_self, cb_sender;
    void *cb_state, *cb_ctx_state, *cb_arg;
    int in_coro;
    int chain;      /* ask again from the callback this many times */
    int stop_in_cb; /* ax_stop() in the last callback */
    int stops, reason;
    int send_rc;
    ax_id tell; /* the callback sends its value here */
    int handled;
} cbasker;

static void cb_done(void *state, ax_ctx *ctx, int status, const ax_msg *reply, void *arg)
{
    cbasker *c = state;
    c->calls++;
    c->status = status;
    c->had_reply = reply != NULL;
    c->value = reply ? ca_u64(reply) : 0;
    c->cb_self = ax_self(ctx);
    c->cb_sender = ax_sender(ctx);
    c->cb_state = state;
    c->cb_ctx_state = ax_ctx_state(ctx);
    c->cb_arg = arg;
    c->in_coro = axi_coro_current() != NULL;
    if (!ax_id_is_nil(c->tell))
        c->send_rc = ax_send(ctx, c->tell, T_U64, &c->value, sizeof c->value);
    if (c->chain > 0) {
        c->chain--;
        uint64_t v = c->value;
        c->call_rc = ax_ask_cb(ctx, c->target, T_U64, &v, sizeof v, c->timeout, cb_done, arg);
    } else if (c->stop_in_cb) {
        ax_stop(ctx);
    }
}

static void cbasker_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    cbasker *c = state;
    c->handled++;
    if (msg->type != T_GO)
        return;
    uint64_t v = 21;
    c->call_rc = ax_ask_cb(ctx, c->target, T_U64, &v, sizeof v, c->timeout, cb_done, &c->calls);
}

static void cbasker_stop(void *state, ax_ctx *ctx, int reason)
{
    (void)ctx;
    cbasker *c = state;
    c->stops++;
    c->reason = reason;
}

static ax_id spawn_cbasker(ca *f, cbasker *c, ax_id target, ax_duration timeout, int coro)
{
    memset(c, 0, sizeof *c);
    c->target = target;
    c->timeout = timeout;
    c->call_rc = 12345;
    c->status = 12345;
    ax_spawn_options so;
    memset(&so, 0, sizeof so);
    so.on_stop = cbasker_stop;
    ax_id id;
    if (coro)
        tu_ok(ax_spawn_coro(f->sys, cbasker_receive, c, &so, &id));
    else
        tu_ok(ax_spawn(f->sys, cbasker_receive, c, &so, &id));
    return id;
}

static void check_ask_cb_reply(int coro)
{
    ca f;
    ca_open(&f, NULL);
    doubler d;
    memset(&d, 0, sizeof d);
    ax_id t;
    tu_ok(ax_spawn(f.sys, doubler_receive, &d, NULL, &t));
    cbasker c;
    ax_id id = spawn_cbasker(&f, &c, t, AX_SEC(10), coro);
    go(&f, id);
    ca_until_ge(&f, &c.calls, 1, 5000);
    ca_drain(&f);
    tu_ok(c.call_rc);
    assert_int_equal(c.calls, 1);
    tu_ok(c.status);
    assert_int_equal(c.had_reply, 1);
    assert_int_equal(c.value, 42);
    /* It ran as the asker: its id, its state, the arg given; ax_sender()
     * is the answer's sender. */
    ca_assert_id_eq(c.cb_self, id);
    ca_assert_id_eq(c.cb_sender, t);
    assert_ptr_equal(c.cb_state, &c);
    assert_ptr_equal(c.cb_ctx_state, &c);
    assert_ptr_equal(c.cb_arg, &c.calls);
    assert_int_equal(c.in_coro, 0);
    assert_int_equal(c.handled, 1);
    assert_false(ax_id_eq(d.from[0], id)); /* asked from a reply address */
    assert_int_equal(ax_actor_count(f.sys), 2);
    assert_int_equal(f.dl.n, 0);
    ca_close(&f);
}

static void test_ask_cb_reply(void **state)
{
    (void)state;
    check_ask_cb_reply(0);
    check_ask_cb_reply(1); /* from a coroutine handler too */
}

static void test_ask_cb_timeout_then_late_reply(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    sink s;
    memset(&s, 0, sizeof s);
    ax_id t;
    tu_ok(ax_spawn(f.sys, sink_receive, &s, NULL, &t));
    cbasker c;
    ax_id id = spawn_cbasker(&f, &c, t, AX_MSEC(20), 0);
    go(&f, id);
    ca_until_ge(&f, &c.calls, 1, 5000);
    ca_drain(&f);
    tu_ok(c.call_rc);
    assert_int_equal(c.calls, 1);
    tu_assert_err(c.status, AX_ETIMEDOUT);
    assert_int_equal(c.had_reply, 0);
    ca_assert_id_eq(c.cb_self, id);
    assert_int_equal(ax_actor_count(f.sys), 2);
    tu_ok(ax_system_send(f.sys, ax_id_nil(), t, T_EMPTY, NULL, 0));
    ca_drain(&f);
    tu_assert_err(s.late_rc[0], AX_ESTALE);
    assert_int_equal(c.calls, 1);
    assert_int_equal(f.dl.n, 1);
    ca_close(&f);
}

static void test_ask_cb_dead_target(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    sink s;
    memset(&s, 0, sizeof s);
    ax_id t;
    tu_ok(ax_spawn(f.sys, sink_receive, &s, NULL, &t));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), t, AX_MSG_POISON, NULL, 0));
    ca_drain(&f);
    cbasker c;
    ax_id id = spawn_cbasker(&f, &c, t, AX_SEC(30), 0);
    go(&f, id);
    ca_drain(&f);
    /* Dead at the call: the error now, and the callback never runs. */
    tu_assert_err(c.call_rc, AX_ESTALE);
    assert_int_equal(c.calls, 0);
    assert_int_equal(ax_actor_count(f.sys), 1);
    assert_int_equal(ax_timer_count(f.loop), 0);
    ca_close(&f);
}

static void test_ask_cb_target_dies_before_answering(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    sink s;
    memset(&s, 0, sizeof s);
    ax_id t;
    tu_ok(ax_spawn(f.sys, sink_receive, &s, NULL, &t));
    cbasker c;
    ax_id id = spawn_cbasker(&f, &c, t, AX_SEC(30), 0);
    go(&f, id);
    ca_until_ge(&f, &s.n, 1, 5000);
    int64_t t0 = ca_now_ns();
    tu_ok(ax_system_send(f.sys, ax_id_nil(), t, AX_MSG_POISON, NULL, 0));
    ca_until_ge(&f, &c.calls, 1, 5000);
    assert_true(ca_now_ns() - t0 < AX_SEC(10));
    ca_drain(&f);
    tu_ok(c.call_rc);
    assert_int_equal(c.calls, 1);
    tu_assert_err(c.status, AX_ESTALE);
    assert_int_equal(c.had_reply, 0);
    ca_assert_id_eq(c.cb_self, id);
    assert_int_equal(ax_timer_count(f.loop), 0);
    ca_close(&f);
}

/* The asker ends first: the callback never runs; the answer that comes
 * later is a dead letter addressed to the asker. */
static void test_ask_cb_asker_ends_first(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    sink s;
    memset(&s, 0, sizeof s);
    ax_id t;
    tu_ok(ax_spawn(f.sys, sink_receive, &s, NULL, &t));
    cbasker c;
    ax_id id = spawn_cbasker(&f, &c, t, AX_SEC(30), 0);
    go(&f, id);
    ca_until_ge(&f, &s.n, 1, 5000);
    tu_ok(ax_system_send(f.sys, ax_id_nil(), id, AX_MSG_POISON, NULL, 0));
    ca_until_ge(&f, &c.stops, 1, 5000);
    assert_int_equal(c.reason, AX_REASON_POISON);
    tu_ok(ax_system_send(f.sys, ax_id_nil(), t, T_EMPTY, NULL, 0));
    ca_drain(&f);
    tu_ok(s.late_rc[0]); /* the reply address still took it */
    assert_int_equal(c.calls, 0);
    if (f.dl.n != 1 || f.dl.v[0].type != T_U64 || f.dl.v[0].reason != AX_ESTALE)
        ca_dl_dump(&f.dl, "want the answer as one AX_ESTALE dead letter");
    ca_assert_id_eq(f.dl.v[0].to, id);
    ca_assert_id_eq(f.dl.v[0].from, t);
    assert_int_equal(ax_actor_count(f.sys), 1);
    assert_int_equal(ax_timer_count(f.loop), 0);

    /* And when it times out after the asker ended: nothing runs. */
    cbasker c2;
    ax_id id2 = spawn_cbasker(&f, &c2, t, AX_MSEC(20), 0);
    go(&f, id2);
    ca_until_ge(&f, &s.n, 2, 5000);
    tu_ok(ax_system_send(f.sys, ax_id_nil(), id2, AX_MSG_POISON, NULL, 0));
    ca_drain(&f);
    assert_int_equal(c2.calls, 0);
    assert_int_equal(ax_timer_count(f.loop), 0);
    ca_close(&f);
}

static void cb_never(void *state, ax_ctx *ctx, int status, const ax_msg *reply, void *arg)
{
    (void)state;
    (void)ctx;
    (void)status;
    (void)reply;
    (*(int *)arg)++;
}

typedef struct cb_errs {
    int null_cb, remote, unknown, bad_size, neg_timeout;
    int never;
    int n;
} cb_errs;

static void cb_errs_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    cb_errs *e = state;
    uint64_t v = 1;
    ax_id remote = {9, 1, 1};
    e->null_cb = ax_ask_cb(ctx, ax_self(ctx), T_U64, &v, sizeof v, AX_SEC(1), NULL, NULL);
    e->remote = ax_ask_cb(ctx, remote, T_U64, &v, sizeof v, AX_SEC(1), cb_never, &e->never);
    e->unknown =
        ax_ask_cb(ctx, ax_self(ctx), T_UNREG, &v, sizeof v, AX_SEC(1), cb_never, &e->never);
    e->bad_size = ax_ask_cb(ctx, ax_self(ctx), T_U64, &v, 3, AX_SEC(1), cb_never, &e->never);
    e->n++;
}

static void test_ask_cb_errors(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    cb_errs e;
    memset(&e, 0, sizeof e);
    ax_id id;
    tu_ok(ax_spawn(f.sys, cb_errs_receive, &e, NULL, &id));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), id, 1));
    ca_drain(&f);
    assert_int_equal(e.n, 1);
    tu_assert_err(e.null_cb, AX_EINVAL);
    tu_assert_err(e.remote, AX_ENOROUTE);
    tu_assert_err(e.unknown, AX_EUNKNOWNTYPE);
    tu_assert_err(e.bad_size, AX_EMSGSIZE);
    assert_int_equal(e.never, 0);
    uint64_t v = 1;
    tu_assert_err(ax_ask_cb(NULL, id, T_U64, &v, sizeof v, AX_SEC(1), cb_never, &e.never),
                  AX_EINVAL);
    assert_int_equal(ax_actor_count(f.sys), 1);
    assert_int_equal(ax_timer_count(f.loop), 0);
    ca_close(&f);
}

/* From the callback: send, ask again, and finally ax_stop(). */
static void test_ask_cb_callback_acts_as_asker(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    doubler d;
    memset(&d, 0, sizeof d);
    recorder r;
    memset(&r, 0, sizeof r);
    ax_id t, rid;
    tu_ok(ax_spawn(f.sys, doubler_receive, &d, NULL, &t));
    tu_ok(ax_spawn(f.sys, recorder_receive, &r, NULL, &rid));
    cbasker c;
    ax_id id = spawn_cbasker(&f, &c, t, AX_SEC(10), 0);
    c.tell = rid;
    c.chain = 2;
    c.stop_in_cb = 1;
    go(&f, id);
    ca_until_ge(&f, &c.stops, 1, 5000);
    ca_drain(&f);
    assert_int_equal(c.calls, 3);
    tu_ok(c.status);
    assert_int_equal(c.value, 168); /* 21 * 2 * 2 * 2 */
    tu_ok(c.send_rc);
    assert_int_equal(r.n, 3);
    ca_assert_id_eq(r.from[0], id);
    assert_int_equal(r.v[0], 42);
    assert_int_equal(r.v[2], 168);
    assert_int_equal(c.reason, AX_REASON_NORMAL);
    assert_int_equal(ax_actor_count(f.sys), 2);
    assert_int_equal(f.dl.n, 0);
    ca_close(&f);
}

/* A coroutine actor that uses the callback form and then waits: the
 * callback is the actor's code too, so it must not run while the handler
 * is suspended halfway ("the actor never runs two handlers at once, so its
 * state needs no locking", docs/coroutines.md) - it runs after. */
typedef struct cb_coro {
    ax_id target;
    const int *target_n; /* requests the target has answered */
    int in_handler;      /* 1 while the handler runs, across its wait */
    int calls, status, in_handler_at_cb;
    int returned;
} cb_coro;

static void cb_coro_cb(void *state, ax_ctx *ctx, int status, const ax_msg *reply, void *arg)
{
    (void)ctx;
    (void)reply;
    (void)arg;
    cb_coro *c = state;
    c->calls++;
    c->status = status;
    c->in_handler_at_cb = c->in_handler;
}

static void cb_coro_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    cb_coro *c = state;
    c->in_handler = 1;
    uint64_t v = 1;
    tu_ok(ax_ask_cb(ctx, c->target, T_U64, &v, sizeof v, AX_SEC(10), cb_coro_cb, NULL));
    /* Wait until the answer has certainly arrived (the target has
     * answered, and its reply address ran in that same pass). */
    while (*c->target_n < 1)
        ax_sleep(ctx, AX_MSEC(1));
    ax_sleep(ctx, AX_MSEC(1));
    c->in_handler = 0;
    c->returned++;
}

static void test_ask_cb_not_run_inside_a_waiting_handler(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    doubler d;
    memset(&d, 0, sizeof d);
    cb_coro c;
    memset(&c, 0, sizeof c);
    c.target_n = &d.n;
    tu_ok(ax_spawn(f.sys, doubler_receive, &d, NULL, &c.target));
    ax_id id;
    tu_ok(ax_spawn_coro(f.sys, cb_coro_receive, &c, NULL, &id));
    go(&f, id);
    ca_until_ge(&f, &c.returned, 1, 5000);
    ca_until_ge(&f, &c.calls, 1, 5000);
    assert_int_equal(c.calls, 1);
    tu_ok(c.status);
    if (c.in_handler_at_cb)
        fail_msg("the ask callback ran while the actor's coroutine handler was suspended");
    ca_close(&f);
}

/* ... and if that waiting handler is then cancelled, the actor ends
 * without the callback: its answer is a dead letter addressed to it. */
static void cb_coro_long_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    cb_coro *c = state;
    c->in_handler = 1;
    uint64_t v = 1;
    tu_ok(ax_ask_cb(ctx, c->target, T_U64, &v, sizeof v, AX_SEC(10), cb_coro_cb, NULL));
    c->status = ax_sleep(ctx, AX_SEC(30));
    c->in_handler = 0;
    c->returned++;
}

static void test_ask_cb_asker_cancelled_while_waiting(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    doubler d;
    memset(&d, 0, sizeof d);
    cb_coro c;
    memset(&c, 0, sizeof c);
    tu_ok(ax_spawn(f.sys, doubler_receive, &d, NULL, &c.target));
    ax_id id;
    tu_ok(ax_spawn_coro(f.sys, cb_coro_long_receive, &c, NULL, &id));
    go(&f, id);
    ca_until_ge(&f, &d.n, 1, 5000);
    for (int i = 0; i < 3; i++)
        ca_step(&f); /* the answer reaches the reply address */
    tu_ok(ax_system_send(f.sys, ax_id_nil(), id, AX_MSG_POISON, NULL, 0));
    ca_until_ge(&f, &c.returned, 1, 5000);
    ca_drain(&f);
    tu_assert_err(c.status, AX_ECANCELED);
    if (c.calls != 0)
        fail_msg("the ask callback ran (%d) for an asker whose handler was waiting, then "
                 "cancelled",
                 c.calls);
    if (f.dl.n != 1 || f.dl.v[0].type != T_U64 || f.dl.v[0].reason != AX_ESTALE)
        ca_dl_dump(&f.dl, "want the answer as one AX_ESTALE dead letter");
    ca_assert_id_eq(f.dl.v[0].to, id);
    ca_close(&f);
}

/* The callback form, answered with a poison pill: the callback still
 * runs exactly once. */
static void test_ask_cb_answered_with_poison(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    int hits = 0;
    ax_id p;
    tu_ok(ax_spawn(f.sys, poisoner_receive, &hits, NULL, &p));
    cbasker c;
    ax_id id = spawn_cbasker(&f, &c, p, AX_SEC(10), 0);
    go(&f, id);
    ca_until_ge(&f, &hits, 1, 5000);
    ca_drain(&f); /* the 10 s timeout is stopped one way or another */
    tu_ok(c.call_rc);
    if (c.calls != 1)
        fail_msg("the ask callback ran %d times, want exactly once", c.calls);
    ca_close(&f);
}

/* Shutdown with callback asks outstanding: no callback runs, nothing
 * leaks. */
static void test_ask_cb_outstanding_at_shutdown(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    sink s;
    memset(&s, 0, sizeof s);
    ax_id t;
    tu_ok(ax_spawn(f.sys, sink_receive, &s, NULL, &t));
    cbasker c[3];
    ax_duration to[3] = {AX_FOREVER, AX_SEC(30), AX_MSEC(1)};
    for (int i = 0; i < 3; i++)
        go(&f, spawn_cbasker(&f, &c[i], t, to[i], i == 1));
    ca_until_ge(&f, &s.n, 3, 5000);
    ca_close(&f);
    for (int i = 0; i < 3; i++) {
        tu_ok(c[i].call_rc);
        assert_int_equal(c[i].stops, 1);
        assert_int_equal(c[i].reason, AX_REASON_SHUTDOWN);
        /* The 1 ms one may have timed out before the shutdown. */
        if (i < 2)
            assert_int_equal(c[i].calls, 0);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ask_reply),
        cmocka_unit_test(test_ask_first_answer_wins),
        cmocka_unit_test(test_ask_reply_lifetime),
        cmocka_unit_test(test_ask_in_a_loop_holds_one_reply),
        cmocka_unit_test(test_ask_then_reply_goes_to_original_sender),
        cmocka_unit_test(test_ask_chain),
        cmocka_unit_test(test_ask_each_other),
        cmocka_unit_test(test_ask_timeout_then_late_reply),
        cmocka_unit_test(test_ask_timeout_never_early),
        cmocka_unit_test(test_ask_timeout_with_answer_queued),
        cmocka_unit_test(test_ask_forever),
        cmocka_unit_test(test_ask_dead_target),
        cmocka_unit_test(test_ask_target_dies_before_answering),
        cmocka_unit_test(test_ask_target_answers_then_stops),
        cmocka_unit_test(test_ask_answered_with_poison),
        cmocka_unit_test(test_ask_errors),
        cmocka_unit_test(test_ask_reply_address_is_not_an_actor),
        cmocka_unit_test(test_ask_from_async_behavior),
        cmocka_unit_test(test_shutdown_with_answer_not_yet_taken),
        cmocka_unit_test(test_ask_cb_reply),
        cmocka_unit_test(test_ask_cb_timeout_then_late_reply),
        cmocka_unit_test(test_ask_cb_dead_target),
        cmocka_unit_test(test_ask_cb_target_dies_before_answering),
        cmocka_unit_test(test_ask_cb_asker_ends_first),
        cmocka_unit_test(test_ask_cb_errors),
        cmocka_unit_test(test_ask_cb_callback_acts_as_asker),
        cmocka_unit_test(test_ask_cb_not_run_inside_a_waiting_handler),
        cmocka_unit_test(test_ask_cb_asker_cancelled_while_waiting),
        cmocka_unit_test(test_ask_cb_answered_with_poison),
        cmocka_unit_test(test_ask_cb_outstanding_at_shutdown),
    };
    return ca_main(argc, argv, tests, sizeof tests / sizeof tests[0], NULL, 0, 60);
}
