/* looptest.h - helpers shared by the loop suite (loop_test.c, timer_test.c,
 * io_test.c, embed_test.c).
 *
 * Every binary of the suite is registered twice in CTest, once per backend
 * (argv[1] = "epoll" | "poll"), so each test must pass on both; where the
 * backends legitimately differ the test branches on lt_epoll() and says why.
 *
 * Each test runs under a watchdog alarm: a hang (a loop that never returns)
 * kills the binary with SIGALRM, and cmocka's last "[ RUN ]" line names the
 * test that hung.  CTest's own timeout is the second line of defence. */
#ifndef AXON_LOOPTEST_H
#define AXON_LOOPTEST_H

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/testutil.h"

/* Seconds one test may take before the watchdog fires. */
#define LT_WATCHDOG_S 30

static inline int lt_epoll(void)
{
    return tu_backend == AX_BACKEND_EPOLL;
}

/* The same clock the loop reads (CLOCK_MONOTONIC), so test timestamps
 * compare directly with ax_loop_now(). */
static inline int64_t lt_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void lt_sleep_ns(int64_t ns)
{
    if (ns <= 0)
        return;
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static inline int lt_setup(void **state)
{
    (void)state;
    alarm(LT_WATCHDOG_S);
    return 0;
}

static inline int lt_teardown(void **state)
{
    (void)state;
    alarm(0);
    return 0;
}

#define LT_TEST(f) cmocka_unit_test_setup_teardown(f, lt_setup, lt_teardown)

/* Common main: pick the backend from argv[1] (required, so a registration
 * typo cannot silently test the default backend twice), ignore SIGPIPE
 * (tests write to pipes whose reader is gone and want EPIPE, not death). */
#define LT_MAIN(group_name, tests)                                                                 \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        if (argc < 2 || (strcmp(argv[1], "epoll") && strcmp(argv[1], "poll"))) {                   \
            fprintf(stderr, "usage: %s epoll|poll\n", argv[0]);                                    \
            return 2;                                                                              \
        }                                                                                          \
        tu_parse_backend(argc, argv);                                                              \
        signal(SIGPIPE, SIG_IGN);                                                                  \
        char name_[128];                                                                           \
        snprintf(name_, sizeof name_, "%s[%s]", group_name, argv[1]);                              \
        return cmocka_run_group_tests_name(name_, tests, NULL, NULL);                              \
    }

/* A loop on the backend under test using the counting allocator `ta`
 * (initialised here), busy-polling for `busy_us` (0: not at all). */
static inline ax_loop *lt_loop_new_busy(tu_alloc *ta, uint32_t busy_us)
{
    tu_alloc_init(ta);
    ax_loop_options o = {.backend = tu_backend, .allocator = &ta->a, .busy_poll_us = busy_us};
    ax_loop *loop = NULL;
    tu_ok(ax_loop_new(&o, &loop));
    return loop;
}

static inline ax_loop *lt_loop_new(tu_alloc *ta)
{
    return lt_loop_new_busy(ta, 0);
}

/* A timer callback that counts its calls in the int at `arg`. */
static inline void lt_count_timer(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    (*(int *)arg)++;
}

/* Free the loop and check that every block it allocated came back. */
static inline void lt_loop_free(ax_loop *loop, tu_alloc *ta)
{
    tu_ok(ax_loop_free(loop));
    assert_int_equal(ta->live_blocks, 0);
    assert_int_equal(ta->live_bytes, 0);
}

/* tu_alloc behind a mutex: ax_system_post() allocates on the posting
 * thread, so tests that post from a second thread need a thread-safe
 * allocator and still want the leak count. */
typedef struct lt_mt_alloc {
    ax_allocator a; /* hand this to axon */
    tu_alloc inner;
    pthread_mutex_t mu;
} lt_mt_alloc;

static inline void *lt_mt_alloc_fn(void *ud, size_t n)
{
    lt_mt_alloc *m = ud;
    pthread_mutex_lock(&m->mu);
    void *p = m->inner.a.alloc(m->inner.a.ud, n);
    pthread_mutex_unlock(&m->mu);
    return p;
}

static inline void *lt_mt_realloc_fn(void *ud, void *p, size_t o, size_t n)
{
    lt_mt_alloc *m = ud;
    pthread_mutex_lock(&m->mu);
    void *q = m->inner.a.realloc(m->inner.a.ud, p, o, n);
    pthread_mutex_unlock(&m->mu);
    return q;
}

static inline void lt_mt_free_fn(void *ud, void *p, size_t n)
{
    lt_mt_alloc *m = ud;
    pthread_mutex_lock(&m->mu);
    m->inner.a.free(m->inner.a.ud, p, n);
    pthread_mutex_unlock(&m->mu);
}

static inline void lt_mt_alloc_init(lt_mt_alloc *m)
{
    tu_alloc_init(&m->inner);
    pthread_mutex_init(&m->mu, NULL);
    m->a.alloc = lt_mt_alloc_fn;
    m->a.realloc = lt_mt_realloc_fn;
    m->a.free = lt_mt_free_fn;
    m->a.ud = m;
}

static inline void lt_mt_alloc_check(lt_mt_alloc *m)
{
    assert_int_equal(m->inner.live_blocks, 0);
    assert_int_equal(m->inner.live_bytes, 0);
    pthread_mutex_destroy(&m->mu);
}

/* A loop on the backend under test using the thread-safe counting
 * allocator `m` (initialised here), busy-polling for `busy_us`. */
static inline ax_loop *lt_mt_loop_new(lt_mt_alloc *m, uint32_t busy_us)
{
    lt_mt_alloc_init(m);
    ax_loop_options o = {.backend = tu_backend, .allocator = &m->a, .busy_poll_us = busy_us};
    ax_loop *loop = NULL;
    tu_ok(ax_loop_new(&o, &loop));
    return loop;
}

/* Free the system and the loop, then check every block came back. */
static inline void lt_mt_loop_free(ax_loop *loop, ax_system *sys, lt_mt_alloc *m)
{
    tu_ok(ax_system_free(sys));
    tu_ok(ax_loop_free(loop));
    lt_mt_alloc_check(m);
}

/* A non-blocking, close-on-exec pipe / socketpair. */
static inline void lt_pipe(int fds[2])
{
    assert_int_equal(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
}

static inline void lt_socketpair(int fds[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
}

static inline void lt_close2(int fds[2])
{
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    fds[0] = fds[1] = -1;
}

static inline void lt_write1(int fd)
{
    char c = 'x';
    assert_int_equal(write(fd, &c, 1), 1);
}

/* A small deterministic PRNG (xorshift64*), so failures reproduce. */
static inline uint64_t lt_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

#endif /* AXON_LOOPTEST_H */
