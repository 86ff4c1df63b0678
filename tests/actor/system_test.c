/* system_test.c - the system (src/actor/system.c and the shutdown in
 * dispatch.c): statistics, shutdown, ax_system_free, argument checking
 * across the public actor/system API, the error table, and allocation
 * failure at every step. */
#include "actor/actor_fixture.h"

/* ---- statistics --------------------------------------------------------- */

static void test_stats(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    ax_stats st = fx_stats(f.sys);
    assert_int_equal(st.delivered, 0);
    assert_int_equal(st.dead_letters, 0);
    assert_int_equal(st.spawned, 0);
    assert_int_equal(st.live_actors, 0);
    assert_int_equal(st.mailbox_hwm, 0);
    assert_int_equal(st.posted, 0);

    fx_rec a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    ax_id aid = fx_spawn_rec(f.sys, &a);
    ax_id bid = fx_spawn_rec(f.sys, &b);
    for (uint64_t i = 0; i < 50; i++)
        tu_ok(fx_u64_send(f.sys, ax_id_nil(), aid, i));
    for (uint64_t i = 0; i < 7; i++)
        tu_ok(fx_u64_send(f.sys, ax_id_nil(), bid, i));
    st = fx_stats(f.sys);
    assert_int_equal(st.mailbox_hwm, 50);
    assert_int_equal(st.spawned, 2);
    assert_int_equal(st.live_actors, 2);
    assert_int_equal(st.delivered, 0);
    fx_drain(&f);
    st = fx_stats(f.sys);
    assert_int_equal(st.delivered, 57);
    assert_int_equal(st.mailbox_hwm, 50); /* a high-water mark stays */
    assert_int_equal(st.dead_letters, 0);
    assert_int_equal(st.posted, 0);
    fx_close(&f);
}

static int posted_n(void *arg)
{
    fx *f = arg;
    return fx_stats(f->sys).posted >= 5;
}

static void test_stats_posted_and_dead(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    fx_rec b, gone;
    memset(&b, 0, sizeof b);
    memset(&gone, 0, sizeof gone);
    ax_id bid = fx_spawn_rec(f.sys, &b);
    ax_id gid = fx_spawn_rec(f.sys, &gone);
    tu_ok(ax_system_send(f.sys, ax_id_nil(), gid, AX_MSG_POISON, NULL, 0));
    fx_drain(&f);
    for (uint64_t i = 0; i < 5; i++)
        tu_ok(ax_system_post(f.sys, ax_id_nil(), bid, T_U64, &i, sizeof i));
    tu_run_until(f.loop, posted_n, &f, 5000);
    fx_drain(&f);
    ax_stats st = fx_stats(f.sys);
    assert_int_equal(st.posted, 5);
    assert_int_equal(b.n, 5);
    assert_int_equal(st.dead_letters, 0);
    tu_assert_err(fx_u64_send(f.sys, ax_id_nil(), gid, 1), AX_ESTALE);
    st = fx_stats(f.sys);
    assert_int_equal(st.dead_letters, 1);
    assert_int_equal(st.spawned, 2);
    assert_int_equal(st.live_actors, 1);
    assert_int_equal(ax_actor_count(f.sys), 1);
    fx_close(&f);
}

/* "delivered" counts messages handed to a handler: a poison pill is not. */
static void test_stats_delivered_excludes_poison(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    fx_rec a;
    memset(&a, 0, sizeof a);
    ax_id aid = fx_spawn_rec(f.sys, &a);
    for (uint64_t i = 0; i < 3; i++)
        tu_ok(fx_u64_send(f.sys, ax_id_nil(), aid, i));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), aid, AX_MSG_POISON, NULL, 0));
    fx_drain(&f);
    assert_int_equal(a.n, 3);
    ax_stats st = fx_stats(f.sys);
    if (st.delivered != a.n)
        fail_msg("stats.delivered = %llu, but handlers got %llu messages (the pill counted?)",
                 (unsigned long long)st.delivered, (unsigned long long)a.n);
    fx_close(&f);
}

/* ---- shutdown ------------------------------------------------------------ */

typedef struct closer {
    int handled;
    int free_rc;
    int send_after_rc;
    ax_id peer;
} closer;

