/* send_schedule_test.c - sends made on another's behalf or for later
 * (src/actor/send.c): forward (keeps the original sender, copies when done
 * twice), reply, and scheduled sends with their cancellation, dead letters
 * and far-future deadlines.  Plain sends, mailbox limits, refused sends and
 * ordering are in send_test.c. */
#include "actor/actor_fixture.h"

/* ---- forward ---------------------------------------------------------- */

typedef struct fwd {
    ax_id to[3];
    int nto;
    int rc[3];
    uint64_t seen_before; /* first 8 payload bytes as seen before forwarding */
} fwd;

static void fwd_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    fwd *f = state;
    if (msg->size >= 8)
        memcpy(&f->seen_before, msg->data, 8);
    for (int i = 0; i < f->nto; i++)
        f->rc[i] = ax_forward(ctx, f->to[i]);
}

static void check_forward(uint32_t type, size_t size, int nto)
{
    fx f;
    fx_open(&f, NULL);
    fx_rec c[3];
    memset(c, 0, sizeof c);
    fwd b;
    memset(&b, 0, sizeof b);
    b.nto = nto;
    for (int i = 0; i < nto; i++)
        b.to[i] = fx_spawn_rec(f.sys, &c[i]);
    ax_id bid, aid = {0, 4242, 9}; /* A: the original sender */
    tu_ok(ax_spawn(f.sys, fwd_receive, &b, NULL, &bid));
    unsigned char *payload = malloc(size ? size : 1);
    assert_non_null(payload);
    for (size_t i = 0; i < size; i++)
        payload[i] = (unsigned char)(i * 7 + 1);
    tu_ok(ax_system_send(f.sys, aid, bid, type, payload, size));
    fx_drain(&f);
    for (int i = 0; i < nto; i++) {
        tu_ok(b.rc[i]);
        assert_int_equal(c[i].n, 1);
        fx_assert_id_eq(c[i].m[0].sender, aid); /* the original sender, not B */
        assert_int_equal(c[i].m[0].type, type);
        assert_int_equal(c[i].m[0].size, size);
        if (size >= 8)
            assert_memory_equal(&c[i].m[0].u64, payload, 8);
    }
    assert_int_equal(f.dl.n, 0);
    fx_close(&f);
    free(payload);
}

static void test_forward_keeps_original_sender(void **state)
{
    (void)state;
    check_forward(T_U64, 8, 1);
}

static void test_forward_twice_copies(void **state)
{
    (void)state;
    check_forward(T_U64, 8, 2);
    check_forward(T_BIG, sizeof(fx_big), 3);
    check_forward(T_BLOB, 100000, 2); /* an oversized, directly allocated node */
    check_forward(T_EMPTY, 0, 3);
}

/* Forward then keep using the context: sender and reply still work. */
typedef struct fwd_reply {
    ax_id to;
    int fwd_rc, reply_rc;
    ax_id sender_after;
} fwd_reply;

static void fwd_reply_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    fwd_reply *f = state;
    f->fwd_rc = ax_forward(ctx, f->to);
    f->sender_after = ax_sender(ctx);
    uint64_t v = 5;
    f->reply_rc = ax_reply(ctx, T_PONG, &v, sizeof v);
}

static void test_forward_then_reply(void **state)
{
    (void)state;
    fx f;
    fx_rec a, c;
    ax_id aid = fx_open_rec(&f, &a);
    fwd_reply b = {fx_spawn_new_rec(&f, &c), 1, 1, {0, 0, 0}};
    ax_id bid;
    tu_ok(ax_spawn(f.sys, fwd_reply_receive, &b, NULL, &bid));
    uint64_t v = 77;
    tu_ok(ax_system_send(f.sys, aid, bid, T_PING, &v, sizeof v));
    fx_drain(&f);
    tu_ok(b.fwd_rc);
    tu_ok(b.reply_rc);
    fx_assert_id_eq(b.sender_after, aid);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.m[0].u64, 77);
    fx_assert_id_eq(c.m[0].sender, aid);
    assert_int_equal(a.n, 1);
    assert_int_equal(a.m[0].type, T_PONG);
    fx_assert_id_eq(a.m[0].sender, bid);
    fx_close(&f);
}

