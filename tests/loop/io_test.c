/* io_test.c - fd watchers: readable/writable on pipes and socketpairs,
 * pause/resume (including on a hung-up fd: no callbacks, no busy spin),
 * stopping or pausing a watcher from a callback (its own, or another whose
 * event was collected in the same turn), hang-up, argument checks, regular
 * files per backend, allocation failure.  Runs once per backend (argv[1]);
 * see looptest.h. */
#include <errno.h>
#include <stdlib.h>

#include "looptest.h"

/* Records every callback; optionally reads what is readable. */
typedef struct io_rec {
    int calls;
    unsigned last;  /* events of the last call */
    unsigned all;   /* union of all calls */
    int drain;      /* read everything on READABLE */
    int pause_self; /* ax_io_update(w, 0) on the first call */
    int stop_self;  /* ax_io_stop(w) on the first call */
    int saw_eof;    /* a read returned 0 */
    char buf[64];
    size_t nread;
} io_rec;

static void rec_io(ax_loop *loop, ax_io *w, int fd, unsigned ev, void *arg)
{
    (void)loop;
    io_rec *r = arg;
    r->calls++;
    r->last = ev;
    r->all |= ev;
    if (r->drain && (ev & AX_READABLE)) {
        for (;;) {
            ssize_t n = read(fd, r->buf + r->nread, sizeof r->buf - r->nread);
            if (n == 0)
                r->saw_eof = 1;
            if (n <= 0)
                break;
            r->nread += (size_t)n;
            if (r->nread == sizeof r->buf)
                break;
        }
    }
    if (r->pause_self && r->calls == 1)
        tu_ok(ax_io_update(w, 0));
    if (r->stop_self && r->calls == 1)
        ax_io_stop(w);
}

static int rec_called(void *arg)
{
    return ((io_rec *)arg)->calls > 0;
}

static void count_timer(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    (*(int *)arg)++;
}

/* ---- readable / writable --------------------------------------------- */

static void test_pipe_readable(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int p[2];
    lt_pipe(p);
    io_rec r = {0};
    r.drain = 1;
    ax_io *w;
    tu_ok(ax_io_start(loop, p[0], AX_READABLE, rec_io, &r, &w));
    /* Nothing written yet: no callback, but the watcher keeps it alive. */
    tu_assert_err(ax_loop_step(loop, 0), 1);
    assert_int_equal(r.calls, 0);
    assert_int_equal(write(p[1], "abc", 3), 3);
    tu_run_until(loop, rec_called, &r, 5000);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.last, AX_READABLE);
    assert_int_equal(r.nread, 3);
    assert_memory_equal(r.buf, "abc", 3);
    /* Drained: level-triggered, so no further callback until more data. */
    tu_assert_err(ax_loop_step(loop, 0), 1);
    assert_int_equal(r.calls, 1);
    ax_io_stop(w);
    tu_assert_err(ax_loop_step(loop, 0), 0);
    lt_loop_free(loop, &ta);
    lt_close2(p);
}

static void test_pipe_writable(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int p[2];
    lt_pipe(p);
    io_rec r = {0};
    r.stop_self = 1;
    ax_io *w;
    tu_ok(ax_io_start(loop, p[1], AX_WRITABLE, rec_io, &r, &w));
    tu_ok(ax_loop_run(loop)); /* ends once the watcher stopped itself */
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.last, AX_WRITABLE);
    lt_loop_free(loop, &ta);
    lt_close2(p);
}

/* A socketpair watched for both: writable at once, readable only once the
 * peer wrote, and switching the mask from a callback takes effect. */
typedef struct sock_ctx {
    int calls;
    unsigned ev[8];
} sock_ctx;

static void sock_io(ax_loop *loop, ax_io *w, int fd, unsigned ev, void *arg)
{
    (void)loop;
    sock_ctx *c = arg;
    if (c->calls < 8)
        c->ev[c->calls] = ev;
    c->calls++;
    if (ev & AX_READABLE) {
        char b[16];
        while (read(fd, b, sizeof b) > 0)
            ;
    }
    if (c->calls == 1)
        tu_ok(ax_io_update(w, AX_READABLE)); /* done writing: stop asking */
}

