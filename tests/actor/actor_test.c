/* actor_test.c - spawning, behaviours and ax_become (src/actor/actor.c). */
#include "actor/actor_fixture.h"

/* ---- plain actors ------------------------------------------------------- */

static void test_spawn_plain_state_and_on_stop(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    fx_rec r;
    memset(&r, 0, sizeof r);
    ax_id a = fx_spawn_rec(f.sys, &r);
    ax_id b;
    tu_ok(ax_spawn(f.sys, fx_rec_receive, &r, NULL, &b)); /* no options at all */
    assert_int_equal(ax_actor_count(f.sys), 2);
    tu_ok(fx_u64_send(f.sys, ax_id_nil(), a, 1));
    fx_drain(&f);
    assert_ptr_equal(r.seen_state, &r);
    assert_ptr_equal(r.seen_ctx_state, &r);
    assert_int_equal(r.stops, 0);
    tu_ok(ax_system_send(f.sys, ax_id_nil(), b, AX_MSG_POISON, NULL, 0)); /* no on_stop: fine */
    fx_drain(&f);
    assert_int_equal(r.stops, 0);
    assert_int_equal(ax_actor_count(f.sys), 1);
    fx_close(&f);
    assert_int_equal(r.stops, 1);
    assert_int_equal(r.stop_reason, AX_REASON_SHUTDOWN);
    fx_assert_id_eq(r.stop_self, a);
}

/* ---- behaviours: construction ------------------------------------------- */

static void h_noop(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    (void)ctx;
    (void)msg;
}

static void test_behavior_new_errors(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    ax_behavior *b = NULL;
    ax_handler ok[2] = {{.type = T_U64, .fn = h_noop, .flags = AX_HANDLER_SYNC},
                        {.type = T_PING, .fn = h_noop, .flags = AX_HANDLER_SYNC}};
    tu_assert_err(ax_behavior_new(f.sys, ok, 2, NULL, &b), AX_EINVAL); /* unknown required */
    tu_assert_err(ax_behavior_new(NULL, ok, 2, h_noop, &b), AX_EINVAL);
    tu_assert_err(ax_behavior_new(f.sys, ok, 2, h_noop, NULL), AX_EINVAL);
    tu_assert_err(ax_behavior_new(f.sys, NULL, 2, h_noop, &b), AX_EINVAL);
    ax_handler dup[3] = {{.type = T_U64, .fn = h_noop, .flags = 0},
                         {.type = T_PING, .fn = h_noop, .flags = 0},
                         {.type = T_U64, .fn = h_noop, .flags = 0}};
    tu_assert_err(ax_behavior_new(f.sys, dup, 3, h_noop, &b), AX_EEXIST);
    ax_handler unreg[2] = {{.type = T_U64, .fn = h_noop, .flags = 0},
                           {.type = T_UNREG, .fn = h_noop, .flags = 0}};
    tu_assert_err(ax_behavior_new(f.sys, unreg, 2, h_noop, &b), AX_EUNKNOWNTYPE);
    ax_handler nofn[1] = {{.type = T_U64, .fn = NULL, .flags = 0}};
    tu_assert_err(ax_behavior_new(f.sys, nofn, 1, h_noop, &b), AX_EINVAL);
    ax_handler badflags[1] = {{.type = T_U64, .fn = h_noop, .flags = 0x80}};
    tu_assert_err(ax_behavior_new(f.sys, badflags, 1, h_noop, &b), AX_EINVAL);
    ax_handler zero[1] = {{.type = 0, .fn = h_noop, .flags = 0}};
    tu_assert_err(ax_behavior_new(f.sys, zero, 1, h_noop, &b), AX_EINVAL);
    assert_null(b);
    tu_ok(ax_behavior_new(f.sys, NULL, 0, h_noop, &b)); /* only an unknown handler */
    assert_non_null(b);
    tu_ok(ax_behavior_new(f.sys, ok, 2, h_noop, &b));
    /* a system type may be handled too */
    ax_handler down[1] = {{.type = AX_MSG_DOWN, .fn = h_noop, .flags = 0}};
    tu_ok(ax_behavior_new(f.sys, down, 1, h_noop, &b));
    fx_close(&f); /* behaviours are freed with the system: no leak */
}

/* An ASYNC handler runs as a coroutine: it may sleep, and the actor's
 * next message waits until it returns; sync handlers cannot sleep.
 * (Coroutine actors proper are tested in tests/coro; this is the
 * behaviour table's side of it.) */
typedef struct async_log {
    char log[16];
    size_t len;
    int sleep_rc, sync_sleep_rc;
} async_log;

