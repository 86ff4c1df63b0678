/* stack.c - coroutine stacks: mmap'd, a guard region below, a bounded cache.
 *
 * Stacks are not taken from the allocator: they must be page-aligned, they
 * need a guard, and most of their pages are never touched, which only an
 * anonymous mapping gives for free.
 *
 * Guards.  On Linux >= 6.13, madvise(MADV_GUARD_INSTALL) turns pages into
 * a guard without splitting the mapping, so adjacent stacks merge into one
 * kernel VMA and 100k coroutines cost a handful of mappings.  Elsewhere the
 * guard is mprotect'd PROT_NONE, i.e. two VMAs per stack, and
 * vm.max_map_count (65530 by default) caps a process at ~32k live stacks.
 * The pool probes once, when it is created, which one works.
 *
 * Reuse.  A finished stack of the default size goes back to the cache as
 * it is: no MADV_DONTNEED, so the next coroutine finds its top pages warm
 * and pays no page faults.  The cache is bounded, so the RAM it pins is at
 * most max_cached * stack_size.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "coro/coro_impl.h"

#if AXI_CORO_ASAN
#include <sanitizer/asan_interface.h>
#endif
#if AXI_CORO_VALGRIND
#include <valgrind/valgrind.h>
#endif

#if defined(__linux__) && !defined(MADV_GUARD_INSTALL)
#define MADV_GUARD_INSTALL 102 /* Linux 6.13; older headers lack it */
#endif

#ifndef MAP_STACK
#define MAP_STACK 0
#endif

/* Below every stack.  More than one page, because a function whose frame
 * is larger than the guard steps over it without touching it; 16 KiB
 * covers the usual big local buffers.  It costs address space only: no
 * RAM, and no extra kernel mapping beyond the one a guard needs anyway. */
#define GUARD_BYTES ((size_t)16 * 1024)

/* The header sits at the top, aligned so the stack below it starts 64-byte
 * aligned (the ABIs want 16). */
#define HDR_SIZE ((sizeof(axi_coro) + 63) & ~(size_t)63)

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

/* Does MADV_GUARD_INSTALL really guard?  The madvise can succeed without
 * effect (qemu-user ignores unknown advice), so check with a system call
 * that reads the page: the kernel answers EFAULT for a guard page instead
 * of delivering a signal. */
static int probe_lightweight_guard(size_t page)
{
#if defined(MADV_GUARD_INSTALL)
    int ok = 0;
    char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return 0;
    if (madvise(m, page, MADV_GUARD_INSTALL) == 0) {
        int fd[2];
        if (pipe(fd) == 0) {
            ok = write(fd[1], m, 1) < 0 && errno == EFAULT && write(fd[1], m + page, 1) == 1;
            close(fd[0]);
            close(fd[1]);
        }
    }
    munmap(m, 2 * page);
    return ok;
#else
    (void)page;
    return 0;
#endif
}

/* Page-rounded size above the guard for a request (0: `dflt`), or 0 if it
 * is too large. */
static size_t stack_bytes(size_t req, size_t dflt, size_t page)
{
    if (req == 0)
        return dflt;
    if (req > AXI_CORO_MAX_STACK)
        return 0;
    if (req < AXI_CORO_MIN_STACK)
        req = AXI_CORO_MIN_STACK;
    return round_up(req, page);
}

int axi_stack_pool_new(const ax_allocator *a, size_t default_stack_size, size_t max_cached,
                       axi_stack_pool **out)
{
    if (!out)
        return AX_EINVAL;
    *out = NULL;
    if (!a)
        a = &axi_default_allocator;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t size = stack_bytes(default_stack_size, round_up(AXI_CORO_DEFAULT_STACK, page), page);
    if (size == 0)
        return AX_EINVAL;
    axi_stack_pool *p = axi_calloc(a, sizeof *p);
    if (!p)
        return AX_ENOMEM;
    p->alloc = *a;
    p->page = page;
    p->guard = round_up(GUARD_BYTES, page);
    p->stack_size = size;
    p->max_cached = max_cached;
    p->guard_lightweight = probe_lightweight_guard(page);
    *out = p;
    return 0;
}

static int install_guard(const axi_stack_pool *p, char *map)
{
#if defined(MADV_GUARD_INSTALL)
    if (p->guard_lightweight)
        return madvise(map, p->guard, MADV_GUARD_INSTALL);
#endif
    return mprotect(map, p->guard, PROT_NONE);
}

