/* testutil.h - shared helpers for axon's cmocka tests: a counting
 * allocator that can fail the Nth allocation, and loop/system setup. */
#ifndef AXON_TESTUTIL_H
#define AXON_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "axon.h"

/* Counts every call and every live byte; fails allocation number
 * `fail_at` (1-based; 0 = never) and, if fail_after is set, every later one. */
typedef struct tu_alloc {
    ax_allocator a;
    uint64_t allocs, frees, reallocs;
    int64_t live_bytes;
    int64_t live_blocks;
    uint64_t fail_at;
    int fail_after;
} tu_alloc;

void tu_alloc_init(tu_alloc *t);

/* Assert that an AX_* call returned the expected code, printing names. */
#define tu_assert_err(expr, want)                                                                  \
    do {                                                                                           \
        int tu_rc_ = (expr);                                                                       \
        int tu_want_ = (want);                                                                     \
        if (tu_rc_ != tu_want_)                                                                    \
            fail_msg("%s returned %s (%d), want %s (%d)", #expr, ax_errname(tu_rc_), tu_rc_,       \
                     ax_errname(tu_want_), tu_want_);                                              \
    } while (0)

#define tu_ok(expr) tu_assert_err((expr), 0)

/* Backend chosen for this test binary: from argv[1] ("epoll"|"poll"),
 * default DEFAULT.  Call tu_parse_backend(argc, argv) in main. */
extern ax_backend tu_backend;
void tu_parse_backend(int argc, char **argv);

/* A loop (tu_backend) and a system on it, with the given allocator (may be
 * NULL) and options (may be NULL). */
typedef struct tu_env {
    ax_loop *loop;
    ax_system *sys;
} tu_env;

void tu_env_open(tu_env *e, const ax_allocator *a, const ax_system_options *opt);
/* The same with `opt`'s dead-letter hook (if any) replaced by hook(arg):
 * the fixtures' way of recording every dead letter.  `opt` may be NULL. */
void tu_env_open_dl(tu_env *e, const ax_allocator *a, const ax_system_options *opt,
                    ax_dead_letter_fn hook, void *arg);
/* Free the system and the loop, asserting both succeed. */
void tu_env_close(tu_env *e);

/* Step the loop until cond() is true or `ms` elapse (fails the test then). */
void tu_run_until(ax_loop *loop, int (*cond)(void *), void *arg, int ms);

/* Step until the loop is idle (ax_loop_step returns 0), at most `ms`. */
void tu_drain(ax_loop *loop, int ms);

#endif
