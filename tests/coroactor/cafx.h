/* cafx.h - what the coroutine-actor tests share: a loop and system on a
 * counting allocator with a recording dead-letter hook, a few message
 * types (one with a free hook), a counting actor, the stack pool's
 * counters, which tool the test runs under, death tests (a scenario run in
 * a fresh process), and a runner that forks every test with a time limit.
 *
 * Every test runs in its own child process, as libuv's do: a test that
 * finds a crash or a hang in the library (a use after free, an abort from
 * the stack pool, a wait that never ends) fails alone and the others still
 * run.  `<binary> [epoll|poll] [substring]` runs the tests whose name
 * contains the substring; CA_NOFORK=1 runs them in-process (for a
 * debugger).
 *
 * Header-only (static functions) so each test binary stays one file. */
#ifndef AXON_CAFX_H
#define AXON_CAFX_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/exec_self.h"
#include "util/testutil.h"

#include "actor/actor_int.h"
#include "coro/coro.h"

/* ---- tools -------------------------------------------------------------- */

#if defined(__SANITIZE_ADDRESS__)
#define CA_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CA_UNDER_ASAN 1
#endif
#endif
#ifndef CA_UNDER_ASAN
#define CA_UNDER_ASAN 0
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define CA_UNDER_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef CA_UNDER_VALGRIND
#define CA_UNDER_VALGRIND() 0
#endif

/* A factor for every time limit: AXON_TEST_TIME_SCALE (e.g. 5 under
 * qemu-user, see scripts/test-aarch64.sh), else 1. */
static inline int ca_time_scale(void)
{
    const char *e = getenv("AXON_TEST_TIME_SCALE");
    int k = e ? atoi(e) : 1;
    return k > 0 ? k : 1;
}

/* Generous "did not hang" bounds, stretched under a tool or an emulator. */
static inline int ca_ms(int ms)
{
    ms *= ca_time_scale();
    return CA_UNDER_VALGRIND() ? ms * 20 : CA_UNDER_ASAN ? ms * 3 : ms;
}

/* ---- message types -------------------------------------------------------- */

enum {
    T_U64 = 100,   /* uint64_t */
    T_EMPTY = 101, /* no payload */
    T_SEQ = 102,   /* ca_seq */
    T_GO = 103,    /* no payload: "start your script" */
    T_BLOB = 105,  /* varsize bytes */
    T_OWNED = 107, /* ca_owned: has a free hook that counts */
    T_UNREG = 999  /* never registered */
};

typedef struct ca_seq {
    uint32_t stream;
    uint32_t seq;
} ca_seq;

/* A payload that "owns" something: its free hook counts its runs in
 * *counter, so a test sees whether (and when) axon released it. */
typedef struct ca_owned {
    uint64_t value;
    int *counter;
} ca_owned;

static inline void ca_owned_free(void *msg)
{
    ca_owned *o = msg;
    if (o->counter)
        (*o->counter)++;
}

static inline void ca_register_types(ax_system *sys)
{
    tu_ok(ax_msg_register_pod(sys, T_U64, "u64", sizeof(uint64_t), _Alignof(uint64_t)));
    tu_ok(ax_msg_register_pod(sys, T_EMPTY, "empty", 0, 1));
    tu_ok(ax_msg_register_pod(sys, T_SEQ, "seq", sizeof(ca_seq), _Alignof(ca_seq)));
    tu_ok(ax_msg_register_pod(sys, T_GO, "go", 0, 1));
    ax_msg_type blob = {
        .id = T_BLOB, .name = "blob", .size = 0, .align = 1, .flags = AX_MSG_F_VARSIZE};
    tu_ok(ax_msg_register(sys, &blob));
    ax_msg_type owned = {.id = T_OWNED,
                         .name = "owned",
                         .size = sizeof(ca_owned),
                         .align = _Alignof(ca_owned),
                         .free = ca_owned_free};
    tu_ok(ax_msg_register(sys, &owned));
}

/* ---- dead letters ---------------------------------------------------------- */

#define CA_DL_KEEP 64

typedef struct ca_dl {
    uint64_t n;
    ax_dead_letter v[CA_DL_KEEP];
    uint64_t by_reason[32]; /* count per -reason */
} ca_dl;

static inline void ca_dl_hook(void *arg, const ax_dead_letter *dl)
{
    ca_dl *d = arg;
    if (d->n < CA_DL_KEEP)
        d->v[d->n] = *dl;
    d->n++;
    if (dl->reason < 0 && -dl->reason < 32)
        d->by_reason[-dl->reason]++;
}

