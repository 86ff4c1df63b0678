/* io_test.c - fd watchers: readable/writable on pipes and socketpairs,
 * pause/resume (including on a hung-up fd: no callbacks, no busy spin),
 * stopping or pausing a watcher from a callback (its own, or another whose
 * event was collected in the same turn), hang-up, argument checks, regular
 * files per backend, allocation failure.  Runs once per backend (argv[1]);
 * see looptest.h. */
#include <errno.h>
#include <stdlib.h>

#include "looptest.h"

/* How long a test waits for a callback it expects before failing. */
enum { WAIT_MS = 5000 };

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

/* ---- fixture and shared steps ----------------------------------------- */

/* What most tests start from: a loop on the backend under test with the
 * leak-checking allocator, and one non-blocking fd pair whose [0] end is
 * the one watched.  Lives on the test's stack and is never copied (the
 * allocator points into it). */
typedef struct fx {
    tu_alloc ta;
    ax_loop *loop;
    int fd[2];
} fx;

enum { FX_PIPE, FX_SOCKETPAIR };

static void fx_open(fx *f, int kind)
{
    f->loop = lt_loop_new(&f->ta);
    if (kind == FX_SOCKETPAIR)
        lt_socketpair(f->fd);
    else
        lt_pipe(f->fd);
}

/* Stops `w` (NULL: nothing left to stop), frees the loop checking that
 * every block came back, and closes whatever fds are still open. */
static void fx_close(fx *f, ax_io *w)
{
    if (w)
        ax_io_stop(w);
    lt_loop_free(f->loop, &f->ta);
    lt_close2(f->fd);
}

/* The cleanup of a check about to fail: free the loop without the leak
 * check and close the fds, so the sanitizer run reports the bug, not leaks.
 * The caller has stopped its watchers. */
static void fx_abandon(fx *f)
{
    ax_loop_free(f->loop);
    lt_close2(f->fd);
}

/* Closes the write end, so the read end sees a hang-up. */
static void hang_up(int fds[2])
{
    close(fds[1]);
    fds[1] = -1;
}

/* Makes the read end of `fds` ready: one byte to read, or a hang-up. */
static void make_ready(int fds[2], int hangup)
{
    if (hangup)
        hang_up(fds);
    else
        lt_write1(fds[1]);
}

static void send_str(int fd, const char *s)
{
    size_t n = strlen(s);
    if (n > 0)
        assert_int_equal(write(fd, s, n), n);
}

/* Watches `fd` with the recorder `r`; the start must succeed. */
static ax_io *watch(ax_loop *loop, int fd, unsigned ev, io_rec *r)
{
    ax_io *w = NULL;
    tu_ok(ax_io_start(loop, fd, ev, rec_io, r, &w));
    return w;
}

/* A start on `fd` for `ev` must fail with `want`. */
static void start_fails(ax_loop *loop, int fd, unsigned ev, int want)
{
    io_rec r = {0};
    ax_io *w = NULL;
    int rc = ax_io_start(loop, fd, ev, rec_io, &r, &w);
    if (rc != want)
        fail_msg("ax_io_start(fd %d, events %#x) returned %s (%d), want %s (%d)", fd, ev,
                 ax_errname(rc), rc, ax_errname(want), want);
}

/* One turn waiting at most `wait`: it must return `rc` (1: something
 * still keeps the loop alive, 0: idle) and leave the count at `calls`. */
static void step_expect(ax_loop *loop, ax_duration wait, int rc, const int *count, int calls)
{
    tu_assert_err(ax_loop_step(loop, wait), rc);
    assert_int_equal(*count, calls);
}

/* Opens `f` and watches its fd[0] for READABLE with `r`, which drains.
 * Nothing is ready yet: a turn makes no callback, but the watcher keeps
 * the loop alive. */
static ax_io *open_idle_reader(fx *f, int kind, io_rec *r)
{
    fx_open(f, kind);
    r->drain = 1;
    ax_io *w = watch(f->loop, f->fd[0], AX_READABLE, r);
    step_expect(f->loop, 0, 1, &r->calls, 0);
    return w;
}

/* Watches `fd` with a recorder that stops itself on its first callback and
 * runs the loop, which ends once the watcher is gone; exactly one callback.
 * Returns the record so the caller can check the events. */
