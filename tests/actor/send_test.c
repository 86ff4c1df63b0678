/* send_test.c - every way into a mailbox (src/actor/send.c): the context
 * (self, sender), send, forward, reply, construct-in-place, scheduled sends
 * and their cancellation, mailbox limits, type errors, and per-sender
 * ordering. */
#include "actor/actor_fixture.h"

/* ---- self and sender --------------------------------------------------- */

typedef struct relay {
    ax_id to;
    int rc;
} relay;

/* Sends one T_U64 (the value it got + 1000) to `to`. */
static void relay_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    relay *r = state;
    uint64_t v = 0;
    if (msg->size == 8)
        memcpy(&v, msg->data, 8);
    v += 1000;
    r->rc = ax_send(ctx, r->to, T_U64, &v, sizeof v);
}

static void test_self_and_sender(void **state)
{
    (void)state;
    fx f;
    fx_rec x;
    ax_id xid = fx_open_rec(&f, &x);
    relay rl = {xid, 1};
    ax_id rid;
    tu_ok(ax_spawn(f.sys, relay_receive, &rl, NULL, &rid));
    ax_id someone = {0, 12345, 7};

    tu_ok(fx_u64_send(f.sys, ax_id_nil(), xid, 1)); /* no sender */
    tu_ok(fx_u64_send(f.sys, someone, xid, 2));     /* explicit sender, need not exist */
    tu_ok(fx_u64_send(f.sys, ax_id_nil(), rid, 3)); /* relay -> x, sender = relay */
    fx_drain(&f);
    tu_ok(rl.rc);
    assert_int_equal(x.n, 3);
    assert_true(ax_id_is_nil(x.m[0].sender));
    fx_assert_id_eq(x.m[1].sender, someone);
    fx_assert_id_eq(x.m[2].sender, rid);
    assert_int_equal(x.m[2].u64, 1003);
    for (int i = 0; i < 3; i++)
        fx_assert_id_eq(x.m[i].self, xid);
    fx_close(&f);
}

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

/* Payloads are aligned for their type however the node was made. */
typedef struct aligned16 {
    _Alignas(16) unsigned char b[32];
} aligned16;

typedef struct align_probe {
    int n, misaligned;
    ax_id fwd_to;
} align_probe;

static void align_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    align_probe *p = state;
    p->n++;
    if (((uintptr_t)msg->data % 16) != 0)
        p->misaligned++;
    if (!ax_id_is_nil(p->fwd_to)) {
        tu_ok(ax_forward(ctx, p->fwd_to));
        tu_ok(ax_forward(ctx, p->fwd_to)); /* the copy */
    }
}

static int align_done(void *arg)
{
    return ((align_probe *)arg)->n >= 7;
}

static void test_payload_alignment(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    tu_ok(ax_msg_register_pod(f.sys, 300, "a16", sizeof(aligned16), 16));
    ax_msg_type big = {.id = 301, .name = "a16big", .size = 100000, .align = 16, .flags = 0};
    tu_ok(ax_msg_register(f.sys, &big));
    align_probe sink = {0, 0, {0, 0, 0}}, mid = {0, 0, {0, 0, 0}};
    ax_id sid, mid_id;
    tu_ok(ax_spawn(f.sys, align_receive, &sink, NULL, &sid));
    mid.fwd_to = sid;
    tu_ok(ax_spawn(f.sys, align_receive, &mid, NULL, &mid_id));
    aligned16 x;
    memset(&x, 1, sizeof x);
    unsigned char *b = calloc(1, 100000);
    assert_non_null(b);
    tu_ok(ax_system_send(f.sys, ax_id_nil(), sid, 300, &x, sizeof x));              /* pooled */
    tu_ok(ax_system_send(f.sys, ax_id_nil(), sid, 301, b, 100000));                 /* direct */
    tu_ok(ax_system_post(f.sys, ax_id_nil(), sid, 300, &x, sizeof x));              /* posted */
    tu_ok(ax_system_schedule(f.sys, 0, ax_id_nil(), sid, 300, &x, sizeof x, NULL)); /* timer */
    tu_ok(ax_system_send(f.sys, ax_id_nil(), mid_id, 300, &x, sizeof x));           /* 2 fwd */
    tu_ok(ax_system_send(f.sys, ax_id_nil(), sid, T_BLOB, b, 3));                   /* varsize */
    tu_run_until(f.loop, align_done, &sink, 5000);
    fx_drain(&f);
    assert_int_equal(sink.n, 7);
    assert_int_equal(sink.misaligned, 0);
    assert_int_equal(mid.misaligned, 0);
    free(b);
    fx_close(&f);
}

