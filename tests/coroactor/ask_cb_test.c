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

/* What most tests here build: a system, the actor asked (a doubler, a sink
 * or a poisoner) and a callback asker. */
typedef struct scene {
    ca f;
    doubler d;
    sink s;
    int hits; /* the poisoner's */
    ax_id t;  /* the actor asked */
    cbasker c;
    ax_id id; /* the asker */
} scene;

/* Open the system with the actor asked: `target` on `state` (a member of
 * *x, zeroed here). */
static void scene_open(scene *x, ax_receive_fn target, void *state)
{
    memset(x, 0, sizeof *x);
    ca_open(&x->f, NULL);
    x->t = ca_spawn(&x->f, target, state);
}

/* Spawn the callback asker and let it ask now. */
static void scene_ask(scene *x, ax_duration timeout, int coro)
{
    x->id = spawn_cbasker(&x->f, &x->c, x->t, timeout, coro);
    go(&x->f, x->id);
}

/* A sink asked with `timeout`, holding the request unanswered. */
static void scene_sink_holds_request(scene *x, ax_duration timeout)
{
    scene_open(x, sink_receive, &x->s);
    scene_ask(x, timeout, 0);
    ca_until_ge(&x->f, &x->s.n, 1, 5000);
}

/* Wait for the callback: it ran once, as the asker, with `status` (a
 * reply only on success). */
static void expect_one_call(scene *x, int status)
{
    ca_until_ge(&x->f, &x->c.calls, 1, 5000);
    ca_drain(&x->f);
    tu_ok(x->c.call_rc);
    assert_int_equal(x->c.calls, 1);
    tu_assert_err(x->c.status, status);
    assert_int_equal(x->c.had_reply, status == 0);
    ca_assert_id_eq(x->c.cb_self, x->id);
}

static void check_ask_cb_reply(int coro)
{
    scene x;
    scene_open(&x, doubler_receive, &x.d);
    scene_ask(&x, AX_SEC(10), coro);
    expect_one_call(&x, 0);
    assert_int_equal(x.c.value, 42);
    /* It ran as the asker: its id, its state, the arg given; ax_sender()
     * is the answer's sender. */
    ca_assert_id_eq(x.c.cb_sender, x.t);
    assert_ptr_equal(x.c.cb_state, &x.c);
    assert_ptr_equal(x.c.cb_ctx_state, &x.c);
    assert_ptr_equal(x.c.cb_arg, &x.c.calls);
    assert_int_equal(x.c.in_coro, 0);
    assert_int_equal(x.c.handled, 1);
    assert_false(ax_id_eq(x.d.from[0], x.id)); /* asked from a reply address */
    assert_int_equal(ax_actor_count(x.f.sys), 2);
    assert_int_equal(x.f.dl.n, 0);
    ca_close(&x.f);
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
    scene x;
    scene_open(&x, sink_receive, &x.s);
    scene_ask(&x, AX_MSEC(20), 0);
    expect_one_call(&x, AX_ETIMEDOUT);
    assert_int_equal(ax_actor_count(x.f.sys), 2);
    ca_tell(&x.f, x.t, T_EMPTY);
    ca_drain(&x.f);
    tu_assert_err(x.s.late_rc[0], AX_ESTALE);
    assert_int_equal(x.c.calls, 1);
    assert_int_equal(x.f.dl.n, 1);
    ca_close(&x.f);
}

static void test_ask_cb_dead_target(void **state)
{
    (void)state;
    scene x;
    scene_open(&x, sink_receive, &x.s);
    ca_poison(&x.f, x.t);
    ca_drain(&x.f);
    scene_ask(&x, AX_SEC(30), 0);
    ca_drain(&x.f);
    /* Dead at the call: the error now, and the callback never runs. */
    tu_assert_err(x.c.call_rc, AX_ESTALE);
    assert_int_equal(x.c.calls, 0);
    ca_assert_left(&x.f, 1);
    ca_close(&x.f);
}

