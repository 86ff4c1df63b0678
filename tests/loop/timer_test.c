/* timer_test.c - timers: ordering, repeat, stop (before, from its own and
 * from another callback), stale handles, the "not in the same pass" rule,
 * "never early", ax_timer_count, allocation failure, and 100,000 timers
 * started and stopped in random order with the heap checked directly.
 * Runs once per backend (argv[1]); see looptest.h. */
#include <stdlib.h>

#include "looptest.h"
#include "loop/loop_int.h" /* heap invariant check only */

static void no_timer(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    (void)arg;
    fail_msg("this timer must never fire");
}

/* Records which timers fired, in order. */
typedef struct order_log {
    int ids[512];
    int n;
} order_log;

typedef struct order_arg {
    order_log *log;
    int id;
} order_arg;

static void order_timer(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    order_arg *a = arg;
    assert_true(a->log->n < 512);
    a->log->ids[a->log->n++] = a->id;
}

/* The heap property (parent <= child by (deadline, seq)) and the slot ->
 * heap position back-links, checked on the private structure: the public
 * API can only observe the firing order. */
static void heap_check(const ax_loop *loop)
{
    const axi_timers *t = &loop->timers;
    for (uint32_t i = 0; i < t->len; i++) {
        const axi_heap_ent *e = &t->heap[i];
        if (t->slots[e->slot].heap_pos != i)
            fail_msg("heap[%u] -> slot %u -> heap_pos %u", i, e->slot, t->slots[e->slot].heap_pos);
        if (!(t->slots[e->slot].cookie & 1))
            fail_msg("heap[%u] holds free slot %u", i, e->slot);
        if (i == 0)
            continue;
        const axi_heap_ent *p = &t->heap[(i - 1) / 2];
        if (p->deadline > e->deadline || (p->deadline == e->deadline && p->seq > e->seq))
            fail_msg("heap order broken at %u: parent (%lld,%llu) child (%lld,%llu)", i,
                     (long long)p->deadline, (unsigned long long)p->seq, (long long)e->deadline,
                     (unsigned long long)e->seq);
    }
}

/* ---- order ----------------------------------------------------------- */

static void test_fire_order_by_deadline(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    static const int delay_ms[] = {25, 5, 20, 0, 15, 10};
    order_log log = {{0}, 0};
    order_arg args[6];
    for (int i = 0; i < 6; i++) {
        args[i] = (order_arg){&log, i};
        tu_ok(ax_timer_start(loop, AX_MSEC(delay_ms[i]), 0, order_timer, &args[i], NULL));
    }
    tu_ok(ax_loop_run(loop));
    static const int want[] = {3, 1, 5, 4, 2, 0};
    assert_int_equal(log.n, 6);
    for (int i = 0; i < 6; i++)
        assert_int_equal(log.ids[i], want[i]);
    lt_loop_free(loop, &ta);
}

/* Timers started outside a turn share one ax_loop_now(), so equal delays
 * mean equal deadlines: they fire in start order. */
static void test_equal_deadlines_fifo(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    order_log log = {{0}, 0};
    static order_arg args[400];
    /* Two interleaved groups: delay 1 ms (even ids) and delay 0 (odd). */
    for (int i = 0; i < 400; i++) {
        args[i] = (order_arg){&log, i};
        tu_ok(ax_timer_start(loop, (i & 1) ? 0 : AX_MSEC(1), 0, order_timer, &args[i], NULL));
    }
    tu_ok(ax_loop_run(loop));
    assert_int_equal(log.n, 400);
    for (int k = 0; k < 200; k++) {
        assert_int_equal(log.ids[k], 2 * k + 1);   /* the delay-0 group first */
        assert_int_equal(log.ids[200 + k], 2 * k); /* then the 1 ms group */
    }
    lt_loop_free(loop, &ta);
}

/* ---- repeat ---------------------------------------------------------- */

typedef struct rep_ctx {
    ax_timer handle;
    int fired, stop_at, stop_rc;
    int64_t last_now;
    ax_duration repeat;
} rep_ctx;