static void closer_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    closer *c = state;
    c->handled++;
    if (c->handled == 1) {
        ax_system *sys = ax_ctx_system(ctx);
        ax_system_shutdown(sys);
        ax_system_shutdown(sys); /* idempotent */
        c->free_rc = ax_system_free(sys);
        uint64_t v = 1;
        c->send_after_rc = ax_send(ctx, c->peer, T_U64, &v, sizeof v);
    }
}

static void noop_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    (void)ctx;
    (void)msg;
}

typedef struct stop_sender {
    int reason;
    int stops;
    int send_rc;
    ax_id to;
} stop_sender;

static void stop_sender_stop(void *state, ax_ctx *ctx, int reason)
{
    stop_sender *s = state;
    s->stops++;
    s->reason = reason;
    uint64_t v = 2;
    s->send_rc = ax_send(ctx, s->to, T_U64, &v, sizeof v);
}

static void test_shutdown_from_handler(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    fx_rec peer;
    memset(&peer, 0, sizeof peer);
    closer c;
    memset(&c, 0, sizeof c);
    ax_id cid;
    tu_ok(ax_spawn(f.sys, closer_receive, &c, NULL, &cid));
    ax_id pid = fx_spawn_rec(f.sys, &peer);
    c.peer = pid;
    stop_sender ss = {-1, 0, 1, pid};
    ax_spawn_options sso = {.on_stop = stop_sender_stop};
    ax_id sid;
    tu_ok(ax_spawn(f.sys, noop_receive, &ss, &sso, &sid)); /* never gets a message */
    (void)sid;

    tu_ok(ax_system_send(f.sys, ax_id_nil(), cid, T_EMPTY, NULL, 0)); /* shuts down */
    tu_ok(ax_system_send(f.sys, ax_id_nil(), cid, T_EMPTY, NULL, 0)); /* queued behind */
    tu_ok(ax_system_send(f.sys, ax_id_nil(), cid, T_EMPTY, NULL, 0));
    tu_ok(fx_u64_send(f.sys, ax_id_nil(), pid, 7)); /* queued elsewhere */
    uint64_t v = 3;
    tu_ok(ax_system_schedule(f.sys, AX_SEC(5), ax_id_nil(), pid, T_U64, &v, sizeof v, NULL));
    ax_loop_step(f.loop, 0);

    tu_assert_err(c.free_rc, AX_EBUSY); /* nothing was freed */
    assert_int_equal(c.handled, 1);     /* the shutdown happened when the handler returned */
    assert_int_equal(peer.n, 0);
    assert_int_equal(peer.stops, 1);
    assert_int_equal(peer.stop_reason, AX_REASON_SHUTDOWN);
    assert_int_equal(ss.stops, 1);
    assert_int_equal(ss.reason, AX_REASON_SHUTDOWN);
    tu_assert_err(ss.send_rc, AX_ECLOSED); /* no sends from on_stop during shutdown */
    assert_int_equal(ax_actor_count(f.sys), 0);
    assert_int_equal(ax_timer_count(f.loop), 0);
    /* everything still queued became a dead letter with AX_ECLOSED:
     * two for the closer, the peer's, the scheduled one, and whatever the
     * closer sent after asking for the shutdown */
    uint64_t want = 4 + (c.send_after_rc == 0 ? 1 : 0);
    assert_int_equal(f.dl.by_reason[-AX_ECLOSED], want);
    assert_int_equal(f.dl.n, want);

    /* from now on: AX_ECLOSED */
    ax_id x;
    tu_assert_err(ax_spawn(f.sys, fx_rec_receive, &peer, NULL, &x), AX_ECLOSED);
    tu_assert_err(fx_u64_send(f.sys, ax_id_nil(), pid, 1), AX_ECLOSED);
    tu_assert_err(ax_system_send(f.sys, ax_id_nil(), pid, T_EMPTY, NULL, 0), AX_ECLOSED);
    tu_assert_err(ax_system_schedule(f.sys, 0, ax_id_nil(), pid, T_U64, &v, sizeof v, NULL),
                  AX_ECLOSED);
    tu_assert_err(ax_system_post(f.sys, ax_id_nil(), pid, T_U64, &v, sizeof v), AX_ECLOSED);
    ax_outmsg *m;
    void *data;
    tu_assert_err(ax_msg_new(f.sys, T_U64, 8, &m, &data), AX_ECLOSED);
    tu_assert_err(ax_system_monitor(f.sys, pid, cid), AX_ECLOSED);
    assert_int_equal(f.dl.n, want); /* refused sends are not dead letters */
    ax_system_shutdown(f.sys);      /* idempotent */
    fx_close(&f);
}

