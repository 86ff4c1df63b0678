/* overflow.c - turn a coroutine stack overflow into a clear report.
 *
 * Without this, running off the bottom of a coroutine stack hits the guard
 * page and the process dies of a bare SIGSEGV (or, with no handler stack
 * left, silently).  The handler below runs on a per-thread alternate signal
 * stack, because the faulting stack has no room left; it checks whether the
 * fault belongs to the running coroutine's stack, and if so prints the
 * coroutine's label and aborts.  Every other fault goes on to the handler
 * that was there before, so a crash reporter or sanitizer installed earlier
 * still sees it.
 *
 * Only async-signal-safe work happens in the handler: write(2), abort(),
 * sigaction(), and a read of the thread-local current coroutine, whose
 * storage exists already because axi_coro_resume wrote it on this thread.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "coro/coro_impl.h"

#ifndef MAP_STACK
#define MAP_STACK 0
#endif

/* How far below its stack a coroutine's stack pointer may have jumped (one
 * frame larger than the guard page) and still be called an overflow. */
#define JUMP_MAX ((uintptr_t)1 << 20)
/* Faults this far below the stack pointer still count as "at" it: a push,
 * a call, or the red zone. */
#define BELOW_SP 256

static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_rc;
static atomic_int installed;
static struct sigaction prev_segv, prev_bus;
static pthread_key_t altstack_key;
static size_t altstack_size;

/* The interrupted stack pointer; 0 where we do not know how to read it. */
static uintptr_t fault_sp(void *uc)
{
#if defined(__linux__) && defined(__x86_64__)
    return (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RSP];
#elif defined(__linux__) && defined(__aarch64__)
    return (uintptr_t)((ucontext_t *)uc)->uc_mcontext.sp;
#else
    (void)uc;
    return 0;
#endif
}

static int is_overflow(const axi_coro *co, uintptr_t addr, uintptr_t sp)
{
    uintptr_t map = (uintptr_t)co->map, lo = (uintptr_t)co->lo;
    if (addr >= map && addr < lo)
        return 1; /* the guard page */
    /* A frame bigger than the guard page skips it.  If it lands on
     * unmapped memory we still catch it: the stack pointer is just below
     * the stack and the fault is where it points. */
    return sp != 0 && sp < lo && lo - sp <= JUMP_MAX && addr < lo && addr + BELOW_SP >= sp;
}

static char *fmt_hex(char *p, uintptr_t v)
{
    char tmp[2 * sizeof v];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    *p++ = '0';
    *p++ = 'x';
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *fmt_dec(char *p, size_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static _Noreturn void report_overflow(const axi_coro *co, uintptr_t addr)
{
    char buf[160], *p;
    axi_coro_write_err("axon: stack overflow in coroutine \"");
    axi_coro_write_err(co->label);
    p = buf;
    memcpy(p, "\" (fault at ", 12);
    p = fmt_hex(p + 12, addr);
    memcpy(p, ", stack ", 8);
    p = fmt_hex(p + 8, (uintptr_t)co->lo);
    *p++ = '-';
    p = fmt_hex(p, (uintptr_t)co->lo + co->size);
    *p++ = ',';
    *p++ = ' ';
    p = fmt_dec(p, co->size);
    *p = '\0';
    axi_coro_write_err(buf);
    axi_coro_write_err(" bytes); give it a bigger stack. Aborting.\n");
    abort();
}

/* Hand a fault that is not ours to the previous disposition. */
static void chain(int sig, siginfo_t *si, void *uc)
{
    const struct sigaction *prev = sig == SIGBUS ? &prev_bus : &prev_segv;
    if (prev->sa_flags & SA_SIGINFO) {
        prev->sa_sigaction(sig, si, uc);
        return;
    }
    if (prev->sa_handler == SIG_IGN && si->si_code <= 0)
        return; /* a sent signal that was being ignored */
    if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
        prev->sa_handler(sig);
        return;
    }
    /* Default: put it back and return.  A real fault happens again on the
     * same instruction and kills the process the usual way (core dump,
     * original context); a sent signal must be sent again. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    if (si->si_code <= 0)
        raise(sig);
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    int saved_errno = errno;
    axi_coro *co = axi_coro_current();
    /* si_code > 0: raised by the kernel for a fault, not sent by kill(). */
    if (co && si->si_code > 0 && is_overflow(co, (uintptr_t)si->si_addr, fault_sp(uc)))
        report_overflow(co, (uintptr_t)si->si_addr);
    chain(sig, si, uc);
    errno = saved_errno;
}

/* Thread exit: drop the alternate stack we gave this thread. */
static void free_altstack(void *mem)
{
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && cur.ss_sp == mem) {
        stack_t off;
        memset(&off, 0, sizeof off);
        off.ss_flags = SS_DISABLE;
        sigaltstack(&off, NULL);
    }
    munmap(mem, altstack_size);
}

static void do_install(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t want = (size_t)SIGSTKSZ; /* glibc >= 2.34: a sysconf() value */
    if (want < 64 * 1024)
        want = 64 * 1024;
    altstack_size = (want + page - 1) / page * page;
    if (pthread_key_create(&altstack_key, free_altstack) != 0) {
        install_rc = AX_ESYS;
        return;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    /* Read the old dispositions before ours can run and need them. */
    if (sigaction(SIGSEGV, NULL, &prev_segv) != 0 || sigaction(SIGBUS, NULL, &prev_bus) != 0 ||
        sigaction(SIGSEGV, &sa, NULL) != 0 || sigaction(SIGBUS, &sa, NULL) != 0) {
        install_rc = AX_ESYS;
        return;
    }
    atomic_store_explicit(&installed, 1, memory_order_release);
}

int axi_coro_install_overflow_handler(void)
{
    if (pthread_once(&install_once, do_install) != 0)
        return AX_ESYS;
    return install_rc;
}

int axi_coro_thread_setup(void)
{
    if (!atomic_load_explicit(&installed, memory_order_acquire))
        return 0;
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE))
        return 1; /* the thread has one already (the application's, ASan's) */
    void *mem = mmap(NULL, altstack_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (mem == MAP_FAILED)
        return 1; /* degrade: an overflow then dies of a plain SIGSEGV */
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_sp = mem;
    ss.ss_size = altstack_size;
    if (sigaltstack(&ss, NULL) != 0) {
        munmap(mem, altstack_size);
        return 1;
    }
    if (pthread_setspecific(altstack_key, mem) != 0)
        free_altstack(mem);
    return 1;
}
