/* coro_actor_test.c - coroutine actors (src/actor/coro_actor.c): spawning,
 * handlers on their own stack, ax_sleep, one handler at a time with the
 * mailbox waiting in order, 100,000 actors asleep at once, async behaviour
 * handlers and ax_become, cancellation (poison pill or shutdown while a
 * handler waits in sleep, ask, read, write or accept: it sees AX_ECANCELED,
 * its cleanup runs, its stack goes back to the pool, nothing leaks), and a
 * stack overflow reported with the actor's label. */
#include <netinet/in.h>
#include <arpa/inet.h>

#include "cafx.h"

static void noop_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    (void)ctx;
    (void)msg;
}

/* ---- spawning ---------------------------------------------------------------- */

static void test_spawn_coro_args(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    ax_id id;
    ax_spawn_options so;
    memset(&so, 0, sizeof so);
    tu_assert_err(ax_spawn_coro(NULL, noop_receive, NULL, NULL, &id), AX_EINVAL);
    tu_assert_err(ax_spawn_coro(f.sys, NULL, NULL, NULL, &id), AX_EINVAL);
    tu_assert_err(ax_spawn_coro(f.sys, noop_receive, NULL, NULL, NULL), AX_EINVAL);
    so.stack_size = 1024;
    tu_assert_err(ax_spawn_coro(f.sys, noop_receive, NULL, &so, &id), AX_EINVAL);
    so.stack_size = AXI_CORO_MIN_STACK - 1;
    tu_assert_err(ax_spawn_coro(f.sys, noop_receive, NULL, &so, &id), AX_EINVAL);
    assert_int_equal(ax_actor_count(f.sys), 0);
    so.stack_size = AXI_CORO_MIN_STACK;
    tu_ok(ax_spawn_coro(f.sys, noop_receive, NULL, &so, &id));
    assert_false(ax_id_is_nil(id));
    assert_int_equal(ax_actor_count(f.sys), 1);
    /* Nothing is mapped until the first coroutine handler runs. */
    assert_null(f.sys->stacks);
    ax_system_shutdown(f.sys);
    tu_assert_err(ax_spawn_coro(f.sys, noop_receive, NULL, NULL, &id), AX_ECLOSED);
    ca_close(&f);
}

/* A stack size no coroutine can have is an invalid spawn option, as a too
 * small one is: refusing it at spawn beats dead-lettering every message. */
static void test_spawn_coro_stack_too_big(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    ax_spawn_options so;
    memset(&so, 0, sizeof so);
    so.stack_size = AXI_CORO_MAX_STACK + 4096;
    ax_id id;
    int rc = ax_spawn_coro(f.sys, noop_receive, NULL, &so, &id);
    if (rc == 0) {
        tu_ok(ca_send_u64(f.sys, ax_id_nil(), id, 1));
        ca_drain(&f);
        fail_msg("ax_spawn_coro accepted stack_size %zu (> AXI_CORO_MAX_STACK); its messages "
                 "then become dead letters (%llu, reason %s)",
                 so.stack_size, (unsigned long long)f.dl.n,
                 f.dl.n ? ax_errname(f.dl.v[0].reason) : "-");
    }
    tu_assert_err(rc, AX_EINVAL);
    ca_close(&f);
}

/* ---- the handler runs on its own stack ------------------------------------------ */

typedef struct seen {
    int n;
    int on_own_stack;
    int nested_ok;
    void *state, *ctx_state;
    ax_system *sys;
    ax_id self, sender;
    uint64_t vals[8];
    int stops, reason;
    ax_id stop_self;
} seen;

static void seen_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    seen *s = state;
    char local = 0;
    axi_coro *co = axi_coro_current();
    if (co) {
        void *lo;
        size_t size;
        axi_coro_stack_bounds(co, &lo, &size);
        if ((char *)&local >= (char *)lo && (char *)&local < (char *)lo + size)
            s->on_own_stack++;
    }
    s->state = state;
    s->ctx_state = ax_ctx_state(ctx);
    s->sys = ax_ctx_system(ctx);
    s->self = ax_self(ctx);
    s->sender = ax_sender(ctx);
    if (s->n < 8)
        s->vals[s->n] = ca_u64(msg);
    s->n++;
}

static void seen_stop(void *state, ax_ctx *ctx, int reason)
{
    seen *s = state;
    s->stops++;
    s->reason = reason;
    s->stop_self = ax_self(ctx);
}

static void test_handler_runs_on_own_stack(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    seen s;
    memset(&s, 0, sizeof s);
    ax_spawn_options so;
    memset(&so, 0, sizeof so);
    so.on_stop = seen_stop;
    ax_id a, from = {0, 77, 5};
    tu_ok(ax_spawn_coro(f.sys, seen_receive, &s, &so, &a));
    for (uint64_t i = 1; i <= 3; i++)
        tu_ok(ca_send_u64(f.sys, from, a, i));
    ca_drain(&f);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.on_own_stack, 3);
    assert_ptr_equal(s.state, &s);
    assert_ptr_equal(s.ctx_state, &s);
    assert_ptr_equal(s.sys, f.sys);
    ca_assert_id_eq(s.self, a);
    ca_assert_id_eq(s.sender, from);
    assert_int_equal(s.vals[0], 1);
    assert_int_equal(s.vals[2], 3);
    /* Each handler returned its stack; the cache handed the same one out
     * again, so one mapping served all three. */
    axi_stack_pool_stats st = ca_stacks(f.sys);
    assert_int_equal(st.live, 0);
    assert_int_equal(st.cached, 1);
    assert_int_equal(st.mapped, 1);
    assert_int_equal(ca_stats(f.sys).delivered, 3);
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, AX_MSG_POISON, NULL, 0));
    ca_drain(&f);
    assert_int_equal(s.stops, 1);
    assert_int_equal(s.reason, AX_REASON_POISON);
    ca_assert_id_eq(s.stop_self, a);
    assert_int_equal(ax_actor_count(f.sys), 0);
    assert_int_equal(f.dl.n, 0);
    ca_close(&f);
}