/* ---- mailbox limit ------------------------------------------------------ */

/* Send the values lo..hi-1 as T_U64 from `from` to `to`, in order.  Each
 * send must succeed or, if `full_ok`, may be refused with AX_EFULL;
 * returns how many were refused. */
static int send_u64s(fx *f, ax_id from, ax_id to, uint64_t lo, uint64_t hi, int full_ok)
{
    int full = 0;
    for (uint64_t i = lo; i < hi; i++) {
        int rc = fx_u64_send(f->sys, from, to, i);
        if (full_ok && rc == AX_EFULL)
            full++;
        else
            tu_ok(rc);
    }
    return full;
}

/* Zero `r` and spawn a recording actor on it with `so` (a mailbox limit). */
static ax_id spawn_limited_rec(fx *f, fx_rec *r, const ax_spawn_options *so)
{
    memset(r, 0, sizeof *r);
    ax_id id;
    tu_ok(ax_spawn(f->sys, fx_rec_receive, r, so, &id));
    return id;
}

/* The send fast path stops at each actor's mark (the lower of its limit
 * and the system's high-water mark): the limit still holds after another
 * actor raised the high-water mark far above it, and a mailbox growing
 * past the mark keeps the high-water mark exact, sent in batches through
 * both the context and the system entry points. */
static void test_mailbox_mark_limit_and_hwm(void **state)
{
    (void)state;
    fx f;
    fx_rec big, small, late;
    ax_id bid = fx_open_rec(&f, &big);
    send_u64s(&f, ax_id_nil(), bid, 0, 40, 0);
    assert_int_equal(fx_stats(f.sys).mailbox_hwm, 40);
    ax_spawn_options so = {.mailbox_limit = 4};
    ax_id sid = spawn_limited_rec(&f, &small, &so);
    assert_int_equal(send_u64s(&f, ax_id_nil(), sid, 0, 10, 1), 6);
    /* A third actor: below the mark on the fast path, then past it. */
    ax_id lid = fx_spawn_new_rec(&f, &late);
    send_u64s(&f, ax_id_nil(), lid, 0, 39, 0);
    assert_int_equal(fx_stats(f.sys).mailbox_hwm, 40);
    for (uint64_t i = 39; i < 45; i++) {
        tu_ok(fx_u64_send(f.sys, ax_id_nil(), lid, i));
        assert_int_equal(fx_stats(f.sys).mailbox_hwm, i + 1 > 40 ? i + 1 : 40);
    }
    fx_drain(&f);
    assert_int_equal(big.n, 40);
    assert_int_equal(small.n, 4);
    assert_int_equal(late.n, 45);
    for (uint64_t i = 0; i < 45; i++)
        assert_int_equal(late.m[i].u64, i); /* in order across both paths */
    /* Drained: the same actor may fill to its old length again without
     * moving the mark. */
    send_u64s(&f, ax_id_nil(), lid, 0, 45, 0);
    assert_int_equal(fx_stats(f.sys).mailbox_hwm, 45);
    tu_ok(fx_u64_send(f.sys, ax_id_nil(), lid, 45));
    assert_int_equal(fx_stats(f.sys).mailbox_hwm, 46);
    fx_drain(&f);
    fx_close(&f);
}

