/* embed_test.c - driving the loop from another program's poller: an outer
 * plain poll() on ax_loop_backend_fd() with the timeout ax_loop_timeout()
 * gives, calling ax_loop_step(loop, 0) whenever poll returns.  Timers, a
 * pipe watcher and an actor system (ax_system_send from the loop thread,
 * ax_system_post from a second thread) must all make progress that way.
 *
 * Only the epoll backend has a single pollable descriptor; with the poll
 * backend the embedding tests check AX_ENOTSUP and skip.  The
 * ax_loop_timeout() tests run on both.  Runs once per backend (argv[1]);
 * see looptest.h. */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>

#include "looptest.h"

#define MSG_SEQ 200u

typedef struct seq_msg {
    int32_t src;
    int32_t seq;
} seq_msg;

static void no_io(ax_loop *loop, ax_io *w, int fd, unsigned ev, void *arg)
{
    (void)loop;
    (void)w;
    (void)fd;
    (void)ev;
    (void)arg;
}

/* ---- the outer loop -------------------------------------------------- */

typedef struct outer_stats {
    int wakeups;       /* poll() returns (each followed by one step) */
    int forever_waits; /* polls where the loop said "only I/O can wake me" */
} outer_stats;

/* Sleep in poll() as the loop asks, then step it, until done(arg).  When
 * ax_loop_timeout() says AX_FOREVER the outer poll waits up to 10 s: if
 * that elapses the event we are waiting for never made the fd readable. */
static void outer_drive(ax_loop *loop, int (*done)(void *), void *arg, outer_stats *st)
{
    int fd = ax_loop_backend_fd(loop);
    assert_true(fd >= 0);
    int64_t end = lt_clock_ns() + AX_SEC(20);
    while (!done(arg)) {
        if (lt_clock_ns() > end)
            fail_msg("outer loop: not done within 20 s");
        ax_duration to = ax_loop_timeout(loop);
        int ms;
        if (to < 0) {
            assert_int_equal(to, AX_FOREVER);
            ms = 10000;
            st->forever_waits++;
        } else {
            /* Round up: waking before the deadline would only spin. */
            ax_duration r = (to + AX_MSEC(1) - 1) / AX_MSEC(1);
            ms = r > 10000 ? 10000 : (int)r;
        }
        struct pollfd pfd = {fd, POLLIN, 0};
        int n = poll(&pfd, 1, ms);
        if (n < 0 && errno == EINTR)
            continue;
        assert_true(n >= 0);
        if (n == 0 && to < 0)
            fail_msg("outer poll slept 10 s: the loop said AX_FOREVER but nothing made "
                     "its backend fd readable");
        st->wakeups++;
        int rc = ax_loop_step(loop, 0);
        if (rc < 0)
            fail_msg("ax_loop_step: %s", ax_errname(rc));
    }
}

static ax_loop *embed_loop_or_skip(tu_alloc *ta)
{
    ax_loop *loop = lt_loop_new(ta);
    if (!lt_epoll()) {
        /* No single descriptor to hand to an outer poller. */
        tu_assert_err(ax_loop_backend_fd(loop), AX_ENOTSUP);
        lt_loop_free(loop, ta);
        skip();
    }
    return loop;
}

/* ---- ax_loop_backend_fd ---------------------------------------------- */

static void test_backend_fd(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int fd = ax_loop_backend_fd(loop);
    if (!lt_epoll()) {
        tu_assert_err(fd, AX_ENOTSUP);
        lt_loop_free(loop, &ta);
        return;
    }
    assert_true(fd >= 0);
    assert_int_equal(ax_loop_backend_fd(loop), fd); /* stable */
    /* Not readable while nothing is ready; readable once a watched fd is. */
    int p[2];
    lt_pipe(p);
    ax_io *w;
    tu_ok(ax_io_start(loop, p[0], AX_READABLE, no_io, NULL, &w));
    struct pollfd pfd = {fd, POLLIN, 0};
    assert_int_equal(poll(&pfd, 1, 0), 0);
    lt_write1(p[1]);
    assert_int_equal(poll(&pfd, 1, 5000), 1);
    assert_true(pfd.revents & POLLIN);
    ax_io_stop(w);
    lt_close2(p);
    lt_loop_free(loop, &ta);
}

/* ---- ax_loop_timeout ------------------------------------------------- */

static void seq_receive(void *state, ax_ctx *ctx, const ax_msg *msg);