static void test_ask_cb_target_dies_before_answering(void **state)
{
    (void)state;
    scene x;
    scene_sink_holds_request(&x, AX_SEC(30));
    int64_t t0 = ca_now_ns();
    ca_poison(&x.f, x.t);
    ca_until_ge(&x.f, &x.c.calls, 1, 5000);
    assert_true(ca_now_ns() - t0 < AX_SEC(10));
    expect_one_call(&x, AX_ESTALE);
    assert_int_equal(ax_timer_count(x.f.loop), 0);
    ca_close(&x.f);
}

/* The asker ends first: the callback never runs; the answer that comes
 * later is a dead letter addressed to the asker. */
static void test_ask_cb_asker_ends_first(void **state)
{
    (void)state;
    scene x;
    scene_sink_holds_request(&x, AX_SEC(30));
    ca_poison(&x.f, x.id);
    ca_until_ge(&x.f, &x.c.stops, 1, 5000);
    assert_int_equal(x.c.reason, AX_REASON_POISON);
    ca_tell(&x.f, x.t, T_EMPTY);
    ca_drain(&x.f);
    tu_ok(x.s.late_rc[0]); /* the reply address still took it */
    assert_int_equal(x.c.calls, 0);
    if (x.f.dl.n != 1 || x.f.dl.v[0].type != T_U64 || x.f.dl.v[0].reason != AX_ESTALE)
        ca_dl_dump(&x.f.dl, "want the answer as one AX_ESTALE dead letter");
    ca_assert_id_eq(x.f.dl.v[0].to, x.id);
    ca_assert_id_eq(x.f.dl.v[0].from, x.t);
    ca_assert_left(&x.f, 1);

    /* And when it times out after the asker ended: nothing runs. */
    cbasker c2;
    ax_id id2 = spawn_cbasker(&x.f, &c2, x.t, AX_MSEC(20), 0);
    go(&x.f, id2);
    ca_until_ge(&x.f, &x.s.n, 2, 5000);
    ca_poison(&x.f, id2);
    ca_drain(&x.f);
    assert_int_equal(c2.calls, 0);
    assert_int_equal(ax_timer_count(x.f.loop), 0);
    ca_close(&x.f);
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
    cb_errs e = {0};
    ax_id id = ca_spawn(&f, cb_errs_receive, &e);
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
    ca_assert_left(&f, 1);
    ca_close(&f);
}

/* From the callback: send, ask again, and finally ax_stop(). */
static void test_ask_cb_callback_acts_as_asker(void **state)
{
    (void)state;
    scene x;
    scene_open(&x, doubler_receive, &x.d);
    recorder r = {0};
    ax_id rid = ca_spawn(&x.f, recorder_receive, &r);
    x.id = spawn_cbasker(&x.f, &x.c, x.t, AX_SEC(10), 0);
    x.c.tell = rid;
    x.c.chain = 2;
    x.c.stop_in_cb = 1;
    ca_go_until(&x.f, x.id, &x.c.stops, 1);
    ca_drain(&x.f);
    assert_int_equal(x.c.calls, 3);
    tu_ok(x.c.status);
    assert_int_equal(x.c.value, 168); /* 21 * 2 * 2 * 2 */
    tu_ok(x.c.send_rc);
    assert_int_equal(r.n, 3);
    ca_assert_id_eq(r.from[0], x.id);
    assert_int_equal(r.v[0], 42);
    assert_int_equal(r.v[2], 168);
    assert_int_equal(x.c.reason, AX_REASON_NORMAL);
    assert_int_equal(ax_actor_count(x.f.sys), 2);
    assert_int_equal(x.f.dl.n, 0);
    ca_close(&x.f);
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

/* The start of both handlers: in the handler, the callback ask sent. */
static void cb_coro_ask(cb_coro *c, ax_ctx *ctx)
{
    c->in_handler = 1;
    uint64_t v = 1;
    tu_ok(ax_ask_cb(ctx, c->target, T_U64, &v, sizeof v, AX_SEC(10), cb_coro_cb, NULL));
}

static void cb_coro_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    cb_coro *c = state;
    cb_coro_ask(c, ctx);
    /* Wait until the answer has certainly arrived (the target has
     * answered, and its reply address ran in that same pass). */
    while (*c->target_n < 1)
        ax_sleep(ctx, AX_MSEC(1));
    ax_sleep(ctx, AX_MSEC(1));
    c->in_handler = 0;
    c->returned++;
}