static void test_socketpair_events(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int s[2];
    lt_socketpair(s);
    sock_ctx c = {0};
    ax_io *w;
    tu_ok(ax_io_start(loop, s[0], AX_READABLE | AX_WRITABLE, sock_io, &c, &w));
    tu_assert_err(ax_loop_step(loop, 0), 1);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.ev[0], AX_WRITABLE);
    /* Now only READABLE is watched and nothing is readable. */
    for (int i = 0; i < 3; i++)
        tu_assert_err(ax_loop_step(loop, 0), 1);
    assert_int_equal(c.calls, 1);
    lt_write1(s[1]);
    tu_assert_err(ax_loop_step(loop, AX_SEC(5)), 1);
    assert_int_equal(c.calls, 2);
    assert_int_equal(c.ev[1], AX_READABLE);
    ax_io_stop(w);
    lt_loop_free(loop, &ta);
    lt_close2(s);
}

/* ---- pause / resume -------------------------------------------------- */

static void test_update_pause_resume(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int p[2];
    lt_pipe(p);
    lt_write1(p[1]);
    io_rec r = {0};
    ax_io *w;
    tu_ok(ax_io_start(loop, p[0], AX_READABLE, rec_io, &r, &w));
    tu_ok(ax_io_update(w, 0));
    tu_ok(ax_io_update(w, 0)); /* idempotent */
    /* Paused with data pending: no callbacks, and the loop is idle. */
    tu_assert_err(ax_loop_step(loop, 0), 0);
    tu_assert_err(ax_loop_step(loop, AX_FOREVER), 0);
    tu_ok(ax_loop_run(loop));
    assert_int_equal(r.calls, 0);
    tu_ok(ax_io_update(w, AX_READABLE));
    tu_assert_err(ax_loop_step(loop, AX_SEC(5)), 1);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.last, AX_READABLE);
    /* Pause and resume again, this time through the other mask. */
    tu_ok(ax_io_update(w, 0));
    tu_ok(ax_io_update(w, AX_READABLE | AX_WRITABLE));
    tu_assert_err(ax_loop_step(loop, AX_SEC(5)), 1);
    assert_int_equal(r.calls, 2);
    ax_io_stop(w);
    lt_loop_free(loop, &ta);
    lt_close2(p);
}

/* Step with AX_FOREVER until the timer fires and return how many steps
 * that took.  A watcher that spins (an fd reported ready over and over)
 * shows up as many steps; a sleeping loop needs one or two. */
static int steps_until_timer(ax_loop *loop, ax_duration delay)
{
    int fired = 0, steps = 0;
    tu_ok(ax_timer_start(loop, delay, 0, count_timer, &fired, NULL));
    while (!fired) {
        assert_true(ax_loop_step(loop, AX_FOREVER) >= 0);
        assert_true(++steps < 1000000);
    }
    return steps;
}

/* epoll reports hang-ups even for an empty event mask; a paused watcher
 * on a hung-up fd must neither get callbacks nor make the loop spin. */
static void test_pause_hungup_no_spin(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int p[2];
    lt_pipe(p);
    close(p[1]);
    p[1] = -1;
    io_rec r = {0};
    r.drain = 1;
    ax_io *w;
    tu_ok(ax_io_start(loop, p[0], AX_READABLE, rec_io, &r, &w));
    tu_assert_err(ax_loop_step(loop, AX_SEC(5)), 1);
    assert_int_equal(r.calls, 1);
    tu_ok(ax_io_update(w, 0));
    int steps = steps_until_timer(loop, AX_MSEC(50));
    assert_int_equal(r.calls, 1);
    assert_true(steps <= 5);

    /* Paused from its own callback: same. */
    io_rec r2 = {0};
    r2.pause_self = 1;
    ax_io_stop(w);
    tu_ok(ax_io_start(loop, p[0], AX_READABLE, rec_io, &r2, &w));
    steps = steps_until_timer(loop, AX_MSEC(50));
    assert_int_equal(r2.calls, 1);
    assert_true(steps <= 5);
    ax_io_stop(w);
    lt_loop_free(loop, &ta);
    lt_close2(p);
}