static void test_timeout_values(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    /* Nothing at all: only I/O (none) could wake it. */
    assert_int_equal(ax_loop_timeout(loop), AX_FOREVER);
    /* A watcher alone: still only I/O. */
    int p[2];
    lt_pipe(p);
    ax_io *w;
    tu_ok(ax_io_start(loop, p[0], AX_READABLE, no_io, NULL, &w));
    assert_int_equal(ax_loop_timeout(loop), AX_FOREVER);
    /* A timer: the time until it is due. */
    ax_timer far, due;
    int fired = 0;
    tu_ok(ax_timer_start(loop, AX_SEC(1), 0, lt_count_timer, &fired, &far));
    ax_duration to = ax_loop_timeout(loop);
    assert_true(to > 0);
    assert_true(to <= AX_SEC(1));
    /* A timer due now: 0. */
    tu_ok(ax_timer_start(loop, 0, 0, lt_count_timer, &fired, &due));
    assert_int_equal(ax_loop_timeout(loop), 0);
    tu_ok(ax_timer_stop(loop, due));
    assert_true(ax_loop_timeout(loop) > 0);

    /* A queued message is work pending now: 0, until it is handled. */
    ax_system *sys;
    tu_ok(ax_system_new(loop, NULL, &sys));
    tu_ok(ax_msg_register_pod(sys, MSG_SEQ, "seq", sizeof(seq_msg), _Alignof(seq_msg)));
    int got[2] = {0, 0};
    ax_id a;
    tu_ok(ax_spawn(sys, seq_receive, got, NULL, &a));
    assert_true(ax_loop_timeout(loop) > 0);
    seq_msg m = {0, 0};
    tu_ok(ax_system_send(sys, ax_id_nil(), a, MSG_SEQ, &m, sizeof m));
    assert_int_equal(ax_loop_timeout(loop), 0);
    tu_assert_err(ax_loop_step(loop, 0), 1);
    assert_int_equal(got[0], 1);
    to = ax_loop_timeout(loop);
    assert_true(to > 0);
    assert_true(to <= AX_SEC(1));

    tu_ok(ax_timer_stop(loop, far));
    assert_int_equal(ax_loop_timeout(loop), AX_FOREVER);
    assert_int_equal(fired, 0);
    tu_ok(ax_system_free(sys));
    ax_io_stop(w);
    lt_close2(p);
    lt_loop_free(loop, &ta);
}

/* An embedder does its own work between turns, then asks how long it may
 * sleep.  ax_loop_timeout() measures from ax_loop_now(), the start of the
 * last turn (guide.md, "Embedding"); a host that was busy since calls
 * ax_loop_update_time() first and then gets the time from now, so its
 * poller does not oversleep the timer. */
static void test_timeout_after_host_work(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int fired = 0;
    tu_assert_err(ax_loop_step(loop, 0), 0);
    int64_t deadline = ax_loop_update_time(loop) + AX_SEC(1);
    ax_timer t;
    tu_ok(ax_timer_start(loop, AX_SEC(1), 0, lt_count_timer, &fired, &t));
    lt_sleep_ns(AX_MSEC(300)); /* the host is busy elsewhere */
    /* Without a fresh clock: counted from the last turn's reading. */
    assert_int_equal(ax_loop_timeout(loop), deadline - ax_loop_now(loop));
    int64_t t0 = lt_clock_ns();
    int64_t now = ax_loop_update_time(loop);
    assert_true(now >= t0);
    ax_duration to = ax_loop_timeout(loop);
    if (to > deadline - t0)
        fail_msg("ax_loop_timeout() = %lld ms after ax_loop_update_time() but the timer is "
                 "due in at most %lld ms",
                 (long long)(to / AX_MSEC(1)), (long long)((deadline - t0) / AX_MSEC(1)));
    assert_int_equal(to, deadline - now);
    assert_true(to > 0);
    /* A host that lets it pass entirely gets 0: step now. */
    lt_sleep_ns(deadline - lt_clock_ns() + AX_MSEC(1));
    ax_loop_update_time(loop);
    assert_int_equal(ax_loop_timeout(loop), 0);
    tu_assert_err(ax_loop_step(loop, 0), 0);
    assert_int_equal(fired, 1);
    lt_loop_free(loop, &ta);
}

/* ---- driving timers and a watcher ------------------------------------ */

