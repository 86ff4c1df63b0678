/* loop_test.c - loop lifecycle and the turn: ax_loop_new/free, run, step,
 * stop, ref/unref, re-entrancy and ax_loop_now.  Runs once per backend
 * (argv[1]); see looptest.h. */
#include "looptest.h"

#define MSG_PING 100u

static void no_timer(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    (void)arg;
    fail_msg("this timer must never fire");
}

static void no_io(ax_loop *loop, ax_io *w, int fd, unsigned ev, void *arg)
{
    (void)loop;
    (void)w;
    (void)fd;
    (void)ev;
    (void)arg;
}

/* ---- lifecycle ------------------------------------------------------- */

static void test_new_null_opts(void **state)
{
    (void)state;
    ax_loop *loop = NULL;
    tu_ok(ax_loop_new(NULL, &loop));
    assert_non_null(loop);
    /* DEFAULT means epoll on Linux (loop.h). */
#ifdef __linux__
    assert_string_equal(ax_loop_backend_name(loop), "epoll");
#else
    assert_string_equal(ax_loop_backend_name(loop), "poll");
#endif
    tu_ok(ax_loop_free(loop));
}

static void test_new_each_backend(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    if (lt_epoll()) {
        assert_string_equal(ax_loop_backend_name(loop), "epoll");
        assert_true(ax_loop_backend_fd(loop) >= 0);
    } else {
        assert_string_equal(ax_loop_backend_name(loop), "poll");
        tu_assert_err(ax_loop_backend_fd(loop), AX_ENOTSUP);
    }
    /* A fresh loop has nothing to do. */
    assert_int_equal(ax_timer_count(loop), 0);
    tu_assert_err(ax_loop_step(loop, 0), 0);
    lt_loop_free(loop, &ta);
}

static void test_new_invalid(void **state)
{
    (void)state;
    ax_loop *loop = (ax_loop *)&loop; /* must be reset to NULL on failure */
    ax_loop_options o = {.backend = (ax_backend)99, .allocator = NULL};
    tu_assert_err(ax_loop_new(&o, &loop), AX_EINVAL);
    assert_null(loop);
    o.backend = (ax_backend)-1;
    tu_assert_err(ax_loop_new(&o, &loop), AX_EINVAL);
    assert_null(loop);
    tu_assert_err(ax_loop_new(NULL, NULL), AX_EINVAL);

    /* An allocator with a missing function is refused up front. */
    ax_allocator half = {NULL, NULL, NULL, NULL};
    o.backend = tu_backend;
    o.allocator = &half;
    tu_assert_err(ax_loop_new(&o, &loop), AX_EINVAL);
    assert_null(loop);

    tu_assert_err(ax_loop_free(NULL), AX_EINVAL);
    tu_assert_err(ax_loop_run(NULL), AX_EINVAL);
    tu_assert_err(ax_loop_step(NULL, 0), AX_EINVAL);
    tu_assert_err(ax_loop_backend_fd(NULL), AX_EINVAL);
}

/* Fail allocation 1, 2, ... of ax_loop_new until it succeeds: every
 * failure is AX_ENOMEM and leaves nothing allocated. */
static void test_new_enomem(void **state)
{
    (void)state;
    for (uint64_t n = 1;; n++) {
        assert_true(n < 100);
        tu_alloc ta;
        tu_alloc_init(&ta);
        ta.fail_at = n;
        ax_loop_options o = {.backend = tu_backend, .allocator = &ta.a};
        ax_loop *loop = NULL;
        int rc = ax_loop_new(&o, &loop);
        if (rc == 0) {
            lt_loop_free(loop, &ta);
            break;
        }
        tu_assert_err(rc, AX_ENOMEM);
        assert_null(loop);
        assert_int_equal(ta.live_blocks, 0);
    }
}

static void test_free_busy_watcher(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int p[2];
    lt_pipe(p);
    ax_io *w;
    tu_ok(ax_io_start(loop, p[0], AX_READABLE, no_io, NULL, &w));
    tu_assert_err(ax_loop_free(loop), AX_EBUSY);
    /* A paused watcher is still attached: the caller must stop it. */
    tu_ok(ax_io_update(w, 0));
    tu_assert_err(ax_loop_free(loop), AX_EBUSY);
    /* EBUSY freed nothing: the loop still works. */
    tu_assert_err(ax_loop_step(loop, 0), 0);
    ax_io_stop(w);
    lt_loop_free(loop, &ta);
    lt_close2(p);
}

