/* busy_test.c - busy polling (ax_loop_options.busy_poll_us) and the loop
 * counters (ax_loop_stats): when a loop polls instead of sleeping, that
 * polling never loses or reorders I/O, never delays a timer past its
 * deadline, never runs on an idle loop or an embedded step(0), and wakes
 * for another thread's post.  Runs once per backend (argv[1]); see
 * looptest.h.  No test checks a speed: the counters show which path ran. */
#include "looptest.h"

#define MSG_PING 100u
#define ECHOES 2000

static ax_loop_counters stats_of(const ax_loop *loop)
{
    ax_loop_counters c;
    memset(&c, 0xff, sizeof c);
    tu_ok(ax_loop_stats(loop, &c));
    return c;
}

/* Reads and drops whatever is there. */
static void drain_io(ax_loop *loop, ax_io *w, int fd, unsigned ev, void *arg)
{
    (void)loop;
    (void)w;
    (void)ev;
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0)
        (*(int *)arg)++;
}

static void test_options_and_counters(void **state)
{
    (void)state;
    ax_loop *loop = (ax_loop *)&loop;
    ax_loop_options o = {.backend = tu_backend, .busy_poll_us = AX_LOOP_BUSY_POLL_MAX + 1};
    tu_assert_err(ax_loop_new(&o, &loop), AX_EINVAL);
    assert_null(loop);
    o.busy_poll_us = AX_LOOP_BUSY_POLL_MAX;
    tu_ok(ax_loop_new(&o, &loop));
    ax_loop_counters c = stats_of(loop);
    assert_int_equal(c.turns, 0);
    assert_int_equal(c.waits, 0);
    assert_int_equal(c.busy_polls, 0);
    assert_int_equal(c.busy_hits, 0);
    assert_int_equal(c.busy_contended, 0);
    tu_assert_err(ax_loop_stats(NULL, &c), AX_EINVAL);
    tu_assert_err(ax_loop_stats(loop, NULL), AX_EINVAL);
    /* An idle loop neither sleeps nor polls. */
    tu_assert_err(ax_loop_step(loop, AX_FOREVER), 0);
    c = stats_of(loop);
    assert_int_equal(c.turns, 1);
    assert_int_equal(c.waits, 0);
    assert_int_equal(c.busy_polls, 0);
    tu_ok(ax_loop_free(loop));
}

/* ---- an echo on another thread ---------------------------------------- */

typedef struct echo_ctx {
    int fd;       /* the thread's blocking end */
    int rounds;
    ax_io *w;
    unsigned char next; /* the byte the loop expects back */
    int got;
    int bad;
} echo_ctx;

static void *echo_thread(void *arg)
{
    echo_ctx *e = arg;
    unsigned char b;
    for (int i = 0; i < e->rounds; i++) {
        if (read(e->fd, &b, 1) != 1 || write(e->fd, &b, 1) != 1)
            return (void *)1;
    }
    return NULL;
}

static void echo_io(ax_loop *loop, ax_io *w, int fd, unsigned ev, void *arg)
{
    (void)loop;
    (void)ev;
    echo_ctx *e = arg;
    unsigned char b;
    while (read(fd, &b, 1) == 1) {
        if (b != e->next)
            e->bad++;
        e->got++;
        e->next = (unsigned char)(b + 1);
        if (e->got == e->rounds) {
            ax_io_stop(w);
            e->w = NULL;
            return;
        }
        assert_int_equal(write(fd, &e->next, 1), 1);
    }
}