static void h_async_ping(void *st, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    async_log *l = st;
    l->log[l->len++] = '(';
    l->sleep_rc = ax_sleep(ctx, AX_MSEC(2));
    l->log[l->len++] = ')';
}

static void h_sync_u64(void *st, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    async_log *l = st;
    l->log[l->len++] = 'u';
    l->sync_sleep_rc = ax_sleep(ctx, 0);
}

static void test_behavior_async_handler(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    ax_handler hs[2] = {{.type = T_PING, .fn = h_async_ping, .flags = AX_HANDLER_ASYNC},
                        {.type = T_U64, .fn = h_sync_u64, .flags = AX_HANDLER_SYNC}};
    ax_behavior *b = NULL;
    tu_ok(ax_behavior_new(f.sys, hs, 2, h_noop, &b));
    async_log l;
    memset(&l, 0, sizeof l);
    l.sleep_rc = l.sync_sleep_rc = 1;
    ax_id a;
    tu_ok(ax_spawn_behavior(f.sys, b, &l, NULL, &a));
    uint64_t v = 1;
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_PING, &v, sizeof v));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_U64, &v, sizeof v));
    fx_drain(&f);
    l.log[l.len] = '\0';
    assert_string_equal(l.log, "()u"); /* the sync message waited */
    tu_ok(l.sleep_rc);
    tu_assert_err(l.sync_sleep_rc, AX_ENOTCORO);
    fx_close(&f);
}

/* ---- behaviours: dispatch ------------------------------------------------ */

typedef struct bstate {
    char log[256];
    size_t len;
    const ax_behavior *next; /* for h_switch */
    int become_rc;
    int after_become; /* the switching handler kept running */
    ax_id last_sender;
} bstate;

static void logc(bstate *s, char c)
{
    if (s->len + 1 < sizeof s->log)
        s->log[s->len++] = c;
    s->log[s->len] = '\0';
}

static void h_a_u64(void *st, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    bstate *s = st;
    assert_ptr_equal(st, ax_ctx_state(ctx));
    s->last_sender = ax_sender(ctx);
    logc(s, 'a');
}

static void h_a_ping(void *st, ax_ctx *ctx, const ax_msg *msg)
{
    (void)ctx;
    (void)msg;
    logc(st, 'p');
}

static void h_unknown(void *st, ax_ctx *ctx, const ax_msg *msg)
{
    (void)ctx;
    bstate *s = st;
    logc(s, msg->type == T_EMPTY ? 'e' : '?');
}

static void h_switch(void *st, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    bstate *s = st;
    logc(s, 'S');
    s->become_rc = ax_become(ctx, s->next);
    s->after_become = 1; /* the current handler finishes normally */
    logc(s, 's');
}

static void h_b_u64(void *st, ax_ctx *ctx, const ax_msg *msg)
{
    (void)ctx;
    (void)msg;
    logc(st, 'b');
}

static void test_behavior_dispatch_by_type(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    ax_handler hs[2] = {{.type = T_U64, .fn = h_a_u64, .flags = 0},
                        {.type = T_PING, .fn = h_a_ping, .flags = 0}};
    ax_behavior *b;
    tu_ok(ax_behavior_new(f.sys, hs, 2, h_unknown, &b));
    bstate s;
    memset(&s, 0, sizeof s);
    ax_id a;
    tu_ok(ax_spawn_behavior(f.sys, b, &s, NULL, &a));
    ax_id from = {0, 9, 3};
    uint64_t v = 1;
    tu_ok(ax_system_send(f.sys, from, a, T_U64, &v, sizeof v));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_EMPTY, NULL, 0));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_PING, &v, sizeof v));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_PONG, &v, sizeof v));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_U64, &v, sizeof v));
    fx_drain(&f);
    assert_string_equal(s.log, "aep?a");
    assert_true(ax_id_is_nil(s.last_sender));
    fx_close(&f);
}

/* Many handlers: the table grows and every type still finds its handler. */
static int many_hits[64];

static void h_many(void *st, ax_ctx *ctx, const ax_msg *msg)
{
    (void)st;
    (void)ctx;
    many_hits[msg->type - 1000]++;
}