static void rep_timer(ax_loop *loop, ax_timer t, void *arg)
{
    rep_ctx *c = arg;
    /* The callback gets the same handle ax_timer_start returned. */
    assert_int_equal(t.index, c->handle.index);
    assert_int_equal(t.cookie, c->handle.cookie);
    int64_t now = ax_loop_now(loop);
    if (c->fired > 0)
        assert_true(now >= c->last_now + c->repeat); /* each period, never early */
    c->last_now = now;
    if (++c->fired == c->stop_at)
        c->stop_rc = ax_timer_stop(loop, t); /* a repeat timer stops itself */
}

static void test_repeat(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    rep_ctx c = {{0, 0}, 0, 5, -100, 0, AX_MSEC(2)};
    tu_ok(ax_timer_start(loop, AX_MSEC(1), c.repeat, rep_timer, &c, &c.handle));
    tu_ok(ax_loop_run(loop)); /* returns only because the timer stopped itself */
    assert_int_equal(c.fired, 5);
    tu_ok(c.stop_rc);
    assert_int_equal(ax_timer_count(loop), 0);
    tu_assert_err(ax_timer_stop(loop, c.handle), AX_ENOENT);

    /* delay 0 + repeat: fires in the first turn, then every period. */
    rep_ctx d = {{0, 0}, 0, 3, -100, 0, AX_MSEC(1)};
    tu_ok(ax_timer_start(loop, 0, d.repeat, rep_timer, &d, &d.handle));
    tu_assert_err(ax_loop_step(loop, 0), 1);
    assert_int_equal(d.fired, 1);
    tu_ok(ax_loop_run(loop));
    assert_int_equal(d.fired, 3);
    tu_ok(d.stop_rc);
    lt_loop_free(loop, &ta);
}

/* A due repeat timer is re-armed relative to the pass, so it fires at most
 * once per pass even with a 1 ns period: a pass always ends. */
static void test_repeat_once_per_pass(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int fired = 0;
    ax_timer t;
    tu_ok(ax_timer_start(loop, 0, 1, lt_count_timer, &fired, &t));
    for (int i = 1; i <= 10; i++) {
        tu_assert_err(ax_loop_step(loop, 0), 1);
        assert_true(fired <= i);
    }
    assert_true(fired >= 1);
    tu_ok(ax_timer_stop(loop, t));
    lt_loop_free(loop, &ta);
}

/* ---- stop ------------------------------------------------------------ */

static void test_stop_before_fire(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    ax_timer t, r;
    tu_ok(ax_timer_start(loop, 0, 0, no_timer, NULL, &t));
    tu_ok(ax_timer_start(loop, AX_MSEC(1), AX_MSEC(1), no_timer, NULL, &r));
    assert_int_equal(ax_timer_count(loop), 2);
    tu_ok(ax_timer_stop(loop, t));
    tu_ok(ax_timer_stop(loop, r));
    tu_assert_err(ax_timer_stop(loop, t), AX_ENOENT);
    assert_int_equal(ax_timer_count(loop), 0);
    /* Give them every chance to fire anyway. */
    lt_sleep_ns(AX_MSEC(3));
    tu_assert_err(ax_loop_step(loop, 0), 0);
    tu_ok(ax_loop_run(loop));
    lt_loop_free(loop, &ta);
}

typedef struct self_ctx {
    ax_timer handle;
    int fired, stop_rc;
} self_ctx;

static void self_stop_timer(ax_loop *loop, ax_timer t, void *arg)
{
    self_ctx *c = arg;
    c->fired++;
    c->stop_rc = ax_timer_stop(loop, t);
}

