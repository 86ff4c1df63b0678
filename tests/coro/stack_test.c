/* stack_test.c - tests of stack.c: the pool, its bounded cache and stack
 * reuse, stack sizes, deep recursion, 100,000 suspended coroutines, and
 * allocation/mmap failures.
 *
 * The 100k test runs 2,000 coroutines under Valgrind and 500 under TSan
 * (see there why); AXON_CORO_TEST_N overrides the count anywhere.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "coro_testutil.h"

#if UNDER_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* ---- stacks ----------------------------------------------------------- */

static void test_stack_reuse(void **state)
{
    (void)state;
    axi_stack_pool *p = new_pool(0, 2);
    int runs = 0;
    axi_coro *co = new_coro(p, count_fn, &runs, "first");
    void *lo1, *lo2;
    size_t size1, size2;
    axi_coro_stack_bounds(co, &lo1, &size1);
    axi_coro_resume(co);
    axi_coro_free(co);
    axi_stack_pool_stats st;
    axi_stack_pool_stats_get(p, &st);
    assert_int_equal(st.cached, 1);
    assert_int_equal(st.mapped, 1);

    co = new_coro(p, count_fn, &runs, "second");
    axi_coro_stack_bounds(co, &lo2, &size2);
    assert_ptr_equal(lo1, lo2); /* the same memory, no new mapping */
    assert_int_equal(size1, size2);
    assert_string_equal(axi_coro_label(co), "second");
    axi_stack_pool_stats_get(p, &st);
    assert_int_equal(st.mapped, 1);
    assert_int_equal(st.cached, 0);
    axi_coro_resume(co);
    assert_int_equal(runs, 2);
    axi_coro_free(co);

    /* Five at once: two go back to the cache, three are unmapped. */
    axi_coro *many[5];
    for (int i = 0; i < 5; i++)
        many[i] = new_coro(p, count_fn, &runs, "many");
    for (int i = 0; i < 5; i++) {
        axi_coro_resume(many[i]);
        axi_coro_free(many[i]);
    }
    axi_stack_pool_stats_get(p, &st);
    assert_int_equal(st.cached, 2);
    assert_int_equal(st.mapped, 5);
    assert_int_equal(st.unmapped, 3);

    /* A non-default size is never cached. */
    co = NULL;
    assert_int_equal(axi_coro_new(p, 200 * 1024, count_fn, &runs, "big", &co), 0);
    axi_coro_stack_bounds(co, &lo1, &size1);
    assert_true(size1 >= 200 * 1024 - 512 && size1 < 200 * 1024);
    axi_coro_resume(co);
    axi_coro_free(co);
    axi_stack_pool_stats_get(p, &st);
    assert_int_equal(st.cached, 2);
    assert_int_equal(st.unmapped, 4);
    free_pool(p);
}

static void test_free_never_started(void **state)
{
    (void)state;
    axi_stack_pool *p = new_pool(0, 1);
    int runs = 0;
    axi_coro *co = new_coro(p, count_fn, &runs, "idle");
    axi_coro_free(co);
    assert_int_equal(runs, 0);
    axi_coro_free(NULL);
    axi_stack_pool_stats st;
    axi_stack_pool_stats_get(p, &st);
    assert_int_equal(st.live, 0);
    assert_int_equal(st.cached, 1);
    free_pool(p);
}

struct deep {
    axi_coro *co;
    char *lowest;
    long depth;
    int fake_stack; /* ASan keeps the locals on the heap (detect_stack_use_after_return) */
};

static long recurse(struct deep *d, long n)
{
    volatile char buf[1024];
    buf[0] = (char)n;
    buf[sizeof buf - 1] = (char)n;
    char *frame = __builtin_frame_address(0);
    if (frame < d->lowest)
        d->lowest = frame;
    if (n == 0)
        return buf[0];
    return recurse(d, n - 1) + buf[sizeof buf - 1];
}

static void deep_fn(void *arg)
{
    struct deep *d = arg;
#if UNDER_ASAN
    d->fake_stack = __asan_get_current_fake_stack() != NULL;
#endif
    recurse(d, d->depth);
    axi_coro_yield(d->co);
    recurse(d, d->depth); /* again, after a switch */
}