/* ---- sleep ------------------------------------------------------------------------ */

typedef struct sleeper {
    int entered, returned;
    int rc;
    ax_duration d;
    int spin_ms; /* busy work in the turn before sleeping */
    int64_t slept_ns;
    int other_n_during; /* the other actor's count while this one slept */
    const int *other_n;
} sleeper;

static void sleeper_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    sleeper *s = state;
    s->entered++;
    if (s->spin_ms)
        ca_spin_ms(s->spin_ms);
    int64_t t0 = ca_now_ns();
    s->rc = ax_sleep(ctx, s->d);
    s->slept_ns = ca_now_ns() - t0;
    if (s->other_n)
        s->other_n_during = *s->other_n;
    s->returned++;
}

static void counter_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)ctx;
    (void)msg;
    (*(int *)state)++;
}

static void test_sleep_suspends_only_the_actor(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    int other = 0;
    sleeper s;
    memset(&s, 0, sizeof s);
    s.d = AX_MSEC(ca_ms(100)); /* long enough for the checks made meanwhile */
    s.other_n = &other;
    ax_id a, b;
    tu_ok(ax_spawn_coro(f.sys, sleeper_receive, &s, NULL, &a));
    tu_ok(ax_spawn(f.sys, counter_receive, &other, NULL, &b));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 1));
    ca_until_ge(&f, &s.entered, 1, 5000);
    assert_int_equal(s.returned, 0);
    /* The loop goes on: another actor runs while the handler sleeps. */
    for (int i = 0; i < 5; i++)
        tu_ok(ca_send_u64(f.sys, ax_id_nil(), b, 1));
    ca_until_ge(&f, &other, 5, 5000);
    assert_int_equal(s.returned, 0);
    assert_int_equal(ca_stacks(f.sys).live, 1);
    ca_until_ge(&f, &s.returned, 1, 5000);
    tu_ok(s.rc);
    assert_int_equal(s.other_n_during, 5);
    assert_int_equal(ca_stacks(f.sys).live, 0);
    assert_int_equal(ax_timer_count(f.loop), 0);
    ca_close(&f);
}

/* ax_sleep(d) never returns before d has passed since the call, even when
 * the turn it is called in has already run for a while (the loop's clock
 * is read once per turn). */
static void test_sleep_never_early(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    sleeper s;
    memset(&s, 0, sizeof s);
    s.d = AX_MSEC(40);
    s.spin_ms = 60; /* the turn is 60 ms old when ax_sleep is called */
    ax_id a;
    tu_ok(ax_spawn_coro(f.sys, sleeper_receive, &s, NULL, &a));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 1));
    ca_until_ge(&f, &s.returned, 1, 5000);
    tu_ok(s.rc);
    if (s.slept_ns < s.d)
        fail_msg("ax_sleep(%lld ns) returned after %lld ns: early", (long long)s.d,
                 (long long)s.slept_ns);
    /* And without the busy turn, several times. */
    s.spin_ms = 0;
    s.d = AX_MSEC(5);
    for (int i = 0; i < 5; i++) {
        int want = s.returned + 1;
        tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 1));
        ca_until_ge(&f, &s.returned, want, 5000);
        tu_ok(s.rc);
        if (s.slept_ns < s.d)
            fail_msg("ax_sleep(%lld ns) returned after %lld ns: early", (long long)s.d,
                     (long long)s.slept_ns);
    }
    ca_close(&f);
}

/* ax_sleep(ctx, 0) lets the loop go round once: other actors' mail and
 * due timers are handled before it returns. */
typedef struct yielder {
    ax_id other;
    int timer_fired;
    int rc;
    int other_seen; /* other's count right after the sleep */
    int returned;
    const int *other_n;
    int rounds;             /* sleeps of 0 in a loop */
    int progress_each_time; /* other made progress across every sleep(0) */
} yielder;

static void yield_timer(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    (*(int *)arg)++;
}

static void yielder_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    yielder *y = state;
    uint64_t v = 1;
    tu_ok(ax_send(ctx, y->other, T_U64, &v, sizeof v));
    tu_ok(ax_timer_start(ax_system_loop(ax_ctx_system(ctx)), 0, 0, yield_timer, &y->timer_fired,
                         NULL));
    y->rc = ax_sleep(ctx, 0);
    y->other_seen = *y->other_n;
    y->progress_each_time = 1;
    for (int i = 0; i < y->rounds; i++) {
        int before = *y->other_n;
        if (ax_sleep(ctx, 0) != 0)
            y->progress_each_time = 0;
        if (*y->other_n == before)
            y->progress_each_time = 0;
    }
    y->returned++;
}

/* A plain actor that keeps itself busy: it sends itself a message per
 * message until it has handled `limit`. */
typedef struct busy {
    int n, limit;
} busy;

static void busy_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    busy *b = state;
    b->n++;
    if (b->n < b->limit) {
        uint64_t v = 0;
        tu_ok(ax_send(ctx, ax_self(ctx), T_U64, &v, sizeof v));
    }
}

static void test_sleep_zero_lets_others_run(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    busy b = {0, 1000000};
    yielder y;
    memset(&y, 0, sizeof y);
    y.other_n = &b.n;
    y.rounds = 50;
    ax_id a, bid;
    tu_ok(ax_spawn(f.sys, busy_receive, &b, NULL, &bid));
    y.other = bid;
    tu_ok(ax_spawn_coro(f.sys, yielder_receive, &y, NULL, &a));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 1));
    ca_until_ge(&f, &y.returned, 1, 10000);
    tu_ok(y.rc);
    assert_int_equal(y.timer_fired, 1);
    assert_true(y.other_seen >= 1);
    /* A busy actor does not starve a coroutine that sleeps 0, nor the
     * other way round. */
    assert_int_equal(y.progress_each_time, 1);
    b.limit = 0; /* let it stop */
    ca_drain(&f);
    ca_close(&f);
}