static void test_stop_from_own_callback(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    /* One-shot: once its callback runs it has fired, so its handle is
     * already stale (loop.h) and stopping it reports AX_ENOENT. */
    self_ctx one = {{0, 0}, 0, -100};
    tu_ok(ax_timer_start(loop, 0, 0, self_stop_timer, &one, &one.handle));
    /* Repeat: stopping itself succeeds and it never fires again. */
    self_ctx rep = {{0, 0}, 0, -100};
    tu_ok(ax_timer_start(loop, 0, AX_MSEC(1), self_stop_timer, &rep, &rep.handle));
    tu_ok(ax_loop_run(loop));
    assert_int_equal(one.fired, 1);
    tu_assert_err(one.stop_rc, AX_ENOENT);
    assert_int_equal(rep.fired, 1);
    tu_ok(rep.stop_rc);
    assert_int_equal(ax_timer_count(loop), 0);
    tu_assert_err(ax_timer_stop(loop, rep.handle), AX_ENOENT);
    lt_loop_free(loop, &ta);
}

typedef struct other_ctx {
    ax_timer victims[3];
    int rc[3];
    int fired;
} other_ctx;

static void stop_others_timer(ax_loop *loop, ax_timer t, void *arg)
{
    (void)t;
    other_ctx *c = arg;
    c->fired++;
    for (int i = 0; i < 3; i++)
        c->rc[i] = ax_timer_stop(loop, c->victims[i]);
}

/* A callback stops timers that are due in the same pass (one-shot and
 * repeat) and one due later: none of them runs. */
static void test_stop_other_from_callback(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    other_ctx c = {{{0, 0}}, {-100, -100, -100}, 0};
    int survivor = 0;
    tu_ok(ax_timer_start(loop, 0, 0, stop_others_timer, &c, NULL));
    tu_ok(ax_timer_start(loop, 0, 0, no_timer, NULL, &c.victims[0]));
    tu_ok(ax_timer_start(loop, 0, AX_MSEC(1), no_timer, NULL, &c.victims[1]));
    tu_ok(ax_timer_start(loop, 0, 0, lt_count_timer, &survivor, NULL));
    tu_ok(ax_timer_start(loop, AX_SEC(10), 0, no_timer, NULL, &c.victims[2]));
    tu_ok(ax_loop_run(loop));
    assert_int_equal(c.fired, 1);
    for (int i = 0; i < 3; i++)
        tu_ok(c.rc[i]);
    assert_int_equal(survivor, 1); /* the pass went on past the stopped ones */
    assert_int_equal(ax_timer_count(loop), 0);
    lt_loop_free(loop, &ta);
}

static void test_stale_handles(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int fired = 0;
    ax_timer fired_h, stopped_h, reused_h;
    tu_ok(ax_timer_start(loop, 0, 0, lt_count_timer, &fired, &fired_h));
    tu_ok(ax_loop_run(loop));
    assert_int_equal(fired, 1);
    tu_assert_err(ax_timer_stop(loop, fired_h), AX_ENOENT);

    tu_ok(ax_timer_start(loop, AX_SEC(10), 0, no_timer, NULL, &stopped_h));
    tu_ok(ax_timer_stop(loop, stopped_h));
    tu_assert_err(ax_timer_stop(loop, stopped_h), AX_ENOENT);
    /* A forged handle naming the free slot by its current (even) cookie
     * must not "stop" the free slot and corrupt the heap. */
    ax_timer forged = {stopped_h.index, stopped_h.cookie + 1};
    tu_assert_err(ax_timer_stop(loop, forged), AX_ENOENT);
    assert_int_equal(ax_timer_count(loop), 0);
    /* A new timer may reuse the slot: the old handle must not reach it. */
    tu_ok(ax_timer_start(loop, AX_SEC(10), 0, no_timer, NULL, &reused_h));
    tu_assert_err(ax_timer_stop(loop, stopped_h), AX_ENOENT);
    tu_assert_err(ax_timer_stop(loop, fired_h), AX_ENOENT);
    assert_int_equal(ax_timer_count(loop), 1);

    ax_timer bogus = {12345, 1};
    tu_assert_err(ax_timer_stop(loop, bogus), AX_ENOENT);
    ax_timer zero = {0, 0};
    tu_assert_err(ax_timer_stop(loop, zero), AX_ENOENT);
    ax_timer future = {reused_h.index, reused_h.cookie + 2};
    tu_assert_err(ax_timer_stop(loop, future), AX_ENOENT);
    ax_timer even = {reused_h.index, reused_h.cookie + 1};
    tu_assert_err(ax_timer_stop(loop, even), AX_ENOENT);
    tu_assert_err(ax_timer_stop(NULL, reused_h), AX_EINVAL);
    assert_int_equal(ax_timer_count(loop), 1);
    tu_ok(ax_timer_stop(loop, reused_h));
    lt_loop_free(loop, &ta);
}