static void test_free_busy_system(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    ax_system *sys;
    tu_ok(ax_system_new(loop, NULL, &sys));
    tu_assert_err(ax_loop_free(loop), AX_EBUSY);
    tu_ok(ax_system_free(sys));
    lt_loop_free(loop, &ta);
}

/* Pending timers are dropped by ax_loop_free without running. */
static void test_free_drops_timers(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    for (int i = 0; i < 40; i++)
        tu_ok(ax_timer_start(loop, AX_MSEC(i), AX_MSEC(1), no_timer, NULL, NULL));
    assert_int_equal(ax_timer_count(loop), 40);
    lt_loop_free(loop, &ta);
}

/* ---- run / step ------------------------------------------------------ */

static void test_run_idle_returns(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    tu_ok(ax_loop_run(loop));
    /* A system with no actors and no messages does not keep it alive. */
    ax_system *sys;
    tu_ok(ax_system_new(loop, NULL, &sys));
    tu_ok(ax_loop_run(loop));
    tu_ok(ax_system_free(sys));
    lt_loop_free(loop, &ta);
}

/* ax_loop_run runs every timer and returns once none is left. */
static void test_run_until_timers_done(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int fired = 0;
    for (int i = 0; i < 5; i++)
        tu_ok(ax_timer_start(loop, AX_MSEC(i * 2), 0, lt_count_timer, &fired, NULL));
    tu_ok(ax_loop_run(loop));
    assert_int_equal(fired, 5);
    assert_int_equal(ax_timer_count(loop), 0);
    lt_loop_free(loop, &ta);
}

static void test_step_alive_then_idle(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int fired = 0;
    tu_ok(ax_timer_start(loop, AX_MSEC(20), 0, lt_count_timer, &fired, NULL));
    /* Not due yet: a non-waiting step runs nothing and reports "alive". */
    tu_assert_err(ax_loop_step(loop, 0), 1);
    assert_int_equal(fired, 0);
    /* Waiting steps eventually run it; the one that does reports idle. */
    int rc;
    int steps = 0;
    do {
        rc = ax_loop_step(loop, AX_FOREVER);
        assert_true(rc >= 0);
        assert_true(++steps < 1000);
    } while (rc == 1);
    assert_int_equal(rc, 0);
    assert_int_equal(fired, 1);
    lt_loop_free(loop, &ta);
}

/* An idle loop must not sleep even when told to wait forever: nothing
 * could ever wake it.  (A hang here is caught by the watchdog.) */
static void test_step_forever_idle_returns(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int64_t t0 = lt_clock_ns();
    tu_assert_err(ax_loop_step(loop, AX_FOREVER), 0);
    /* Paused watchers and a system without work are idle too. */
    int p[2];
    lt_pipe(p);
    ax_io *w;
    tu_ok(ax_io_start(loop, p[0], 0, no_io, NULL, &w));
    ax_system *sys;
    tu_ok(ax_system_new(loop, NULL, &sys));
    tu_assert_err(ax_loop_step(loop, AX_FOREVER), 0);
    tu_assert_err(ax_loop_step(loop, AX_SEC(30)), 0);
    assert_true(lt_clock_ns() - t0 < AX_SEC(5)); /* generous: "did not wait" */
    tu_ok(ax_system_free(sys));
    ax_io_stop(w);
    lt_loop_free(loop, &ta);
    lt_close2(p);
}

/* A step bounded by max_wait returns after about max_wait even though a
 * timer is further away, and reports the loop still alive. */
static void test_step_max_wait_bounds_sleep(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int fired = 0;
    ax_timer t;
    tu_ok(ax_timer_start(loop, AX_SEC(20), 0, lt_count_timer, &fired, &t));
    int64_t t0 = lt_clock_ns();
    tu_assert_err(ax_loop_step(loop, AX_MSEC(10)), 1);
    int64_t dt = lt_clock_ns() - t0;
    assert_true(dt >= AX_MSEC(10) - AX_MSEC(1)); /* epoll rounds to ms */
    assert_true(dt < AX_SEC(5));
    assert_int_equal(fired, 0);
    tu_ok(ax_timer_stop(loop, t));
    lt_loop_free(loop, &ta);
}