typedef struct errs {
    int sleep_neg, sleep_forever;
    int plain_sleep;
    int stop_sleep;
    int n;
} errs;

static void errs_coro(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    errs *e = state;
    e->sleep_neg = ax_sleep(ctx, -5);
    e->sleep_forever = ax_sleep(ctx, AX_FOREVER);
    e->n++;
}

static void errs_plain(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    errs *e = state;
    e->plain_sleep = ax_sleep(ctx, AX_MSEC(1));
    e->n++;
}

static void errs_stop(void *state, ax_ctx *ctx, int reason)
{
    (void)reason;
    errs *e = state;
    e->stop_sleep = ax_sleep(ctx, AX_MSEC(1));
}

static void test_sleep_errors(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    errs e;
    memset(&e, 0, sizeof e);
    e.stop_sleep = 12345;
    ax_spawn_options so;
    memset(&so, 0, sizeof so);
    so.on_stop = errs_stop;
    ax_id a, p;
    tu_ok(ax_spawn_coro(f.sys, errs_coro, &e, &so, &a));
    tu_ok(ax_spawn(f.sys, errs_plain, &e, NULL, &p));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 1));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), p, 1));
    ca_drain(&f);
    assert_int_equal(e.n, 2);
    tu_assert_err(e.sleep_neg, AX_EINVAL);
    tu_assert_err(e.sleep_forever, AX_EINVAL);
    tu_assert_err(e.plain_sleep, AX_ENOTCORO);
    tu_assert_err(ax_sleep(NULL, 1), AX_ENOTCORO);
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, AX_MSG_POISON, NULL, 0));
    ca_drain(&f);
    /* on_stop is not a coroutine handler, even for a coroutine actor. */
    tu_assert_err(e.stop_sleep, AX_ENOTCORO);
    ca_close(&f);
}

/* ---- one handler at a time; the mailbox waits, in order --------------------------- */

#define ORD_MAX 512

typedef struct ordered {
    int busy, reentered;
    int n;
    ca_seq log[ORD_MAX];
    int returned;
} ordered;

static void ordered_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    ordered *o = state;
    if (o->busy)
        o->reentered++;
    o->busy = 1;
    ca_seq s;
    memcpy(&s, msg->data, sizeof s);
    if (o->n < ORD_MAX)
        o->log[o->n] = s;
    o->n++;
    /* Every handler waits a little; the first one long enough for the
     * test to send everything and step the loop meanwhile. */
    tu_ok(ax_sleep(ctx, o->n == 1 ? AX_MSEC(ca_ms(100)) : 0));
    o->busy = 0;
    o->returned++;
}

static void test_mail_waits_in_order(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    ordered o;
    memset(&o, 0, sizeof o);
    ax_id a;
    tu_ok(ax_spawn_coro(f.sys, ordered_receive, &o, NULL, &a));
    ca_seq first = {0, 0};
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_SEQ, &first, sizeof first));
    ca_until_ge(&f, &o.n, 1, 5000);
    assert_int_equal(o.returned, 0);
    /* While it sleeps: 4 senders, interleaved, 40 messages each. */
    ca_seq sent[ORD_MAX];
    int nsent = 0;
    sent[nsent++] = first;
    uint32_t seq[5] = {1, 0, 0, 0, 0};
    for (int round = 0; round < 40; round++)
        for (uint32_t st = 1; st <= 4; st++) {
            ca_seq s = {st, seq[st]++};
            ax_id from = {0, 1000 + st, 1};
            tu_ok(ax_system_send(f.sys, from, a, T_SEQ, &s, sizeof s));
            sent[nsent++] = s;
            if (round % 10 == 0)
                ca_step(&f); /* some turns in between: still nothing handled */
        }
    assert_int_equal(o.n, 1);
    ca_until_ge(&f, &o.returned, nsent, 10000);
    assert_int_equal(o.reentered, 0);
    assert_int_equal(o.n, nsent);
    for (int i = 0; i < nsent; i++)
        if (o.log[i].stream != sent[i].stream || o.log[i].seq != sent[i].seq)
            fail_msg("message %d: handled {%u,%u}, sent {%u,%u}", i, o.log[i].stream, o.log[i].seq,
                     sent[i].stream, sent[i].seq);
    assert_int_equal(ca_stacks(f.sys).live, 0);
    ca_close(&f);
}

/* ---- 100,000 actors asleep at once ---------------------------------------------------- */

typedef struct crowd {
    int entered, woke, errors, stops;
} crowd;

static void crowd_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    crowd *c = state;
    c->entered++;
    int rc = ax_sleep(ctx, AX_MSEC(50));
    if (rc == 0)
        c->woke++;
    else
        c->errors++;
    ax_stop(ctx);
}

static void crowd_stop(void *state, ax_ctx *ctx, int reason)
{
    (void)ctx;
    (void)reason;
    ((crowd *)state)->stops++;
}

static long read_max_map_count(void)
{
    long v = -1;
    FILE *fp = fopen("/proc/sys/vm/max_map_count", "r");
    if (fp) {
        if (fscanf(fp, "%ld", &v) != 1)
            v = -1;
        fclose(fp);
    }
    return v;
}

static int crowd_done(void *arg)
{
    crowd *c = arg;
    return c->stops >= c->entered && c->entered > 0;
}