static void test_mailbox_limit(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    fx_rec r;
    ax_spawn_options so = {.on_stop = fx_rec_stop, .mailbox_limit = 3};
    ax_id a = spawn_limited_rec(&f, &r, &so);
    ax_id from = {0, 555, 1};
    assert_int_equal(send_u64s(&f, from, a, 0, 5, 1), 2);
    assert_int_equal(fx_stats(f.sys).dead_letters, 2);
    assert_int_equal(f.dl.n, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f.dl.v[i].reason, AX_EFULL);
        fx_assert_id_eq(f.dl.v[i].from, from);
        fx_assert_id_eq(f.dl.v[i].to, a);
    }
    assert_int_equal(f.dl.by_reason[-AX_EFULL], 2);
    fx_drain(&f);
    assert_int_equal(r.n, 3);
    for (uint64_t i = 0; i < 3; i++)
        assert_int_equal(r.m[i].u64, i);
    /* room again once handled */
    send_u64s(&f, from, a, 0, 3, 0);
    tu_assert_err(ax_system_send(f.sys, from, a, T_EMPTY, NULL, 0), AX_EFULL);
    fx_drain(&f);
    assert_int_equal(r.n, 6);
    fx_close(&f);
}

/* ---- type errors -------------------------------------------------------- */

/* Sends that must be refused, each with the error it gets, and the entry
 * points it is tried through: ax_system_send (outside) and ax_send (from a
 * handler).  The payload is a uint64_t, or NULL. */
enum { BAD_OUTSIDE = 1, BAD_HANDLER = 2, BAD_BOTH = 3 };

typedef struct bad_send {
    uint32_t type;
    int with_payload;
    size_t size;
    int want;
    int where;
} bad_send;

static const bad_send bad_sends[] = {
    {T_UNREG, 1, sizeof(uint64_t), AX_EUNKNOWNTYPE, BAD_BOTH},
    {T_U64, 1, 4, AX_EMSGSIZE, BAD_BOTH},
    {T_U64, 0, 8, AX_EINVAL, BAD_BOTH},
    {0, 0, 0, AX_EUNKNOWNTYPE, BAD_BOTH},
    {T_BLOB, 1, (size_t)AX_MSG_MAX_SIZE + 1, AX_EMSGSIZE, BAD_OUTSIDE},
    {T_BLOB, 0, 1, AX_EINVAL, BAD_HANDLER},
    {T_EMPTY, 1, 1, AX_EMSGSIZE, BAD_HANDLER},
};

#define N_BAD_SENDS (sizeof bad_sends / sizeof bad_sends[0])

static void check_refused(const char *how, size_t row, int rc)
{
    const bad_send *b = &bad_sends[row];
    if (rc != b->want)
        fail_msg("%s: bad send %zu (type %u, %s, size %zu) returned %s (%d), want %s (%d)", how,
                 row, b->type, b->with_payload ? "payload" : "NULL", b->size, ax_errname(rc), rc,
                 ax_errname(b->want), b->want);
}

/* On any message: tries every BAD_HANDLER row against `to`. */
typedef struct bad_sender {
    ax_id to;
    int rc[N_BAD_SENDS];
} bad_sender;

static void bad_sender_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    bad_sender *b = state;
    uint64_t v = 1;
    for (size_t i = 0; i < N_BAD_SENDS; i++) {
        const bad_send *s = &bad_sends[i];
        if (s->where & BAD_HANDLER)
            b->rc[i] = ax_send(ctx, b->to, s->type, s->with_payload ? &v : NULL, s->size);
    }
}

