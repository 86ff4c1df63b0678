/* coro_io_test.c - coroutine I/O on the system's own loop
 * (src/actor/coro_io.c): ax_read/ax_write over socketpairs and pipes, with
 * timeouts and end of file, a large write that waits for a slow reader,
 * ax_accept + ax_connect over loopback TCP between two coroutine actors, a
 * refused connection, a descriptor someone else watches, and the argument
 * errors.  Runs against the default backend and poll (argv[1]). */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "cafx.h"

/* A coroutine actor that runs a per-test script on T_GO. */
typedef struct io_actor io_actor;
typedef void (*io_script)(io_actor *a, ax_ctx *ctx);

struct io_actor {
    io_script script;
    int fd, fd2;
    long rc[8];
    char buf[256];
    size_t len;
    int64_t elapsed_ns;
    struct sockaddr_in addr;
    int done;
    int flag;
    io_actor *peer;
    long progress; /* bytes moved so far (large transfers) */
};

static void io_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    io_actor *a = state;
    a->script(a, ctx);
    a->done++;
}

static void io_init(io_actor *a, io_script fn, int fd)
{
    memset(a, 0, sizeof *a);
    a->script = fn;
    a->fd = fd;
    a->fd2 = -1;
    for (int i = 0; i < 8; i++)
        a->rc[i] = 12345;
}

static ax_id io_start(ca *f, io_actor *a)
{
    ax_id id;
    tu_ok(ax_spawn_coro(f->sys, io_receive, a, NULL, &id));
    tu_ok(ax_system_send(f->sys, ax_id_nil(), id, T_GO, NULL, 0));
    return id;
}

static void make_socketpair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

static void assert_io(long got, long want, const char *what)
{
    if (got != want)
        fail_msg("%s returned %ld (%s), want %ld", what, got, got < 0 ? ax_errname((int)got) : "",
                 want);
}

/* ---- read and write ------------------------------------------------------------ */

static void script_read_twice(io_actor *a, ax_ctx *ctx)
{
    a->rc[0] = ax_read(ctx, a->fd, a->buf, sizeof a->buf, AX_SEC(10));
    a->rc[1] = ax_read(ctx, a->fd, a->buf + 100, 2, AX_SEC(10));
    a->rc[2] = ax_read(ctx, a->fd, a->buf + 102, 10, AX_SEC(10));
}

static void script_write_hello(io_actor *a, ax_ctx *ctx)
{
    a->rc[0] = ax_write(ctx, a->fd, "hello", 5, AX_SEC(10));
    /* The second write only once the reader has the first. */
    a->rc[1] = 0;
    while (a->peer->rc[0] == 12345 && a->rc[1] == 0)
        a->rc[1] = ax_sleep(ctx, AX_MSEC(1));
    a->rc[2] = ax_write(ctx, a->fd, "world", 5, AX_SEC(10));
}

static void test_io_socketpair_roundtrip(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    int sv[2];
    make_socketpair(sv);
    io_actor r, w;
    io_init(&r, script_read_twice, sv[0]);
    io_init(&w, script_write_hello, sv[1]);
    w.peer = &r;
    io_start(&f, &r);
    ca_step(&f);
    ca_step(&f);
    assert_int_equal(r.done, 0); /* waiting for data */
    io_start(&f, &w);
    ca_until_ge(&f, &r.done, 1, 5000);
    ca_until_ge(&f, &w.done, 1, 5000);
    assert_io(w.rc[0], 5, "ax_write");
    assert_io(w.rc[2], 5, "ax_write");
    assert_io(r.rc[0], 5, "ax_read");
    assert_int_equal(memcmp(r.buf, "hello", 5), 0);
    assert_io(r.rc[1], 2, "ax_read of 2");
    assert_int_equal(memcmp(r.buf + 100, "wo", 2), 0);
    assert_io(r.rc[2], 3, "ax_read");
    assert_int_equal(memcmp(r.buf + 102, "rld", 3), 0);
    ca_drain(&f); /* idle: no watcher left */
    close(sv[0]);
    close(sv[1]);
    ca_close(&f);
}