/* Recursion that uses most of a 256 KiB stack works. */
static void test_deep_recursion(void **state)
{
    (void)state;
    size_t size = 256 * 1024;
    axi_stack_pool *p = new_pool(size, 1);
    struct deep d = {0};
    d.lowest = (char *)UINTPTR_MAX;
    d.co = new_coro(p, deep_fn, &d, "deep");
    void *lo;
    size_t usable;
    axi_coro_stack_bounds(d.co, &lo, &usable);
    /* ~1.1 KiB a frame natively, ~1.3 KiB under ASan: aim at 3/4. */
    d.depth = (long)(usable * 3 / 4 / (UNDER_ASAN ? 1400 : 1150));
    axi_coro_resume(d.co);
    axi_coro_resume(d.co);
    assert_true(axi_coro_done(d.co));
    char *top = (char *)lo + usable;
    assert_true(d.lowest >= (char *)lo);
    if (!d.fake_stack && (size_t)(top - d.lowest) < usable / 2)
        fail_msg("recursion used only %zu of %zu bytes", (size_t)(top - d.lowest), usable);
    axi_coro_free(d.co);
    free_pool(p);
}

/* ---- scale ------------------------------------------------------------ */

struct many {
    axi_coro **co;
    long done;
};

struct many_arg {
    struct many *m;
    long i;
};

static void many_fn(void *arg)
{
    struct many_arg *a = arg;
    axi_coro_yield(a->m->co[a->i]);
    a->m->done++;
}

static long rss_kib(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
        rss = -1;
    fclose(f);
    return rss < 0 ? -1 : rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static long max_map_count(void)
{
    long v = -1;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 100,000 coroutines suspended at once, then all run to completion. */
static void test_hundred_thousand(void **state)
{
    (void)state;
    /* Valgrind looks stacks up in a list; TSan makes each coroutine a
     * fiber, which costs it ~1 MB and ~3 ms (and it allows ~8k). */
    long n = UNDER_VALGRIND() ? 2000 : UNDER_TSAN ? 500 : 100000;
    const char *env = getenv("AXON_CORO_TEST_N");
    if (env && atol(env) > 0)
        n = atol(env);
    axi_stack_pool *p = new_pool(0, 1024);
    axi_stack_pool_stats st;
    axi_stack_pool_stats_get(p, &st);
    long maps = max_map_count();
    if (!st.guard_lightweight && maps > 0 && n > (maps - 4000) / 2) {
        /* mprotect guards cost two kernel mappings per stack. */
        long cap = (maps - 4000) / 2;
        print_message("note: no MADV_GUARD_INSTALL here and vm.max_map_count=%ld: "
                      "running %ld coroutines instead of %ld\n",
                      maps, cap, n);
        n = cap;
    }
    struct many m = {0};
    m.co = calloc((size_t)n, sizeof *m.co);
    struct many_arg *args = calloc((size_t)n, sizeof *args);
    assert_non_null(m.co);
    assert_non_null(args);
    long rss0 = rss_kib();
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        args[i].m = &m;
        args[i].i = i;
        int rc = axi_coro_new(p, 0, many_fn, &args[i], "many", &m.co[i]);
        if (rc != 0)
            fail_msg("coroutine %ld of %ld: %s", i, n, ax_strerror(rc));
        axi_coro_resume(m.co[i]);
    }
    double t1 = now_s();
    long rss1 = rss_kib();
    axi_stack_pool_stats_get(p, &st);
    assert_int_equal(st.live, n);
    for (long i = 0; i < n; i++)
        axi_coro_resume(m.co[i]);
    assert_int_equal(m.done, n);
    for (long i = 0; i < n; i++) {
        assert_true(axi_coro_done(m.co[i]));
        axi_coro_free(m.co[i]);
    }
    double t2 = now_s();
    long per = rss0 >= 0 && rss1 >= 0 ? (rss1 - rss0) * 1024 / n : -1;
    print_message("%ld coroutines: create+first run %.3f s, finish+free %.3f s, "
                  "%ld bytes of RAM each while suspended (guards: %s)\n",
                  n, t1 - t0, t2 - t1, per, st.guard_lightweight ? "madvise" : "mprotect");
    /* Only the touched top of each stack may cost RAM: a page or two.
     * (Valgrind and TSan add shadow memory and bookkeeping of their own.) */
    if (per > 16 * 1024 && !UNDER_VALGRIND() && !UNDER_TSAN)
        fail_msg("%ld bytes of RAM per suspended coroutine", per);
    if (!UNDER_VALGRIND() && t2 - t0 > 30)
        fail_msg("%ld coroutines took %.1f s", n, t2 - t0);
    axi_stack_pool_stats_get(p, &st);
    assert_int_equal(st.cached, n < 1024 ? n : 1024);
    free(m.co);
    free(args);
    free_pool(p);
}

/* ---- errors ------------------------------------------------------------- */

struct fail_alloc {
    ax_allocator a;
    int calls;
};

static void *failing_alloc(void *ud, size_t n)
{
    (void)n;
    ((struct fail_alloc *)ud)->calls++;
    return NULL;
}

static void test_pool_errors(void **state)
{
    (void)state;
    axi_stack_pool *p = NULL;
    assert_int_equal(axi_stack_pool_new(NULL, 0, 0, NULL), AX_EINVAL);
    assert_int_equal(axi_stack_pool_new(NULL, AXI_CORO_MAX_STACK + 1, 0, &p), AX_EINVAL);
    assert_null(p);

    struct fail_alloc fa = {{failing_alloc, NULL, NULL, NULL}, 0};
    fa.a.ud = &fa;
    assert_int_equal(axi_stack_pool_new(&fa.a, 0, 0, &p), AX_ENOMEM);
    assert_int_equal(fa.calls, 1);
    assert_null(p);

    p = new_pool(1, 0); /* raised to the minimum */
    axi_stack_pool_stats st;
    axi_stack_pool_stats_get(p, &st);
    assert_int_equal(st.stack_size, AXI_CORO_MIN_STACK);
    free_pool(p);
    axi_stack_pool_free(NULL);
}

/* mmap failing is AX_ENOMEM, not a crash. */
static void child_enomem(void)
{
    axi_stack_pool *p;
    if (axi_stack_pool_new(NULL, 0, 0, &p) != 0)
        _exit(2);
    struct rlimit rl = {0, 0};
    getrlimit(RLIMIT_AS, &rl);
    rl.rlim_cur = 0; /* no new mappings at all */
    if (setrlimit(RLIMIT_AS, &rl) != 0)
        _exit(3);
    void *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED)
        _exit(77); /* the limit is not enforced here (qemu-user ignores it) */
    axi_coro *co = (axi_coro *)p;
    int rc = axi_coro_new(p, 0, count_fn, NULL, "x", &co);
    _exit(rc == AX_ENOMEM && co == NULL ? 0 : 4);
}

