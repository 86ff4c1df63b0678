/* base.h - internal helpers shared by every subsystem: the allocator
 * wrappers, branch hints and the errno translation. */
#ifndef AXI_BASE_H
#define AXI_BASE_H

#include <stddef.h>
#include <stdint.h>

#include "axon/common.h"

#if defined(__GNUC__)
#define AXI_LIKELY(x) __builtin_expect(!!(x), 1)
#define AXI_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define AXI_INLINE static inline __attribute__((always_inline))
#define AXI_NOINLINE __attribute__((noinline))
#define AXI_COLD __attribute__((noinline, cold))
#else
#define AXI_LIKELY(x) (x)
#define AXI_UNLIKELY(x) (x)
#define AXI_INLINE static inline
#define AXI_NOINLINE
#define AXI_COLD
#endif

#define AXI_CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* The allocator used when options give none: malloc/realloc/free. */
extern const ax_allocator axi_default_allocator;

static inline void *axi_alloc(const ax_allocator *a, size_t n)
{
    return a->alloc(a->ud, n);
}

static inline void *axi_realloc(const ax_allocator *a, void *p, size_t old_n, size_t new_n)
{
    return a->realloc(a->ud, p, old_n, new_n);
}

static inline void axi_free(const ax_allocator *a, void *p, size_t n)
{
    if (p)
        a->free(a->ud, p, n);
}

/* Allocate n zeroed bytes. */
void *axi_calloc(const ax_allocator *a, size_t n);

/* Duplicate a string (length known) with the allocator; free with len+1. */
char *axi_strndup(const ax_allocator *a, const char *s, size_t len);

/* errno -> AX_E* (the only place). */
int axi_translate_errno(int e);

/* Monotonic clock in ns. */
int64_t axi_clock_ns(void);

#endif /* AXI_BASE_H */