/* One ping-pong of ECHOES rounds with a thread; returns the counters. */
static ax_loop_counters run_echo(uint32_t busy_us)
{
    tu_alloc ta;
    ax_loop *loop = lt_loop_new_busy(&ta, busy_us);
    int sv[2];
    lt_socketpair(sv);
    assert_int_equal(fcntl(sv[1], F_SETFL, 0), 0); /* the thread blocks */
    echo_ctx e = {.fd = sv[1], .rounds = ECHOES};
    tu_ok(ax_io_start(loop, sv[0], AX_READABLE, echo_io, &e, &e.w));
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, echo_thread, &e), 0);
    assert_int_equal(write(sv[0], &e.next, 1), 1);
    tu_ok(ax_loop_run(loop));
    void *ret;
    pthread_join(th, &ret);
    assert_null(ret);
    assert_int_equal(e.got, ECHOES);
    assert_int_equal(e.bad, 0);
    ax_loop_counters c = stats_of(loop);
    lt_loop_free(loop, &ta);
    lt_close2(sv);
    return c;
}

static void test_echo_with_and_without(void **state)
{
    (void)state;
    ax_loop_counters off = run_echo(0);
    assert_int_equal(off.busy_polls, 0);
    assert_true(off.turns >= ECHOES / 2);
    /* With a 1 ms window: the turn after each answer polls (unless a
     * contended poll put polling off for a while); every answer arrives
     * once and in order all the same. */
    ax_loop_counters on = run_echo(1000);
    assert_true(on.busy_polls >= 1);
    assert_true(on.busy_hits + on.busy_contended <= on.busy_polls);
    assert_true(on.waits <= on.turns);
    print_message("busy 1000 us: turns %llu waits %llu polls %llu hits %llu contended %llu\n",
                  (unsigned long long)on.turns, (unsigned long long)on.waits,
                  (unsigned long long)on.busy_polls, (unsigned long long)on.busy_hits,
                  (unsigned long long)on.busy_contended);
}

/* ---- when the loop does not poll ------------------------------------- */

/* After I/O, a loop whose peer is silent polls once, then sleeps; the
 * turn after that sleep (no I/O) does not poll again. */
static void test_silent_peer_polls_once(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new_busy(&ta, 100);
    int p[2], reads = 0;
    lt_pipe(p);
    ax_io *w;
    tu_ok(ax_io_start(loop, p[0], AX_READABLE, drain_io, &reads, &w));
    assert_int_equal(write(p[1], "x", 1), 1);
    tu_assert_err(ax_loop_step(loop, AX_MSEC(30)), 1); /* finds the byte */
    assert_int_equal(reads, 1);
    ax_loop_counters c = stats_of(loop);
    assert_int_equal(c.busy_polls, 0); /* no I/O before: slept */
    assert_int_equal(c.waits, 1);
    tu_assert_err(ax_loop_step(loop, AX_MSEC(30)), 1); /* polls, then sleeps */
    tu_assert_err(ax_loop_step(loop, AX_MSEC(30)), 1); /* sleeps */
    c = stats_of(loop);
    assert_int_equal(c.turns, 3);
    assert_int_equal(c.busy_polls, 1);
    assert_int_equal(c.busy_hits, 0);
    assert_int_equal(c.waits, 3);
    /* An embedding host's step(loop, 0) never waits, so never polls. */
    assert_int_equal(write(p[1], "y", 1), 1);
    for (int i = 0; i < 3; i++)
        tu_assert_err(ax_loop_step(loop, 0), 1);
    assert_int_equal(reads, 2);
    c = stats_of(loop);
    assert_int_equal(c.busy_polls, 1);
    assert_int_equal(c.waits, 3);
    ax_io_stop(w);
    lt_loop_free(loop, &ta);
    lt_close2(p);
}

/* A timer due within the window: the loop sleeps until it rather than
 * polling.  A timer due after the window: the loop polls, then sleeps for
 * the rest, and the timer fires on time (never early). */
