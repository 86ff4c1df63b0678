/* switch.h - the platform contract of the context switch.
 *
 * One implementation per CPU, chosen by src/coro/sources.cmake:
 * switch_x86_64.S, switch_aarch64.S, and switch_ucontext.c for everything
 * else (or when AXON_CORO_BACKEND=ucontext).  The assembly versions save
 * only what the ABI says a callee must preserve, on the stack being left,
 * and keep a single stack pointer in the context; see
 * docs/coroutines-internals.md.
 */
#ifndef AXI_CORO_SWITCH_H
#define AXI_CORO_SWITCH_H

#include <stddef.h>

#if defined(AXI_CORO_UCONTEXT)
#include <ucontext.h>

typedef struct axi_ctx {
    ucontext_t uc;
    void (*entry)(void *);
    void *arg;
} axi_ctx;
#else
/* Everything else lives on the suspended stack; the assembly relies on sp
 * being the first (and only) member. */
typedef struct axi_ctx {
    void *sp;
} axi_ctx;
#endif

/* Prepare `ctx` so that the first axi_ctx_switch() into it calls
 * entry(arg) on the stack [lo, lo + size), with the caller's current
 * floating-point control modes.  `entry` must never return: it ends by
 * switching away for good. */
void axi_ctx_make(axi_ctx *ctx, void *lo, size_t size, void (*entry)(void *), void *arg);

/* Save the current context in `from` and continue in `to`.  Returns when
 * some later switch names `from` as its `to`. */
void axi_ctx_switch(axi_ctx *from, axi_ctx *to);

#endif /* AXI_CORO_SWITCH_H */