static void test_shutdown_from_outside(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    enum { N = 5 };
    fx_rec r[N];
    ax_id ids[N];
    memset(r, 0, sizeof r);
    for (int i = 0; i < N; i++) {
        ids[i] = fx_spawn_rec(f.sys, &r[i]);
        for (uint64_t k = 0; k <= (uint64_t)i; k++)
            tu_ok(fx_u64_send(f.sys, ax_id_nil(), ids[i], k));
    }
    ax_system_shutdown(f.sys);
    for (int i = 0; i < N; i++) {
        assert_int_equal(r[i].n, 0);
        assert_int_equal(r[i].stops, 1);
        assert_int_equal(r[i].stop_reason, AX_REASON_SHUTDOWN);
    }
    assert_int_equal(f.dl.by_reason[-AX_ECLOSED], 15);
    assert_int_equal(f.dl.v[0].reason, AX_ECLOSED);
    fx_assert_id_eq(f.dl.v[0].to, ids[0]);
    assert_int_equal(ax_actor_count(f.sys), 0);
    assert_int_equal(ax_loop_step(f.loop, 0), 0); /* nothing left to run */
    fx_close(&f);
    for (int i = 0; i < N; i++)
        assert_int_equal(r[i].stops, 1); /* free did not stop them again */
}

/* ax_system_free shuts down on its own, and refuses from a handler. */
typedef struct freer {
    int rc;
} freer;

static void freer_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    ((freer *)state)->rc = ax_system_free(ax_ctx_system(ctx));
}

static void test_free_from_handler_busy(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    freer fr = {1};
    ax_id a;
    tu_ok(ax_spawn(f.sys, freer_receive, &fr, NULL, &a));
    fx_rec r;
    memset(&r, 0, sizeof r);
    ax_id b = fx_spawn_rec(f.sys, &r);
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_EMPTY, NULL, 0));
    fx_drain(&f);
    tu_assert_err(fr.rc, AX_EBUSY);
    /* still fully working */
    tu_ok(fx_u64_send(f.sys, a, b, 1));
    fx_drain(&f);
    assert_int_equal(r.n, 1);
    tu_ok(fx_u64_send(f.sys, a, b, 2)); /* left queued: free drops it */
    fx_close(&f);
    assert_int_equal(r.stops, 1);
    assert_int_equal(r.stop_reason, AX_REASON_SHUTDOWN);
    assert_int_equal(f.dl.by_reason[-AX_ECLOSED], 1);
}

/* Two systems on one loop: each dispatches its own actors, a system
 * cannot cancel the other's scheduled sends, and freeing one leaves the
 * other running. */
static void test_two_systems_one_loop(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    ax_system *s2;
    ax_system_options o2;
    memset(&o2, 0, sizeof o2);
    o2.allocator = &f.ta.a;
    tu_ok(ax_system_new(f.loop, &o2, &s2));
    fx_register_types(s2);
    fx_rec r1, r2;
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    ax_id a1 = fx_spawn_rec(f.sys, &r1);
    ax_id a2 = fx_spawn_rec(s2, &r2);
    uint64_t v = 5;
    ax_timer t1, t2;
    tu_ok(ax_system_schedule(f.sys, AX_MSEC(1), ax_id_nil(), a1, T_U64, &v, sizeof v, &t1));
    tu_ok(ax_system_schedule(s2, AX_SEC(30), ax_id_nil(), a2, T_U64, &v, sizeof v, &t2));
    tu_assert_err(ax_system_cancel(s2, t1), AX_ENOENT); /* not s2's */
    tu_assert_err(ax_system_cancel(f.sys, t2), AX_ENOENT);
    tu_ok(fx_u64_send(s2, ax_id_nil(), a2, 1));
    tu_assert_err(ax_loop_free(f.loop), AX_EBUSY); /* systems still attached */
    tu_ok(ax_system_free(s2));                     /* its pending scheduled send goes with it */
    assert_int_equal(r2.stops, 1);
    assert_int_equal(r2.stop_reason, AX_REASON_SHUTDOWN);
    assert_int_equal(ax_timer_count(f.loop), 1);
    fx_drain(&f);
    assert_int_equal(r1.n, 1);
    assert_int_equal(r2.n, 0);
    fx_close(&f);
}

