/* coro.h - stackful coroutines: the internal API the actor layer builds on.
 *
 * A coroutine runs a function on its own stack and can suspend itself
 * (axi_coro_yield) and be continued later (axi_coro_resume).  It is an
 * asymmetric design, like Lua's: a coroutine always yields back to whoever
 * resumed it, so the loop stays in charge of what runs next.
 *
 * Stacks are mmap'd with an inaccessible 16 KiB guard below them and come from
 * an axi_stack_pool (one per actor system: there are no globals) that keeps
 * a bounded cache of finished stacks for reuse.  See
 * docs/coroutines-internals.md for the register set saved, the
 * floating-point rules and the sanitizer notes.
 *
 * Threads.  A pool, and every coroutine made from it, belongs to one thread
 * at a time (the loop's); nothing here locks.  A coroutine must be resumed
 * on the thread that first resumed it: code inside it may have cached the
 * address of a thread-local variable across a switch.
 *
 * Misuse (resuming a running or finished coroutine, yielding from outside
 * it, freeing a pool that still has live coroutines) is a bug in the
 * caller; it is reported on stderr and aborts, because continuing on a
 * corrupt stack would do worse things later.
 */
#ifndef AXI_CORO_H
#define AXI_CORO_H

#include <stddef.h>

#include "axon/common.h"

/* Default stack size when a pool is created with 0: 64 KiB, enough for
 * ordinary handler code and libc (printf, getaddrinfo need a few KiB), small
 * enough for 100k suspended coroutines (only touched pages cost RAM). */
#define AXI_CORO_DEFAULT_STACK ((size_t)64 * 1024)
/* Smaller requests are raised to this. */
#define AXI_CORO_MIN_STACK ((size_t)16 * 1024)
/* Larger requests fail with AX_EINVAL. */
#define AXI_CORO_MAX_STACK ((size_t)1024 * 1024 * 1024)
/* Labels longer than this (including the NUL) are truncated. */
#define AXI_CORO_LABEL_MAX 64

typedef struct axi_stack_pool axi_stack_pool;
typedef struct axi_coro axi_coro;
typedef void (*axi_coro_fn)(void *arg);

/* Counters of one pool, for stats and tests. */
typedef struct axi_stack_pool_stats {
    size_t live;           /* stacks owned by coroutines not yet freed */
    size_t cached;         /* stacks kept for reuse (<= max_cached) */
    size_t mapped;         /* mmap calls made over the pool's life */
    size_t unmapped;       /* munmap calls made over the pool's life */
    size_t stack_size;     /* the pool's default stack size (page-rounded) */
    int guard_lightweight; /* 1: guard pages are MADV_GUARD_INSTALL markers
                            * (no extra kernel mapping per stack);
                            * 0: mprotect'd pages (two mappings per stack,
                            * so vm.max_map_count bounds live coroutines) */
} axi_stack_pool_stats;

/* Create a stack pool.  `a` allocates the pool itself (NULL: malloc);
 * `default_stack_size` is the size of the stacks of coroutines created with
 * stack_size 0 (0: AXI_CORO_DEFAULT_STACK), rounded up to whole pages and to
 * at least AXI_CORO_MIN_STACK; it counts the bytes above the guard, of
 * which a small header (the axi_coro itself, 192 bytes; 2 KiB with the
 * ucontext fallback) is not usable stack.  Up to `max_cached` finished
 * stacks of the default size are kept for reuse (0: none).  The allocator
 * is copied, but its ud must stay valid until the pool is freed.  On
 * success *out owns the pool; free it with axi_stack_pool_free().
 * Returns 0, AX_EINVAL (NULL out, size above AXI_CORO_MAX_STACK) or
 * AX_ENOMEM. */
int axi_stack_pool_new(const ax_allocator *a, size_t default_stack_size, size_t max_cached,
                       axi_stack_pool **out);

/* Unmap the cached stacks and free the pool.  Every coroutine made from it
 * must have been freed already (aborts otherwise).  NULL is a no-op. */
void axi_stack_pool_free(axi_stack_pool *p);

/* Fill *st with the pool's counters. */
void axi_stack_pool_stats_get(const axi_stack_pool *p, axi_stack_pool_stats *st);

/* Create a coroutine that will run fn(arg) on its own stack.  `stack_size`
 * 0 means the pool's default (the only size that is cached); other values
 * are rounded as for the pool.  `label` (may be NULL) names it in overflow
 * reports, e.g. the actor id; it is copied.  Nothing runs until the first
 * axi_coro_resume().  The axi_coro lives in the top of its own stack
 * mapping, so creating one allocates nothing when the cache has a stack.
 * Returns 0 and sets *out, or AX_EINVAL (NULL pool/fn/out, stack_size above
 * AXI_CORO_MAX_STACK) or AX_ENOMEM (mmap failed); *out is NULL then. */
int axi_coro_new(axi_stack_pool *p, size_t stack_size, axi_coro_fn fn, void *arg, const char *label,
                 axi_coro **out);

/* Switch from the caller into `co`, which must be new or suspended.
 * Returns when co yields or its function returns.  May be called from
 * inside another coroutine (that one then waits, still "running", until co
 * yields).  The first resume on a thread also gives the thread its
 * alternate signal stack if the overflow handler is installed. */
void axi_coro_resume(axi_coro *co);

/* Suspend `co`, which must be the running coroutine, and return to
 * whoever resumed it.  Returns when co is resumed again. */
void axi_coro_yield(axi_coro *co);

/* 1 once co's function has returned, else 0. */
int axi_coro_done(const axi_coro *co);

/* The coroutine running on the calling thread, NULL outside coroutines.
 * This is a thread-local (one of the two in axon: a coroutine is per
 * thread by nature, and the SIGSEGV handler needs to find the one that
 * overflowed). */
axi_coro *axi_coro_current(void);

/* The label given at creation ("" if none).  Valid until co is freed. */
const char *axi_coro_label(const axi_coro *co);

/* The usable stack of co: [*lo, *lo + *size).  For tests and stats. */
void axi_coro_stack_bounds(const axi_coro *co, void **lo, size_t *size);

/* Free a coroutine that is done, never started, or suspended.  A suspended
 * one is discarded without running another instruction of it, so whatever
 * its frames own leaks: the actor layer should rather resume it with a
 * "cancelled" result and let it return.  Freeing the running coroutine
 * aborts.  The stack goes back to the pool's cache (or is unmapped if the
 * cache is full or the size is not the default).  NULL is a no-op. */
void axi_coro_free(axi_coro *co);

/* Install, once per process, a SIGSEGV/SIGBUS handler that reports a
 * coroutine stack overflow (the coroutine's label, its stack, the fault
 * address) on stderr and aborts.  Faults that are not a coroutine overflow
 * go to the handler that was installed before (a SIG_DFL one is restored
 * and the fault re-raised).  It runs on a per-thread alternate signal stack
 * that axi_coro_resume sets up lazily on each thread.  Idempotent and
 * thread-safe; the system calls it when it is created.  Signal dispositions
 * are process-wide, so this is the one process global of the module.
 * Returns 0 or AX_ESYS. */
int axi_coro_install_overflow_handler(void);

#endif /* AXI_CORO_H */