static void script_read_timeout(io_actor *a, ax_ctx *ctx)
{
    int64_t t0 = ca_now_ns();
    a->rc[0] = ax_read(ctx, a->fd, a->buf, sizeof a->buf, AX_MSEC(30));
    a->elapsed_ns = ca_now_ns() - t0;
    /* Data that arrives later is still there for the next read. */
    a->rc[1] = ax_read(ctx, a->fd, a->buf, sizeof a->buf, AX_SEC(10));
}

static int rc0_set(void *arg)
{
    return ((io_actor *)arg)->rc[0] != 12345;
}

static void test_io_read_timeout(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    int sv[2];
    make_socketpair(sv);
    io_actor r;
    io_init(&r, script_read_timeout, sv[0]);
    io_start(&f, &r);
    ca_until(&f, rc0_set, &r, 5000);
    assert_io(r.rc[0], AX_ETIMEDOUT, "ax_read");
    if (r.elapsed_ns < AX_MSEC(30))
        fail_msg("ax_read(timeout 30 ms) timed out after %lld ns: early", (long long)r.elapsed_ns);
    assert_true(r.elapsed_ns < AX_SEC(5));
    assert_int_equal(write(sv[1], "late", 4), 4);
    ca_until_ge(&f, &r.done, 1, 5000);
    assert_io(r.rc[1], 4, "ax_read");
    assert_int_equal(ax_timer_count(f.loop), 0);
    ca_drain(&f);
    close(sv[0]);
    close(sv[1]);
    ca_close(&f);
}

static void script_read_eof(io_actor *a, ax_ctx *ctx)
{
    a->rc[0] = ax_read(ctx, a->fd, a->buf, sizeof a->buf, AX_SEC(10));
    a->rc[1] = ax_read(ctx, a->fd, a->buf, sizeof a->buf, AX_SEC(10));
    a->rc[2] = ax_read(ctx, a->fd, a->buf, sizeof a->buf, AX_SEC(10));
}

/* End of file returns 0: while waiting, and when it is already there. */
static void check_eof(int use_pipe)
{
    ca f;
    ca_open(&f, NULL);
    int sv[2];
    if (use_pipe)
        assert_int_equal(pipe(sv), 0);
    else
        make_socketpair(sv);
    io_actor r;
    io_init(&r, script_read_eof, sv[0]);
    io_start(&f, &r);
    ca_step(&f);
    ca_step(&f);
    assert_int_equal(write(sv[1], "x", 1), 1);
    ca_until(&f, rc0_set, &r, 5000);
    assert_io(r.rc[0], 1, "ax_read");
    ca_step(&f);
    close(sv[1]);
    ca_until_ge(&f, &r.done, 1, 5000);
    assert_io(r.rc[1], 0, "ax_read at end of file");
    assert_io(r.rc[2], 0, "ax_read after end of file");
    ca_drain(&f);
    close(sv[0]);
    ca_close(&f);
}

static void test_io_eof(void **state)
{
    (void)state;
    check_eof(0);
    check_eof(1);
}

/* A pipe both ways: a writer coroutine and a reader coroutine. */
static void script_pipe_write(io_actor *a, ax_ctx *ctx)
{
    for (int i = 0; i < 10; i++) {
        char c = (char)('a' + i);
        a->rc[0] = ax_write(ctx, a->fd, &c, 1, AX_SEC(10));
        if (a->rc[0] != 1)
            return;
        ax_sleep(ctx, 0);
    }
    close(a->fd);
}

static void script_pipe_read(io_actor *a, ax_ctx *ctx)
{
    size_t n = 0;
    for (;;) {
        long r = ax_read(ctx, a->fd, a->buf + n, sizeof a->buf - n, AX_SEC(10));
        if (r <= 0) {
            a->rc[0] = r;
            break;
        }
        n += (size_t)r;
    }
    a->len = n;
}