/* Freeing the system from an on_stop hook that the shutdown is running:
 * refused like from a handler, nothing freed under the shutdown's feet. */
typedef struct stop_freer {
    int stops;
    int free_rc;
} stop_freer;

static void stop_freer_stop(void *state, ax_ctx *ctx, int reason)
{
    (void)reason;
    stop_freer *s = state;
    s->stops++;
    s->free_rc = ax_system_free(ax_ctx_system(ctx));
}

static void test_free_from_on_stop_during_shutdown(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    stop_freer sf = {0, 1};
    ax_spawn_options so = {.on_stop = stop_freer_stop};
    ax_id a;
    tu_ok(ax_spawn(f.sys, noop_receive, &sf, &so, &a));
    fx_rec other;
    memset(&other, 0, sizeof other);
    fx_spawn_rec(f.sys, &other); /* a later slot the shutdown still has to visit */
    ax_system_shutdown(f.sys);
    assert_int_equal(sf.stops, 1);
    tu_assert_err(sf.free_rc, AX_EBUSY);
    assert_int_equal(other.stops, 1);
    fx_close(&f);
}

/* ---- argument checking --------------------------------------------------- */

typedef struct ctx_probe {
    int in_stop;
    int rc_forward, rc_reply, rc_send_null, rc_sched_neg, rc_send_msg_null, rc_cancel;
    int stop_forward, stop_reply;
} ctx_probe;

static void probe_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    ctx_probe *p = state;
    uint64_t v = 1;
    p->rc_send_null = ax_send(ctx, ax_self(ctx), T_U64, NULL, sizeof v);
    p->rc_sched_neg = ax_schedule(ctx, -1, ax_self(ctx), T_U64, &v, sizeof v, NULL);
    p->rc_send_msg_null = ax_send_msg(ctx, ax_self(ctx), NULL);
    ax_timer junk = {12345, 7};
    p->rc_cancel = ax_cancel(ctx, junk);
    ax_stop(ctx);
}

static void probe_stop(void *state, ax_ctx *ctx, int reason)
{
    (void)reason;
    ctx_probe *p = state;
    uint64_t v = 1;
    p->stop_forward = ax_forward(ctx, ax_self(ctx));
    p->stop_reply = ax_reply(ctx, T_U64, &v, sizeof v);
}