static void test_invalid_args(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    ax_timer t;
    tu_assert_err(ax_timer_start(loop, 0, 0, NULL, NULL, &t), AX_EINVAL);
    tu_assert_err(ax_timer_start(loop, -1, 0, no_timer, NULL, &t), AX_EINVAL);
    tu_assert_err(ax_timer_start(loop, 0, -1, no_timer, NULL, &t), AX_EINVAL);
    tu_assert_err(ax_timer_start(loop, AX_FOREVER, 0, no_timer, NULL, &t), AX_EINVAL);
    tu_assert_err(ax_timer_start(NULL, 0, 0, no_timer, NULL, &t), AX_EINVAL);
    assert_int_equal(ax_timer_count(loop), 0);
    assert_int_equal(ax_timer_count(NULL), 0);
    /* out may be NULL. */
    int fired = 0;
    tu_ok(ax_timer_start(loop, 0, 0, lt_count_timer, &fired, NULL));
    tu_ok(ax_loop_run(loop));
    assert_int_equal(fired, 1);
    lt_loop_free(loop, &ta);
}

static void test_count(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int fired = 0;
    ax_timer one, rep, far;
    assert_int_equal(ax_timer_count(loop), 0);
    tu_ok(ax_timer_start(loop, 0, 0, lt_count_timer, &fired, &one));
    tu_ok(ax_timer_start(loop, 0, AX_MSEC(1), lt_count_timer, &fired, &rep));
    tu_ok(ax_timer_start(loop, AX_SEC(10), 0, no_timer, NULL, &far));
    assert_int_equal(ax_timer_count(loop), 3);
    tu_assert_err(ax_loop_step(loop, 0), 1);
    assert_int_equal(fired, 2);
    /* The fired one-shot left; the repeat timer is re-armed and counts. */
    assert_int_equal(ax_timer_count(loop), 2);
    tu_ok(ax_timer_stop(loop, rep));
    assert_int_equal(ax_timer_count(loop), 1);
    tu_assert_err(ax_timer_stop(loop, rep), AX_ENOENT);
    assert_int_equal(ax_timer_count(loop), 1);
    tu_ok(ax_timer_stop(loop, far));
    assert_int_equal(ax_timer_count(loop), 0);
    lt_loop_free(loop, &ta);
}

/* ---- started from a callback ----------------------------------------- */

typedef struct chain_ctx {
    int a_fired, b_fired, other_fired;
    int restarts_left, chain_fired;
} chain_ctx;

static void chain_b(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    ((chain_ctx *)arg)->b_fired++;
}

static void chain_a(ax_loop *loop, ax_timer t, void *arg)
{
    (void)t;
    chain_ctx *c = arg;
    c->a_fired++;
    tu_ok(ax_timer_start(loop, 0, 0, chain_b, c, NULL));
}

static void chain_other(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    chain_ctx *c = arg;
    /* Due in the same pass as A, started before B: it must still run, and
     * B (started by A earlier in this pass) must not have. */
    assert_int_equal(c->b_fired, 0);
    c->other_fired++;
}

static void chain_self(ax_loop *loop, ax_timer t, void *arg)
{
    (void)t;
    chain_ctx *c = arg;
    c->chain_fired++;
    if (c->restarts_left-- > 0)
        tu_ok(ax_timer_start(loop, 0, 0, chain_self, c, NULL));
}

