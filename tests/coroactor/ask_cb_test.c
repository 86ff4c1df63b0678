/* ask_cb_test.c - ax_ask_cb, the callback form of ask (src/actor/ask.c),
 * from plain and coroutine handlers: the callback runs as the asker, once,
 * on a reply, a timeout or a dead target; never after the asker ended or
 * while its coroutine handler is suspended; errors, and shutdown with
 * callback asks outstanding. */
#include "ask_fx.h"

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
