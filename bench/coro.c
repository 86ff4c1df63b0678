/* coro - coroutine costs: switch, ask round trip, ping-pong, sleepers.
 *
 *   coro [--iters N] [--sleepers S] [--only ask|ask_cb]
 * prints one line:
 *   coro switch_ns=A ask_ns=B ask_cb_ns=C pingpong_plain_ns=D pingpong_coro_ns=E
 * (medians of 7 runs) and, unless S is 0, a second line:
 *   coro sleepers=S sleep_bytes_per_actor=M
 * switch: one resume or one yield of a bare coroutine.  ask: a coroutine
 * actor's ax_ask to a plain actor that replies, round trip.  ask_cb: the
 * callback form from a plain actor.  pingpong: a round trip A -> B -> A
 * between two plain actors, and between two coroutine actors (whose every
 * handler runs as a coroutine).  sleepers: resident memory per coroutine
 * actor suspended in ax_sleep with the default stack. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "axon.h"
#include "base/base.h"
#include "coro/coro.h"

enum { MSG_REQ = 1, MSG_REP = 2, MSG_GO = 3, MSG_BALL = 4 };
#define RUNS 7

static long iters = 1000000;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v)
{
    qsort(v, RUNS, sizeof *v, cmp_double);
    return v[RUNS / 2];
}

static void env(ax_loop **loop, ax_system **sys)
{
    if (ax_loop_new(NULL, loop) || ax_system_new(*loop, NULL, sys))
        exit(1);
    ax_msg_register_pod(*sys, MSG_REQ, "req", 8, 8);
    ax_msg_register_pod(*sys, MSG_REP, "rep", 8, 8);
    ax_msg_register_pod(*sys, MSG_GO, "go", 0, 1);
    ax_msg_register_pod(*sys, MSG_BALL, "ball", 8, 8);
}

static void done(ax_loop *loop, ax_system *sys)
{
    ax_system_free(sys);
    ax_loop_free(loop);
}

/* ---- switch ----------------------------------------------------------- */

static void spin(void *arg)
{
    axi_coro **self = arg;
    for (;;)
        axi_coro_yield(*self);
}

static double bench_switch(void)
{
    axi_stack_pool *pool;
    axi_coro *co;
    if (axi_stack_pool_new(&axi_default_allocator, 0, 4, &pool) ||
        axi_coro_new(pool, 0, spin, &co, "bench", &co))
        exit(1);
    long n = iters * 5;
    for (long i = 0; i < n / 10; i++)
        axi_coro_resume(co);
    int64_t t0 = axi_clock_ns();
    for (long i = 0; i < n; i++)
        axi_coro_resume(co);
    double ns = (double)(axi_clock_ns() - t0) / (2.0 * (double)n);
    axi_coro_free(co);
    axi_stack_pool_free(pool);
    return ns;
}

/* ---- ask -------------------------------------------------------------- */

static void responder(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    ax_reply(ctx, MSG_REP, msg->data, 8);
}

static void asker(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    ax_id to = *(ax_id *)state;
    for (long i = 0; i < iters; i++) {
        const ax_msg *reply;
        uint64_t v = (uint64_t)i;
        int rc = ax_ask(ctx, to, MSG_REQ, &v, 8, &reply, AX_SEC(5));
        if (rc || *(uint64_t *)reply->data != v) {
            fprintf(stderr, "coro: ask failed: %s\n", ax_strerror(rc));
            exit(1);
        }
    }
}

static double bench_ask(void)
{
    ax_loop *loop;
    ax_system *sys;
    env(&loop, &sys);
    ax_id resp, ask;
    ax_spawn(sys, responder, NULL, NULL, &resp);
    ax_spawn_coro(sys, asker, &resp, NULL, &ask);
    int64_t t0 = axi_clock_ns();
    ax_system_send(sys, ax_id_nil(), ask, MSG_GO, NULL, 0);
    ax_loop_run(loop);
    double ns = (double)(axi_clock_ns() - t0) / (double)iters;
    done(loop, sys);
    return ns;
}

typedef struct {
    ax_id to;
    long left;
} cb_state;

static void on_reply(void *state, ax_ctx *ctx, int status, const ax_msg *reply, void *arg);

static void ask_next(cb_state *st, ax_ctx *ctx)
{
    uint64_t v = (uint64_t)st->left;
    if (ax_ask_cb(ctx, st->to, MSG_REQ, &v, 8, AX_SEC(5), on_reply, NULL)) {
        fprintf(stderr, "coro: ask_cb failed\n");
        exit(1);
    }
}

