/* coro_stop_test.c - coroutine actors ending (src/actor/coro_actor.c):
 * cancellation (poison pill or shutdown while a handler waits in sleep,
 * ask, read, write or accept: it sees AX_ECANCELED, its cleanup runs, its
 * stack goes back to the pool, nothing leaks), ax_stop then a wait,
 * shutdown and ax_system_free from inside handlers, and a stack overflow
 * reported with the actor's label. */
#include <netinet/in.h>
#include <arpa/inet.h>

#include "cafx.h"

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