static void test_started_in_callback_waits_a_pass(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    chain_ctx c = {0};
    tu_ok(ax_timer_start(loop, 0, 0, chain_a, &c, NULL));
    tu_ok(ax_timer_start(loop, 0, 0, chain_other, &c, NULL));
    tu_assert_err(ax_loop_step(loop, 0), 1);
    assert_int_equal(c.a_fired, 1);
    assert_int_equal(c.other_fired, 1);
    assert_int_equal(c.b_fired, 0); /* delay 0, but not in the same pass */
    tu_assert_err(ax_loop_step(loop, 0), 0);
    assert_int_equal(c.b_fired, 1);

    /* A timer that restarts itself with delay 0 fires once per step, so a
     * step always ends: no starvation of I/O and messages. */
    c.restarts_left = 100;
    tu_ok(ax_timer_start(loop, 0, 0, chain_self, &c, NULL));
    for (int i = 1; i <= 50; i++) {
        tu_assert_err(ax_loop_step(loop, 0), 1);
        assert_int_equal(c.chain_fired, i);
    }
    tu_ok(ax_loop_run(loop));
    assert_int_equal(c.chain_fired, 101);
    lt_loop_free(loop, &ta);
}

/* ---- never early ----------------------------------------------------- */

typedef struct early_ctx {
    int64_t base;      /* ax_loop_now() when started (fresh clock) */
    ax_duration delay; /* requested */
    int fired;
} early_ctx;

static void early_timer(ax_loop *loop, ax_timer t, void *arg)
{
    (void)t;
    early_ctx *c = arg;
    int64_t real = lt_clock_ns();
    int64_t due = c->base + c->delay;
    if (ax_loop_now(loop) < due)
        fail_msg("fired early by loop time: now %lld < due %lld", (long long)ax_loop_now(loop),
                 (long long)due);
    if (real < due)
        fail_msg("fired early by the clock: %lld < due %lld", (long long)real, (long long)due);
    /* Behaviour, not speed: only a very generous lateness bound. */
    assert_true(real - due < AX_SEC(2));
    c->fired++;
}

static void test_not_early(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    static const ax_duration delays[] = {
        0, AX_USEC(1), AX_USEC(500), AX_MSEC(1) + 1, AX_MSEC(3), AX_MSEC(7) + 999, AX_MSEC(20),
    };
    enum { N = sizeof delays / sizeof delays[0] };
    early_ctx c[N];
    /* Delays count from ax_loop_now(); refresh it so the check against
     * the real clock is meaningful. */
    int64_t base = ax_loop_update_time(loop);
    for (int i = 0; i < N; i++) {
        c[i] = (early_ctx){base, delays[i], 0};
        tu_ok(ax_timer_start(loop, delays[i], 0, early_timer, &c[i], NULL));
    }
    tu_ok(ax_loop_run(loop));
    for (int i = 0; i < N; i++)
        assert_int_equal(c[i].fired, 1);
    lt_loop_free(loop, &ta);
}

/* Any non-negative delay is valid (loop.h), including "practically never"
 * values such as INT64_MAX.  The deadline must saturate rather than wrap
 * (a signed overflow: undefined behaviour, and in practice a deadline in
 * the past that fires at once). */
static void test_huge_delay(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    ax_timer never, rep;
    int rep_fired = 0;
    tu_ok(ax_timer_start(loop, INT64_MAX, 0, no_timer, NULL, &never));
    tu_ok(ax_timer_start(loop, INT64_MAX - 1, 0, no_timer, NULL, NULL));
    /* delay 0, period INT64_MAX: fires once, then (re-armed) never again. */
    tu_ok(ax_timer_start(loop, 0, INT64_MAX, lt_count_timer, &rep_fired, &rep));
    for (int i = 0; i < 5; i++)
        tu_assert_err(ax_loop_step(loop, 0), 1);
    assert_int_equal(rep_fired, 1);
    assert_true(ax_loop_timeout(loop) > AX_SEC(3600));
    assert_int_equal(ax_timer_count(loop), 3);
    tu_ok(ax_timer_stop(loop, never));
    tu_ok(ax_timer_stop(loop, rep));
    lt_loop_free(loop, &ta); /* drops the INT64_MAX - 1 one unfired */
}