typedef struct drive_ctx {
    atomic_int timers_done; /* the thread writes only after this */
    int t5, t15, t30, rep;
    ax_timer rep_h;
    int pipe_w; /* written by a timer */
    int pipe_reads;
    int thread_pipe_reads;
    int64_t start;
} drive_ctx;

static void check_timers_done(drive_ctx *c)
{
    if (c->t30 && c->rep == 3)
        atomic_store(&c->timers_done, 1);
}

static void rep_timer(ax_loop *loop, ax_timer t, void *arg)
{
    drive_ctx *c = arg;
    if (++c->rep == 3)
        tu_ok(ax_timer_stop(loop, t));
    check_timers_done(c);
}

static void last_timer(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    drive_ctx *c = arg;
    c->t30++;
    check_timers_done(c);
}

static void write_timer(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    drive_ctx *c = arg;
    c->t15++;
    lt_write1(c->pipe_w);
}

static void read_io(ax_loop *loop, ax_io *w, int fd, unsigned ev, void *arg)
{
    (void)loop;
    (void)w;
    assert_true(ev & AX_READABLE);
    char b[16];
    ssize_t n;
    while ((n = read(fd, b, sizeof b)) > 0)
        (*(int *)arg) += (int)n;
}

/* Writes to the second pipe once every timer is done, so the outer loop
 * is (or is about to be) asleep with no timeout when the byte arrives. */
typedef struct writer_arg {
    drive_ctx *c;
    int fd;
} writer_arg;

static void *write_later(void *arg)
{
    writer_arg *wa = arg;
    int64_t end = lt_clock_ns() + AX_SEC(20);
    while (!atomic_load(&wa->c->timers_done) && lt_clock_ns() < end)
        lt_sleep_ns(AX_MSEC(1));
    lt_sleep_ns(AX_MSEC(20));
    char ch = 'y';
    ssize_t n = write(wa->fd, &ch, 1);
    return (void *)(intptr_t)n;
}

static int drive_done(void *arg)
{
    drive_ctx *c = arg;
    return c->t5 && c->t15 && c->t30 && c->rep == 3 && c->pipe_reads && c->thread_pipe_reads;
}

static void test_embed_timers_and_io(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = embed_loop_or_skip(&ta);
    int p[2], q[2];
    lt_pipe(p);
    lt_pipe(q);
    drive_ctx c;
    memset(&c, 0, sizeof c);
    atomic_init(&c.timers_done, 0);
    c.pipe_w = p[1];
    ax_io *wp, *wq;
    tu_ok(ax_io_start(loop, p[0], AX_READABLE, read_io, &c.pipe_reads, &wp));
    tu_ok(ax_io_start(loop, q[0], AX_READABLE, read_io, &c.thread_pipe_reads, &wq));
    int64_t base = ax_loop_update_time(loop);
    tu_ok(ax_timer_start(loop, AX_MSEC(5), 0, lt_count_timer, &c.t5, NULL));
    tu_ok(ax_timer_start(loop, AX_MSEC(15), 0, write_timer, &c, NULL));
    tu_ok(ax_timer_start(loop, AX_MSEC(30), 0, last_timer, &c, NULL));
    tu_ok(ax_timer_start(loop, AX_MSEC(10), AX_MSEC(10), rep_timer, &c, &c.rep_h));
    /* Once the timers are done only the watchers remain (AX_FOREVER); the
     * thread's write must then wake the outer poll. */
    pthread_t th;
    writer_arg wa = {&c, q[1]};
    assert_int_equal(pthread_create(&th, NULL, write_later, &wa), 0);
    outer_stats st = {0, 0};
    outer_drive(loop, drive_done, &c, &st);
    void *ret;
    pthread_join(th, &ret);
    assert_int_equal((intptr_t)ret, 1);
    assert_true(ax_loop_now(loop) >= base + AX_MSEC(30)); /* timers were not early */
    assert_int_equal(c.t5, 1);
    assert_int_equal(c.t15, 1);
    assert_int_equal(c.t30, 1);
    assert_int_equal(c.pipe_reads, 1);
    assert_int_equal(c.thread_pipe_reads, 1);
    assert_int_equal(ax_timer_count(loop), 0);
    assert_true(st.forever_waits >= 1);
    /* The outer loop slept between events rather than spinning. */
    assert_true(st.wakeups < 200);
    ax_io_stop(wp);
    ax_io_stop(wq);
    lt_close2(p);
    lt_close2(q);
    lt_loop_free(loop, &ta);
}