/* ---- stop / pause from callbacks ------------------------------------- */

static void test_stop_self_in_callback(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int p[2];
    lt_pipe(p);
    lt_write1(p[1]); /* never read: it would fire every turn */
    io_rec r = {0};
    r.stop_self = 1;
    ax_io *w;
    tu_ok(ax_io_start(loop, p[0], AX_READABLE, rec_io, &r, &w));
    tu_ok(ax_loop_run(loop));
    assert_int_equal(r.calls, 1);
    /* The fd is free to be watched again. */
    io_rec r2 = {0};
    r2.stop_self = 1;
    tu_ok(ax_io_start(loop, p[0], AX_READABLE, rec_io, &r2, &w));
    tu_ok(ax_loop_run(loop));
    assert_int_equal(r2.calls, 1);
    lt_loop_free(loop, &ta);
    lt_close2(p);
}

/* Two watchers whose events are collected in the same turn; the first
 * callback to run acts on the other one. */
enum { PAIR_STOP, PAIR_STOP_REUSE, PAIR_PAUSE };

typedef struct pair_ctx pair_ctx;
typedef struct pair_side {
    pair_ctx *p;
    int i;
} pair_side;

struct pair_ctx {
    int mode;
    int fds[2];
    ax_io *w[2];
    pair_side side[2];
    int calls[2];
    int acted;
    int rc;
    ax_io *repl;
    io_rec repl_rec;
};

static void pair_io(ax_loop *loop, ax_io *w, int fd, unsigned ev, void *arg)
{
    (void)w;
    (void)fd;
    (void)ev;
    pair_side *s = arg;
    pair_ctx *p = s->p;
    int o = 1 - s->i;
    p->calls[s->i]++;
    if (p->acted)
        return;
    p->acted = 1;
    switch (p->mode) {
    case PAIR_STOP:
        ax_io_stop(p->w[o]);
        p->w[o] = NULL;
        break;
    case PAIR_STOP_REUSE:
        /* The new watcher takes the freed slot and the same fd: the event
         * collected for the old one must not reach it. */
        ax_io_stop(p->w[o]);
        p->w[o] = NULL;
        p->rc = ax_io_start(loop, p->fds[o], AX_READABLE, rec_io, &p->repl_rec, &p->repl);
        break;
    case PAIR_PAUSE:
        p->rc = ax_io_update(p->w[o], 0);
        break;
    }
}

/* Runs one pair scenario on two pipes; `hangup` closes the write ends
 * instead of writing, so the collected events are hang-ups. */
static void run_pair(int mode, int hangup)
{
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int a[2], b[2];
    lt_pipe(a);
    lt_pipe(b);
    pair_ctx p;
    memset(&p, 0, sizeof p);
    p.mode = mode;
    p.fds[0] = a[0];
    p.fds[1] = b[0];
    for (int i = 0; i < 2; i++) {
        p.side[i] = (pair_side){&p, i};
        tu_ok(ax_io_start(loop, p.fds[i], AX_READABLE, pair_io, &p.side[i], &p.w[i]));
    }
    if (hangup) {
        close(a[1]);
        close(b[1]);
        a[1] = b[1] = -1;
    } else {
        lt_write1(a[1]);
        lt_write1(b[1]);
    }
    /* Both are ready before the turn, so one wait collects both. */
    tu_assert_err(ax_loop_step(loop, 0), 1);
    tu_ok(p.rc);
    if (p.calls[0] + p.calls[1] != 1) {
        /* Clean up first so the sanitizer run reports the bug, not leaks. */
        int c0 = p.calls[0], c1 = p.calls[1];
        ax_io_stop(p.w[0]);
        ax_io_stop(p.w[1]);
        ax_io_stop(p.repl);
        ax_loop_free(loop);
        lt_close2(a);
        lt_close2(b);
        fail_msg("%s: %d and %d callbacks in the turn; the %s watcher's must not run",
                 mode == PAIR_PAUSE ? "pause" : "stop", c0, c1,
                 mode == PAIR_PAUSE ? "paused" : "stopped");
    }
    int first = p.calls[0] ? 0 : 1;
    if (mode == PAIR_STOP_REUSE)
        assert_int_equal(p.repl_rec.calls, 0);
    /* Later turns: the survivor goes on (nothing reads), the other never. */
    for (int i = 0; i < 3; i++)
        tu_assert_err(ax_loop_step(loop, 0), 1);
    assert_int_equal(p.calls[1 - first], 0);
    assert_int_equal(p.calls[first], 4);
    if (mode == PAIR_STOP_REUSE) {
        assert_int_equal(p.repl_rec.calls, 3); /* from the next turn on */
        ax_io_stop(p.repl);
    }
    for (int i = 0; i < 2; i++)
        if (p.w[i])
            ax_io_stop(p.w[i]);
    lt_loop_free(loop, &ta);
    lt_close2(a);
    lt_close2(b);
}

