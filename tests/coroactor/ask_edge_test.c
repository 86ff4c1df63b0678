/* ask_edge_test.c - ax_ask when things go wrong (src/actor/ask.c):
 * targets that are dead or die before answering (an error at once, not at
 * the timeout), a target answering with a poison pill, errors, the reply
 * address not counted as an actor, and an ask from an async behaviour
 * handler. */
#include "ask_fx.h"

/* ---- dead targets --------------------------------------------------------------------- */

static void script_ask_long(asker *a, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    int64_t t0 = ca_now_ns();
    a->rc[0] = ask_u64(ctx, a->peer[0], 3, &a->got[0], AX_SEC(30));
    a->elapsed_ns = ca_now_ns() - t0;
}

/* Open `f` with an asker running script_ask_long whose peer[0] is the
 * sink *s (zeroed); returns the asker's id. */
static ax_id open_sink_asker(ca *f, sink *s, asker *a)
{
    ca_open(f, NULL);
    memset(s, 0, sizeof *s);
    ax_id aid = spawn_asker(f, a, script_ask_long);
    a->peer[0] = ca_spawn(f, sink_receive, s);
    return aid;
}

static void test_ask_dead_target(void **state)
{
    (void)state;
    ca f;
    sink s;
    asker a;
    ax_id aid = open_sink_asker(&f, &s, &a);
    ca_poison(&f, a.peer[0]);
    ca_drain(&f);
    ca_go_until(&f, aid, &a.done, 1);
    tu_assert_err(a.rc[0], AX_ESTALE);
    assert_true(a.elapsed_ns < AX_SEC(5));
    assert_int_equal(f.dl.by_reason[-AX_ESTALE], 1); /* the request */
    ca_assert_left(&f, 1);
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
    sink s = {.stop_on_request = how == DIE_STOP_ON_REQUEST};
    napper p = {0};
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_ask_long);
    if (how == DIE_POISON_WHILE_QUEUED) {
        tu_ok(ax_spawn_coro(f.sys, napper_receive, &p, NULL, &a.peer[0]));
        tu_ok(ca_send_u64(f.sys, ax_id_nil(), a.peer[0], 0));
        ca_until_ge(&f, &p.n, 1, 5000); /* asleep: the request will wait */
    } else {
        a.peer[0] = ca_spawn(&f, sink_receive, &s);
    }
    go(&f, aid);
    if (how != DIE_STOP_ON_REQUEST) {
        if (how == DIE_POISON_AFTER_REQUEST) {
            ca_until_ge(&f, &s.n, 1, 5000);
            ca_step(&f);
        } else {
            for (int i = 0; i < 3; i++)
                ca_step(&f);
        }
        assert_int_equal(a.done, 0);
        ca_poison(&f, a.peer[0]);
    }
    ca_until_ge(&f, &a.done, 1, 5000);
    tu_assert_err(a.rc[0], AX_ESTALE);
    assert_true(a.elapsed_ns < AX_SEC(10)); /* at once, not at the 30 s timeout */
    ca_drain(&f);
    ca_assert_left(&f, 1);
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
    doubler d = {.stop_after_reply = 1};
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_ask_once);
    a.peer[0] = ca_spawn(&f, doubler_receive, &d);
    ca_go_until(&f, aid, &a.done, 1);
    ca_drain(&f);
    tu_ok(a.rc[0]);
    assert_int_equal(a.got[0], 42);
    assert_int_equal(ax_actor_count(f.sys), 1);
    if (f.dl.n != 0)
        ca_dl_dump(&f.dl, "an answered ask whose target then stopped left dead letters");
    ca_close(&f);
}

/* A target that answers with a poison pill (poisoner_receive, ask_fx.h). */
static void script_ask_then_sleep(asker *a, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    a->rc[0] = ca_ask_hold(ctx, a->peer[0], AX_SEC(10));
    a->rc[1] = ax_sleep(ctx, AX_MSEC(1)); /* still a working handler */
}

static void test_ask_answered_with_poison(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    int hits = 0;
    ax_id p = ca_spawn(&f, poisoner_receive, &hits);
    asker a;
    ax_id aid = spawn_asker(&f, &a, script_ask_then_sleep);
    a.peer[0] = p;
    ca_go_until(&f, aid, &a.done, 1);
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
    e->plain_ask = ca_ask_hold(ctx, ax_self(ctx), AX_MSEC(10));
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
    ask_errs e = {0};
    ax_id p = ca_spawn(&f, ask_errs_plain, &e);
    ax_id c;
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
    ca_assert_left(&f, 2);
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
    sink s;
    asker a;
    ax_id aid = open_sink_asker(&f, &s, &a);
    ca_go_until(&f, aid, &s.n, 1);
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
    doubler d = {0};
    asker a = {0};
    a.peer[0] = ca_spawn(&f, doubler_receive, &d);
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

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ask_dead_target),
        cmocka_unit_test(test_ask_target_dies_before_answering),
        cmocka_unit_test(test_ask_target_answers_then_stops),
        cmocka_unit_test(test_ask_answered_with_poison),
        cmocka_unit_test(test_ask_errors),
        cmocka_unit_test(test_ask_reply_address_is_not_an_actor),
        cmocka_unit_test(test_ask_from_async_behavior),
    };
    return ca_main(argc, argv, tests, sizeof tests / sizeof tests[0], NULL, 0, 60);
}