/* ---- driving an actor system ----------------------------------------- */

enum { NSRC = 2, PER_SRC = 1000 };

typedef struct seq_state {
    int got[NSRC];
} seq_state;

/* Counts messages per source and checks each source's order. */
static void seq_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)ctx;
    int *got = state;
    assert_int_equal(msg->type, MSG_SEQ);
    assert_int_equal(msg->size, sizeof(seq_msg));
    const seq_msg *m = msg->data;
    assert_true(m->src >= 0 && m->src < NSRC);
    if (m->seq != got[m->src])
        fail_msg("source %d: got seq %d, want %d", m->src, m->seq, got[m->src]);
    got[m->src]++;
}

typedef struct poster {
    ax_system *sys;
    ax_id to;
    int rc;
} poster;

/* Posts PER_SRC messages from source 1 in bursts with pauses, so some
 * arrive while the outer loop sleeps with no timeout at all. */
static void *post_thread(void *arg)
{
    poster *ps = arg;
    for (int i = 0; i < PER_SRC; i++) {
        if (i % 250 == 0)
            lt_sleep_ns(AX_MSEC(20));
        seq_msg m = {1, i};
        int rc = ax_system_post(ps->sys, ax_id_nil(), ps->to, MSG_SEQ, &m, sizeof m);
        if (rc) {
            ps->rc = rc;
            break;
        }
    }
    return NULL;
}

static int got_src0(void *arg)
{
    return ((seq_state *)arg)->got[0] == PER_SRC;
}

static int got_all(void *arg)
{
    seq_state *s = arg;
    return s->got[0] == PER_SRC && s->got[1] == PER_SRC;
}

static void test_embed_actor_system(void **state)
{
    (void)state;
    if (!lt_epoll()) {
        tu_alloc ta;
        ax_loop *loop = lt_loop_new(&ta);
        tu_assert_err(ax_loop_backend_fd(loop), AX_ENOTSUP);
        lt_loop_free(loop, &ta);
        skip();
    }
    lt_mt_alloc ma;
    ax_loop *loop = lt_mt_loop_new(&ma, 0);
    /* A small per-pass budget, so the sends take several turns and the
     * outer loop must see ax_loop_timeout() == 0 in between. */
    ax_system_options so;
    memset(&so, 0, sizeof so);
    so.turn_budget = 100;
    ax_system *sys;
    tu_ok(ax_system_new(loop, &so, &sys));
    tu_ok(ax_msg_register_pod(sys, MSG_SEQ, "seq", sizeof(seq_msg), _Alignof(seq_msg)));
    seq_state s;
    memset(&s, 0, sizeof s);
    ax_id a;
    tu_ok(ax_spawn(sys, seq_receive, s.got, NULL, &a));

    for (int i = 0; i < PER_SRC; i++) {
        seq_msg m = {0, i};
        tu_ok(ax_system_send(sys, ax_id_nil(), a, MSG_SEQ, &m, sizeof m));
    }
    assert_int_equal(ax_loop_timeout(loop), 0);
    outer_stats st = {0, 0};
    outer_drive(loop, got_src0, &s, &st);
    assert_true(st.wakeups >= PER_SRC / 100); /* one pass per 100 messages */

    /* Now only the other thread's posts can wake it.  The hold keeps the
     * loop "alive" the documented way while posts may still arrive. */
    ax_loop_ref(loop);
    poster ps = {sys, a, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, post_thread, &ps), 0);
    outer_drive(loop, got_all, &s, &st);
    pthread_join(th, NULL);
    tu_ok(ps.rc);
    ax_loop_unref(loop);
    assert_true(st.forever_waits >= 1);

    ax_stats stats;
    ax_system_stats(sys, &stats);
    assert_int_equal(stats.delivered, 2 * PER_SRC);
    assert_int_equal(stats.posted, PER_SRC);
    assert_int_equal(stats.dead_letters, 0);
    lt_mt_loop_free(loop, sys, &ma);
}

static const struct CMUnitTest tests[] = {
    LT_TEST(test_backend_fd),
    LT_TEST(test_timeout_values),
    LT_TEST(test_timeout_after_host_work),
    LT_TEST(test_embed_timers_and_io),
    LT_TEST(test_embed_actor_system),
};

LT_MAIN("embed", tests)