static void test_stop_other_same_turn(void **state)
{
    (void)state;
    run_pair(PAIR_STOP, 0);
    run_pair(PAIR_STOP, 1);
}

static void test_stop_other_reuse_same_turn(void **state)
{
    (void)state;
    run_pair(PAIR_STOP_REUSE, 0);
    run_pair(PAIR_STOP_REUSE, 1);
}

static void test_pause_other_same_turn(void **state)
{
    (void)state;
    run_pair(PAIR_PAUSE, 0);
}

/* As above, but the collected events are hang-ups (AX_IOERR): a watcher
 * paused earlier in the turn must not get them either. */
static void test_pause_other_hungup_same_turn(void **state)
{
    (void)state;
    run_pair(PAIR_PAUSE, 1);
}

/* Timers run after the wait and before I/O dispatch, so a timer can stop
 * or pause a watcher whose event was already collected in that turn: its
 * callback must not run either way. */
typedef struct timer_vs_io {
    ax_io *w;
    int pause; /* pause instead of stop */
    int rc;
} timer_vs_io;

static void stop_watcher_timer(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    timer_vs_io *c = arg;
    if (c->pause) {
        c->rc = ax_io_update(c->w, 0);
    } else {
        ax_io_stop(c->w);
        c->w = NULL;
    }
}

static void run_timer_vs_io(int pause, int hangup)
{
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int p[2];
    lt_pipe(p);
    if (hangup) {
        close(p[1]);
        p[1] = -1;
    } else {
        lt_write1(p[1]);
    }
    io_rec r = {0};
    timer_vs_io c = {NULL, pause, 0};
    tu_ok(ax_io_start(loop, p[0], AX_READABLE, rec_io, &r, &c.w));
    tu_ok(ax_timer_start(loop, 0, 0, stop_watcher_timer, &c, NULL));
    tu_assert_err(ax_loop_step(loop, 0), 0); /* stopped or paused: idle */
    tu_ok(c.rc);
    if (c.w)
        ax_io_stop(c.w);
    if (r.calls != 0) {
        ax_loop_free(loop); /* clean up first: report the bug, not leaks */
        lt_close2(p);
        fail_msg("watcher %s by a timer in the same turn got a callback (events %u)",
                 pause ? "paused" : "stopped", r.last);
    }
    lt_loop_free(loop, &ta);
    lt_close2(p);
}

static void test_timer_stops_ready_watcher(void **state)
{
    (void)state;
    run_timer_vs_io(0, 0);
    run_timer_vs_io(0, 1);
    run_timer_vs_io(1, 0);
}

/* The same with a hang-up collected for the watcher the timer pauses. */
static void test_timer_pauses_hungup_watcher(void **state)
{
    (void)state;
    run_timer_vs_io(1, 1);
}

/* ---- hang-up --------------------------------------------------------- */

