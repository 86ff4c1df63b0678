/* coro_impl.h - what coro.c, stack.c and overflow.c share: the layout of a
 * coroutine and a pool, and the sanitizer switches. */
#ifndef AXI_CORO_IMPL_H
#define AXI_CORO_IMPL_H

#include <stddef.h>

#include "base/base.h"
#include "coro/coro.h"
#include "coro/switch.h"

/* AddressSanitizer: gcc says __SANITIZE_ADDRESS__, clang __has_feature. */
#if defined(__SANITIZE_ADDRESS__)
#define AXI_CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AXI_CORO_ASAN 1
#endif
#endif
#ifndef AXI_CORO_ASAN
#define AXI_CORO_ASAN 0
#endif

/* ThreadSanitizer: each coroutine is a TSan fiber, or TSan would see one
 * thread's stack change under it. */
#if defined(__SANITIZE_THREAD__)
#define AXI_CORO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define AXI_CORO_TSAN 1
#endif
#endif
#ifndef AXI_CORO_TSAN
#define AXI_CORO_TSAN 0
#endif

/* Valgrind's client requests cost a few no-op instructions natively, so
 * they are compiled in whenever the header is there (opt out with
 * AXON_NO_VALGRIND). */
#if !defined(AXON_NO_VALGRIND) && defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#define AXI_CORO_VALGRIND 1
#endif
#endif
#ifndef AXI_CORO_VALGRIND
#define AXI_CORO_VALGRIND 0
#endif

enum coro_state {
    CORO_NEW = 1,   /* created, never resumed */
    CORO_SUSPENDED, /* yielded, may be resumed */
    CORO_RUNNING,   /* on the call chain of its thread */
    CORO_DONE,      /* its function returned */
    CORO_CACHED,    /* freed; the stack sits in the pool's cache */
};

/* A coroutine is the header at the top of its own stack mapping:
 *
 *   map                                                 map + map_size
 *   | guard (16 KiB) | usable stack (grows down) ... | struct axi_coro |
 *                    lo                        lo + size
 */
struct axi_coro {
    axi_ctx ctx;    /* the coroutine's saved context while it is not running */
    axi_ctx caller; /* the resumer's context while the coroutine runs */
    int state;      /* enum coro_state */
    unsigned vg_id; /* Valgrind stack id */
    axi_coro_fn fn;
    void *arg;
    axi_stack_pool *pool;
    char *map; /* the whole mapping, guard included */
    size_t map_size;
    char *lo; /* usable stack [lo, lo + size) */
    size_t size;
    axi_coro *next_cached;
#if AXI_CORO_ASAN
    void *asan_fake;           /* ASan's fake stack of this coroutine while away */
    const void *caller_bottom; /* the resumer's stack, for switching back */
    size_t caller_size;
#endif
#if AXI_CORO_TSAN
    void *tsan_fiber;  /* this coroutine */
    void *tsan_caller; /* whoever resumed it last */
#endif
    char label[AXI_CORO_LABEL_MAX];
};

struct axi_stack_pool {
    ax_allocator alloc; /* a copy: the caller's struct need not outlive us */
    size_t page;
    size_t guard;      /* guard bytes below each stack (16 KiB) */
    size_t stack_size; /* default size above the guard, page multiple */
    size_t max_cached;
    axi_coro *cache; /* LIFO: the most recently used stack is warmest */
    size_t ncached;
    size_t nlive;
    size_t nmapped, nunmapped;
    int guard_lightweight;
};

/* stack.c: a mapped stack with a fresh header (state, fn, label unset) for
 * `stack_size` bytes (0: the pool's default), from the cache when possible. */
int axi_stack_acquire(axi_stack_pool *p, size_t stack_size, axi_coro **out);
/* stack.c: give co's stack back: cache it or unmap it. */
void axi_stack_release(axi_coro *co);

/* overflow.c: give the calling thread its alternate signal stack if the
 * overflow handler is installed.  Returns 1 when the thread needs no more
 * setup, 0 when the handler is not installed yet (ask again later). */
int axi_coro_thread_setup(void);

/* coro.c: report misuse or corruption on stderr and abort. */
_Noreturn void axi_coro_panic(const axi_coro *co, const char *what);

/* Write a string to stderr with write(2) only: usable in a signal handler. */
void axi_coro_write_err(const char *s);

#endif /* AXI_CORO_IMPL_H */