/* ---- reply ------------------------------------------------------------ */

typedef struct replier {
    int rc[4];
    int n;
} replier;

static void replier_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    replier *r = state;
    uint64_t v = 0;
    if (msg->size == 8)
        memcpy(&v, msg->data, 8);
    v *= 2;
    r->rc[r->n++] = ax_reply(ctx, T_PONG, &v, sizeof v);
}

static void test_reply(void **state)
{
    (void)state;
    fx f;
    fx_rec asker, gone;
    ax_id aid = fx_open_rec(&f, &asker);
    ax_id gid = fx_spawn_new_rec(&f, &gone);
    replier r;
    memset(&r, 0, sizeof r);
    ax_id rid;
    tu_ok(ax_spawn(f.sys, replier_receive, &r, NULL, &rid));
    tu_ok(ax_system_send(f.sys, gid, gid, AX_MSG_POISON, NULL, 0));
    fx_drain(&f);

    uint64_t v = 21;
    tu_ok(ax_system_send(f.sys, aid, rid, T_PING, &v, sizeof v));         /* reply reaches A */
    tu_ok(ax_system_send(f.sys, ax_id_nil(), rid, T_PING, &v, sizeof v)); /* no sender */
    tu_ok(ax_system_send(f.sys, gid, rid, T_PING, &v, sizeof v));         /* sender ended */
    fx_drain(&f);
    assert_int_equal(r.n, 3);
    tu_ok(r.rc[0]);
    tu_assert_err(r.rc[1], AX_ENOSENDER);
    tu_assert_err(r.rc[2], AX_ESTALE);
    assert_int_equal(asker.n, 1);
    assert_int_equal(asker.m[0].type, T_PONG);
    assert_int_equal(asker.m[0].u64, 42);
    fx_assert_id_eq(asker.m[0].sender, rid);
    assert_int_equal(f.dl.n, 1); /* the reply to the ended sender */
    fx_assert_id_eq(f.dl.v[0].to, gid);
    assert_int_equal(f.dl.v[0].reason, AX_ESTALE);
    fx_close(&f);
}

/* ---- scheduled sends ---------------------------------------------------- */

typedef struct sched_actor {
    ax_duration delay;
    ax_timer handle;
    int sched_rc;
    int64_t sched_loop_now, sched_real;
    /* receipt of the scheduled message */
    int got;
    int64_t got_real;
    ax_id got_sender, self;
    int cancel_rc[2];
} sched_actor;

/* T_EMPTY: schedule a T_U64 to self.  T_U64: record it.  T_PING: cancel. */
static void sched_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    sched_actor *s = state;
    ax_loop *loop = ax_system_loop(ax_ctx_system(ctx));
    if (msg->type == T_EMPTY) {
        uint64_t v = 314;
        s->self = ax_self(ctx);
        s->sched_loop_now = ax_loop_now(loop);
        s->sched_real = fx_now_ns();
        s->sched_rc = ax_schedule(ctx, s->delay, ax_self(ctx), T_U64, &v, sizeof v, &s->handle);
    } else if (msg->type == T_U64) {
        s->got_real = fx_now_ns();
        s->got++;
        s->got_sender = ax_sender(ctx);
        assert_int_equal(*(const uint64_t *)msg->data, 314);
    } else if (msg->type == T_PING) {
        s->cancel_rc[0] = ax_cancel(ctx, s->handle);
        s->cancel_rc[1] = ax_cancel(ctx, s->handle);
    }
}

static int sched_got(void *arg)
{
    return ((sched_actor *)arg)->got > 0;
}