static void test_behavior_many_handlers(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    ax_handler hs[64];
    for (uint32_t i = 0; i < 64; i++) {
        tu_ok(ax_msg_register_pod(f.sys, 1000 + i, NULL, 0, 1));
        hs[i] = (ax_handler){.type = 1000 + i, .fn = h_many, .flags = 0};
    }
    memset(many_hits, 0, sizeof many_hits);
    ax_behavior *b;
    tu_ok(ax_behavior_new(f.sys, hs, 50, h_unknown, &b)); /* 50 of 64 */
    bstate s;
    memset(&s, 0, sizeof s);
    ax_id a;
    tu_ok(ax_spawn_behavior(f.sys, b, &s, NULL, &a));
    for (uint32_t i = 0; i < 64; i++)
        tu_ok(ax_system_send(f.sys, ax_id_nil(), a, 1000 + i, NULL, 0));
    fx_drain(&f);
    for (int i = 0; i < 64; i++)
        assert_int_equal(many_hits[i], i < 50 ? 1 : 0);
    assert_int_equal(s.len, 14); /* the other 14 went to unknown */
    fx_close(&f);
}

/* ax_become applies from the next message: the messages already queued
 * behind the switching one are handled by the new behaviour. */
static void test_become_next_message(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    ax_handler ha[2] = {{.type = T_U64, .fn = h_a_u64, .flags = 0},
                        {.type = T_PING, .fn = h_switch, .flags = 0}};
    ax_handler hb[1] = {{.type = T_U64, .fn = h_b_u64, .flags = 0}};
    ax_behavior *ba, *bb;
    tu_ok(ax_behavior_new(f.sys, ha, 2, h_unknown, &ba));
    tu_ok(ax_behavior_new(f.sys, hb, 1, h_unknown, &bb));
    bstate s;
    memset(&s, 0, sizeof s);
    s.next = bb;
    ax_id a;
    tu_ok(ax_spawn_behavior(f.sys, ba, &s, NULL, &a));
    uint64_t v = 1;
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_U64, &v, sizeof v));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_PING, &v, sizeof v)); /* switch to B */
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_U64, &v, sizeof v));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_PING, &v, sizeof v)); /* B: unknown */
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_U64, &v, sizeof v));
    fx_drain(&f);
    tu_ok(s.become_rc);
    assert_int_equal(s.after_become, 1);
    assert_string_equal(s.log, "aSsb?b");
    fx_close(&f);
}

typedef struct become_probe {
    int rc_null, rc_plain, rc_foreign;
    const ax_behavior *foreign;
} become_probe;

static void plain_become_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    become_probe *p = state;
    p->rc_null = ax_become(ctx, NULL);
    p->rc_plain = ax_become(ctx, p->foreign); /* foreign: EINVAL wins or ENOTSUP */
    ax_behavior *own = NULL;
    ax_handler h[1] = {{.type = T_U64, .fn = h_noop, .flags = 0}};
    tu_ok(ax_behavior_new(ax_ctx_system(ctx), h, 1, h_noop, &own));
    p->rc_foreign = ax_become(ctx, own); /* a behaviour of its own system */
}

static void bhv_become_foreign(void *st, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    become_probe *p = st;
    p->rc_foreign = ax_become(ctx, p->foreign);
    p->rc_null = ax_become(ctx, NULL);
}

static void test_become_errors(void **state)
{
    (void)state;
    fx f, g;
    fx_open(&f, NULL);
    fx_open(&g, NULL);
    ax_behavior *gb;
    ax_handler h[1] = {{.type = T_U64, .fn = h_noop, .flags = 0}};
    tu_ok(ax_behavior_new(g.sys, h, 1, h_noop, &gb));

    become_probe p;
    memset(&p, 0, sizeof p);
    p.foreign = gb;
    ax_id a;
    tu_ok(ax_spawn(f.sys, plain_become_receive, &p, NULL, &a));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_EMPTY, NULL, 0));
    fx_drain(&f);
    tu_assert_err(p.rc_null, AX_EINVAL);
    tu_assert_err(p.rc_plain, AX_EINVAL);
    tu_assert_err(p.rc_foreign, AX_ENOTSUP); /* a plain actor cannot become */

    become_probe q;
    memset(&q, 0, sizeof q);
    q.foreign = gb;
    ax_handler hf[1] = {{.type = T_EMPTY, .fn = bhv_become_foreign, .flags = 0}};
    ax_behavior *fb;
    tu_ok(ax_behavior_new(f.sys, hf, 1, h_noop, &fb));
    ax_id b;
    tu_ok(ax_spawn_behavior(f.sys, fb, &q, NULL, &b));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), b, T_EMPTY, NULL, 0));
    fx_drain(&f);
    tu_assert_err(q.rc_foreign, AX_EINVAL); /* another system's behaviour */
    tu_assert_err(q.rc_null, AX_EINVAL);
    tu_assert_err(ax_become(NULL, fb), AX_EINVAL);
    /* spawning with another system's behaviour */
    ax_id c;
    tu_assert_err(ax_spawn_behavior(f.sys, gb, NULL, NULL, &c), AX_EINVAL);
    tu_assert_err(ax_spawn_behavior(f.sys, NULL, NULL, NULL, &c), AX_EINVAL);
    tu_assert_err(ax_spawn_behavior(f.sys, fb, NULL, NULL, NULL), AX_EINVAL);
    fx_close(&g);
    fx_close(&f);
}