/* Fail with every recorded dead letter listed. */
static inline void ca_dl_dump(const ca_dl *d, const char *why)
{
    char buf[2048];
    size_t o = 0;
    for (uint64_t i = 0; i < d->n && i < CA_DL_KEEP && o < sizeof buf - 128; i++)
        o += (size_t)snprintf(
            buf + o, sizeof buf - o, "  type %u to {%u,%u,%u} from {%u,%u,%u}: %s\n", d->v[i].type,
            d->v[i].to.node, d->v[i].to.index, d->v[i].to.cookie, d->v[i].from.node,
            d->v[i].from.index, d->v[i].from.cookie, ax_errname(d->v[i].reason));
    buf[o] = '\0';
    fail_msg("%s: %llu dead letter(s):\n%s", why, (unsigned long long)d->n, buf);
}

/* ---- the fixture ------------------------------------------------------------- */

typedef struct ca {
    tu_alloc ta;
    tu_env env;
    ca_dl dl;
    ax_loop *loop;
    ax_system *sys;
} ca;

/* Loop + system on a counting allocator, dead letters recorded, the test
 * types registered.  `opt` may be NULL; its hook (if any) is replaced. */
static inline void ca_open(ca *f, const ax_system_options *opt)
{
    memset(f, 0, sizeof *f);
    tu_alloc_init(&f->ta);
    tu_env_open_dl(&f->env, &f->ta.a, opt, ca_dl_hook, &f->dl);
    f->loop = f->env.loop;
    f->sys = f->env.sys;
    ca_register_types(f->sys);
}

/* Free system and loop (asserting both succeed: ax_loop_free refuses while
 * an fd watcher is left), then check that nothing leaked. */
static inline void ca_close(ca *f)
{
    tu_env_close(&f->env);
    f->loop = NULL;
    f->sys = NULL;
    if (f->ta.live_blocks != 0 || f->ta.live_bytes != 0)
        fail_msg("leak: %lld blocks, %lld bytes still allocated", (long long)f->ta.live_blocks,
                 (long long)f->ta.live_bytes);
}

/* The system's coroutine stack pool counters (all zero before the first
 * coroutine handler made the pool). */
static inline axi_stack_pool_stats ca_stacks(const ax_system *sys)
{
    axi_stack_pool_stats st;
    memset(&st, 0, sizeof st);
    if (sys->stacks)
        axi_stack_pool_stats_get(sys->stacks, &st);
    return st;
}

static inline ax_stats ca_stats(const ax_system *sys)
{
    ax_stats st;
    memset(&st, 0xAB, sizeof st);
    ax_system_stats(sys, &st);
    return st;
}

static inline void ca_until(ca *f, int (*cond)(void *), void *arg, int ms)
{
    tu_run_until(f->loop, cond, arg, ca_ms(ms));
}

/* Run the loop until it is idle (at most 10 s). */
static inline void ca_drain(ca *f)
{
    tu_drain(f->loop, ca_ms(10000));
}

/* One loop turn that does not wait. */
static inline void ca_step(ca *f)
{
    int rc = ax_loop_step(f->loop, 0);
    if (rc < 0)
        fail_msg("ax_loop_step: %s", ax_errname(rc));
}

typedef struct ca_ge {
    const int *v;
    int want;
} ca_ge;

static inline int ca_ge_cond(void *arg)
{
    const ca_ge *g = arg;
    return *g->v >= g->want;
}

/* Step until *v >= want (fails the test after `ms`). */
static inline void ca_until_ge(ca *f, const int *v, int want, int ms)
{
    ca_ge g = {v, want};
    ca_until(f, ca_ge_cond, &g, ms);
}

/* A plain actor that counts its messages in the int its state points to. */
static inline void counter_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)ctx;
    (void)msg;
    (*(int *)state)++;
}

static inline int ca_send_u64(ax_system *sys, ax_id from, ax_id to, uint64_t v)
{
    return ax_system_send(sys, from, to, T_U64, &v, sizeof v);
}

static inline uint64_t ca_u64(const ax_msg *m)
{
    uint64_t v = 0;
    if (m && m->size >= sizeof v)
        memcpy(&v, m->data, sizeof v);
    return v;
}

static inline void ca_assert_id_eq(ax_id a, ax_id b)
{
    if (!ax_id_eq(a, b))
        fail_msg("ids differ: {%u,%u,%u} vs {%u,%u,%u}", a.node, a.index, a.cookie, b.node, b.index,
                 b.cookie);
}

static inline int64_t ca_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Burn CPU for `ms` without giving the loop a turn. */
static inline void ca_spin_ms(int ms)
{
    int64_t end = ca_now_ns() + AX_MSEC(ms);
    while (ca_now_ns() < end) {
    }
}

static inline void ca_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* 1 if fd is an open descriptor. */
static inline int ca_fd_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

/* ---- steps the tests repeat ---------------------------------------------------- */

/* Spawn a plain actor `receive` on `state`; returns its id. */
static inline ax_id ca_spawn(ca *f, ax_receive_fn receive, void *state)
{
    ax_id id;
    tu_ok(ax_spawn(f->sys, receive, state, NULL, &id));
    return id;
}