static void test_io_pipe(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    int p[2];
    assert_int_equal(pipe(p), 0);
    io_actor r, w;
    io_init(&r, script_pipe_read, p[0]);
    io_init(&w, script_pipe_write, p[1]);
    io_start(&f, &r);
    io_start(&f, &w);
    ca_until_ge(&f, &r.done, 1, 5000);
    assert_io(w.rc[0], 1, "ax_write");
    assert_io(r.rc[0], 0, "ax_read at end");
    assert_int_equal(r.len, 10);
    assert_int_equal(memcmp(r.buf, "abcdefghij", 10), 0);
    ca_drain(&f);
    close(p[0]);
    ca_close(&f);
}

/* ---- a large write waits for a slow reader ------------------------------------------ */

#define LARGE (6u << 20)
static unsigned char large_out[LARGE];
static unsigned char large_in[LARGE];

static void script_large_write(io_actor *a, ax_ctx *ctx)
{
    a->rc[0] = ax_write(ctx, a->fd, large_out, LARGE, AX_SEC(30));
    a->progress = a->peer->progress; /* how much the reader had by then */
    close(a->fd);
}

static void script_slow_read(io_actor *a, ax_ctx *ctx)
{
    size_t n = 0;
    int chunks = 0;
    for (;;) {
        size_t want = LARGE - n < 64 * 1024 ? LARGE - n : 64 * 1024;
        if (want == 0)
            want = 1; /* read the end of file */
        long r = ax_read(ctx, a->fd, large_in + n, want, AX_SEC(30));
        if (r <= 0) {
            a->rc[0] = r;
            break;
        }
        n += (size_t)r;
        a->progress = (long)n;
        if (++chunks % 4 == 0)
            ax_sleep(ctx, AX_MSEC(1)); /* slow */
    }
    a->len = n;
}

static void test_io_large_write_waits_for_reader(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    for (size_t i = 0; i < LARGE; i++)
        large_out[i] = (unsigned char)(i * 131 + (i >> 16));
    int sv[2];
    make_socketpair(sv);
    io_actor r, w;
    io_init(&r, script_slow_read, sv[0]);
    io_init(&w, script_large_write, sv[1]);
    w.peer = &r;
    io_start(&f, &w);
    io_start(&f, &r);
    ca_until_ge(&f, &r.done, 1, 20000);
    ca_until_ge(&f, &w.done, 1, 5000);
    assert_io(w.rc[0], LARGE, "ax_write");
    assert_io(r.rc[0], 0, "ax_read at end");
    assert_int_equal(r.len, LARGE);
    assert_int_equal(memcmp(large_in, large_out, LARGE), 0);
    /* ax_write returned only once most of it had been read: it waited. */
    assert_true(w.progress >= (long)(LARGE / 2));
    ca_drain(&f);
    close(sv[0]);
    ca_close(&f);
}

static void script_write_timeout(io_actor *a, ax_ctx *ctx)
{
    int64_t t0 = ca_now_ns();
    a->rc[0] = ax_write(ctx, a->fd, large_out, LARGE, AX_MSEC(30));
    a->elapsed_ns = ca_now_ns() - t0;
}

static void test_io_write_timeout(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    int sv[2];
    make_socketpair(sv);
    io_actor w;
    io_init(&w, script_write_timeout, sv[1]);
    io_start(&f, &w);
    ca_until_ge(&f, &w.done, 1, 5000);
    assert_io(w.rc[0], AX_ETIMEDOUT, "ax_write to nobody reading");
    assert_true(w.elapsed_ns >= AX_MSEC(30));
    ca_drain(&f);
    close(sv[0]);
    close(sv[1]);
    ca_close(&f);
}

static void script_write_closed_peer(io_actor *a, ax_ctx *ctx)
{
    a->rc[0] = ax_write(ctx, a->fd, "abc", 3, AX_SEC(5));
}