/* ---- stop ------------------------------------------------------------ */

typedef struct stop_ctx {
    int fired;
    int stop_at;
} stop_ctx;

static void stop_timer(ax_loop *loop, ax_timer t, void *arg)
{
    (void)t;
    stop_ctx *c = arg;
    if (++c->fired == c->stop_at)
        ax_loop_stop(loop);
}

static void test_stop_from_callback(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    stop_ctx c = {0, 3};
    ax_timer t;
    tu_ok(ax_timer_start(loop, 0, AX_MSEC(1), stop_timer, &c, &t));
    tu_ok(ax_loop_run(loop)); /* would never return without the stop */
    /* A repeat timer fires at most once per pass, so the run ended in the
     * turn that asked to stop. */
    assert_int_equal(c.fired, 3);
    assert_int_equal(ax_timer_count(loop), 1);
    /* The request was consumed: the next run goes on until the next stop. */
    c.stop_at = 5;
    tu_ok(ax_loop_run(loop));
    assert_int_equal(c.fired, 5);
    tu_ok(ax_timer_stop(loop, t));
    tu_ok(ax_loop_run(loop));

    /* A stale request made while nothing ran does not end the next run
     * before it has done anything: ax_loop_run starts by clearing it. */
    int fired = 0;
    ax_loop_stop(loop);
    tu_ok(ax_timer_start(loop, AX_MSEC(1), 0, lt_count_timer, &fired, NULL));
    tu_ok(ax_loop_run(loop));
    assert_int_equal(fired, 1);
    lt_loop_free(loop, &ta);
}

/* A stop requested during a stepped turn is met when that step returns
 * (loop.h: "cleared when that run or step returns").  It must not stay
 * latched and turn every later step into a non-waiting one: an embedder's
 * outer poller would spin at 100% CPU with ax_loop_timeout() == 0 forever.
 * (Regression test: fixed in c2f0d5d.) */
static void test_stop_during_step_does_not_latch(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    stop_ctx c = {0, 1};
    int fired = 0;
    tu_ok(ax_timer_start(loop, 0, 0, stop_timer, &c, NULL));
    tu_ok(ax_timer_start(loop, AX_MSEC(50), 0, lt_count_timer, &fired, NULL));
    tu_assert_err(ax_loop_step(loop, 0), 1);
    assert_int_equal(c.fired, 1);
    /* Only the 50 ms timer is left: the loop should be willing to sleep. */
    ax_duration to = ax_loop_timeout(loop);
    /* Waiting steps until it fires: a handful, not thousands of spins. */
    int steps = 0;
    while (fired == 0) {
        assert_true(ax_loop_step(loop, AX_FOREVER) >= 0);
        assert_true(++steps < 10000000);
    }
    if (to <= 0 || steps > 5)
        fail_msg("after ax_loop_stop() in a stepped turn: ax_loop_timeout() = %lld with only a "
                 "50 ms timer armed, and ax_loop_step(AX_FOREVER) was called %d times before "
                 "it fired (the loop never slept)",
                 (long long)to, steps);
    lt_loop_free(loop, &ta);
}

/* ---- ref / unref ----------------------------------------------------- */

static void test_ref_keeps_step_alive(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    ax_loop_ref(loop);
    ax_loop_ref(loop);
    tu_assert_err(ax_loop_step(loop, 0), 1);
    ax_loop_unref(loop);
    tu_assert_err(ax_loop_step(loop, 0), 1);
    ax_loop_unref(loop);
    tu_assert_err(ax_loop_step(loop, 0), 0);
    /* An extra unref is ignored rather than driving the count negative
     * (which would make the next ref a no-op). */
    ax_loop_unref(loop);
    ax_loop_ref(loop);
    tu_assert_err(ax_loop_step(loop, 0), 1);
    ax_loop_unref(loop);
    tu_assert_err(ax_loop_step(loop, 0), 0);
    lt_loop_free(loop, &ta);
}