static void test_100k_sleeping_at_once(void **state)
{
    (void)state;
    long n = CA_UNDER_VALGRIND() ? 2000 : 100000;
    const char *env = getenv("AXON_CORO_TEST_N");
    if (env && atol(env) > 0)
        n = atol(env);
    ax_system_options o;
    memset(&o, 0, sizeof o);
    /* One dispatch pass starts every handler, so they all go to sleep
     * before any timer can fire: all n are suspended at once. */
    o.turn_budget = (uint32_t)n + 16;
    ca f;
    ca_open(&f, &o);
    crowd c;
    memset(&c, 0, sizeof c);
    ax_spawn_options so;
    memset(&so, 0, sizeof so);
    so.on_stop = crowd_stop;
    /* A first actor creates the stack pool, which tells how guards are made. */
    ax_id first;
    tu_ok(ax_spawn_coro(f.sys, crowd_receive, &c, &so, &first));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), first, 0));
    ca_until(&f, crowd_done, &c, 5000);
    axi_stack_pool_stats st = ca_stacks(f.sys);
    long maps = read_max_map_count();
    if (!st.guard_lightweight && maps > 0 && n > (maps - 4000) / 2) {
        long cap = (maps - 4000) / 2;
        print_message("note: no MADV_GUARD_INSTALL here and vm.max_map_count=%ld: "
                      "running %ld actors instead of %ld\n",
                      maps, cap, n);
        n = cap;
    }
    memset(&c, 0, sizeof c);
    int64_t t0 = ca_now_ns();
    for (long i = 0; i < n; i++) {
        ax_id id;
        tu_ok(ax_spawn_coro(f.sys, crowd_receive, &c, &so, &id));
        tu_ok(ca_send_u64(f.sys, ax_id_nil(), id, (uint64_t)i));
    }
    ca_step(&f);
    int64_t t1 = ca_now_ns();
    assert_int_equal(c.entered, n);
    assert_int_equal(c.woke, 0);
    st = ca_stacks(f.sys);
    assert_int_equal(st.live, n);
    assert_int_equal(ax_actor_count(f.sys), n);
    ca_until(&f, crowd_done, &c, 60000);
    int64_t t2 = ca_now_ns();
    assert_int_equal(c.woke, n);
    assert_int_equal(c.errors, 0);
    assert_int_equal(c.stops, n);
    assert_int_equal(ax_actor_count(f.sys), 0);
    st = ca_stacks(f.sys);
    assert_int_equal(st.live, 0);
    assert_true(st.cached <= 1024);
    print_message("%ld coroutine actors: spawn+start %.3f s, wake+end %.3f s\n", n,
                  (double)(t1 - t0) / 1e9, (double)(t2 - t1) / 1e9);
    ca_close(&f);
}

/* ---- behaviours: async and sync handlers in one table, ax_become ------------------ */

typedef struct bhv_state {
    char log[64][16];
    int n;
    int busy, reentered;
    int sync_sleep, unknown_sleep, unknown_ask;
    int async_in_coro, sync_in_coro;
    int become_rc;
    ax_behavior *next;
    int become_before_sleep;
    int stops, reason, rc;
} bhv_state;

static void bhv_log(bhv_state *b, const char *what, uint64_t v)
{
    if (b->n < 64)
        snprintf(b->log[b->n], sizeof b->log[0], "%s%llu", what, (unsigned long long)v);
    b->n++;
}

static void bhv_async_u64(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    bhv_state *b = state;
    if (b->busy)
        b->reentered++;
    b->busy = 1;
    b->async_in_coro += axi_coro_current() != NULL;
    if (b->next && b->become_before_sleep)
        b->become_rc = ax_become(ctx, b->next);
    b->rc = ax_sleep(ctx, AX_MSEC(5));
    if (b->next && !b->become_before_sleep)
        b->become_rc = ax_become(ctx, b->next);
    bhv_log(b, "a", ca_u64(msg));
    b->busy = 0;
}

static void bhv_sync_empty(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    bhv_state *b = state;
    if (b->busy)
        b->reentered++;
    b->sync_in_coro += axi_coro_current() != NULL;
    b->sync_sleep = ax_sleep(ctx, AX_MSEC(1));
    bhv_log(b, "s", 0);
}

static void bhv_unknown(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    bhv_state *b = state;
    if (b->busy)
        b->reentered++;
    const ax_msg *reply = NULL;
    uint64_t v = 1;
    b->unknown_sleep = ax_sleep(ctx, AX_MSEC(1));
    b->unknown_ask = ax_ask(ctx, ax_self(ctx), T_U64, &v, sizeof v, &reply, AX_MSEC(1));
    bhv_log(b, "u", msg->type);
}

static void bhv_second_u64(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)ctx;
    bhv_state *b = state;
    if (b->busy)
        b->reentered++;
    b->sync_in_coro += axi_coro_current() != NULL;
    bhv_log(b, "b", ca_u64(msg));
}

static void bhv_stop(void *state, ax_ctx *ctx, int reason)
{
    (void)ctx;
    bhv_state *b = state;
    b->stops++;
    b->reason = reason;
}

static void test_behavior_async_and_sync_mix(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    ax_handler hs[] = {{T_U64, bhv_async_u64, AX_HANDLER_ASYNC},
                       {T_EMPTY, bhv_sync_empty, AX_HANDLER_SYNC}};
    ax_behavior *b;
    tu_ok(ax_behavior_new(f.sys, hs, 2, bhv_unknown, &b));
    ax_handler bad[] = {{T_U64, bhv_async_u64, 2}};
    ax_behavior *nb;
    tu_assert_err(ax_behavior_new(f.sys, bad, 1, bhv_unknown, &nb), AX_EINVAL);
    bhv_state st;
    memset(&st, 0, sizeof st);
    st.unknown_ask = 12345;
    ax_spawn_options so;
    memset(&so, 0, sizeof so);
    so.on_stop = bhv_stop;
    ax_id a;
    tu_ok(ax_spawn_behavior(f.sys, b, &st, &so, &a));
    ca_seq sq = {1, 1};
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 1));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_EMPTY, NULL, 0));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 2));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_SEQ, &sq, sizeof sq));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_EMPTY, NULL, 0));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 3));
    ca_drain(&f);
    assert_int_equal(st.n, 6);
    const char *want[] = {"a1", "s0", "a2", "u102", "s0", "a3"};
    for (int i = 0; i < 6; i++)
        assert_string_equal(st.log[i], want[i]);
    assert_int_equal(st.reentered, 0);
    assert_int_equal(st.async_in_coro, 3);
    assert_int_equal(st.sync_in_coro, 0);
    tu_ok(st.rc);
    tu_assert_err(st.sync_sleep, AX_ENOTCORO);
    tu_assert_err(st.unknown_sleep, AX_ENOTCORO);
    tu_assert_err(st.unknown_ask, AX_ENOTCORO);
    assert_int_equal(ca_stacks(f.sys).live, 0);
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, AX_MSG_POISON, NULL, 0));
    ca_drain(&f);
    assert_int_equal(st.stops, 1);
    assert_int_equal(st.reason, AX_REASON_POISON);
    assert_int_equal(f.dl.n, 0);
    ca_close(&f);
}