static io_rec run_stop_self(ax_loop *loop, int fd, unsigned ev)
{
    io_rec r = {.stop_self = 1};
    watch(loop, fd, ev, &r);
    tu_ok(ax_loop_run(loop));
    assert_int_equal(r.calls, 1);
    return r;
}

/* Steps until `r` is called back, then checks it was told READABLE and
 * that its reads found `data` (possibly "") and then EOF. */
static void expect_data_then_eof(ax_loop *loop, io_rec *r, const char *data)
{
    tu_run_until(loop, rec_called, r, WAIT_MS);
    assert_true(r->last & AX_READABLE);
    assert_int_equal(r->nread, strlen(data));
    assert_memory_equal(r->buf, data, strlen(data));
    assert_true(r->saw_eof);
}

/* ---- readable / writable --------------------------------------------- */

static void test_pipe_readable(void **state)
{
    (void)state;
    fx f;
    io_rec r = {0};
    ax_io *w = open_idle_reader(&f, FX_PIPE, &r);
    send_str(f.fd[1], "abc");
    tu_run_until(f.loop, rec_called, &r, WAIT_MS);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.last, AX_READABLE);
    assert_int_equal(r.nread, 3);
    assert_memory_equal(r.buf, "abc", 3);
    /* Drained: level-triggered, so no further callback until more data. */
    step_expect(f.loop, 0, 1, &r.calls, 1);
    ax_io_stop(w);
    tu_assert_err(ax_loop_step(f.loop, 0), 0);
    fx_close(&f, NULL);
}

static void test_pipe_writable(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, FX_PIPE);
    io_rec r = run_stop_self(f.loop, f.fd[1], AX_WRITABLE);
    assert_int_equal(r.last, AX_WRITABLE);
    fx_close(&f, NULL);
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
    fx f;
    fx_open(&f, FX_SOCKETPAIR);
    sock_ctx c = {0};
    ax_io *w;
    tu_ok(ax_io_start(f.loop, f.fd[0], AX_READABLE | AX_WRITABLE, sock_io, &c, &w));
    step_expect(f.loop, 0, 1, &c.calls, 1);
    assert_int_equal(c.ev[0], AX_WRITABLE);
    /* Now only READABLE is watched and nothing is readable. */
    for (int i = 0; i < 3; i++)
        step_expect(f.loop, 0, 1, &c.calls, 1);
    lt_write1(f.fd[1]);
    step_expect(f.loop, AX_SEC(5), 1, &c.calls, 2);
    assert_int_equal(c.ev[1], AX_READABLE);
    fx_close(&f, w);
}

/* ---- pause / resume -------------------------------------------------- */

static void test_update_pause_resume(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, FX_PIPE);
    lt_write1(f.fd[1]);
    io_rec r = {0};
    ax_io *w = watch(f.loop, f.fd[0], AX_READABLE, &r);
    tu_ok(ax_io_update(w, 0));
    tu_ok(ax_io_update(w, 0)); /* idempotent */
    /* Paused with data pending: no callbacks, and the loop is idle. */
    tu_assert_err(ax_loop_step(f.loop, 0), 0);
    tu_assert_err(ax_loop_step(f.loop, AX_FOREVER), 0);
    tu_ok(ax_loop_run(f.loop));
    assert_int_equal(r.calls, 0);
    tu_ok(ax_io_update(w, AX_READABLE));
    step_expect(f.loop, AX_SEC(5), 1, &r.calls, 1);
    assert_int_equal(r.last, AX_READABLE);
    /* Pause and resume again, this time through the other mask. */
    tu_ok(ax_io_update(w, 0));
    tu_ok(ax_io_update(w, AX_READABLE | AX_WRITABLE));
    step_expect(f.loop, AX_SEC(5), 1, &r.calls, 2);
    fx_close(&f, w);
}

/* Steps with AX_FOREVER until a 50 ms timer fires.  A watcher that spins
 * (an fd reported ready over and over) shows up as many steps; a sleeping
 * loop needs one or two.  `r` must have had exactly one callback by then. */
static void expect_no_spin(ax_loop *loop, const io_rec *r)
{
    int fired = 0, steps = 0;
    tu_ok(ax_timer_start(loop, AX_MSEC(50), 0, lt_count_timer, &fired, NULL));
    while (!fired) {
        assert_true(ax_loop_step(loop, AX_FOREVER) >= 0);
        assert_true(++steps < 1000000);
    }
    assert_int_equal(r->calls, 1);
    assert_true(steps <= 5);
}