static void test_hangup_pipe(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int p[2];
    lt_pipe(p);
    /* No data, writer gone: the poller reports only a hang-up (EPOLLHUP /
     * POLLHUP), yet the owner asked for READABLE and must be told to read
     * so that it sees EOF. */
    close(p[1]);
    p[1] = -1;
    io_rec r0 = {0};
    r0.drain = 1;
    ax_io *w;
    tu_ok(ax_io_start(loop, p[0], AX_READABLE, rec_io, &r0, &w));
    tu_run_until(loop, rec_called, &r0, 5000);
    assert_true(r0.last & AX_READABLE);
    assert_int_equal(r0.nread, 0);
    assert_true(r0.saw_eof);
    ax_io_stop(w);
    lt_close2(p);

    lt_pipe(p);
    assert_int_equal(write(p[1], "xyz", 3), 3);
    close(p[1]);
    p[1] = -1;
    io_rec r = {0};
    r.drain = 1;
    tu_ok(ax_io_start(loop, p[0], AX_READABLE, rec_io, &r, &w));
    tu_run_until(loop, rec_called, &r, 5000);
    /* The data written before the close comes first, then EOF; READABLE
     * is reported (maybe with AX_IOERR) so the owner's read sees both. */
    assert_true(r.last & AX_READABLE);
    assert_int_equal(r.nread, 3);
    assert_memory_equal(r.buf, "xyz", 3);
    assert_true(r.saw_eof);
    ax_io_stop(w);
    lt_loop_free(loop, &ta);
    lt_close2(p);
}

static void test_hangup_socketpair(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int s[2];
    lt_socketpair(s);
    io_rec r = {0};
    r.drain = 1;
    ax_io *w;
    tu_ok(ax_io_start(loop, s[0], AX_READABLE, rec_io, &r, &w));
    tu_assert_err(ax_loop_step(loop, 0), 1);
    assert_int_equal(r.calls, 0);
    close(s[1]);
    s[1] = -1;
    tu_run_until(loop, rec_called, &r, 5000);
    assert_true(r.last & AX_READABLE);
    assert_true(r.saw_eof);
    ax_io_stop(w);

    /* A writer learns of the peer's close as WRITABLE and/or AX_IOERR;
     * its write then fails with EPIPE. */
    io_rec rw = {0};
    tu_ok(ax_io_start(loop, s[0], AX_WRITABLE, rec_io, &rw, &w));
    tu_run_until(loop, rec_called, &rw, 5000);
    assert_true(rw.last & (AX_WRITABLE | AX_IOERR));
    assert_true(rw.last & AX_WRITABLE); /* the owner is told to try its write */
    char c = 'x';
    assert_int_equal(write(s[0], &c, 1), -1);
    assert_int_equal(errno, EPIPE);
    ax_io_stop(w);
    lt_loop_free(loop, &ta);
    lt_close2(s);
}

/* ---- errors ---------------------------------------------------------- */

static void test_same_fd_twice(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int p[2];
    lt_pipe(p);
    io_rec r = {0};
    ax_io *w, *w2 = NULL;
    tu_ok(ax_io_start(loop, p[0], AX_READABLE, rec_io, &r, &w));
    tu_assert_err(ax_io_start(loop, p[0], AX_READABLE, rec_io, &r, &w2), AX_EEXIST);
    tu_assert_err(ax_io_start(loop, p[0], AX_WRITABLE, rec_io, &r, &w2), AX_EEXIST);
    tu_assert_err(ax_io_start(loop, p[0], 0, rec_io, &r, &w2), AX_EEXIST);
    /* Paused still counts as watched. */
    tu_ok(ax_io_update(w, 0));
    tu_assert_err(ax_io_start(loop, p[0], AX_READABLE, rec_io, &r, &w2), AX_EEXIST);
    ax_io_stop(w);
    tu_ok(ax_io_start(loop, p[0], AX_READABLE, rec_io, &r, &w2));
    ax_io_stop(w2);
    lt_loop_free(loop, &ta);
    lt_close2(p);
}