static void unref_timer(ax_loop *loop, ax_timer t, void *arg)
{
    (void)t;
    (*(int *)arg)++;
    ax_loop_unref(loop);
}

/* While a hold is in place ax_loop_run keeps turning even with nothing
 * armed; a timer callback releasing it lets the run end. */
static void test_ref_keeps_run_until_timer_unrefs(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int fired = 0, unrefs = 0;
    ax_loop_ref(loop);
    tu_ok(ax_timer_start(loop, AX_MSEC(5), 0, lt_count_timer, &fired, NULL));
    tu_ok(ax_timer_start(loop, AX_MSEC(30), 0, unref_timer, &unrefs, NULL));
    tu_ok(ax_loop_run(loop));
    assert_int_equal(fired, 1);
    assert_int_equal(unrefs, 1);
    tu_assert_err(ax_loop_step(loop, 0), 0);
    lt_loop_free(loop, &ta);
}

/* The documented use: hold the loop while another thread may post.  With
 * no timer, watcher or message, only the hold keeps ax_loop_run waiting for
 * the post; the handler releases it. */
typedef struct post_ctx {
    ax_system *sys;
    ax_id target;
    int handled;
    int64_t value;
} post_ctx;

static void unref_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    post_ctx *c = state;
    assert_int_equal(msg->type, MSG_PING);
    c->value = *(const int64_t *)msg->data;
    c->handled++;
    ax_loop_unref(ax_system_loop(ax_ctx_system(ctx)));
}

static void *post_later(void *arg)
{
    post_ctx *c = arg;
    lt_sleep_ns(AX_MSEC(30));
    int64_t v = 42;
    int rc = ax_system_post(c->sys, ax_id_nil(), c->target, MSG_PING, &v, sizeof v);
    return (void *)(intptr_t)rc;
}

static void test_ref_holds_run_for_post(void **state)
{
    (void)state;
    lt_mt_alloc ma;
    ax_loop *loop = lt_mt_loop_new(&ma, 0);
    post_ctx c = {0};
    tu_ok(ax_system_new(loop, NULL, &c.sys));
    tu_ok(ax_msg_register_pod(c.sys, MSG_PING, "ping", sizeof(int64_t), _Alignof(int64_t)));
    tu_ok(ax_spawn(c.sys, unref_receive, &c, NULL, &c.target));
    ax_loop_ref(loop);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, post_later, &c), 0);
    tu_ok(ax_loop_run(loop));
    void *ret;
    pthread_join(th, &ret);
    tu_ok((int)(intptr_t)ret);
    assert_int_equal(c.handled, 1);
    assert_int_equal(c.value, 42);
    lt_mt_loop_free(loop, c.sys, &ma);
}

/* ---- re-entrancy ----------------------------------------------------- */

typedef struct reent_ctx {
    int run_rc, step_rc, free_rc;
    int calls;
} reent_ctx;

static void reent_try(ax_loop *loop, reent_ctx *c)
{
    c->run_rc = ax_loop_run(loop);
    c->step_rc = ax_loop_step(loop, 0);
    c->free_rc = ax_loop_free(loop); /* freeing the loop under its own turn */
    c->calls++;
}

static void reent_timer(ax_loop *loop, ax_timer t, void *arg)
{
    (void)t;
    reent_try(loop, arg);
}

static void reent_io(ax_loop *loop, ax_io *w, int fd, unsigned ev, void *arg)
{
    (void)fd;
    (void)ev;
    reent_try(loop, arg);
    ax_io_stop(w);
}

static void reent_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    reent_try(ax_system_loop(ax_ctx_system(ctx)), state);
}

static void assert_reent_refused(const reent_ctx *c)
{
    assert_int_equal(c->calls, 1);
    tu_assert_err(c->run_rc, AX_EBUSY);
    tu_assert_err(c->step_rc, AX_EBUSY);
    tu_assert_err(c->free_rc, AX_EBUSY);
}