static void check_become(int before_sleep)
{
    ca f;
    ca_open(&f, NULL);
    ax_handler h1[] = {{T_U64, bhv_async_u64, AX_HANDLER_ASYNC}};
    ax_handler h2[] = {{T_U64, bhv_second_u64, AX_HANDLER_SYNC}};
    ax_behavior *b1, *b2;
    tu_ok(ax_behavior_new(f.sys, h1, 1, bhv_unknown, &b1));
    tu_ok(ax_behavior_new(f.sys, h2, 1, bhv_unknown, &b2));
    bhv_state st;
    memset(&st, 0, sizeof st);
    st.next = b2;
    st.become_before_sleep = before_sleep;
    st.become_rc = 12345;
    ax_id a;
    tu_ok(ax_spawn_behavior(f.sys, b1, &st, NULL, &a));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 1));
    ca_until_ge(&f, &st.async_in_coro, 1, 5000);
    /* These arrive while the async handler sleeps. */
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 2));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 3));
    ca_drain(&f);
    tu_ok(st.become_rc);
    assert_int_equal(st.n, 3);
    /* The handler that called ax_become finished as it was; the next
     * message already met the new behaviour. */
    assert_string_equal(st.log[0], "a1");
    assert_string_equal(st.log[1], "b2");
    assert_string_equal(st.log[2], "b3");
    assert_int_equal(st.reentered, 0);
    assert_int_equal(st.async_in_coro, 1);
    ca_close(&f);
}

static void test_behavior_become_from_async_handler(void **state)
{
    (void)state;
    check_become(0);
    check_become(1);
}

typedef struct become_coro {
    int rc;
    ax_behavior *b;
} become_coro;

static void become_coro_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    become_coro *bc = state;
    bc->rc = ax_become(ctx, bc->b);
}

static void test_become_in_coroutine_actor(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    ax_handler h[] = {{T_U64, bhv_second_u64, AX_HANDLER_SYNC}};
    become_coro bc = {12345, NULL};
    tu_ok(ax_behavior_new(f.sys, h, 1, bhv_unknown, &bc.b));
    ax_id a;
    tu_ok(ax_spawn_coro(f.sys, become_coro_receive, &bc, NULL, &a));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 1));
    ca_drain(&f);
    /* A coroutine actor has a receive function, not a behaviour. */
    tu_assert_err(bc.rc, AX_ENOTSUP);
    ca_close(&f);
}

/* Poison while an async behaviour handler sleeps. */
static void test_behavior_async_poisoned_while_sleeping(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    ax_handler h[] = {{T_U64, bhv_async_u64, AX_HANDLER_ASYNC}};
    ax_behavior *b;
    tu_ok(ax_behavior_new(f.sys, h, 1, bhv_unknown, &b));
    bhv_state st;
    memset(&st, 0, sizeof st);
    ax_spawn_options so;
    memset(&so, 0, sizeof so);
    so.on_stop = bhv_stop;
    ax_id a;
    tu_ok(ax_spawn_behavior(f.sys, b, &st, &so, &a));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 1));
    ca_until_ge(&f, &st.async_in_coro, 1, 5000);
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, AX_MSG_POISON, NULL, 0));
    ca_until_ge(&f, &st.stops, 1, 5000);
    tu_assert_err(st.rc, AX_ECANCELED);
    assert_int_equal(st.n, 1); /* the handler ran on to its end */
    assert_int_equal(st.reason, AX_REASON_POISON);
    assert_int_equal(ca_stacks(f.sys).live, 0);
    assert_int_equal(ax_timer_count(f.loop), 0);
    ca_close(&f);
}

/* ---- cancellation: poison pill or shutdown while a handler waits --------------------- */

enum { W_SLEEP, W_ASK, W_READ, W_WRITE, W_ACCEPT, W_NKINDS };
static const char *const wait_names[] = {"sleep", "ask", "read", "write", "accept"};

#define BIG_WRITE (8u << 20)
static char big_buf[BIG_WRITE];

typedef struct waiter {
    int kind;
    int fd;     /* I/O kinds: the handler owns it and closes it in cleanup */
    ax_id peer; /* W_ASK: who is asked (never answers) */
    ax_system *sys;
    int entered, cleanup, stops, reason;
    long rc;
    int again; /* a second wait after the cancel */
    const ax_msg *reply;
    void *res; /* allocated in the handler, freed by its cleanup */
    size_t live_at_stop;
    int rc_seen_at_stop;
} waiter;

static void waiter_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    waiter *w = state;
    w->entered++;
    w->res = malloc(1000);
    char buf[256];
    uint64_t v = 7;
    switch (w->kind) {
    case W_SLEEP:
        w->rc = ax_sleep(ctx, AX_SEC(30));
        break;
    case W_ASK:
        w->rc = ax_ask(ctx, w->peer, T_U64, &v, sizeof v, &w->reply, AX_SEC(30));
        break;
    case W_READ:
        w->rc = ax_read(ctx, w->fd, buf, sizeof buf, AX_SEC(30));
        break;
    case W_WRITE:
        w->rc = ax_write(ctx, w->fd, big_buf, sizeof big_buf, AX_SEC(30));
        break;
    case W_ACCEPT:
        w->rc = ax_accept(ctx, w->fd, AX_SEC(30));
        break;
    }
    /* Once cancelled, every later wait fails at once too. */
    w->again = ax_sleep(ctx, AX_SEC(30));
    free(w->res);
    w->res = NULL;
    if (w->fd >= 0)
        close(w->fd);
    w->cleanup++;
}

