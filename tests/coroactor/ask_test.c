/* ask_test.c - ax_ask from coroutine handlers (src/actor/ask.c): one-shot
 * reply addresses, the first answer winning, a reply valid until the next
 * ask or the handler returns (one held at a time), ax_reply after an ask
 * still answering the original sender, chains of coroutine actors asking
 * each other, timeouts (a late reply is a dead letter, never a crash), and
 * shutdown with an answer not yet taken.  Dead targets and errors are in
 * ask_edge_test.c, the callback form ax_ask_cb in ask_cb_test.c. */
#include "ask_fx.h"

/* Open `f` (options `o`, may be NULL) with an asker running `fn` whose
 * peer[0] is a plain actor, `target` on `state`; send it T_GO and wait
 * until its script has run.  Returns the asker's id. */
static ax_id run_asker(ca *f, const ax_system_options *o, asker *a, script_fn fn,
                       ax_receive_fn target, void *state)
{
    ca_open(f, o);
    ax_id aid = spawn_asker(f, a, fn);
    a->peer[0] = ca_spawn(f, target, state);
    ca_go_until(f, aid, &a->done, 1);
    return aid;
}

/* ---- ax_ask: the reply ------------------------------------------------------------ */

static void test_ask_reply(void **state)
{
    (void)state;
    ca f;
    doubler d = {0};
    asker a;
    ax_id aid = run_asker(&f, NULL, &a, script_ask_once, doubler_receive, &d);
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
    ca_go_until(&f, aid, &a.done, 2);
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
    doubler d = {.replies = 3};
    asker a;
    run_asker(&f, NULL, &a, script_ask_once, doubler_receive, &d);
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

/* An owned_receive actor on *o (zeroed), with owned_frees reset. */
static ax_id spawn_owned(ca *f, owned_replier *o)
{
    owned_frees = 0;
    memset(o, 0, sizeof *o);
    return ca_spawn(f, owned_receive, o);
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
    owned_replier o;
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_reply_lifetime);
    a.peer[1] = ca_spawn(&f, blob_receive, NULL);
    a.peer[2] = spawn_owned(&f, &o);
    ca_go_until(&f, aid, &a.done, 1);
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
    a.peer[1] = ca_spawn(&f, blob_receive, NULL);
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
    doubler d = {0};
    recorder orig = {0}, fwd = {0};
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_reply_after_ask);
    a.peer[0] = ca_spawn(&f, doubler_receive, &d);
    a.peer[1] = ca_spawn(&f, recorder_receive, &fwd);
    ax_id oid = ca_spawn(&f, recorder_receive, &orig);
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
    ca_go_until(&f, aid, &a.done, 1);
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
        ca_go_until(&f, id[0], &m[1].answered, i + 1);
        ca_go_until(&f, id[1], &m[0].answered, i + 1);
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

/* Ask peer[0] for 1 with `timeout`, timing the call. */
static void timed_ask(asker *a, ax_ctx *ctx, ax_duration timeout)
{
    int64_t t0 = ca_now_ns();
    a->rc[0] = ask_u64(ctx, a->peer[0], 1, &a->got[0], timeout);
    a->elapsed_ns = ca_now_ns() - t0;
}

static void script_ask_timeout(asker *a, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    timed_ask(a, ctx, AX_MSEC(30));
}

/* The timeout counts from the call: never early, even late in a turn. */
static void script_ask_timeout_late_in_turn(asker *a, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    ca_spin_ms(60);
    timed_ask(a, ctx, AX_MSEC(40));
}

static void test_ask_timeout_then_late_reply(void **state)
{
    (void)state;
    ca f;
    sink s = {0};
    asker a;
    ax_id aid = run_asker(&f, NULL, &a, script_ask_timeout, sink_receive, &s);
    tu_assert_err(a.rc[0], AX_ETIMEDOUT);
    assert_true(a.elapsed_ns < AX_SEC(5));
    ca_assert_left(&f, 2); /* the reply address is gone */
    /* The late answer: a dead letter; the asker is untouched. */
    assert_int_equal(s.n, 1);
    ca_tell(&f, a.peer[0], T_EMPTY);
    ca_drain(&f);
    tu_assert_err(s.late_rc[0], AX_ESTALE);
    assert_int_equal(f.dl.n, 1);
    ca_assert_id_eq(f.dl.v[0].to, s.from[0]);
    assert_int_equal(a.runs, 1);
    /* It can ask again. */
    ca_go_until(&f, aid, &a.done, 2);
    tu_assert_err(a.rc[0], AX_ETIMEDOUT);
    assert_int_equal(ca_stacks(f.sys).live, 0);
    ca_close(&f);
}

/* The timeout counts from the call: never early, even late in a turn. */
static void test_ask_timeout_never_early(void **state)
{
    (void)state;
    ca f;
    sink s = {0};
    asker a;
    run_asker(&f, NULL, &a, script_ask_timeout_late_in_turn, sink_receive, &s);
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
    /* One message per turn: the timer runs in between. */
    ax_system_options o = {.turn_budget = 1};
    ca f;
    doubler d = {.spin_ms = 60}; /* answers after the 30 ms timeout has passed */
    asker a;
    run_asker(&f, &o, &a, script_ask_timeout, doubler_receive, &d);
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
    ca_go_until(&f, aid, &a.done, 1);
    tu_ok(a.rc[0]);
    assert_int_equal(a.got[0], 8);
    ca_close(&f);
}

/* ---- shutdown with an answer not yet taken ------------------------------------------- */

/* Shutdown after the answer reached the reply address but before the
 * asker was resumed: the answer is released (its free hook runs, its
 * memory is freed). */
static void script_ask_owned(asker *a, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    a->rc[0] = ca_ask_hold(ctx, a->peer[0], AX_SEC(30));
}

static void test_shutdown_with_answer_not_yet_taken(void **state)
{
    (void)state;
    ax_system_options o = {.turn_budget = 1};
    ca f;
    ca_open(&f, &o);
    owned_replier rp;
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_ask_owned);
    a.peer[0] = spawn_owned(&f, &rp);
    ca_go_until(&f, aid, &rp.n, 1); /* answered: the answer is queued */
    ca_step(&f);                    /* the reply address takes it */
    assert_int_equal(a.done, 0);    /* the asker has not run yet */
    assert_int_equal(a.rc[0], 12345);
    ca_close(&f);
    assert_int_equal(a.done, 1);
    if (owned_frees != 1)
        fail_msg("the answer's free hook ran %d times, want 1", owned_frees);
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
        cmocka_unit_test(test_shutdown_with_answer_not_yet_taken),
    };
    return ca_main(argc, argv, tests, sizeof tests / sizeof tests[0], NULL, 0, 60);
}