/* The doubler asked by a cb_coro actor running `receive`, started. */
static ax_id start_cb_coro(scene *x, cb_coro *c, ax_receive_fn receive)
{
    scene_open(x, doubler_receive, &x->d);
    memset(c, 0, sizeof *c);
    c->target = x->t;
    c->target_n = &x->d.n;
    ax_id id;
    tu_ok(ax_spawn_coro(x->f.sys, receive, c, NULL, &id));
    go(&x->f, id);
    return id;
}

static void test_ask_cb_not_run_inside_a_waiting_handler(void **state)
{
    (void)state;
    scene x;
    cb_coro c;
    start_cb_coro(&x, &c, cb_coro_receive);
    ca_until_ge(&x.f, &c.returned, 1, 5000);
    ca_until_ge(&x.f, &c.calls, 1, 5000);
    assert_int_equal(c.calls, 1);
    tu_ok(c.status);
    if (c.in_handler_at_cb)
        fail_msg("the ask callback ran while the actor's coroutine handler was suspended");
    ca_close(&x.f);
}

/* ... and if that waiting handler is then cancelled, the actor ends
 * without the callback: its answer is a dead letter addressed to it. */
static void cb_coro_long_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    cb_coro *c = state;
    cb_coro_ask(c, ctx);
    c->status = ax_sleep(ctx, AX_SEC(30));
    c->in_handler = 0;
    c->returned++;
}

static void test_ask_cb_asker_cancelled_while_waiting(void **state)
{
    (void)state;
    scene x;
    cb_coro c;
    ax_id id = start_cb_coro(&x, &c, cb_coro_long_receive);
    ca_until_ge(&x.f, &x.d.n, 1, 5000);
    for (int i = 0; i < 3; i++)
        ca_step(&x.f); /* the answer reaches the reply address */
    ca_poison(&x.f, id);
    ca_until_ge(&x.f, &c.returned, 1, 5000);
    ca_drain(&x.f);
    tu_assert_err(c.status, AX_ECANCELED);
    if (c.calls != 0)
        fail_msg("the ask callback ran (%d) for an asker whose handler was waiting, then "
                 "cancelled",
                 c.calls);
    if (x.f.dl.n != 1 || x.f.dl.v[0].type != T_U64 || x.f.dl.v[0].reason != AX_ESTALE)
        ca_dl_dump(&x.f.dl, "want the answer as one AX_ESTALE dead letter");
    ca_assert_id_eq(x.f.dl.v[0].to, id);
    ca_close(&x.f);
}

/* The callback form, answered with a poison pill: the callback still
 * runs exactly once. */
static void test_ask_cb_answered_with_poison(void **state)
{
    (void)state;
    scene x;
    scene_open(&x, poisoner_receive, &x.hits);
    scene_ask(&x, AX_SEC(10), 0);
    ca_until_ge(&x.f, &x.hits, 1, 5000);
    ca_drain(&x.f); /* the 10 s timeout is stopped one way or another */
    tu_ok(x.c.call_rc);
    if (x.c.calls != 1)
        fail_msg("the ask callback ran %d times, want exactly once", x.c.calls);
    ca_close(&x.f);
}

/* Shutdown with callback asks outstanding: no callback runs, nothing
 * leaks. */
static void test_ask_cb_outstanding_at_shutdown(void **state)
{
    (void)state;
    scene x;
    scene_open(&x, sink_receive, &x.s);
    cbasker c[3];
    ax_duration to[3] = {AX_FOREVER, AX_SEC(30), AX_MSEC(1)};
    for (int i = 0; i < 3; i++)
        go(&x.f, spawn_cbasker(&x.f, &c[i], x.t, to[i], i == 1));
    ca_until_ge(&x.f, &x.s.n, 3, 5000);
    ca_close(&x.f);
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