/* epoll reports hang-ups even for an empty event mask; a paused watcher
 * on a hung-up fd must neither get callbacks nor make the loop spin. */
static void test_pause_hungup_no_spin(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, FX_PIPE);
    hang_up(f.fd);
    io_rec r = {.drain = 1};
    ax_io *w = watch(f.loop, f.fd[0], AX_READABLE, &r);
    step_expect(f.loop, AX_SEC(5), 1, &r.calls, 1);
    tu_ok(ax_io_update(w, 0));
    expect_no_spin(f.loop, &r);

    /* Paused from its own callback: same. */
    io_rec r2 = {.pause_self = 1};
    ax_io_stop(w);
    w = watch(f.loop, f.fd[0], AX_READABLE, &r2);
    expect_no_spin(f.loop, &r2);
    fx_close(&f, w);
}

/* ---- stop / pause from callbacks ------------------------------------- */

static void test_stop_self_in_callback(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, FX_PIPE);
    lt_write1(f.fd[1]); /* never read: it would fire every turn */
    run_stop_self(f.loop, f.fd[0], AX_READABLE);
    /* The fd is free to be watched again. */
    run_stop_self(f.loop, f.fd[0], AX_READABLE);
    fx_close(&f, NULL);
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
    fx f;
    fx_open(&f, FX_PIPE);
    int b[2];
    lt_pipe(b);
    pair_ctx p = {.mode = mode, .fds = {f.fd[0], b[0]}};
    for (int i = 0; i < 2; i++) {
        p.side[i] = (pair_side){&p, i};
        tu_ok(ax_io_start(f.loop, p.fds[i], AX_READABLE, pair_io, &p.side[i], &p.w[i]));
    }
    make_ready(f.fd, hangup);
    make_ready(b, hangup);
    /* Both are ready before the turn, so one wait collects both. */
    tu_assert_err(ax_loop_step(f.loop, 0), 1);
    tu_ok(p.rc);
    if (p.calls[0] + p.calls[1] != 1) {
        int c0 = p.calls[0], c1 = p.calls[1];
        ax_io_stop(p.w[0]);
        ax_io_stop(p.w[1]);
        ax_io_stop(p.repl);
        fx_abandon(&f);
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
        tu_assert_err(ax_loop_step(f.loop, 0), 1);
    assert_int_equal(p.calls[1 - first], 0);
    assert_int_equal(p.calls[first], 4);
    if (mode == PAIR_STOP_REUSE) {
        assert_int_equal(p.repl_rec.calls, 3); /* from the next turn on */
        ax_io_stop(p.repl);
    }
    for (int i = 0; i < 2; i++)
        if (p.w[i])
            ax_io_stop(p.w[i]);
    fx_close(&f, NULL);
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
    fx f;
    fx_open(&f, FX_PIPE);
    make_ready(f.fd, hangup);
    io_rec r = {0};
    timer_vs_io c = {NULL, pause, 0};
    c.w = watch(f.loop, f.fd[0], AX_READABLE, &r);
    tu_ok(ax_timer_start(f.loop, 0, 0, stop_watcher_timer, &c, NULL));
    tu_assert_err(ax_loop_step(f.loop, 0), 0); /* stopped or paused: idle */
    tu_ok(c.rc);
    if (c.w)
        ax_io_stop(c.w);
    if (r.calls != 0) {
        fx_abandon(&f);
        fail_msg("watcher %s by a timer in the same turn got a callback (events %u)",
                 pause ? "paused" : "stopped", r.last);
    }
    fx_close(&f, NULL);
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

/* A fresh pipe on `loop` with `data` written and the writer then closed:
 * the reader is told READABLE (maybe with AX_IOERR) and reads the data,
 * then EOF. */
static void pipe_data_then_eof(ax_loop *loop, const char *data)
{
    int p[2];
    lt_pipe(p);
    send_str(p[1], data);
    hang_up(p);
    io_rec r = {.drain = 1};
    ax_io *w = watch(loop, p[0], AX_READABLE, &r);
    expect_data_then_eof(loop, &r, data);
    ax_io_stop(w);
    lt_close2(p);
}

static void test_hangup_pipe(void **state)
{
    (void)state;
    tu_alloc ta;
    ax_loop *loop = lt_loop_new(&ta);
    /* No data, writer gone: the poller reports only a hang-up (EPOLLHUP /
     * POLLHUP), yet the owner asked for READABLE and must be told to read
     * so that it sees EOF. */
    pipe_data_then_eof(loop, "");
    /* The data written before the close comes first, then EOF. */
    pipe_data_then_eof(loop, "xyz");
    lt_loop_free(loop, &ta);
}

static void test_hangup_socketpair(void **state)
{
    (void)state;
    fx f;
    io_rec r = {0};
    ax_io *w = open_idle_reader(&f, FX_SOCKETPAIR, &r);
    hang_up(f.fd);
    expect_data_then_eof(f.loop, &r, "");
    ax_io_stop(w);

    /* A writer learns of the peer's close as WRITABLE and/or AX_IOERR;
     * its write then fails with EPIPE. */
    io_rec rw = {0};
    w = watch(f.loop, f.fd[0], AX_WRITABLE, &rw);
    tu_run_until(f.loop, rec_called, &rw, WAIT_MS);
    assert_true(rw.last & (AX_WRITABLE | AX_IOERR));
    assert_true(rw.last & AX_WRITABLE); /* the owner is told to try its write */
    char c = 'x';
    assert_int_equal(write(f.fd[0], &c, 1), -1);
    assert_int_equal(errno, EPIPE);
    fx_close(&f, w);
}

/* ---- errors ---------------------------------------------------------- */

static void test_same_fd_twice(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, FX_PIPE);
    io_rec r = {0};
    ax_io *w = watch(f.loop, f.fd[0], AX_READABLE, &r);
    /* Refused whatever the mask; paused still counts as watched. */
    static const unsigned masks[] = {AX_READABLE, AX_WRITABLE, 0};
    for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++)
        start_fails(f.loop, f.fd[0], masks[i], AX_EEXIST);
    tu_ok(ax_io_update(w, 0));
    start_fails(f.loop, f.fd[0], AX_READABLE, AX_EEXIST);
    ax_io_stop(w);
    fx_close(&f, watch(f.loop, f.fd[0], AX_READABLE, &r));
}