static void test_invalid_args(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int p[2];
    lt_pipe(p);
    io_rec r = {0};
    ax_io *w = NULL;
    tu_assert_err(ax_io_start(NULL, p[0], AX_READABLE, rec_io, &r, &w), AX_EINVAL);
    tu_assert_err(ax_io_start(loop, -1, AX_READABLE, rec_io, &r, &w), AX_EINVAL);
    tu_assert_err(ax_io_start(loop, p[0], AX_READABLE, NULL, &r, &w), AX_EINVAL);
    tu_assert_err(ax_io_start(loop, p[0], AX_READABLE, rec_io, &r, NULL), AX_EINVAL);
    /* AX_IOERR is reported, never requested; unknown bits are refused. */
    tu_assert_err(ax_io_start(loop, p[0], AX_IOERR, rec_io, &r, &w), AX_EINVAL);
    tu_assert_err(ax_io_start(loop, p[0], AX_READABLE | 8u, rec_io, &r, &w), AX_EINVAL);
    /* None of that left the fd marked as watched. */
    tu_ok(ax_io_start(loop, p[0], AX_READABLE, rec_io, &r, &w));
    tu_assert_err(ax_io_update(NULL, AX_READABLE), AX_EINVAL);
    tu_assert_err(ax_io_update(w, AX_IOERR), AX_EINVAL);
    tu_assert_err(ax_io_update(w, 0x10u), AX_EINVAL);
    ax_io_stop(NULL); /* a no-op */
    ax_io_stop(w);
    lt_loop_free(loop, &ta);
    lt_close2(p);
}

/* epoll cannot watch regular files (EPERM), reported as AX_EBADF.  poll()
 * accepts them and reports them always ready, so the poll backend starts
 * the watcher and calls it back READABLE: both are per-backend facts. */
static void test_regular_file(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    char path[] = "/tmp/axon_looptest_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    io_rec r = {0};
    r.stop_self = 1;
    ax_io *w = NULL;
    if (lt_epoll()) {
        tu_assert_err(ax_io_start(loop, fd, AX_READABLE, rec_io, &r, &w), AX_EBADF);
        /* The failed start was rolled back: same answer, not AX_EEXIST. */
        tu_assert_err(ax_io_start(loop, fd, AX_READABLE, rec_io, &r, &w), AX_EBADF);
        tu_assert_err(ax_loop_step(loop, 0), 0);
    } else {
        tu_ok(ax_io_start(loop, fd, AX_READABLE, rec_io, &r, &w));
        tu_ok(ax_loop_run(loop));
        assert_int_equal(r.calls, 1);
        assert_true(r.last & AX_READABLE);
    }
    lt_loop_free(loop, &ta);
    close(fd);
}

/* A watcher may start with no events: it is attached but neither
 * registered nor keeping the loop alive until it is given some. */
static void test_start_with_no_events(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int p[2];
    lt_pipe(p);
    lt_write1(p[1]);
    io_rec r = {0};
    r.drain = 1;
    ax_io *w;
    tu_ok(ax_io_start(loop, p[0], 0, rec_io, &r, &w));
    tu_assert_err(ax_loop_step(loop, 0), 0);
    assert_int_equal(r.calls, 0);
    tu_assert_err(ax_loop_free(loop), AX_EBUSY);
    tu_ok(ax_io_update(w, AX_READABLE));
    tu_assert_err(ax_loop_step(loop, AX_SEC(5)), 1);
    assert_int_equal(r.calls, 1);
    ax_io_stop(w);
    lt_loop_free(loop, &ta);
    lt_close2(p);
}

/* ---- many watchers --------------------------------------------------- */

enum { NPIPES = 64 };

/* Stop and pause random watchers among 64 (the poll backend moves entries
 * in its array on every removal) and check that exactly the live, resumed
 * ones hear about their own fd. */
static void test_many_watchers(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    int p[NPIPES][2];
    io_rec r[NPIPES];
    ax_io *w[NPIPES];
    uint32_t perm[NPIPES];
    memset(r, 0, sizeof r);
    for (int i = 0; i < NPIPES; i++) {
        lt_pipe(p[i]);
        r[i].drain = 1;
        tu_ok(ax_io_start(loop, p[i][0], AX_READABLE, rec_io, &r[i], &w[i]));
    }
    uint64_t rng = 7;
    for (uint32_t i = 0; i < NPIPES; i++)
        perm[i] = i;
    for (uint32_t i = NPIPES - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(lt_rand(&rng) % (i + 1));
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    /* perm[0..24) stopped, [24..40) paused, [40..48) paused then resumed. */
    for (int k = 0; k < 24; k++) {
        ax_io_stop(w[perm[k]]);
        w[perm[k]] = NULL;
    }
    for (int k = 24; k < 48; k++)
        tu_ok(ax_io_update(w[perm[k]], 0));
    for (int k = 40; k < 48; k++)
        tu_ok(ax_io_update(w[perm[k]], AX_READABLE));
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < NPIPES; i++)
            lt_write1(p[i][1]);
        for (int s = 0; s < 5; s++)
            tu_assert_err(ax_loop_step(loop, AX_MSEC(5)), 1);
        for (int k = 0; k < NPIPES; k++) {
            int i = (int)perm[k];
            /* perm[40..64): live all along, or paused and resumed. */
            if (k >= 40)
                assert_int_equal(r[i].nread, (size_t)round + 1); /* its own byte only */
            else
                assert_int_equal(r[i].calls, 0);
        }
    }
    for (int i = 0; i < NPIPES; i++) {
        if (w[i])
            ax_io_stop(w[i]);
        lt_close2(p[i]);
    }
    lt_loop_free(loop, &ta);
}