/* ---- ping/pong between behaviour actors that switch behaviours ---------- */

/* Each actor alternates between "server" (expects PING: replies PONG, sends
 * a PING of its own, becomes client) and "client" (expects PONG: becomes
 * server).  Every message an actor gets is only right under the behaviour
 * the previous message switched to, so a late or early switch shows up as
 * an unknown message. */
typedef struct pp {
    const ax_behavior *server, *client;
    uint64_t pings, pongs, unexpected;
    uint64_t rounds;
    int stopped;
} pp;

static void pp_ping(void *st, ax_ctx *ctx, const ax_msg *msg)
{
    pp *p = st;
    uint64_t r;
    memcpy(&r, msg->data, sizeof r);
    p->pings++;
    tu_ok(ax_reply(ctx, T_PONG, &r, sizeof r));
    if (r < p->rounds) {
        uint64_t next = r + 1;
        tu_ok(ax_send(ctx, ax_sender(ctx), T_PING, &next, sizeof next));
    }
    tu_ok(ax_become(ctx, p->client));
}

static void pp_pong(void *st, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    pp *p = st;
    p->pongs++;
    tu_ok(ax_become(ctx, p->server));
}

static void pp_unknown(void *st, ax_ctx *ctx, const ax_msg *msg)
{
    (void)ctx;
    (void)msg;
    ((pp *)st)->unexpected++;
}

static void pp_stop(void *st, ax_ctx *ctx, int reason)
{
    (void)ctx;
    (void)reason;
    ((pp *)st)->stopped++;
}

static void test_ping_pong_switching(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    ax_handler hs[1] = {{.type = T_PING, .fn = pp_ping, .flags = 0}};
    ax_handler hc[1] = {{.type = T_PONG, .fn = pp_pong, .flags = 0}};
    ax_behavior *server, *client;
    tu_ok(ax_behavior_new(f.sys, hs, 1, pp_unknown, &server));
    tu_ok(ax_behavior_new(f.sys, hc, 1, pp_unknown, &client));
    enum { ROUNDS = 1000 };
    pp x = {server, client, 0, 0, 0, ROUNDS, 0};
    pp y = {server, client, 0, 0, 0, ROUNDS, 0};
    ax_spawn_options so = {.on_stop = pp_stop};
    ax_id xid, yid;
    tu_ok(ax_spawn_behavior(f.sys, server, &x, &so, &xid));
    tu_ok(ax_spawn_behavior(f.sys, client, &y, &so, &yid));
    uint64_t r = 1;
    tu_ok(ax_system_send(f.sys, yid, xid, T_PING, &r, sizeof r));
    fx_drain(&f);
    assert_int_equal(x.unexpected, 0);
    assert_int_equal(y.unexpected, 0);
    assert_int_equal(x.pings + y.pings, ROUNDS);
    assert_int_equal(x.pongs + y.pongs, ROUNDS);
    assert_int_equal(x.pings, ROUNDS / 2);
    assert_int_equal(y.pings, ROUNDS / 2);
    /* poison ends behaviour actors like any other */
    tu_ok(ax_system_send(f.sys, ax_id_nil(), xid, AX_MSG_POISON, NULL, 0));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), yid, AX_MSG_POISON, NULL, 0));
    fx_drain(&f);
    assert_int_equal(x.stopped, 1);
    assert_int_equal(y.stopped, 1);
    assert_int_equal(ax_actor_count(f.sys), 0);
    fx_close(&f);
}

int main(int argc, char **argv)
{
    tu_parse_backend(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spawn_plain_state_and_on_stop),
        cmocka_unit_test(test_behavior_new_errors),
        cmocka_unit_test(test_behavior_async_handler),
        cmocka_unit_test(test_behavior_dispatch_by_type),
        cmocka_unit_test(test_behavior_many_handlers),
        cmocka_unit_test(test_become_next_message),
        cmocka_unit_test(test_become_errors),
        cmocka_unit_test(test_ping_pong_switching),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