/* Schedule T_U64 `v` from `from` to `to` after `delay` through the system
 * entry point; the call must succeed.  `t` may be NULL. */
static void schedule_u64(fx *f, ax_duration delay, ax_id from, ax_id to, uint64_t v, ax_timer *t)
{
    tu_ok(ax_system_schedule(f->sys, delay, from, to, T_U64, &v, sizeof v, t));
}

/* Open the fixture, spawn a sched_actor with `delay` and queue its T_EMPTY
 * (schedule to self); nothing has run yet. */
static ax_id open_sched(fx *f, sched_actor *s, ax_duration delay)
{
    fx_open(f, NULL);
    memset(s, 0, sizeof *s);
    s->delay = delay;
    ax_id a;
    tu_ok(ax_spawn(f->sys, sched_receive, s, NULL, &a));
    fx_send_empty(f, a);
    return a;
}

static void test_schedule_delivers_after_delay(void **state)
{
    (void)state;
    fx f;
    sched_actor s;
    ax_id a = open_sched(&f, &s, AX_MSEC(30));
    assert_true(ax_loop_step(f.loop, 0) >= 0);
    tu_ok(s.sched_rc);
    assert_int_equal(ax_timer_count(f.loop), 1);
    assert_int_equal(s.got, 0);
    tu_run_until(f.loop, sched_got, &s, 5000);
    assert_int_equal(s.got, 1);
    fx_assert_id_eq(s.got_sender, a); /* sender = self */
    /* not early: the deadline counts from the loop's clock when scheduled */
    assert_true(s.got_real >= s.sched_loop_now + s.delay);
    assert_true(s.got_real - s.sched_real >= s.delay - AX_MSEC(2));
    fx_drain(&f);
    assert_int_equal(s.got, 1);
    fx_close(&f);
}

static void test_cancel_before_fire(void **state)
{
    (void)state;
    fx f;
    sched_actor s;
    ax_id a = open_sched(&f, &s, AX_MSEC(20));
    fx_send_ping(&f, a); /* cancel, twice */
    assert_true(ax_loop_step(f.loop, 0) >= 0);
    tu_ok(s.sched_rc);
    tu_ok(s.cancel_rc[0]);
    tu_assert_err(s.cancel_rc[1], AX_ENOENT);
    assert_int_equal(ax_timer_count(f.loop), 0);
    int64_t until = fx_now_ns() + AX_MSEC(60);
    while (fx_now_ns() < until)
        ax_loop_step(f.loop, AX_MSEC(5));
    assert_int_equal(s.got, 0);
    assert_int_equal(f.dl.n, 0); /* a cancelled send is not a dead letter */

    /* the same from outside a handler */
    ax_timer t;
    schedule_u64(&f, AX_MSEC(5), ax_id_nil(), a, 1, &t);
    tu_ok(ax_system_cancel(f.sys, t));
    tu_assert_err(ax_system_cancel(f.sys, t), AX_ENOENT);
    fx_drain(&f);
    assert_int_equal(s.got, 0);
    fx_close(&f);
}

static void test_cancel_after_fire(void **state)
{
    (void)state;
    fx f;
    sched_actor s;
    ax_id a = open_sched(&f, &s, AX_MSEC(1));
    tu_run_until(f.loop, sched_got, &s, 5000);
    fx_send_ping(&f, a); /* cancel, twice */
    fx_drain(&f);
    tu_assert_err(s.cancel_rc[0], AX_ENOENT);
    tu_assert_err(s.cancel_rc[1], AX_ENOENT);
    assert_int_equal(s.got, 1);
    fx_close(&f);
}

static void plain_timer_cb(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    (*(int *)arg)++;
}