/* A closed peer is AX_EPIPE, not a SIGPIPE that kills the process. */
static void test_io_write_to_closed_peer(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    int sv[2];
    make_socketpair(sv);
    close(sv[0]);
    io_actor w;
    io_init(&w, script_write_closed_peer, sv[1]);
    io_start(&f, &w);
    ca_until_ge(&f, &w.done, 1, 5000);
    assert_io(w.rc[0], AX_EPIPE, "ax_write");
    close(sv[1]);
    ca_close(&f);
}

/* ---- TCP over loopback: accept and connect ---------------------------------------------- */

static int listen_loopback(struct sockaddr_in *sa)
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(l >= 0);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(l, (struct sockaddr *)sa, sizeof *sa), 0);
    socklen_t len = sizeof *sa;
    assert_int_equal(getsockname(l, (struct sockaddr *)sa, &len), 0);
    assert_int_equal(listen(l, 16), 0);
    return l;
}

static void script_server(io_actor *a, ax_ctx *ctx)
{
    int fd = ax_accept(ctx, a->fd, AX_SEC(10));
    a->rc[0] = fd;
    if (fd < 0)
        return;
    int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
    a->flag = (fl & O_NONBLOCK) && (fdfl & FD_CLOEXEC);
    a->rc[1] = ax_read(ctx, fd, a->buf, 4, AX_SEC(10));
    a->rc[2] = ax_write(ctx, fd, "pong", 4, AX_SEC(10));
    a->rc[3] = ax_read(ctx, fd, a->buf + 4, 4, AX_SEC(10)); /* EOF */
    close(fd);
}

static void script_client(io_actor *a, ax_ctx *ctx)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    a->fd = fd;
    a->rc[0] = ax_connect(ctx, fd, (struct sockaddr *)&a->addr, sizeof a->addr, AX_SEC(10));
    if (a->rc[0] != 0)
        return;
    a->rc[1] = ax_write(ctx, fd, "ping", 4, AX_SEC(10));
    a->rc[2] = ax_read(ctx, fd, a->buf, 4, AX_SEC(10));
    close(fd);
}

static void test_io_tcp_accept_connect(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    struct sockaddr_in sa;
    int l = listen_loopback(&sa);
    io_actor srv, cli;
    io_init(&srv, script_server, l);
    io_init(&cli, script_client, -1);
    cli.addr = sa;
    io_start(&f, &srv);
    ca_step(&f);
    ca_step(&f);
    assert_int_equal(srv.done, 0); /* waiting in ax_accept */
    io_start(&f, &cli);
    ca_until_ge(&f, &srv.done, 1, 5000);
    ca_until_ge(&f, &cli.done, 1, 5000);
    assert_true(srv.rc[0] >= 0);
    assert_int_equal(srv.flag, 1);
    assert_io(srv.rc[1], 4, "server ax_read");
    assert_int_equal(memcmp(srv.buf, "ping", 4), 0);
    assert_io(srv.rc[2], 4, "server ax_write");
    assert_io(srv.rc[3], 0, "server ax_read at end");
    tu_ok((int)cli.rc[0]);
    assert_io(cli.rc[1], 4, "client ax_write");
    assert_io(cli.rc[2], 4, "client ax_read");
    assert_int_equal(memcmp(cli.buf, "pong", 4), 0);
    ca_drain(&f);
    close(l);
    ca_close(&f);
}

static void script_connect_only(io_actor *a, ax_ctx *ctx)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    a->fd = fd;
    a->rc[0] = ax_connect(ctx, fd, (struct sockaddr *)&a->addr, sizeof a->addr, AX_SEC(10));
    close(fd);
}

static void test_io_connect_refused(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    struct sockaddr_in sa;
    int l = listen_loopback(&sa);
    close(l); /* nobody listens on that port now */
    io_actor c;
    io_init(&c, script_connect_only, -1);
    c.addr = sa;
    io_start(&f, &c);
    ca_until_ge(&f, &c.done, 1, 5000);
    assert_io(c.rc[0], AX_ECONNREFUSED, "ax_connect");
    ca_drain(&f);
    ca_close(&f);
}