static void test_reentrant_refused(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);

    reent_ctx ct = {0};
    tu_ok(ax_timer_start(loop, 0, 0, reent_timer, &ct, NULL));
    tu_ok(ax_loop_run(loop));
    assert_reent_refused(&ct);

    reent_ctx ci = {0};
    int p[2];
    lt_pipe(p);
    lt_write1(p[1]);
    ax_io *w;
    tu_ok(ax_io_start(loop, p[0], AX_READABLE, reent_io, &ci, &w));
    tu_ok(ax_loop_run(loop));
    assert_reent_refused(&ci);
    lt_close2(p);

    reent_ctx ca = {0};
    ax_system *sys;
    tu_ok(ax_system_new(loop, NULL, &sys));
    tu_ok(ax_msg_register_pod(sys, MSG_PING, "ping", 0, 1));
    ax_id a;
    tu_ok(ax_spawn(sys, reent_receive, &ca, NULL, &a));
    tu_ok(ax_system_send(sys, ax_id_nil(), a, MSG_PING, NULL, 0));
    tu_ok(ax_loop_run(loop));
    assert_reent_refused(&ca);
    tu_ok(ax_system_free(sys));

    /* After all that the loop is not left marked as running. */
    tu_assert_err(ax_loop_step(loop, 0), 0);
    lt_loop_free(loop, &ta);
}

/* ---- the clock ------------------------------------------------------- */

typedef struct now_ctx {
    int64_t seen[4];
    int n;
} now_ctx;

static void now_timer(ax_loop *loop, ax_timer t, void *arg)
{
    (void)t;
    now_ctx *c = arg;
    c->seen[c->n++] = ax_loop_now(loop);
    /* Take real time inside the callback: the turn's clock must not move. */
    int64_t t0 = lt_clock_ns();
    while (lt_clock_ns() - t0 < AX_MSEC(2))
        ;
    assert_int_equal(ax_loop_now(loop), c->seen[c->n - 1]);
}

static void test_now_constant_within_turn(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    now_ctx c = {{0}, 0};
    int64_t start = ax_loop_now(loop);
    /* Two timers due in the same pass, then one in a later turn. */
    tu_ok(ax_timer_start(loop, 0, 0, now_timer, &c, NULL));
    tu_ok(ax_timer_start(loop, 0, 0, now_timer, &c, NULL));
    tu_ok(ax_timer_start(loop, AX_MSEC(10), 0, now_timer, &c, NULL));
    tu_assert_err(ax_loop_step(loop, 0), 1);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.seen[0], c.seen[1]); /* same turn, same reading */
    tu_ok(ax_loop_run(loop));
    assert_int_equal(c.n, 3);
    /* Across turns it advances, by at least the time the timer waited. */
    assert_true(c.seen[2] >= start + AX_MSEC(10));
    assert_true(c.seen[2] > c.seen[0]);

    /* Outside a turn ax_loop_now is the last turn's reading until a turn
     * or ax_loop_update_time re-reads the clock. */
    int64_t before = ax_loop_now(loop);
    lt_sleep_ns(AX_MSEC(2));
    assert_int_equal(ax_loop_now(loop), before);
    int64_t upd = ax_loop_update_time(loop);
    assert_true(upd >= before + AX_MSEC(2));
    assert_int_equal(ax_loop_now(loop), upd);
    assert_true(upd <= lt_clock_ns()); /* same clock as CLOCK_MONOTONIC */
    lt_loop_free(loop, &ta);
}

static const struct CMUnitTest tests[] = {
    LT_TEST(test_new_null_opts),
    LT_TEST(test_new_each_backend),
    LT_TEST(test_new_invalid),
    LT_TEST(test_new_enomem),
    LT_TEST(test_free_busy_watcher),
    LT_TEST(test_free_busy_system),
    LT_TEST(test_free_drops_timers),
    LT_TEST(test_run_idle_returns),
    LT_TEST(test_run_until_timers_done),
    LT_TEST(test_step_alive_then_idle),
    LT_TEST(test_step_forever_idle_returns),
    LT_TEST(test_step_max_wait_bounds_sleep),
    LT_TEST(test_stop_from_callback),
    LT_TEST(test_stop_during_step_does_not_latch),
    LT_TEST(test_ref_keeps_step_alive),
    LT_TEST(test_ref_keeps_run_until_timer_unrefs),
    LT_TEST(test_ref_holds_run_for_post),
    LT_TEST(test_reentrant_refused),
    LT_TEST(test_now_constant_within_turn),
};

LT_MAIN("loop", tests)