static void test_send_type_errors(void **state)
{
    (void)state;
    fx f;
    fx_rec r;
    ax_id a = fx_open_rec(&f, &r);
    uint64_t v = 1;
    for (size_t i = 0; i < N_BAD_SENDS; i++) {
        const bad_send *s = &bad_sends[i];
        if (s->where & BAD_OUTSIDE)
            check_refused("ax_system_send", i,
                          ax_system_send(f.sys, ax_id_nil(), a, s->type,
                                         s->with_payload ? &v : NULL, s->size));
    }
    /* and from a handler */
    bad_sender b = {a, {0}};
    ax_id bid;
    tu_ok(ax_spawn(f.sys, bad_sender_receive, &b, NULL, &bid));
    fx_send_empty(&f, bid);
    fx_drain(&f);
    for (size_t i = 0; i < N_BAD_SENDS; i++)
        if (bad_sends[i].where & BAD_HANDLER)
            check_refused("ax_send", i, b.rc[i]);
    assert_int_equal(r.n, 0);
    assert_int_equal(f.dl.n, 0); /* refused sends are errors, not drops */
    /* Type 0 once pooled nodes of the smallest class exist: an empty entry
     * of the send cache (id 0) must not let it through. */
    tu_ok(fx_u64_send(f.sys, ax_id_nil(), a, 7));
    fx_drain(&f);
    assert_int_equal(r.n, 1);
    tu_assert_err(ax_system_send(f.sys, ax_id_nil(), a, 0, NULL, 0), AX_EUNKNOWNTYPE);
    tu_assert_err(ax_system_send(f.sys, ax_id_nil(), a, 0, &v, sizeof v), AX_EUNKNOWNTYPE);
    fx_drain(&f);
    assert_int_equal(r.n, 1);
    fx_close(&f);
}

/* ---- construct in place ------------------------------------------------- */

static void test_send_msg_in_place(void **state)
{
    (void)state;
    fx f;
    fx_rec r, gone;
    ax_id a = fx_open_rec(&f, &r);
    ax_id g = fx_spawn_new_rec(&f, &gone);
    fx_poison(&f, g);
    fx_drain(&f);
    ax_outmsg *m;
    void *data;
    tu_ok(ax_msg_new(f.sys, T_BIG, sizeof(fx_big), &m, &data));
    ((fx_big *)data)->v[0] = 4711;
    ax_id from = {0, 1, 1};
    tu_ok(ax_system_send_msg(f.sys, from, a, m));
    /* a failed send leaves the message with the caller */
    tu_ok(ax_msg_new(f.sys, T_U64, 8, &m, &data));
    tu_assert_err(ax_system_send_msg(f.sys, from, g, m), AX_ESTALE);
    ax_msg_discard(f.sys, m);
    fx_drain(&f);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.m[0].u64, 4711);
    fx_assert_id_eq(r.m[0].sender, from);
    fx_close(&f);
}

/* ---- ordering ------------------------------------------------------------ */

#define MAX_STREAMS 8

typedef struct checker {
    uint32_t next[MAX_STREAMS];
    uint64_t total;
    uint64_t bad;
    uint64_t switches;
    uint32_t last_stream;
} checker;

static void checker_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)ctx;
    checker *c = state;
    fx_seq s;
    memcpy(&s, msg->data, sizeof s);
    if (s.stream >= MAX_STREAMS || s.seq != c->next[s.stream]) {
        if (c->bad++ == 0)
            print_error("out of order: stream %u got %u, want %u\n", s.stream, s.seq,
                        s.stream < MAX_STREAMS ? c->next[s.stream] : 0);
    } else {
        c->next[s.stream]++;
    }
    if (c->total++ > 0 && s.stream != c->last_stream)
        c->switches++;
    c->last_stream = s.stream;
}

/* Open the fixture with a fresh checker; returns the checker's id. */
static ax_id open_checker(fx *f, checker *c)
{
    fx_open(f, NULL);
    memset(c, 0, sizeof *c);
    ax_id id;
    tu_ok(ax_spawn(f->sys, checker_receive, c, NULL, &id));
    return id;
}

/* Streams 0..nstreams-1 each arrived whole (`per` messages) and in order. */
static void assert_streams_whole(const checker *c, int nstreams, uint32_t per)
{
    assert_int_equal(c->bad, 0);
    assert_int_equal(c->total, (uint64_t)per * (uint64_t)nstreams);
    for (int i = 0; i < nstreams; i++)
        assert_int_equal(c->next[i], per);
}