static void waiter_stop(void *state, ax_ctx *ctx, int reason)
{
    (void)ctx;
    waiter *w = state;
    w->stops++;
    w->reason = reason;
    /* The handler has returned and given its stack back by now. */
    w->live_at_stop = ca_stacks(w->sys).live;
    w->rc_seen_at_stop = w->cleanup;
}

/* A plain actor that keeps the reply addresses it is asked from and never
 * answers (until told to with T_EMPTY; the answers then meet stale ids). */
typedef struct sink {
    ax_id from[64];
    int n;
    int late_rc[64];
    int late_n;
    int stops;
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
}

/* Set up the waiter's resource for `kind`; *peer_fd receives the other end
 * (or -1). */
static void waiter_prepare(ca *f, waiter *w, int kind, sink *sk, int *peer_fd)
{
    memset(w, 0, sizeof *w);
    w->kind = kind;
    w->fd = -1;
    w->rc = 12345;
    w->sys = f->sys;
    *peer_fd = -1;
    int sv[2];
    switch (kind) {
    case W_ASK: {
        tu_ok(ax_spawn(f->sys, sink_receive, sk, NULL, &w->peer));
        break;
    }
    case W_READ:
    case W_WRITE:
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        w->fd = sv[0];
        *peer_fd = sv[1];
        break;
    case W_ACCEPT: {
        int l = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(l >= 0);
        struct sockaddr_in sa;
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof sa), 0);
        assert_int_equal(listen(l, 8), 0);
        w->fd = l;
        break;
    }
    default:
        break;
    }
}

static ax_id spawn_waiter(ca *f, waiter *w)
{
    ax_spawn_options so;
    memset(&so, 0, sizeof so);
    so.on_stop = waiter_stop;
    ax_id a;
    tu_ok(ax_spawn_coro(f->sys, waiter_receive, w, &so, &a));
    tu_ok(ca_send_u64(f->sys, ax_id_nil(), a, 1));
    ca_until_ge(f, &w->entered, 1, 5000);
    /* Give a write a few turns to fill the socket buffer and wait. */
    for (int i = 0; i < 3; i++)
        ca_step(f);
    if (w->rc != 12345)
        fail_msg("%s: the handler did not wait (returned %s)", wait_names[w->kind],
                 ax_errname((int)w->rc));
    return a;
}

/* The handler saw AX_ECANCELED, its cleanup ran, its stack went back to
 * the pool, and its fd watcher and timers are gone. */
static void check_unwound(ca *f, waiter *w, int reason)
{
    const char *k = wait_names[w->kind];
    if (w->rc != AX_ECANCELED)
        fail_msg("%s: the wait returned %s, want AX_ECANCELED", k, ax_errname((int)w->rc));
    if (w->again != AX_ECANCELED)
        fail_msg("%s: a wait after the cancel returned %s, want AX_ECANCELED", k,
                 ax_errname(w->again));
    if (w->cleanup != 1)
        fail_msg("%s: cleanup ran %d times", k, w->cleanup);
    if (w->stops != 1 || w->reason != reason)
        fail_msg("%s: on_stop ran %d times, reason %d (want 1, %d)", k, w->stops, w->reason,
                 reason);
    if (w->rc_seen_at_stop != 1)
        fail_msg("%s: on_stop ran before the handler's cleanup", k);
    if (w->live_at_stop != 0)
        fail_msg("%s: %zu coroutine stacks still live in on_stop", k, w->live_at_stop);
    assert_null(w->res);
    if (w->fd >= 0 && ca_fd_open(w->fd))
        fail_msg("%s: the handler's descriptor was not closed", k);
    if (f->sys && !f->sys->closed) {
        if (ca_stacks(f->sys).live != 0)
            fail_msg("%s: stack not returned", k);
    }
}

static void poison_while(int kind)
{
    ca f;
    ca_open(&f, NULL);
    sink sk;
    memset(&sk, 0, sizeof sk);
    waiter w;
    int peer;
    waiter_prepare(&f, &w, kind, &sk, &peer);
    ax_id a = spawn_waiter(&f, &w);
    /* A watcher sees it end; a message sent meanwhile is never handled. */
    ax_id watcher;
    int downs = 0;
    tu_ok(ax_spawn(f.sys, counter_receive, &downs, NULL, &watcher));
    tu_ok(ax_system_monitor(f.sys, watcher, a));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 2));
    int64_t t0 = ca_now_ns();
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, AX_MSG_POISON, NULL, 0));
    ca_until_ge(&f, &w.stops, 1, 5000);
    assert_true(ca_now_ns() - t0 < AX_SEC(20)); /* not at the 30 s timeout */
    check_unwound(&f, &w, AX_REASON_POISON);
    assert_int_equal(w.entered, 1);
    ca_until_ge(&f, &downs, 1, 5000);
    /* The message queued behind the wait is a dead letter. */
    if (f.dl.by_reason[-AX_ESTALE] != 1 || f.dl.v[0].type != T_U64)
        ca_dl_dump(&f.dl, "want one dead letter: the T_U64 queued while it waited");
    ca_assert_id_eq(f.dl.v[0].to, a);
    assert_int_equal(ax_timer_count(f.loop), 0);
    if (kind == W_ASK) {
        /* The asked actor answers later: a dead letter, nothing else. */
        assert_int_equal(sk.n, 1);
        uint64_t dl0 = f.dl.n;
        tu_ok(ax_system_send(f.sys, ax_id_nil(), w.peer, T_EMPTY, NULL, 0));
        ca_drain(&f);
        tu_assert_err(sk.late_rc[0], AX_ESTALE);
        assert_int_equal(f.dl.n, dl0 + 1);
        tu_ok(ax_system_send(f.sys, ax_id_nil(), w.peer, AX_MSG_POISON, NULL, 0));
    }
    tu_ok(ax_system_send(f.sys, ax_id_nil(), watcher, AX_MSG_POISON, NULL, 0));
    ca_drain(&f); /* idle: no watcher, no timer left behind */
    assert_int_equal(ax_actor_count(f.sys), 0);
    if (peer >= 0)
        close(peer);
    ca_close(&f);
}