static void test_null_and_invalid_args(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    ax_id out, some = {0, 0, 1};
    ax_system *s2 = NULL;
    ax_allocator broken = {.alloc = NULL, .realloc = NULL, .free = NULL};
    ax_system_options bo;
    memset(&bo, 0, sizeof bo);
    bo.allocator = &broken;
    uint64_t v = 1;
    ax_timer t = {0, 1};
    ax_stats st;

    /* system.h */
    tu_assert_err(ax_system_new(NULL, NULL, &s2), AX_EINVAL);
    tu_assert_err(ax_system_new(f.loop, NULL, NULL), AX_EINVAL);
    tu_assert_err(ax_system_new(f.loop, &bo, &s2), AX_EINVAL);
    assert_null(s2);
    ax_system_shutdown(NULL);
    tu_assert_err(ax_system_free(NULL), AX_EINVAL);
    assert_null(ax_system_loop(NULL));
    assert_ptr_equal(ax_system_loop(f.sys), f.loop);
    assert_int_equal(ax_actor_count(NULL), 0);
    tu_assert_err(ax_system_send(NULL, some, some, T_U64, &v, 8), AX_EINVAL);
    tu_assert_err(ax_system_send_msg(NULL, some, some, NULL), AX_EINVAL);
    tu_assert_err(ax_system_send_msg(f.sys, some, some, NULL), AX_EINVAL);
    tu_assert_err(ax_system_post(NULL, some, some, T_U64, &v, 8), AX_EINVAL);
    tu_assert_err(ax_system_post(f.sys, some, some, T_U64, NULL, 8), AX_EINVAL);
    tu_assert_err(ax_system_post(f.sys, some, some, T_BLOB, &v, (size_t)AX_MSG_MAX_SIZE + 1),
                  AX_ERANGE);
    ax_system_stats(NULL, &st);
    ax_system_stats(f.sys, NULL);
    tu_assert_err(ax_name_register(NULL, "n", some), AX_EINVAL);
    tu_assert_err(ax_name_lookup(NULL, "n", &out), AX_EINVAL);
    tu_assert_err(ax_name_unregister(NULL, "n"), AX_EINVAL);

    /* actor.h, outside a handler */
    tu_assert_err(ax_spawn(NULL, fx_rec_receive, NULL, NULL, &out), AX_EINVAL);
    tu_assert_err(ax_spawn(f.sys, NULL, NULL, NULL, &out), AX_EINVAL);
    tu_assert_err(ax_spawn(f.sys, fx_rec_receive, NULL, NULL, NULL), AX_EINVAL);
    tu_assert_err(ax_spawn_behavior(NULL, NULL, NULL, NULL, &out), AX_EINVAL);
    tu_assert_err(ax_behavior_new(NULL, NULL, 0, fx_rec_receive, NULL), AX_EINVAL);
    tu_assert_err(ax_become(NULL, NULL), AX_EINVAL);
    assert_true(ax_id_is_nil(ax_self(NULL)));
    assert_true(ax_id_is_nil(ax_sender(NULL)));
    assert_null(ax_ctx_system(NULL));
    assert_null(ax_ctx_state(NULL));
    tu_assert_err(ax_send(NULL, some, T_U64, &v, 8), AX_EINVAL);
    tu_assert_err(ax_send_msg(NULL, some, NULL), AX_EINVAL);
    tu_assert_err(ax_forward(NULL, some), AX_EINVAL);
    tu_assert_err(ax_reply(NULL, T_U64, &v, 8), AX_EINVAL);
    tu_assert_err(ax_schedule(NULL, 0, some, T_U64, &v, 8, NULL), AX_EINVAL);
    tu_assert_err(ax_system_schedule(NULL, 0, some, some, T_U64, &v, 8, NULL), AX_EINVAL);
    tu_assert_err(ax_system_schedule(f.sys, -5, some, some, T_U64, &v, 8, NULL), AX_EINVAL);
    tu_assert_err(ax_system_schedule(f.sys, 0, some, some, T_UNREG, &v, 8, NULL), AX_EUNKNOWNTYPE);
    tu_assert_err(ax_system_schedule(f.sys, 0, some, some, T_U64, &v, 3, NULL), AX_EMSGSIZE);
    tu_assert_err(ax_cancel(NULL, t), AX_EINVAL);
    tu_assert_err(ax_system_cancel(NULL, t), AX_EINVAL);
    tu_assert_err(ax_system_cancel(f.sys, t), AX_ENOENT);
    ax_stop(NULL);
    tu_assert_err(ax_monitor(NULL, some), AX_EINVAL);
    tu_assert_err(ax_system_monitor(NULL, some, some), AX_EINVAL);
    tu_assert_err(ax_demonitor(NULL, some), AX_EINVAL);
    assert_int_equal(f.dl.n, 0);

    /* inside a handler and inside on_stop */
    ctx_probe p;
    memset(&p, 0, sizeof p);
    ax_spawn_options so = {.on_stop = probe_stop};
    ax_id a;
    tu_ok(ax_spawn(f.sys, probe_receive, &p, &so, &a));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_EMPTY, NULL, 0));
    fx_drain(&f);
    tu_assert_err(p.rc_send_null, AX_EINVAL);
    tu_assert_err(p.rc_sched_neg, AX_EINVAL);
    tu_assert_err(p.rc_send_msg_null, AX_EINVAL);
    tu_assert_err(p.rc_cancel, AX_ENOENT);
    tu_assert_err(p.stop_forward, AX_ENOCTX);
    tu_assert_err(p.stop_reply, AX_ENOCTX);
    fx_close(&f);
}

/* ---- the error table ----------------------------------------------------- */