static void script_accept_timeout(io_actor *a, ax_ctx *ctx)
{
    int64_t t0 = ca_now_ns();
    a->rc[0] = ax_accept(ctx, a->fd, AX_MSEC(30));
    a->elapsed_ns = ca_now_ns() - t0;
}

static void test_io_accept_timeout(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    struct sockaddr_in sa;
    int l = listen_loopback(&sa);
    io_actor a;
    io_init(&a, script_accept_timeout, l);
    io_start(&f, &a);
    ca_until_ge(&f, &a.done, 1, 5000);
    assert_io(a.rc[0], AX_ETIMEDOUT, "ax_accept");
    assert_true(a.elapsed_ns >= AX_MSEC(30));
    ca_drain(&f);
    close(l);
    ca_close(&f);
}

/* ---- a descriptor watched elsewhere ------------------------------------------------------- */

static void other_watcher(ax_loop *loop, ax_io *w, int fd, unsigned events, void *arg)
{
    (void)loop;
    (void)w;
    (void)fd;
    (void)events;
    (*(int *)arg)++;
}

static void script_read_once(io_actor *a, ax_ctx *ctx)
{
    a->rc[0] = ax_read(ctx, a->fd, a->buf, sizeof a->buf, AX_SEC(10));
}

static void test_io_fd_already_watched(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    int sv[2];
    make_socketpair(sv);
    /* Watched by a plain loop watcher. */
    int fired = 0;
    ax_io *w;
    tu_ok(ax_io_start(f.loop, sv[0], AX_READABLE, other_watcher, &fired, &w));
    io_actor r;
    io_init(&r, script_read_once, sv[0]);
    io_start(&f, &r);
    ca_until_ge(&f, &r.done, 1, 5000);
    assert_io(r.rc[0], AX_EEXIST, "ax_read of a watched fd");
    ax_io_stop(w);
    /* Watched by another coroutine's wait. */
    io_actor r1, r2;
    io_init(&r1, script_read_once, sv[0]);
    io_init(&r2, script_read_once, sv[0]);
    io_start(&f, &r1);
    ca_step(&f);
    io_start(&f, &r2);
    ca_until_ge(&f, &r2.done, 1, 5000);
    assert_io(r2.rc[0], AX_EEXIST, "ax_read of an fd another coroutine waits on");
    assert_int_equal(r1.done, 0);
    assert_int_equal(write(sv[1], "ok", 2), 2);
    ca_until_ge(&f, &r1.done, 1, 5000);
    assert_io(r1.rc[0], 2, "ax_read");
    ca_drain(&f);
    assert_int_equal(fired, 0);
    close(sv[0]);
    close(sv[1]);
    ca_close(&f);
}

/* ---- errors ------------------------------------------------------------------------------ */

typedef struct io_errs {
    int fd, closed_fd;
    long plain[4];
    long neg_fd[4];
    long null_buf[2];
    long null_addr;
    long bad_fd[4];
    int nonblock_after;
    long blocking_read;
    int n;
} io_errs;

static void io_errs_plain(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    io_errs *e = state;
    char b[4];
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    e->plain[0] = ax_read(ctx, e->fd, b, sizeof b, AX_MSEC(1));
    e->plain[1] = ax_write(ctx, e->fd, b, sizeof b, AX_MSEC(1));
    e->plain[2] = ax_accept(ctx, e->fd, AX_MSEC(1));
    e->plain[3] = ax_connect(ctx, e->fd, (struct sockaddr *)&sa, sizeof sa, AX_MSEC(1));
    e->n++;
}