static void test_poison_while_sleeping(void **state)
{
    (void)state;
    poison_while(W_SLEEP);
}

static void test_poison_while_asking(void **state)
{
    (void)state;
    poison_while(W_ASK);
}

static void test_poison_while_reading(void **state)
{
    (void)state;
    poison_while(W_READ);
}

static void test_poison_while_writing(void **state)
{
    (void)state;
    poison_while(W_WRITE);
}

static void test_poison_while_accepting(void **state)
{
    (void)state;
    poison_while(W_ACCEPT);
}

/* A poison pill that arrives through ax_system_post() (the cross-thread
 * entry) cancels the wait too. */
static void test_poison_posted_while_sleeping(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    sink sk;
    waiter w;
    int peer;
    waiter_prepare(&f, &w, W_SLEEP, &sk, &peer);
    ax_id a = spawn_waiter(&f, &w);
    tu_ok(ax_system_post(f.sys, ax_id_nil(), a, AX_MSG_POISON, NULL, 0));
    ca_until_ge(&f, &w.stops, 1, 5000);
    check_unwound(&f, &w, AX_REASON_POISON);
    ca_drain(&f);
    ca_close(&f);
}

/* Shutdown with one actor waiting in each kind of wait.  `free_directly`:
 * ax_system_free() at once (checks made in on_stop), else
 * ax_system_shutdown() first and the pool inspected before the free. */
static void shutdown_while_waiting(int free_directly)
{
    ca f;
    ca_open(&f, NULL);
    sink sk;
    memset(&sk, 0, sizeof sk);
    waiter w[W_NKINDS];
    int peer[W_NKINDS];
    int downs = 0;
    ax_id watcher;
    tu_ok(ax_spawn(f.sys, counter_receive, &downs, NULL, &watcher));
    for (int k = 0; k < W_NKINDS; k++) {
        waiter_prepare(&f, &w[k], k, &sk, &peer[k]);
        ax_id a = spawn_waiter(&f, &w[k]);
        tu_ok(ax_system_monitor(f.sys, watcher, a));
    }
    assert_int_equal(ca_stacks(f.sys).live, W_NKINDS);
    if (!free_directly) {
        ax_system_shutdown(f.sys);
        assert_int_equal(ca_stacks(f.sys).live, 0);
        assert_int_equal(ax_actor_count(f.sys), 0);
        assert_int_equal(ax_timer_count(f.loop), 0);
    }
    ca_close(&f); /* asserts ax_loop_free found no watcher left */
    for (int k = 0; k < W_NKINDS; k++) {
        check_unwound(&f, &w[k], AX_REASON_SHUTDOWN);
        if (peer[k] >= 0)
            close(peer[k]);
    }
    assert_int_equal(downs, 0); /* monitors are not notified at shutdown */
}

static void test_shutdown_while_waiting(void **state)
{
    (void)state;
    shutdown_while_waiting(0);
}

static void test_system_free_while_waiting(void **state)
{
    (void)state;
    shutdown_while_waiting(1);
}

/* ax_stop() and then a wait: ax_stop ends the actor "once this handler
 * returns", so the wait must run normally and the actor end afterwards -
 * not while its handler is still suspended on its stack. */
typedef struct stop_wait {
    int rc, after, stops, reason, after_at_stop;
} stop_wait;

static void stop_wait_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    stop_wait *s = state;
    ax_stop(ctx);
    s->rc = ax_sleep(ctx, AX_MSEC(10));
    s->after = 1;
}

static void stop_wait_stop(void *state, ax_ctx *ctx, int reason)
{
    (void)ctx;
    stop_wait *s = state;
    s->stops++;
    s->reason = reason;
    s->after_at_stop = s->after;
}

static void test_stop_then_wait(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    stop_wait s = {12345, 0, 0, -1, -1};
    ax_spawn_options so;
    memset(&so, 0, sizeof so);
    so.on_stop = stop_wait_stop;
    ax_id a;
    tu_ok(ax_spawn_coro(f.sys, stop_wait_receive, &s, &so, &a));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 1));
    ca_step(&f);
    if (s.stops)
        fail_msg("the actor ended while its handler was suspended in ax_sleep "
                 "(on_stop ran, handler not finished: after=%d)",
                 s.after_at_stop);
    ca_until_ge(&f, &s.stops, 1, 5000);
    tu_ok(s.rc);
    assert_int_equal(s.after, 1);
    assert_int_equal(s.after_at_stop, 1);
    assert_int_equal(s.reason, AX_REASON_NORMAL);
    assert_int_equal(ca_stacks(f.sys).live, 0);
    ca_close(&f);
}

/* ax_system_shutdown() from a handler that was resumed: "the shutdown then
 * happens when the handler returns" - no other handler runs after it. */
typedef struct sd_coro {
    int resumed;
    ax_system *sys;
} sd_coro;

static void sd_coro_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    sd_coro *s = state;
    tu_ok(ax_sleep(ctx, AX_MSEC(5)));
    s->resumed++;
    ax_system_shutdown(ax_ctx_system(ctx));
}

