/* coro_testutil.h - what the coroutine tests share: cmocka (the real one,
 * or tests/coroactor/cmocka_shim in an aarch64 cross build without arm64
 * cmocka), which tool the test runs under, pool/coroutine helpers, and death tests (a
 * scenario run in a fresh process whose stderr and end we inspect).
 *
 * Tests that cannot work under a tool are skipped there, visibly
 * ([  SKIPPED ] in the output); each says why where it calls skip().
 */
#ifndef AXON_CORO_TESTUTIL_H
#define AXON_CORO_TESTUTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "coro/coro.h"
#include "util/exec_self.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() RUNNING_ON_VALGRIND
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND() 0
#endif

/* 1 with an assembly switch, 0 with the ucontext fallback. */
#if defined(AXI_CORO_UCONTEXT)
#define ASM_SWITCH 0
#else
#define ASM_SWITCH 1
#endif

static inline axi_stack_pool *new_pool(size_t stack_size, size_t max_cached)
{
    axi_stack_pool *p = NULL;
    assert_int_equal(axi_stack_pool_new(NULL, stack_size, max_cached, &p), 0);
    assert_non_null(p);
    return p;
}

/* Free the pool after checking that no coroutine is left alive. */
static inline void free_pool(axi_stack_pool *p)
{
    axi_stack_pool_stats st;
    axi_stack_pool_stats_get(p, &st);
    assert_int_equal(st.live, 0);
    axi_stack_pool_free(p);
}

static inline axi_coro *new_coro(axi_stack_pool *p, axi_coro_fn fn, void *arg, const char *label)
{
    axi_coro *co = NULL;
    assert_int_equal(axi_coro_new(p, 0, fn, arg, label, &co), 0);
    assert_non_null(co);
    return co;
}

/* A coroutine body that counts its runs in an int. */
static inline void count_fn(void *arg)
{
    (*(int *)arg)++;
}

/* ---- death tests -------------------------------------------------------- */

struct child {
    int status;     /* from waitpid */
    char err[4096]; /* its stderr */
};

/* Scenarios a test binary can run as a child: `binary --child <name>`. */
struct child_scenario {
    const char *name;
    void (*fn)(void);
};

/* In main(): run the scenario named on the command line, if any. */
static inline void child_dispatch(int argc, char **argv, const struct child_scenario *sc, size_t n)
{
    if (argc != 3 || strcmp(argv[1], "--child") != 0)
        return;
    for (size_t i = 0; i < n; i++)
        if (strcmp(argv[2], sc[i].name) == 0) {
            sc[i].fn();
            _exit(0);
        }
    _exit(126);
}

/* Run scenario `name` in a fresh process: fork and exec this binary, so
 * it starts with no overflow handler installed and cmocka's signal
 * handlers out of the way. */
static inline void run_child(const char *name, struct child *c)
{
    assert_int_equal(tu_run_self(name, &c->status, c->err, sizeof c->err), 0);
}

static inline void expect_signal(const struct child *c, int sig)
{
    if (!WIFSIGNALED(c->status) || WTERMSIG(c->status) != sig)
        fail_msg("child: want death by signal %d, got status %#x; stderr:\n%s", sig, c->status,
                 c->err);
}

static inline void expect_exit(const struct child *c, int code)
{
    if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != code)
        fail_msg("child: want exit %d, got status %#x; stderr:\n%s", code, c->status, c->err);
}

#endif /* AXON_CORO_TESTUTIL_H */