/* A system handle cannot cancel someone else's loop timer. */
static void test_cancel_foreign_timer(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    int fired = 0;
    ax_timer t;
    tu_ok(ax_timer_start(f.loop, 0, 0, plain_timer_cb, &fired, &t));
    tu_assert_err(ax_system_cancel(f.sys, t), AX_ENOENT);
    ax_timer junk = {987654, 3};
    tu_assert_err(ax_system_cancel(f.sys, junk), AX_ENOENT);
    fx_drain(&f);
    assert_int_equal(fired, 1);
    fx_close(&f);
}

/* After scheduled sends have fired or been cancelled, small messages that
 * reuse the pooled nodes arrive intact. */
static void test_small_sends_after_schedule(void **state)
{
    (void)state;
    fx f;
    fx_rec r;
    ax_id a = fx_open_rec(&f, &r);
    ax_timer t;
    schedule_u64(&f, 0, ax_id_nil(), a, 5, NULL);
    schedule_u64(&f, AX_SEC(10), ax_id_nil(), a, 5, &t);
    tu_ok(ax_system_cancel(f.sys, t));
    fx_drain(&f);
    assert_int_equal(r.n, 1);
    for (uint64_t i = 0; i < 100; i++) {
        tu_ok(fx_u64_send(f.sys, ax_id_nil(), a, 1000 + i));
        fx_send_empty(&f, a);
    }
    fx_drain(&f);
    assert_int_equal(r.n, 201);
    for (uint64_t i = 0; i < 100; i++) {
        assert_int_equal(r.m[1 + 2 * i].type, T_U64);
        assert_int_equal(r.m[1 + 2 * i].u64, 1000 + i);
    }
    fx_close(&f);
}

/* A scheduled send whose target ends first becomes a dead letter when it
 * fires, reported with the scheduler as sender. */
static void test_schedule_to_ended_actor(void **state)
{
    (void)state;
    fx f;
    fx_rec r;
    ax_id a = fx_open_rec(&f, &r);
    ax_id from = {0, 31, 7};
    schedule_u64(&f, AX_MSEC(2), from, a, 8, NULL);
    fx_poison(&f, a);
    fx_drain(&f); /* runs until the timer has fired */
    assert_int_equal(r.n, 0);
    assert_int_equal(f.dl.n, 1);
    fx_assert_id_eq(f.dl.v[0].from, from);
    fx_assert_id_eq(f.dl.v[0].to, a);
    assert_int_equal(f.dl.v[0].type, T_U64);
    assert_int_equal(f.dl.v[0].reason, AX_ESTALE);
    fx_close(&f);
}

/* The longest delay there is must not wrap around into "now". */
static void test_schedule_far_future_not_early(void **state)
{
    (void)state;
    fx f;
    fx_rec r;
    ax_id a = fx_open_rec(&f, &r);
    ax_timer t1, t2;
    schedule_u64(&f, INT64_MAX, ax_id_nil(), a, 1, &t1);
    schedule_u64(&f, INT64_MAX - AX_SEC(1), ax_id_nil(), a, 1, &t2);
    for (int i = 0; i < 5; i++)
        ax_loop_step(f.loop, 0);
    assert_int_equal(r.n, 0);
    tu_ok(ax_system_cancel(f.sys, t1));
    tu_ok(ax_system_cancel(f.sys, t2));
    fx_close(&f);
}

int main(int argc, char **argv)
{
    tu_parse_backend(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_keeps_original_sender),
        cmocka_unit_test(test_forward_twice_copies),
        cmocka_unit_test(test_forward_then_reply),
        cmocka_unit_test(test_reply),
        cmocka_unit_test(test_schedule_delivers_after_delay),
        cmocka_unit_test(test_cancel_before_fire),
        cmocka_unit_test(test_cancel_after_fire),
        cmocka_unit_test(test_cancel_foreign_timer),
        cmocka_unit_test(test_small_sends_after_schedule),
        cmocka_unit_test(test_schedule_to_ended_actor),
        /* last: under UBSan the overflow it exposes aborts the binary */
        cmocka_unit_test(test_schedule_far_future_not_early),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