static void test_shutdown_from_resumed_handler(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    sd_coro s = {0, f.sys};
    int other = 0;
    ax_id a, b;
    tu_ok(ax_spawn_coro(f.sys, sd_coro_receive, &s, NULL, &a));
    tu_ok(ax_spawn(f.sys, counter_receive, &other, NULL, &b));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 1));
    ca_step(&f); /* a sleeps */
    ca_sleep_ms(20);
    /* In the next turn a's timer fires first, then the dispatch pass
     * resumes a (which shuts the system down) before b's turn. */
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), b, 1));
    ca_step(&f);
    assert_int_equal(s.resumed, 1);
    assert_true(f.sys->closed);
    if (other != 0)
        fail_msg("a handler ran after ax_system_shutdown() was called from a resumed "
                 "coroutine handler");
    assert_int_equal(f.dl.by_reason[-AX_ECLOSED], 1);
    ca_close(&f);
}

/* ax_system_free() from a handler that shutdown is unwinding: documented
 * as AX_EBUSY "called from inside one of its handlers". */
typedef struct free_inside {
    int rc_wait, rc_free;
} free_inside;

static void free_inside_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    free_inside *s = state;
    s->rc_wait = ax_sleep(ctx, AX_SEC(30));
    s->rc_free = ax_system_free(ax_ctx_system(ctx));
}

static void test_system_free_from_unwinding_handler(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    free_inside s = {12345, 12345};
    ax_id a;
    tu_ok(ax_spawn_coro(f.sys, free_inside_receive, &s, NULL, &a));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 1));
    ca_step(&f);
    ca_close(&f);
    tu_assert_err(s.rc_wait, AX_ECANCELED);
    tu_assert_err(s.rc_free, AX_EBUSY);
}

/* ---- stack overflow: a death test ------------------------------------------------------ */

static volatile int stop_recursion; /* never set: keeps the compiler honest */

static long recurse(long n)
{
    volatile char buf[512];
    buf[0] = (char)n;
    if (stop_recursion)
        return 0;
    return recurse(n + 1) + buf[0]; /* not a tail call */
}

static void overflow_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    (void)ctx;
    (void)msg;
    recurse(0);
}

static void child_overflow(void)
{
    ax_loop *loop;
    ax_system *sys;
    if (ax_loop_new(NULL, &loop) || ax_system_new(loop, NULL, &sys))
        _exit(2);
    ax_msg_register_pod(sys, T_U64, "u64", 8, 8);
    ax_spawn_options so;
    memset(&so, 0, sizeof so);
    so.stack_size = 16 * 1024;
    ax_id id[3];
    /* Not the first slot, so the label is really this actor's. */
    for (int i = 0; i < 3; i++)
        if (ax_spawn_coro(sys, overflow_receive, NULL, &so, &id[i]))
            _exit(3);
    ax_system_send(sys, ax_id_nil(), id[0], AX_MSG_POISON, NULL, 0);
    ax_loop_step(loop, 0);
    fprintf(stderr, "child: label actor<%u.%u.%u>\n", id[2].node, id[2].index, id[2].cookie);
    fflush(stderr);
    uint64_t v = 1;
    ax_system_send(sys, ax_id_nil(), id[2], T_U64, &v, sizeof v);
    ax_loop_step(loop, 0);
    _exit(4); /* not reached: the handler overflowed */
}

static void test_stack_overflow_reports_actor(void **state)
{
    (void)state;
    if (CA_UNDER_VALGRIND() || CA_UNDER_ASAN) {
        print_message("skipped: guard-page faults and alternate signal stacks are the "
                      "tool's own under ASan/Valgrind\n");
        skip();
    }
    ca_child c;
    ca_run_child("overflow", &c);
    if (!WIFSIGNALED(c.status) || WTERMSIG(c.status) != SIGABRT)
        fail_msg("child: want death by SIGABRT, got status %#x; stderr:\n%s", c.status, c.err);
    const char *l = strstr(c.err, "child: label ");
    assert_non_null(l);
    char label[64];
    assert_int_equal(sscanf(l, "child: label %63s", label), 1);
    char want[96];
    snprintf(want, sizeof want, "stack overflow in coroutine \"%s\"", label);
    if (!strstr(c.err, want))
        fail_msg("no report \"%s\"; stderr:\n%s", want, c.err);
}

static const ca_scenario children[] = {
    {"overflow", child_overflow},
};

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spawn_coro_args),
        cmocka_unit_test(test_spawn_coro_stack_too_big),
        cmocka_unit_test(test_handler_runs_on_own_stack),
        cmocka_unit_test(test_sleep_suspends_only_the_actor),
        cmocka_unit_test(test_sleep_never_early),
        cmocka_unit_test(test_sleep_zero_lets_others_run),
        cmocka_unit_test(test_sleep_errors),
        cmocka_unit_test(test_mail_waits_in_order),
        cmocka_unit_test(test_100k_sleeping_at_once),
        cmocka_unit_test(test_behavior_async_and_sync_mix),
        cmocka_unit_test(test_behavior_become_from_async_handler),
        cmocka_unit_test(test_become_in_coroutine_actor),
        cmocka_unit_test(test_behavior_async_poisoned_while_sleeping),
        cmocka_unit_test(test_poison_while_sleeping),
        cmocka_unit_test(test_poison_while_asking),
        cmocka_unit_test(test_poison_while_reading),
        cmocka_unit_test(test_poison_while_writing),
        cmocka_unit_test(test_poison_while_accepting),
        cmocka_unit_test(test_poison_posted_while_sleeping),
        cmocka_unit_test(test_shutdown_while_waiting),
        cmocka_unit_test(test_system_free_while_waiting),
        cmocka_unit_test(test_stop_then_wait),
        cmocka_unit_test(test_shutdown_from_resumed_handler),
        cmocka_unit_test(test_system_free_from_unwinding_handler),
        cmocka_unit_test(test_stack_overflow_reports_actor),
    };
    return ca_main(argc, argv, tests, sizeof tests / sizeof tests[0], children,
                   sizeof children / sizeof children[0], 60);
}
