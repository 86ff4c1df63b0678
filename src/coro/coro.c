/* coro.c - coroutine life cycle: create, resume, yield, finish, free.
 *
 * The switch itself is axi_ctx_switch (switch_*.S); this file keeps the
 * state machine, the thread's "current coroutine", and tells
 * AddressSanitizer and ThreadSanitizer about every change of stack (their
 * fiber APIs), without which ASan would take the new stack for a stack
 * overflow or a use after return of the old one, and TSan would mix the
 * shadow call stacks of unrelated coroutines.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coro/coro_impl.h"

#if AXI_CORO_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#if AXI_CORO_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* Per thread: the running coroutine, and whether this thread has its
 * alternate signal stack.  One struct so that resume computes one
 * thread-local address. */
static _Thread_local struct coro_tls {
    axi_coro *current;
    int ready;
} tls;

void axi_coro_write_err(const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

_Noreturn void axi_coro_panic(const axi_coro *co, const char *what)
{
    axi_coro_write_err("axon: coroutine ");
    if (co) {
        axi_coro_write_err("\"");
        axi_coro_write_err(co->label);
        axi_coro_write_err("\": ");
    }
    axi_coro_write_err(what);
    axi_coro_write_err("\n");
    abort();
}

/* The first frame on every coroutine stack.  It never returns: the frame
 * below it is the assembly trampoline, which has nowhere to return to. */
static void coro_main(void *arg)
{
    axi_coro *co = arg;
#if AXI_CORO_ASAN
    /* First arrival on this stack: learn the resumer's stack from ASan. */
    __sanitizer_finish_switch_fiber(NULL, &co->caller_bottom, &co->caller_size);
#endif
    co->fn(co->arg);
    co->state = CORO_DONE;
#if AXI_CORO_ASAN
    /* NULL: this stack is done for good; ASan may drop its fake frames. */
    __sanitizer_start_switch_fiber(NULL, co->caller_bottom, co->caller_size);
#endif
#if AXI_CORO_TSAN
    __tsan_switch_to_fiber(co->tsan_caller, 0);
#endif
    axi_ctx_switch(&co->ctx, &co->caller);
    axi_coro_panic(co, "a finished coroutine was resumed");
}

int axi_coro_new(axi_stack_pool *p, size_t stack_size, axi_coro_fn fn, void *arg, const char *label,
                 axi_coro **out)
{
    if (!out)
        return AX_EINVAL;
    *out = NULL;
    if (!p || !fn)
        return AX_EINVAL;
    axi_coro *co;
    int rc = axi_stack_acquire(p, stack_size, &co);
    if (rc)
        return rc;
    co->state = CORO_NEW;
    co->fn = fn;
    co->arg = arg;
    if (label) {
        size_t n = strnlen(label, sizeof co->label - 1);
        memcpy(co->label, label, n);
        co->label[n] = '\0';
    }
    axi_ctx_make(&co->ctx, co->lo, co->size, coro_main, co);
#if AXI_CORO_TSAN
    co->tsan_fiber = __tsan_create_fiber(0);
    __tsan_set_fiber_name(co->tsan_fiber, co->label);
#endif
    *out = co;
    return 0;
}

void axi_coro_resume(axi_coro *co)
{
    if (AXI_UNLIKELY(co->state != CORO_SUSPENDED && co->state != CORO_NEW))
        axi_coro_panic(co, "axi_coro_resume: not new or suspended (running, done or freed)");
    struct coro_tls *t = &tls; /* same thread after the switch: no migration */
#if defined(__GNUC__)
    /* In a shared library each &tls is a __tls_get_addr call, and gcc
     * would rather repeat it than keep the address: make it opaque. */
    __asm__("" : "+r"(t));
#endif
    if (AXI_UNLIKELY(!t->ready))
        t->ready = axi_coro_thread_setup();
    axi_coro *prev = t->current;
    t->current = co;
    co->state = CORO_RUNNING;
#if AXI_CORO_ASAN
    void *fake = NULL;
    __sanitizer_start_switch_fiber(&fake, co->lo, co->size);
#endif
#if AXI_CORO_TSAN
    co->tsan_caller = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(co->tsan_fiber, 0);
#endif
    axi_ctx_switch(&co->caller, &co->ctx);
#if AXI_CORO_ASAN
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
    t->current = prev;
}

void axi_coro_yield(axi_coro *co)
{
    if (AXI_UNLIKELY(co->state != CORO_RUNNING))
        axi_coro_panic(co, "axi_coro_yield: the coroutine is not running");
#ifndef NDEBUG
    /* Yielding an outer coroutine from a nested one would save this stack
     * into the wrong context. */
    if (tls.current != co)
        axi_coro_panic(co, "axi_coro_yield: called from outside the coroutine");
#endif
    co->state = CORO_SUSPENDED;
#if AXI_CORO_ASAN
    __sanitizer_start_switch_fiber(&co->asan_fake, co->caller_bottom, co->caller_size);
#endif
#if AXI_CORO_TSAN
    __tsan_switch_to_fiber(co->tsan_caller, 0);
#endif
    axi_ctx_switch(&co->ctx, &co->caller);
#if AXI_CORO_ASAN
    /* The next resumer may be on another stack than the last one. */
    __sanitizer_finish_switch_fiber(co->asan_fake, &co->caller_bottom, &co->caller_size);
#endif
}

int axi_coro_done(const axi_coro *co)
{
    return co->state == CORO_DONE;
}

axi_coro *axi_coro_current(void)
{
    return tls.current;
}

const char *axi_coro_label(const axi_coro *co)
{
    return co->label;
}

void axi_coro_stack_bounds(const axi_coro *co, void **lo, size_t *size)
{
    *lo = co->lo;
    *size = co->size;
}

void axi_coro_free(axi_coro *co)
{
    if (!co)
        return;
    if (co->state == CORO_RUNNING)
        axi_coro_panic(co, "axi_coro_free: the coroutine is running");
    if (co->state == CORO_CACHED)
        axi_coro_panic(NULL, "axi_coro_free: freed twice");
#if AXI_CORO_TSAN
    __tsan_destroy_fiber(co->tsan_fiber);
#endif
    axi_stack_release(co);
}