/* Send `to` a message of `type`, which has no payload, from outside. */
static inline void ca_tell(ca *f, ax_id to, uint32_t type)
{
    tu_ok(ax_system_send(f->sys, ax_id_nil(), to, type, NULL, 0));
}

static inline void ca_poison(ca *f, ax_id to)
{
    ca_tell(f, to, AX_MSG_POISON);
}

/* Send `to` T_GO from outside, then step until *v >= want (5 s at most). */
static inline void ca_go_until(ca *f, ax_id to, const int *v, int want)
{
    ca_tell(f, to, T_GO);
    ca_until_ge(f, v, want, 5000);
}

/* ax_ask `to` for the T_U64 1 and leave the reply unread (it stays held
 * until the next ask or until the handler returns).  Returns what ax_ask
 * returned (AX_ENOTCORO outside a coroutine handler). */
static inline int ca_ask_hold(ax_ctx *ctx, ax_id to, ax_duration timeout)
{
    const ax_msg *r = NULL;
    uint64_t v = 1;
    return ax_ask(ctx, to, T_U64, &v, sizeof v, &r, timeout);
}

/* Nothing left behind but `actors` actors: no timer armed. */
static inline void ca_assert_left(const ca *f, size_t actors)
{
    size_t n = ax_actor_count(f->sys), timers = ax_timer_count(f->loop);
    if (n != actors || timers != 0)
        fail_msg("%zu actor(s) and %zu timer(s) left, want %zu and 0", n, timers, actors);
}

/* ---- death tests ------------------------------------------------------------- */

typedef struct ca_child {
    int status;     /* from waitpid */
    char err[8192]; /* its stderr */
} ca_child;

typedef struct ca_scenario {
    const char *name;
    void (*fn)(void);
} ca_scenario;

/* Run scenario `name` in a fresh process: this binary exec'd again with
 * `--child name`, so no handler of the parent is installed.  Under an
 * emulator without binfmt_misc AXON_CORO_TEST_RUNNER names the command to
 * exec it with (e.g. "qemu-aarch64 -L /usr/aarch64-linux-gnu"). */
static inline void ca_run_child(const char *name, ca_child *c)
{
    assert_int_equal(tu_run_self(name, &c->status, c->err, sizeof c->err), 0);
}

/* ---- the runner ----------------------------------------------------------------- */

/* Run each test in a forked child with a time limit; print one line per
 * test that crashed or hung, and a summary.  Returns the exit status.
 * Handles `--child <name>` for death tests first. */
static inline int ca_main(int argc, char **argv, const struct CMUnitTest *tests, size_t n,
                          const ca_scenario *children, size_t nchildren, unsigned limit_s)
{
    if (argc == 3 && strcmp(argv[1], "--child") == 0) {
        for (size_t i = 0; i < nchildren; i++)
            if (strcmp(argv[2], children[i].name) == 0) {
                children[i].fn();
                _exit(0);
            }
        _exit(126);
    }
    tu_parse_backend(argc, argv);
    const char *filter = NULL;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "poll") != 0 && strcmp(argv[i], "epoll") != 0)
            filter = argv[i];
    limit_s *= (unsigned)ca_time_scale();
    if (CA_UNDER_VALGRIND())
        limit_s *= 10;
    const char *nofork = getenv("CA_NOFORK");
    int failed = 0, passed = 0;
    char failures[4096] = "";
    for (size_t i = 0; i < n; i++) {
        if (filter && !strstr(tests[i].name, filter))
            continue;
        if (nofork && *nofork == '1') {
            if (_cmocka_run_group_tests(tests[i].name, &tests[i], 1, NULL, NULL))
                failed++;
            else
                passed++;
            continue;
        }
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 2;
        }
        if (pid == 0) {
            /* A hang in the library ends here instead of in CTest's
             * timeout, and the other tests still run. */
            signal(SIGALRM, SIG_DFL);
            alarm(limit_s);
            int rc = _cmocka_run_group_tests(tests[i].name, &tests[i], 1, NULL, NULL);
            fflush(stdout);
            fflush(stderr);
            /* A failed test abandoned its system: no leak report on top.
             * A passed one exits normally, so LeakSanitizer checks it. */
            if (rc)
                _exit(1);
            exit(0);
        }
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            passed++;
            continue;
        }
        failed++;
        if (WIFSIGNALED(st))
            printf("[  CRASHED ] %s: killed by signal %d (%s)%s\n", tests[i].name, WTERMSIG(st),
                   strsignal(WTERMSIG(st)),
                   WTERMSIG(st) == SIGALRM ? " - hung past the time limit" : "");
        size_t o = strlen(failures);
        snprintf(failures + o, sizeof failures - o, "  %s\n", tests[i].name);
    }
    printf("coroactor: %d passed, %d failed\n", passed, failed);
    if (failed)
        printf("failed tests:\n%s", failures);
    fflush(stdout);
    return failed ? 1 : 0;
}

#endif /* AXON_CAFX_H */