static void test_mmap_failure(void **state)
{
    (void)state;
    if (UNDER_VALGRIND() || UNDER_ASAN)
        skip(); /* a zero RLIMIT_AS leaves their shadow memory no room */
    struct child c;
    run_child("enomem", &c);
    if (WIFEXITED(c.status) && WEXITSTATUS(c.status) == 77)
        skip();
    expect_exit(&c, 0);
}

/* Freeing a pool under a live coroutine is a bug: it aborts. */
static void child_pool_free_live(void)
{
    axi_stack_pool *p;
    axi_coro *co;
    if (axi_stack_pool_new(NULL, 0, 0, &p) != 0 ||
        axi_coro_new(p, 0, count_fn, NULL, "alive", &co) != 0)
        _exit(2);
    axi_stack_pool_free(p);
    _exit(3);
}

static void test_pool_free_with_live_coroutine_aborts(void **state)
{
    (void)state;
    struct child c;
    run_child("pool_free_live", &c);
    expect_signal(&c, SIGABRT);
    assert_non_null(strstr(c.err, "still alive"));
}

static const struct child_scenario children[] = {
    {"enomem", child_enomem},
    {"pool_free_live", child_pool_free_live},
};

int main(int argc, char **argv)
{
    child_dispatch(argc, argv, children, sizeof children / sizeof children[0]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stack_reuse),
        cmocka_unit_test(test_free_never_started),
        cmocka_unit_test(test_deep_recursion),
        cmocka_unit_test(test_hundred_thousand),
        cmocka_unit_test(test_pool_errors),
        cmocka_unit_test(test_mmap_failure),
        cmocka_unit_test(test_pool_free_with_live_coroutine_aborts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