static int map_stack(axi_stack_pool *p, size_t bytes, axi_coro **out)
{
    size_t map_size = p->guard + bytes;
    char *map = mmap(NULL, map_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (map == MAP_FAILED)
        return AX_ENOMEM;
    if (install_guard(p, map) != 0) {
        munmap(map, map_size);
        return AX_ENOMEM; /* ENOMEM: out of mappings (vm.max_map_count) */
    }
    axi_coro *co = (axi_coro *)(map + map_size - HDR_SIZE);
    co->map = map;
    co->map_size = map_size;
    co->lo = map + p->guard;
    co->size = (size_t)((char *)co - co->lo);
#if AXI_CORO_VALGRIND
    co->vg_id = VALGRIND_STACK_REGISTER(co->lo, co->lo + co->size);
#endif
    p->nmapped++;
    *out = co;
    return 0;
}

static void unmap_stack(axi_stack_pool *p, axi_coro *co)
{
    char *map = co->map;
    size_t map_size = co->map_size;
#if AXI_CORO_VALGRIND
    VALGRIND_STACK_DEREGISTER(co->vg_id);
#endif
#if AXI_CORO_ASAN
    /* ASan's shadow outlives the mapping: leave it clean for whatever is
     * mapped here next. */
    ASAN_UNPOISON_MEMORY_REGION(map, map_size);
#endif
    munmap(map, map_size);
    p->nunmapped++;
}

int axi_stack_acquire(axi_stack_pool *p, size_t stack_size, axi_coro **out)
{
    size_t bytes = stack_bytes(stack_size, p->stack_size, p->page);
    if (bytes == 0)
        return AX_EINVAL;
    axi_coro *co = NULL;
    if (bytes == p->stack_size && p->cache) {
        co = p->cache;
#if AXI_CORO_ASAN
        ASAN_UNPOISON_MEMORY_REGION(co, sizeof *co);
#endif
        p->cache = co->next_cached;
        p->ncached--;
    } else {
        int rc = map_stack(p, bytes, &co);
        if (rc)
            return rc;
    }
    /* Reset everything but the mapping's description. */
    char *map = co->map, *lo = co->lo;
    size_t map_size = co->map_size, size = co->size;
    unsigned vg_id = co->vg_id;
    memset(co, 0, sizeof *co);
    co->map = map;
    co->map_size = map_size;
    co->lo = lo;
    co->size = size;
    co->vg_id = vg_id;
    co->pool = p;
    p->nlive++;
    *out = co;
    return 0;
}

void axi_stack_release(axi_coro *co)
{
    axi_stack_pool *p = co->pool;
    p->nlive--;
    if (co->map_size - p->guard != p->stack_size || p->ncached >= p->max_cached) {
        unmap_stack(p, co);
        return;
    }
#if AXI_CORO_ASAN
    /* Frames that never returned (the coroutine's entry frame, or all of a
     * discarded suspended coroutine) leave poisoned redzones behind; the
     * next coroutine on this stack must not trip over them.  The header is
     * poisoned instead, so a use of the freed axi_coro is reported. */
    ASAN_UNPOISON_MEMORY_REGION(co->lo, co->size);
#endif
    co->state = CORO_CACHED;
    co->next_cached = p->cache;
    p->cache = co;
    p->ncached++;
#if AXI_CORO_ASAN
    ASAN_POISON_MEMORY_REGION(co, sizeof *co);
#endif
}

void axi_stack_pool_free(axi_stack_pool *p)
{
    if (!p)
        return;
    if (p->nlive)
        axi_coro_panic(NULL, "axi_stack_pool_free: coroutines of this pool are still alive");
    while (p->cache) {
        axi_coro *co = p->cache;
#if AXI_CORO_ASAN
        ASAN_UNPOISON_MEMORY_REGION(co, sizeof *co);
#endif
        p->cache = co->next_cached;
        unmap_stack(p, co);
    }
    ax_allocator a = p->alloc;
    axi_free(&a, p, sizeof *p);
}

void axi_stack_pool_stats_get(const axi_stack_pool *p, axi_stack_pool_stats *st)
{
    st->live = p->nlive;
    st->cached = p->ncached;
    st->mapped = p->nmapped;
    st->unmapped = p->nunmapped;
    st->stack_size = p->stack_size;
    st->guard_lightweight = p->guard_lightweight;
}
