/* testutil.c - see testutil.h. */
#include "util/testutil.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

ax_backend tu_backend = AX_BACKEND_DEFAULT;

static int tu_should_fail(tu_alloc *t)
{
    if (t->fail_at == 0)
        return 0;
    uint64_t n = t->allocs + t->reallocs;
    return n == t->fail_at || (t->fail_after && n > t->fail_at);
}

static void *tu_a_alloc(void *ud, size_t n)
{
    tu_alloc *t = ud;
    t->allocs++;
    if (tu_should_fail(t))
        return NULL;
    void *p = malloc(n ? n : 1);
    if (p) {
        t->live_bytes += (int64_t)n;
        t->live_blocks++;
    }
    return p;
}

static void *tu_a_realloc(void *ud, void *p, size_t o, size_t n)
{
    tu_alloc *t = ud;
    t->reallocs++;
    if (tu_should_fail(t))
        return NULL;
    void *q = realloc(p, n ? n : 1);
    if (q) {
        t->live_bytes += (int64_t)n - (int64_t)o;
        if (!p)
            t->live_blocks++;
    }
    return q;
}

static void tu_a_free(void *ud, void *p, size_t n)
{
    tu_alloc *t = ud;
    if (!p)
        return;
    t->frees++;
    t->live_bytes -= (int64_t)n;
    t->live_blocks--;
    free(p);
}

void tu_alloc_init(tu_alloc *t)
{
    memset(t, 0, sizeof *t);
    t->a.alloc = tu_a_alloc;
    t->a.realloc = tu_a_realloc;
    t->a.free = tu_a_free;
    t->a.ud = t;
}

void tu_parse_backend(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "poll") == 0)
        tu_backend = AX_BACKEND_POLL;
    else if (argc > 1 && strcmp(argv[1], "epoll") == 0)
        tu_backend = AX_BACKEND_EPOLL;
}

void tu_env_open(tu_env *e, const ax_allocator *a, const ax_system_options *opt)
{
    ax_loop_options lo = {.backend = tu_backend, .allocator = a};
    tu_ok(ax_loop_new(&lo, &e->loop));
    ax_system_options so;
    if (opt)
        so = *opt;
    else
        memset(&so, 0, sizeof so);
    if (!so.allocator)
        so.allocator = a;
    tu_ok(ax_system_new(e->loop, &so, &e->sys));
}

void tu_env_open_dl(tu_env *e, const ax_allocator *a, const ax_system_options *opt,
                    ax_dead_letter_fn hook, void *arg)
{
    ax_system_options o;
    if (opt)
        o = *opt;
    else
        memset(&o, 0, sizeof o);
    o.on_dead_letter = hook;
    o.dead_letter_arg = arg;
    tu_env_open(e, a, &o);
}

void tu_env_close(tu_env *e)
{
    tu_ok(ax_system_free(e->sys));
    tu_ok(ax_loop_free(e->loop));
    e->sys = NULL;
    e->loop = NULL;
}

static int64_t tu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tu_run_until(ax_loop *loop, int (*cond)(void *), void *arg, int ms)
{
    int64_t end = tu_now_ms() + ms;
    while (!cond(arg)) {
        if (tu_now_ms() > end)
            fail_msg("condition not met within %d ms", ms);
        int rc = ax_loop_step(loop, AX_MSEC(10));
        if (rc < 0)
            fail_msg("ax_loop_step: %s", ax_errname(rc));
    }
}

void tu_drain(ax_loop *loop, int ms)
{
    int64_t end = tu_now_ms() + ms;
    for (;;) {
        int rc = ax_loop_step(loop, AX_MSEC(10));
        if (rc < 0)
            fail_msg("ax_loop_step: %s", ax_errname(rc));
        if (rc == 0)
            return;
        if (tu_now_ms() > end)
            fail_msg("loop not idle within %d ms", ms);
    }
}
