/* coro_actor_test.c - coroutine actors (src/actor/coro_actor.c): spawning,
 * handlers on their own stack, ax_sleep, one handler at a time with the
 * mailbox waiting in order, and 100,000 actors asleep at once.  Async
 * behaviour handlers and ax_become are in coro_behavior_test.c,
 * cancellation, shutdown, ax_stop and stack overflow in coro_stop_test.c. */
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
    };
    return ca_main(argc, argv, tests, sizeof tests / sizeof tests[0], NULL, 0, 60);
}