/* ---- allocation failure ---------------------------------------------- */

/* Fail allocation N (after loop creation) while starting watchers on 21
 * fds, one of them numbered above 300 (so the fd map grows too): the
 * failing start returns AX_ENOMEM and is fully undone (retrying the same
 * fd succeeds), the watchers work, and nothing leaks. */
static void test_start_enomem(void **state)
{
    (void)state;
    enum { NP = 10, NFD = 2 * NP + 1 };
    int p[NP][2];
    int fds[NFD];
    for (int i = 0; i < NP; i++) {
        lt_pipe(p[i]);
        fds[2 * i] = p[i][0];
        fds[2 * i + 1] = p[i][1];
    }
    fds[NFD - 1] = fcntl(p[0][0], F_DUPFD_CLOEXEC, 300);
    assert_true(fds[NFD - 1] >= 300);
    for (uint64_t n = 1;; n++) {
        assert_true(n < 200);
        tu_alloc ta;
        ax_loop *loop = lt_loop_new(&ta);
        ta.fail_at = ta.allocs + ta.reallocs + n;
        io_rec r[NFD];
        ax_io *w[NFD];
        memset(r, 0, sizeof r);
        int failures = 0;
        for (int i = 0; i < NFD; i++) {
            int rc = ax_io_start(loop, fds[i], AX_WRITABLE, rec_io, &r[i], &w[i]);
            if (rc != 0) {
                tu_assert_err(rc, AX_ENOMEM);
                failures++;
                ta.fail_at = 0;
                tu_ok(ax_io_start(loop, fds[i], AX_WRITABLE, rec_io, &r[i], &w[i]));
            }
        }
        ta.fail_at = 0;
        tu_assert_err(ax_loop_step(loop, AX_SEC(5)), 1);
        /* Pipe write ends are writable; read ends never are. */
        for (int i = 0; i < NP; i++) {
            assert_int_equal(r[2 * i].calls, 0);
            assert_int_equal(r[2 * i + 1].calls, 1);
        }
        for (int i = 0; i < NFD; i++)
            ax_io_stop(w[i]);
        lt_loop_free(loop, &ta);
        if (failures == 0)
            break;
    }
    close(fds[NFD - 1]);
    for (int i = 0; i < NP; i++)
        lt_close2(p[i]);
}

static const struct CMUnitTest tests[] = {
    LT_TEST(test_pipe_readable),
    LT_TEST(test_pipe_writable),
    LT_TEST(test_socketpair_events),
    LT_TEST(test_update_pause_resume),
    LT_TEST(test_pause_hungup_no_spin),
    LT_TEST(test_stop_self_in_callback),
    LT_TEST(test_stop_other_same_turn),
    LT_TEST(test_stop_other_reuse_same_turn),
    LT_TEST(test_pause_other_same_turn),
    LT_TEST(test_pause_other_hungup_same_turn),
    LT_TEST(test_timer_stops_ready_watcher),
    LT_TEST(test_timer_pauses_hungup_watcher),
    LT_TEST(test_hangup_pipe),
    LT_TEST(test_hangup_socketpair),
    LT_TEST(test_same_fd_twice),
    LT_TEST(test_invalid_args),
    LT_TEST(test_regular_file),
    LT_TEST(test_start_with_no_events),
    LT_TEST(test_many_watchers),
    LT_TEST(test_start_enomem),
};

LT_MAIN("io", tests)