static void on_reply(void *state, ax_ctx *ctx, int status, const ax_msg *reply, void *arg)
{
    (void)reply;
    (void)arg;
    cb_state *st = state;
    if (status) {
        fprintf(stderr, "coro: ask_cb: %s\n", ax_strerror(status));
        exit(1);
    }
    if (--st->left > 0)
        ask_next(st, ctx);
}

static void cb_asker(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    ask_next(state, ctx);
}

static double bench_ask_cb(void)
{
    ax_loop *loop;
    ax_system *sys;
    env(&loop, &sys);
    cb_state st = {ax_id_nil(), iters};
    ax_id a;
    ax_spawn(sys, responder, NULL, NULL, &st.to);
    ax_spawn(sys, cb_asker, &st, NULL, &a);
    int64_t t0 = axi_clock_ns();
    ax_system_send(sys, ax_id_nil(), a, MSG_GO, NULL, 0);
    ax_loop_run(loop);
    double ns = (double)(axi_clock_ns() - t0) / (double)iters;
    done(loop, sys);
    return ns;
}

/* ---- ping-pong -------------------------------------------------------- */

typedef struct {
    ax_id peer;
} pp_state;

static void bounce(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    pp_state *st = state;
    uint64_t left = *(const uint64_t *)msg->data;
    if (left == 0)
        return;
    left--;
    ax_send(ctx, st->peer, MSG_BALL, &left, 8);
}

static double bench_pingpong(int coro)
{
    ax_loop *loop;
    ax_system *sys;
    env(&loop, &sys);
    pp_state a = {ax_id_nil()}, b = {ax_id_nil()};
    ax_id ia, ib;
    if (coro) {
        ax_spawn_coro(sys, bounce, &a, NULL, &ia);
        ax_spawn_coro(sys, bounce, &b, NULL, &ib);
    } else {
        ax_spawn(sys, bounce, &a, NULL, &ia);
        ax_spawn(sys, bounce, &b, NULL, &ib);
    }
    a.peer = ib;
    b.peer = ia;
    uint64_t hops = (uint64_t)iters * 2;
    int64_t t0 = axi_clock_ns();
    ax_system_send(sys, ax_id_nil(), ia, MSG_BALL, &hops, 8);
    ax_loop_run(loop);
    double ns = (double)(axi_clock_ns() - t0) / (double)iters;
    done(loop, sys);
    return ns;
}

/* ---- sleepers --------------------------------------------------------- */

static void sleeper(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    (void)msg;
    ax_sleep(ctx, AX_SEC(3600));
}

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

static double bench_sleepers(long n)
{
    ax_loop *loop;
    ax_system *sys;
    env(&loop, &sys);
    long before = rss_bytes();
    for (long i = 0; i < n; i++) {
        ax_id id;
        if (ax_spawn_coro(sys, sleeper, NULL, NULL, &id) ||
            ax_system_send(sys, ax_id_nil(), id, MSG_GO, NULL, 0)) {
            fprintf(stderr, "coro: sleeper %ld failed\n", i);
            exit(1);
        }
    }
    while (ax_loop_step(loop, 0) > 0 && ax_loop_timeout(loop) == 0)
        ;
    double per = (double)(rss_bytes() - before) / (double)n;
    done(loop, sys); /* unwinds every sleeper */
    return per;
}

int main(int argc, char **argv)
{
    long sleepers = 100000;
    const char *only = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--iters"))
            iters = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--sleepers"))
            sleepers = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--only"))
            only = argv[i + 1];
        else {
            fprintf(stderr, "usage: coro [--iters N] [--sleepers S] [--only ask|ask_cb]\n");
            return 2;
        }
    }
    if (iters <= 0) {
        fprintf(stderr, "coro: N must be positive\n");
        return 2;
    }
    if (only) { /* one measurement, for profilers */
        double ns = !strcmp(only, "ask") ? bench_ask() : bench_ask_cb();
        printf("coro %s_ns=%.1f\n", only, ns);
        return 0;
    }
    double sw[RUNS], ask[RUNS], askcb[RUNS], ppp[RUNS], ppc[RUNS];
    for (int r = 0; r < RUNS; r++) {
        sw[r] = bench_switch();
        ask[r] = bench_ask();
        askcb[r] = bench_ask_cb();
        ppp[r] = bench_pingpong(0);
        ppc[r] = bench_pingpong(1);
    }
    printf("coro switch_ns=%.1f ask_ns=%.1f ask_cb_ns=%.1f pingpong_plain_ns=%.1f "
           "pingpong_coro_ns=%.1f\n",
           median(sw), median(ask), median(askcb), median(ppp), median(ppc));
    if (sleepers > 0)
        printf("coro sleepers=%ld sleep_bytes_per_actor=%.0f\n", sleepers,
               bench_sleepers(sleepers));
    return 0;
}
