/* alloc.c - the default allocator and small allocation helpers. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"

static void *def_alloc(void *ud, size_t n)
{
    (void)ud;
    return malloc(n ? n : 1);
}

static void *def_realloc(void *ud, void *p, size_t old_n, size_t new_n)
{
    (void)ud;
    (void)old_n;
    return realloc(p, new_n ? new_n : 1);
}

static void def_free(void *ud, void *p, size_t n)
{
    (void)ud;
    (void)n;
    free(p);
}

const ax_allocator axi_default_allocator = {def_alloc, def_realloc, def_free, NULL};

void *axi_calloc(const ax_allocator *a, size_t n)
{
    void *p = axi_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *axi_strndup(const ax_allocator *a, const char *s, size_t len)
{
    char *p = axi_alloc(a, len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

int64_t axi_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
