/* switch_ucontext.c - the portable fallback: getcontext/makecontext/
 * swapcontext, for CPUs without an assembly switch (or with
 * -DAXON_CORO_BACKEND=ucontext).
 *
 * It is correct but slow: swapcontext saves and restores the signal mask
 * with a system call on every switch (hundreds of ns instead of a few),
 * and it switches the whole floating-point environment, exception flags
 * included, where the assembly versions keep the flags with the thread.
 */
#include <stdint.h>
#include <stdlib.h>

#include "coro/switch.h"

/* makecontext passes only int arguments, so the context pointer travels
 * in two halves. */
static void start(unsigned hi, unsigned lo)
{
    axi_ctx *ctx = (axi_ctx *)(uintptr_t)(((uint64_t)hi << 32) | lo);
    ctx->entry(ctx->arg);
    abort(); /* entry never returns */
}

void axi_ctx_make(axi_ctx *ctx, void *lo, size_t size, void (*entry)(void *), void *arg)
{
    uint64_t p = (uint64_t)(uintptr_t)ctx;
    ctx->entry = entry;
    ctx->arg = arg;
    /* getcontext also captures the creator's FP control modes. */
    if (getcontext(&ctx->uc) != 0)
        abort();
    ctx->uc.uc_stack.ss_sp = lo;
    ctx->uc.uc_stack.ss_size = size;
    ctx->uc.uc_link = NULL;
    /* void (*)(void) is the one function type gcc lets any other cast to. */
    makecontext(&ctx->uc, (void (*)(void))start, 2, (unsigned)(p >> 32), (unsigned)p);
}

void axi_ctx_switch(axi_ctx *from, axi_ctx *to)
{
    if (swapcontext(&from->uc, &to->uc) != 0)
        abort();
}