static void test_order_one_sender_100k(void **state)
{
    (void)state;
    fx f;
    checker c;
    ax_id rid = open_checker(&f, &c);
    ax_id sender = {0, 77, 1};
    for (uint32_t i = 0; i < 100000; i++) {
        fx_seq s = {0, i};
        tu_ok(ax_system_send(f.sys, sender, rid, T_SEQ, &s, sizeof s));
        if (i % 25000 == 24999)
            ax_loop_step(f.loop, 0); /* part of it handled while sending */
    }
    fx_drain(&f);
    assert_streams_whole(&c, 1, 100000);
    fx_close(&f);
}

/* Senders that send a chunk per message and re-trigger themselves, so
 * their streams interleave in the receiver's mailbox. */
typedef struct streamer {
    uint32_t stream, sent, total, chunk;
    ax_id to;
    int mode; /* 0 direct; 1 scheduled equal delay; 2 scheduled rising delay; 3 direct then
                 scheduled(0) */
} streamer;

static void streamer_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    streamer *s = state;
    for (uint32_t k = 0; k < s->chunk && s->sent < s->total; k++, s->sent++) {
        fx_seq q = {s->stream, s->sent};
        switch (s->mode) {
        case 0:
            tu_ok(ax_send(ctx, s->to, T_SEQ, &q, sizeof q));
            break;
        case 1:
            tu_ok(ax_schedule(ctx, AX_MSEC(2), s->to, T_SEQ, &q, sizeof q, NULL));
            break;
        case 2:
            tu_ok(ax_schedule(ctx, AX_USEC(10) * (s->sent + 1), s->to, T_SEQ, &q, sizeof q, NULL));
            break;
        default:
            if (s->sent < s->total / 2)
                tu_ok(ax_send(ctx, s->to, T_SEQ, &q, sizeof q));
            else
                tu_ok(ax_schedule(ctx, 0, s->to, T_SEQ, &q, sizeof q, NULL));
            break;
        }
    }
    if (s->sent < s->total)
        tu_ok(ax_send(ctx, ax_self(ctx), T_EMPTY, NULL, 0));
}

static void run_streams(const int *modes, int nstreams, uint32_t per, uint32_t chunk)
{
    fx f;
    checker c;
    ax_id rid = open_checker(&f, &c);
    streamer s[MAX_STREAMS];
    ax_id sid[MAX_STREAMS];
    for (int i = 0; i < nstreams; i++) {
        s[i] = (streamer){(uint32_t)i, 0, per, chunk, rid, modes[i]};
        tu_ok(ax_spawn(f.sys, streamer_receive, &s[i], NULL, &sid[i]));
    }
    for (int i = 0; i < nstreams; i++)
        fx_send_empty(&f, sid[i]);
    fx_drain(&f);
    assert_streams_whole(&c, nstreams, per);
    if (nstreams > 1)
        assert_true(c.switches >= (uint64_t)nstreams); /* they did interleave */
    assert_int_equal(f.dl.n, 0);
    fx_close(&f);
}

static void test_order_senders_interleaved(void **state)
{
    (void)state;
    const int modes[4] = {0, 0, 0, 0};
    run_streams(modes, 4, 25000, 100);
}

static void test_order_scheduled_and_direct(void **state)
{
    (void)state;
    const int modes[5] = {0, 1, 2, 3, 0};
    run_streams(modes, 5, 2000, 50);
}

int main(int argc, char **argv)
{
    tu_parse_backend(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_self_and_sender),
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
        cmocka_unit_test(test_payload_alignment),
        cmocka_unit_test(test_mailbox_mark_limit_and_hwm),
        cmocka_unit_test(test_mailbox_limit),
        cmocka_unit_test(test_send_type_errors),
        cmocka_unit_test(test_send_msg_in_place),
        cmocka_unit_test(test_order_one_sender_100k),
        cmocka_unit_test(test_order_senders_interleaved),
        cmocka_unit_test(test_order_scheduled_and_direct),
        /* last: under UBSan the overflow it exposes aborts the binary */
        cmocka_unit_test(test_schedule_far_future_not_early),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