static void test_error_names(void **state)
{
    (void)state;
    static const struct {
        int code;
        const char *name;
    } tab[] = {
#define X(name, val, msg) {AX_##name, "AX_" #name},
        AX_ERRNO_MAP(X)
#undef X
    };
    size_t n = sizeof tab / sizeof tab[0];
    assert_true(n >= 19);
    for (size_t i = 0; i < n; i++) {
        assert_true(tab[i].code < 0);
        const char *msg = ax_strerror(tab[i].code);
        const char *name = ax_errname(tab[i].code);
        assert_non_null(msg);
        assert_non_null(name);
        assert_string_not_equal(msg, ax_strerror(-9999));
        assert_string_equal(name, tab[i].name);
        for (size_t k = 0; k < i; k++) {
            assert_int_not_equal(tab[k].code, tab[i].code);
            assert_string_not_equal(ax_errname(tab[k].code), name);
            assert_string_not_equal(ax_strerror(tab[k].code), msg);
        }
    }
    assert_string_equal(ax_errname(0), "AX_OK");
    assert_non_null(ax_strerror(0));
    assert_string_equal(ax_errname(-9999), "AX_EUNKNOWN");
    assert_string_equal(ax_errname(12345), "AX_EUNKNOWN");
    assert_non_null(ax_strerror(-9999));
    assert_non_null(ax_strerror(12345));
}

/* ---- allocation failure -------------------------------------------------- */

static void af_behavior_u64(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    (void)ctx;
    (void)msg;
}

#define AF_OK(expr)                                                                                \
    do {                                                                                           \
        int af_rc_ = (expr);                                                                       \
        if (af_rc_ == AX_ENOMEM) {                                                                 \
            failed++;                                                                              \
        } else if (af_rc_ != 0) {                                                                  \
            fail_msg("fail_at=%llu: %s returned %s", (unsigned long long)n, #expr,                 \
                     ax_errname(af_rc_));                                                          \
        }                                                                                          \
        ok = af_rc_ == 0;                                                                          \
    } while (0)

static int af_dead_nomem;

static void af_dead_letter(void *arg, const ax_dead_letter *dl)
{
    (void)arg;
    if (dl->reason == AX_ENOMEM)
        af_dead_nomem++;
}

/* One scenario: create, register, spawn, send, name, schedule, monitor,
 * post, run, free.  Returns how many steps failed with AX_ENOMEM. */
static int af_scenario(tu_alloc *ta, uint64_t n)
{
    int failed = 0, ok;
    ax_loop_options lo = {.backend = tu_backend, .allocator = &ta->a};
    ax_loop *loop = NULL;
    AF_OK(ax_loop_new(&lo, &loop));
    if (!ok)
        return failed;
    ax_system_options so;
    memset(&so, 0, sizeof so);
    so.allocator = &ta->a;
    so.on_dead_letter = af_dead_letter;
    af_dead_nomem = 0;
    ax_system *sys = NULL;
    AF_OK(ax_system_new(loop, &so, &sys));
    if (ok) {
        AF_OK(ax_msg_register_pod(sys, T_U64, "u64", 8, 8));
        int have_type = ok;
        AF_OK(ax_msg_register_pod(sys, T_BIG, "big", sizeof(fx_big), 8));
        int have_big = ok;
        static fx_rec r1, r2;
        memset(&r1, 0, sizeof r1);
        memset(&r2, 0, sizeof r2);
        ax_spawn_options sopt = {.on_stop = fx_rec_stop};
        ax_id a = ax_id_nil(), b = ax_id_nil(), c = ax_id_nil();
        AF_OK(ax_spawn(sys, fx_rec_receive, &r1, &sopt, &a));
        AF_OK(ax_spawn(sys, fx_rec_receive, &r2, NULL, &b));
        ax_behavior *bh = NULL;
        if (have_type) {
            ax_handler h[1] = {{.type = T_U64, .fn = af_behavior_u64, .flags = 0}};
            AF_OK(ax_behavior_new(sys, h, 1, af_behavior_u64, &bh));
            if (ok)
                AF_OK(ax_spawn_behavior(sys, bh, NULL, NULL, &c));
        }
        if (!ax_id_is_nil(a)) {
            AF_OK(ax_name_register(sys, "a", a));
            AF_OK(ax_name_register(sys, "a2", a));
            if (have_type) {
                for (uint64_t i = 0; i < 40; i++)
                    AF_OK(ax_system_send(sys, b, a, T_U64, &i, 8));
                fx_big big;
                memset(&big, 0, sizeof big);
                if (have_big)
                    AF_OK(ax_system_send(sys, b, a, T_BIG, &big, sizeof big));
                uint64_t v = 9;
                AF_OK(ax_system_schedule(sys, 0, b, a, T_U64, &v, 8, NULL));
                AF_OK(ax_system_schedule(sys, AX_SEC(60), b, a, T_U64, &v, 8, NULL));
                AF_OK(ax_system_post(sys, b, a, T_U64, &v, 8));
                AF_OK(ax_system_post(sys, b, a, T_U64, &v, 8));
            }
            if (!ax_id_is_nil(b))
                AF_OK(ax_system_monitor(sys, b, a));
        }
        if (!ax_id_is_nil(c) && have_type) {
            uint64_t v = 1;
            AF_OK(ax_system_send(sys, a, c, T_U64, &v, 8));
        }
        if (!ax_id_is_nil(a))
            AF_OK(ax_system_send(sys, ax_id_nil(), a, AX_MSG_POISON, NULL, 0));
        for (int i = 0; i < 20; i++)
            if (ax_loop_step(loop, 0) < 0)
                fail_msg("fail_at=%llu: ax_loop_step failed", (unsigned long long)n);
        tu_ok(ax_system_free(sys));
    }
    tu_ok(ax_loop_free(loop));
    return failed + af_dead_nomem; /* a drop for lack of memory is a report too */
}