static void test_invalid_args(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, FX_PIPE);
    io_rec r = {0};
    ax_io *w = NULL;
    int fd = f.fd[0];
    tu_assert_err(ax_io_start(NULL, fd, AX_READABLE, rec_io, &r, &w), AX_EINVAL);
    tu_assert_err(ax_io_start(f.loop, -1, AX_READABLE, rec_io, &r, &w), AX_EINVAL);
    tu_assert_err(ax_io_start(f.loop, fd, AX_READABLE, NULL, &r, &w), AX_EINVAL);
    tu_assert_err(ax_io_start(f.loop, fd, AX_READABLE, rec_io, &r, NULL), AX_EINVAL);
    /* AX_IOERR is reported, never requested; unknown bits are refused. */
    start_fails(f.loop, fd, AX_IOERR, AX_EINVAL);
    start_fails(f.loop, fd, AX_READABLE | 8u, AX_EINVAL);
    /* None of that left the fd marked as watched. */
    w = watch(f.loop, f.fd[0], AX_READABLE, &r);
    tu_assert_err(ax_io_update(NULL, AX_READABLE), AX_EINVAL);
    tu_assert_err(ax_io_update(w, AX_IOERR), AX_EINVAL);
    tu_assert_err(ax_io_update(w, 0x10u), AX_EINVAL);
    ax_io_stop(NULL); /* a no-op */
    fx_close(&f, w);
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
    if (lt_epoll()) {
        start_fails(loop, fd, AX_READABLE, AX_EBADF);
        /* The failed start was rolled back: same answer, not AX_EEXIST. */
        start_fails(loop, fd, AX_READABLE, AX_EBADF);
        tu_assert_err(ax_loop_step(loop, 0), 0);
    } else {
        io_rec r = run_stop_self(loop, fd, AX_READABLE);
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
    fx f;
    fx_open(&f, FX_PIPE);
    lt_write1(f.fd[1]);
    io_rec r = {.drain = 1};
    ax_io *w = watch(f.loop, f.fd[0], 0, &r);
    step_expect(f.loop, 0, 0, &r.calls, 0);
    tu_assert_err(ax_loop_free(f.loop), AX_EBUSY);
    tu_ok(ax_io_update(w, AX_READABLE));
    step_expect(f.loop, AX_SEC(5), 1, &r.calls, 1);
    fx_close(&f, w);
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