/* ---- allocation failure ---------------------------------------------- */

/* Fail allocation N (counted from after loop creation) while starting 40
 * timers (the tables grow at 16 and 32): the failing start returns
 * AX_ENOMEM and changes nothing, the same start then succeeds, every timer
 * fires exactly once, and nothing leaks. */
static void test_start_enomem(void **state)
{
    (void)state;
    enum { K = 40 };
    for (uint64_t n = 1;; n++) {
        assert_true(n < 200);
        tu_alloc ta;
        ax_loop *loop = lt_loop_new(&ta);
        ta.fail_at = ta.allocs + ta.reallocs + n;
        int fired = 0, failures = 0;
        for (int i = 0; i < K; i++) {
            int rc = ax_timer_start(loop, 0, 0, lt_count_timer, &fired, NULL);
            if (rc != 0) {
                tu_assert_err(rc, AX_ENOMEM);
                failures++;
                assert_int_equal(ax_timer_count(loop), (size_t)i);
                ta.fail_at = 0;
                tu_ok(ax_timer_start(loop, 0, 0, lt_count_timer, &fired, NULL));
            }
            assert_int_equal(ax_timer_count(loop), (size_t)i + 1);
        }
        heap_check(loop);
        tu_ok(ax_loop_run(loop));
        assert_int_equal(fired, K);
        lt_loop_free(loop, &ta);
        if (failures == 0)
            break;
    }
}

/* ---- many timers ----------------------------------------------------- */

enum { MANY = 100000 };

typedef struct many_ctx {
    int64_t deadline[MANY];
    uint32_t seq[MANY]; /* start order */
    uint8_t stopped[MANY];
    uint8_t fired[MANY];
    ax_timer h[MANY];
    uint32_t perm[MANY];
    int64_t last_deadline;
    int64_t last_seq;
    int nfired;
} many_ctx;

static many_ctx *many_current;

static void many_timer(ax_loop *loop, ax_timer t, void *arg)
{
    (void)t;
    many_ctx *m = many_current;
    uint32_t i = (uint32_t)(uintptr_t)arg;
    if (m->stopped[i] || m->fired[i])
        fail_msg("timer %u fired %s", i, m->stopped[i] ? "after being stopped" : "twice");
    if (ax_loop_now(loop) < m->deadline[i])
        fail_msg("timer %u fired early", i);
    /* Non-decreasing (deadline, start order): the heap hands them out in
     * order across passes and within one. */
    if (m->deadline[i] < m->last_deadline ||
        (m->deadline[i] == m->last_deadline && (int64_t)m->seq[i] < m->last_seq))
        fail_msg("timer %u (deadline %lld seq %u) fired after (deadline %lld seq %lld)", i,
                 (long long)m->deadline[i], m->seq[i], (long long)m->last_deadline,
                 (long long)m->last_seq);
    m->last_deadline = m->deadline[i];
    m->last_seq = m->seq[i];
    m->fired[i] = 1;
    m->nfired++;
}