static void test_timers_and_the_window(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new_busy(&ta, AX_LOOP_BUSY_POLL_MAX);
    int p[2], reads = 0, fired = 0;
    lt_pipe(p);
    ax_io *w;
    tu_ok(ax_io_start(loop, p[0], AX_READABLE, drain_io, &reads, &w));
    assert_int_equal(write(p[1], "x", 1), 1);
    tu_assert_err(ax_loop_step(loop, AX_MSEC(30)), 1);
    assert_int_equal(reads, 1);
    tu_ok(ax_timer_start(loop, AX_MSEC(20), 0, lt_count_timer, &fired, NULL));
    int64_t t0 = ax_loop_now(loop);
    while (!fired)
        tu_assert_err(ax_loop_step(loop, AX_FOREVER), 1);
    assert_true(lt_clock_ns() >= t0 + AX_MSEC(20));
    assert_int_equal(stats_of(loop).busy_polls, 0);
    ax_io_stop(w);
    lt_loop_free(loop, &ta);

    loop = lt_loop_new_busy(&ta, 200);
    fired = reads = 0;
    tu_ok(ax_io_start(loop, p[0], AX_READABLE, drain_io, &reads, &w));
    assert_int_equal(write(p[1], "x", 1), 1);
    tu_assert_err(ax_loop_step(loop, AX_MSEC(30)), 1);
    tu_ok(ax_timer_start(loop, AX_MSEC(20), 0, lt_count_timer, &fired, NULL));
    t0 = ax_loop_now(loop);
    while (!fired)
        tu_assert_err(ax_loop_step(loop, AX_FOREVER), 1);
    assert_true(lt_clock_ns() >= t0 + AX_MSEC(20));
    ax_loop_counters c = stats_of(loop);
    assert_int_equal(c.busy_polls, 1);
    assert_int_equal(c.busy_hits, 0);
    ax_io_stop(w);
    lt_loop_free(loop, &ta);
    lt_close2(p);
}

/* ---- posts from another thread wake a polling loop ------------------- */

#define POSTS 3000

typedef struct post_ctx {
    ax_system *sys;
    ax_id target;
    int handled;
    int64_t last;
    int bad;
} post_ctx;

static void post_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    post_ctx *c = state;
    int64_t v = *(const int64_t *)msg->data;
    if (v != c->last + 1)
        c->bad++;
    c->last = v;
    if (++c->handled == POSTS)
        ax_loop_unref(ax_system_loop(ax_ctx_system(ctx)));
}

static void *poster(void *arg)
{
    post_ctx *c = arg;
    for (int64_t v = 1; v <= POSTS; v++) {
        int rc = ax_system_post(c->sys, ax_id_nil(), c->target, MSG_PING, &v, sizeof v);
        if (rc)
            return (void *)(intptr_t)rc;
        if (v % 64 == 0)
            lt_sleep_ns(AX_USEC(20)); /* let the loop go quiet and poll */
    }
    return NULL;
}

static void test_posts_wake_polling_loop(void **state)
{
    (void)state;
    lt_mt_alloc ma;
    ax_loop *loop = lt_mt_loop_new(&ma, 500);
    post_ctx c = {0};
    tu_ok(ax_system_new(loop, NULL, &c.sys));
    tu_ok(ax_msg_register_pod(c.sys, MSG_PING, "ping", sizeof(int64_t), _Alignof(int64_t)));
    tu_ok(ax_spawn(c.sys, post_receive, &c, NULL, &c.target));
    ax_loop_ref(loop);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, poster, &c), 0);
    tu_ok(ax_loop_run(loop));
    void *ret;
    pthread_join(th, &ret);
    tu_ok((int)(intptr_t)ret);
    assert_int_equal(c.handled, POSTS);
    assert_int_equal(c.bad, 0);
    assert_true(stats_of(loop).turns > 0);
    lt_mt_loop_free(loop, c.sys, &ma);
}

static const struct CMUnitTest tests[] = {
    LT_TEST(test_options_and_counters),
    LT_TEST(test_echo_with_and_without),
    LT_TEST(test_silent_peer_polls_once),
    LT_TEST(test_timers_and_the_window),
    LT_TEST(test_posts_wake_polling_loop),
};

LT_MAIN("loop_busy", tests)