static void io_errs_coro(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    io_errs *e = state;
    char b[4];
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    /* A blocking descriptor is made non-blocking, and the wait is still
     * the loop's (a blocking read would hang the test). */
    e->blocking_read = ax_read(ctx, e->fd, b, sizeof b, AX_MSEC(20));
    e->nonblock_after = (fcntl(e->fd, F_GETFL) & O_NONBLOCK) != 0;
    e->neg_fd[0] = ax_read(ctx, -1, b, sizeof b, AX_MSEC(1));
    e->neg_fd[1] = ax_write(ctx, -1, b, sizeof b, AX_MSEC(1));
    e->neg_fd[2] = ax_accept(ctx, -1, AX_MSEC(1));
    e->neg_fd[3] = ax_connect(ctx, -1, (struct sockaddr *)&sa, sizeof sa, AX_MSEC(1));
    e->null_buf[0] = ax_read(ctx, e->fd, NULL, 4, AX_MSEC(1));
    e->null_buf[1] = ax_write(ctx, e->fd, NULL, 4, AX_MSEC(1));
    e->null_addr = ax_connect(ctx, e->fd, NULL, sizeof sa, AX_MSEC(1));
    e->bad_fd[0] = ax_read(ctx, e->closed_fd, b, sizeof b, AX_MSEC(1));
    e->bad_fd[1] = ax_write(ctx, e->closed_fd, b, sizeof b, AX_MSEC(1));
    e->bad_fd[2] = ax_accept(ctx, e->closed_fd, AX_MSEC(1));
    e->bad_fd[3] = ax_connect(ctx, e->closed_fd, (struct sockaddr *)&sa, sizeof sa, AX_MSEC(1));
    e->n++;
}

static void test_io_errors(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    int sv[2];
    make_socketpair(sv);
    io_errs e;
    memset(&e, 0, sizeof e);
    e.fd = sv[0];
    int p[2];
    assert_int_equal(pipe(p), 0);
    close(p[0]);
    close(p[1]);
    e.closed_fd = p[0];
    assert_int_equal(fcntl(sv[0], F_GETFL) & O_NONBLOCK, 0);
    ax_id a, b;
    tu_ok(ax_spawn(f.sys, io_errs_plain, &e, NULL, &a));
    tu_ok(ax_spawn_coro(f.sys, io_errs_coro, &e, NULL, &b));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 1));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), b, 1));
    ca_until_ge(&f, &e.n, 2, 5000);
    for (int i = 0; i < 4; i++) {
        assert_io(e.plain[i], AX_ENOTCORO, "I/O from a plain handler");
        assert_io(e.neg_fd[i], AX_EINVAL, "I/O on fd -1");
        assert_io(e.bad_fd[i], AX_EBADF, "I/O on a closed fd");
    }
    assert_io(e.null_buf[0], AX_EINVAL, "ax_read(NULL, 4)");
    assert_io(e.null_buf[1], AX_EINVAL, "ax_write(NULL, 4)");
    assert_io(e.null_addr, AX_EINVAL, "ax_connect(NULL addr)");
    assert_io(e.blocking_read, AX_ETIMEDOUT, "ax_read on a blocking fd");
    assert_int_equal(e.nonblock_after, 1);
    char buf[4];
    assert_io(ax_read(NULL, sv[0], buf, 4, 0), AX_ENOTCORO, "ax_read(NULL ctx)");
    ca_drain(&f);
    close(sv[0]);
    close(sv[1]);
    ca_close(&f);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill the test: it must not happen */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_io_socketpair_roundtrip),
        cmocka_unit_test(test_io_read_timeout),
        cmocka_unit_test(test_io_eof),
        cmocka_unit_test(test_io_pipe),
        cmocka_unit_test(test_io_large_write_waits_for_reader),
        cmocka_unit_test(test_io_write_timeout),
        cmocka_unit_test(test_io_write_to_closed_peer),
        cmocka_unit_test(test_io_tcp_accept_connect),
        cmocka_unit_test(test_io_connect_refused),
        cmocka_unit_test(test_io_accept_timeout),
        cmocka_unit_test(test_io_fd_already_watched),
        cmocka_unit_test(test_io_errors),
    };
    return ca_main(argc, argv, tests, sizeof tests / sizeof tests[0], NULL, 0, 60);
}