static void run_alloc_failures(int fail_after)
{
    uint64_t n, first_silent = 0;
    int done = 0, silent = 0;
    for (n = 1; n < 2000 && !done; n++) {
        tu_alloc ta;
        tu_alloc_init(&ta);
        ta.fail_at = n;
        ta.fail_after = fail_after;
        int failed = af_scenario(&ta, n);
        if (ta.live_blocks != 0 || ta.live_bytes != 0)
            fail_msg("fail_at=%llu%s: leaked %lld blocks / %lld bytes", (unsigned long long)n,
                     fail_after ? " (and after)" : "", (long long)ta.live_blocks,
                     (long long)ta.live_bytes);
        /* done once allocation n was never reached */
        if (ta.allocs + ta.reallocs < n) {
            assert_int_equal(failed, 0);
            done = 1;
        } else if (failed == 0 && silent++ == 0) {
            first_silent = n;
        }
    }
    assert_true(done);
    /* Nothing is lost silently: each failure shows as AX_ENOMEM from the
     * call that hit it or as a dead letter.  Checked after the sweep so the
     * leak check above still covers every n. */
    if (silent)
        fail_msg("%d allocation failure(s) went unreported, the first at fail_at=%llu%s: no "
                 "call returned AX_ENOMEM and no dead letter reported a drop",
                 silent, (unsigned long long)first_silent, fail_after ? " (and after)" : "");
    assert_true(n > 10); /* the scenario allocates more than a few times */
}

static void test_alloc_failure_each(void **state)
{
    (void)state;
    fx_watchdog("allocation failure sweep", 25);
    run_alloc_failures(0);
    fx_watchdog_off();
}

static void test_alloc_failure_from_then_on(void **state)
{
    (void)state;
    fx_watchdog("allocation failure sweep (fail_after)", 25);
    run_alloc_failures(1);
    fx_watchdog_off();
}

int main(int argc, char **argv)
{
    tu_parse_backend(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_stats_posted_and_dead),
        cmocka_unit_test(test_stats_delivered_excludes_poison),
        cmocka_unit_test(test_shutdown_from_handler),
        cmocka_unit_test(test_shutdown_from_outside),
        cmocka_unit_test(test_free_from_handler_busy),
        cmocka_unit_test(test_two_systems_one_loop),
        cmocka_unit_test(test_null_and_invalid_args),
        cmocka_unit_test(test_error_names),
        cmocka_unit_test(test_alloc_failure_each),
        cmocka_unit_test(test_alloc_failure_from_then_on),
        /* last: a use-after-free here would take the binary down */
        cmocka_unit_test(test_free_from_on_stop_during_shutdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