static void shuffle(uint32_t *a, uint32_t n, uint64_t *rng)
{
    for (uint32_t i = 0; i < n; i++)
        a[i] = i;
    for (uint32_t i = n - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(lt_rand(rng) % (i + 1));
        uint32_t t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

/* 100,000 timers with random deadlines (on a 10 us grid, so many tie)
 * started in random order; half stopped in random order; the rest fired
 * and checked for order.  O(n) start or stop would blow the time limit. */
static void test_many_random(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    many_ctx *m = calloc(1, sizeof *m);
    assert_non_null(m);
    many_current = m;
    m->last_deadline = INT64_MIN;
    m->last_seq = -1;
    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    shuffle(m->perm, MANY, &rng);
    int64_t now = ax_loop_now(loop); /* constant: we are outside a turn */
    for (uint32_t k = 0; k < MANY; k++) {
        uint32_t i = m->perm[k];
        ax_duration d = (ax_duration)(lt_rand(&rng) % 3000) * AX_USEC(10);
        m->deadline[i] = now + d;
        m->seq[i] = k;
        tu_ok(ax_timer_start(loop, d, 0, many_timer, (void *)(uintptr_t)i, &m->h[i]));
    }
    assert_int_equal(ax_timer_count(loop), MANY);
    heap_check(loop);

    shuffle(m->perm, MANY, &rng);
    for (uint32_t k = 0; k < MANY / 2; k++) {
        uint32_t i = m->perm[k];
        tu_ok(ax_timer_stop(loop, m->h[i]));
        m->stopped[i] = 1;
        if (k % 10000 == 0)
            heap_check(loop);
    }
    assert_int_equal(ax_timer_count(loop), MANY - MANY / 2);
    heap_check(loop);
    for (uint32_t k = 0; k < 100; k++)
        tu_assert_err(ax_timer_stop(loop, m->h[m->perm[k]]), AX_ENOENT);

    tu_ok(ax_loop_run(loop));
    assert_int_equal(m->nfired, MANY - MANY / 2);
    assert_int_equal(ax_timer_count(loop), 0);
    for (uint32_t i = 0; i < MANY; i++)
        assert_int_equal(m->fired[i], !m->stopped[i]);
    many_current = NULL;
    free(m);
    lt_loop_free(loop, &ta);
}

/* Start 100,000 far-off timers in random order, stop every one in another
 * random order, checking the heap as it drains. */
static void test_many_stop_all(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    many_ctx *m = calloc(1, sizeof *m);
    assert_non_null(m);
    uint64_t rng = 12345;
    for (uint32_t i = 0; i < MANY; i++) {
        ax_duration d = AX_SEC(100) + (ax_duration)(lt_rand(&rng) % 1000000);
        tu_ok(ax_timer_start(loop, d, 0, no_timer, NULL, &m->h[i]));
    }
    heap_check(loop);
    shuffle(m->perm, MANY, &rng);
    for (uint32_t k = 0; k < MANY; k++) {
        tu_ok(ax_timer_stop(loop, m->h[m->perm[k]]));
        assert_int_equal(ax_timer_count(loop), (size_t)(MANY - k - 1));
        if (k % 20000 == 0)
            heap_check(loop);
    }
    tu_assert_err(ax_loop_step(loop, AX_FOREVER), 0); /* idle: returns */
    /* The freed slots are reusable. */
    int fired = 0;
    tu_ok(ax_timer_start(loop, 0, 0, lt_count_timer, &fired, NULL));
    tu_ok(ax_loop_run(loop));
    assert_int_equal(fired, 1);
    free(m);
    lt_loop_free(loop, &ta);
}

static const struct CMUnitTest tests[] = {
    LT_TEST(test_fire_order_by_deadline),
    LT_TEST(test_equal_deadlines_fifo),
    LT_TEST(test_repeat),
    LT_TEST(test_repeat_once_per_pass),
    LT_TEST(test_stop_before_fire),
    LT_TEST(test_stop_from_own_callback),
    LT_TEST(test_stop_other_from_callback),
    LT_TEST(test_stale_handles),
    LT_TEST(test_invalid_args),
    LT_TEST(test_count),
    LT_TEST(test_started_in_callback_waits_a_pass),
    LT_TEST(test_not_early),
    LT_TEST(test_start_enomem),
    LT_TEST(test_many_random),
    LT_TEST(test_many_stop_all),
    /* Last: under UBSan its overflow aborts the binary, and the other
     * tests should still have run. */
    LT_TEST(test_huge_delay),
};

LT_MAIN("timer", tests)
