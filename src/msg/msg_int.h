/* msg_int.h - message nodes, the size-class pool and the type registry.
 *
 * A message node is a 32-byte header followed by the payload, allocated
 * from per-size-class free lists (no malloc per message in steady state).
 * The hot lookups (type by id, node alloc/free) are inline here. */
#ifndef AXI_MSG_INT_H
#define AXI_MSG_INT_H

#include <string.h>

#include "axon/msg.h"
#include "base/base.h"

typedef struct axi_msg axi_msg;
struct axi_msg {
    axi_msg *next;   /* mailbox / free list / post queue link */
    ax_msg view;     /* what the handler sees: type, size, data (-> payload) */
    ax_id sender;
    uint8_t cls;     /* size class, or AXI_CLS_DIRECT */
    uint8_t flags;   /* AXI_MF_* */
    uint16_t pad;
};
/* payload follows the header, 16-byte aligned; view.data points at it */

#define AXI_MSG_HDR 48u
#define AXI_CLS_DIRECT 0xFFu
#define AXI_NCLASSES 11u /* node sizes 64 << 0 .. 64 << 10 (64 KiB) */
#define AXI_CLS_MIN_SHIFT 6u
#define AXI_MF_HAS_FREE 1u /* the type has a free hook */
#define AXI_MF_DIRECT 2u   /* allocated directly, not from a size class */
#define AXI_MF_POISON 4u   /* AX_MSG_POISON: ends the actor, never handled */
#define AXI_MF_ASKDONE 8u  /* AXI_MSG_ASKDONE: runs an ask callback */
/* Not a pooled node: a header on a link's stack whose view points into
 * the input buffer (axi_run_now).  Never freed, moved or queued: a local
 * forward copies it. */
#define AXI_MF_BORROWED 16u
#define AXI_MF_CONTROL (AXI_MF_POISON | AXI_MF_ASKDONE) /* axon's, not a handler's */

/* Internal: a callback ask finished; handled in the asker's mailbox order. */
#define AXI_MSG_ASKDONE 0xFFFF0003u

_Static_assert(sizeof(axi_msg) <= AXI_MSG_HDR, "message header grew");

static inline void *axi_msg_payload(axi_msg *m)
{
    return (char *)m + AXI_MSG_HDR;
}

/* Size class for a payload of n bytes (AXI_CLS_DIRECT when too big). */
static inline uint8_t axi_size_class(size_t n)
{
    size_t total = AXI_MSG_HDR + n;
    if (total <= ((size_t)1 << AXI_CLS_MIN_SHIFT))
        return 0;
    unsigned c = (unsigned)(64 - __builtin_clzll((unsigned long long)(total - 1))) -
                 AXI_CLS_MIN_SHIFT;
    return c < AXI_NCLASSES ? (uint8_t)c : (uint8_t)AXI_CLS_DIRECT;
}

static inline size_t axi_class_bytes(unsigned cls)
{
    return (size_t)1 << (cls + AXI_CLS_MIN_SHIFT);
}

/* Bytes of a directly allocated (oversized or posted) node: the payload
 * rounded to 4, plus room for one ax_id (the recipient of a posted node). */
static inline size_t axi_direct_bytes(size_t n)
{
    return AXI_MSG_HDR + ((n + 3u) & ~(size_t)3u) + sizeof(ax_id);
}

/* Copy a payload of at most 16 bytes without a call: two overlapping
 * moves of 8 or 4 bytes, or three single bytes (some the same). */
static inline void axi_copy_small(void *dst, const void *src, size_t n)
{
    char *d = dst;
    const char *sp = src;
    if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, sp, 8);
        memcpy(&b, sp + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, sp, 4);
        memcpy(&b, sp + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n) {
        const char a = sp[0], b = sp[n / 2], c = sp[n - 1];
        d[0] = a;
        d[n / 2] = b;
        d[n - 1] = c;
    }
}

/* Copy a payload; small sizes without a call. */
static inline void axi_copy_payload(void *dst, const void *src, size_t n)
{
    if (n <= 16)
        axi_copy_small(dst, src, n);
    else
        memcpy(dst, src, n);
}

/* ---- pool ------------------------------------------------------------- */

typedef struct axi_chunk axi_chunk;

/* Types the send fast path must not take (varsize, oversized, the empty
 * cache slot) have fast_cls AXI_CLS_NONE, whose free list is always empty:
 * the pop fails and the general path decides, whatever size was passed. */
#define AXI_CLS_NONE AXI_NCLASSES

typedef struct axi_pool {
    axi_msg *free[AXI_NCLASSES + 1]; /* [AXI_CLS_NONE] stays NULL */
    axi_chunk *chunks;
    const ax_allocator *alloc;
    uint64_t chunk_bytes; /* total bytes held in chunks */
} axi_pool;

void axi_pool_init(axi_pool *p, const ax_allocator *a);
void axi_pool_destroy(axi_pool *p);
/* Refill class cls and pop one node; NULL on allocation failure. */
axi_msg *axi_pool_refill(axi_pool *p, unsigned cls);

/* A node with room for n payload bytes, or NULL (ENOMEM). */
static inline axi_msg *axi_msg_alloc(axi_pool *p, size_t n, uint8_t cls)
{
    axi_msg *m;
    if (AXI_LIKELY(cls < AXI_NCLASSES)) {
        m = p->free[cls];
        if (AXI_LIKELY(m != NULL))
            p->free[cls] = m->next;
        else
            m = axi_pool_refill(p, cls);
    } else {
        m = axi_alloc(p->alloc, axi_direct_bytes(n));
        if (m)
            m->view.data = axi_msg_payload(m);
    }
    if (AXI_LIKELY(m != NULL)) {
        /* A pooled node's class was set when its chunk was carved. */
        m->cls = cls;
        m->flags = cls < AXI_NCLASSES ? 0 : AXI_MF_DIRECT;
    }
    return m;
}

/* Return a node's memory (the payload's free hook must have run). */
static inline void axi_msg_dealloc(axi_pool *p, axi_msg *m)
{
    if (AXI_LIKELY(!(m->flags & AXI_MF_DIRECT))) {
        m->flags = 0; /* free nodes carry no flags (send_fast relies on it) */
        m->next = p->free[m->cls];
        p->free[m->cls] = m;
    } else {
        axi_free(p->alloc, m, axi_direct_bytes(m->view.size));
    }
}

/* A raw 64-byte block from the smallest class, for small internal records
 * (scheduled sends, monitors).  Give it back with axi_pool_raw_put(),
 * which restores the header fields a pooled node must keep. */
static inline void *axi_pool_raw_get(axi_pool *p)
{
    return axi_msg_alloc(p, 0, 0);
}

static inline void axi_pool_raw_put(axi_pool *p, void *block)
{
    axi_msg *m = block;
    m->cls = 0;
    m->flags = 0;
    m->view.size = 0;
    m->view.data = axi_msg_payload(m);
    axi_msg_dealloc(p, m);
}

/* ---- type registry ---------------------------------------------------- */

/* The hot part of a type, in an open-addressed table keyed by id. */
typedef struct axi_type_slot {
    uint32_t id;    /* 0 = empty */
    uint32_t fast_size; /* payload size if pooled and fixed, else AXI_SIZE_VAR */
    uint32_t size;  /* fixed payload size (0 for varsize types) */
    uint32_t rec;   /* index into records */
    uint8_t cls;    /* size class of the fixed size */
    uint8_t mflags; /* node flags for this type (AXI_MF_*) */
    uint8_t fast_cls; /* cls, or AXI_CLS_NONE when fast_size is AXI_SIZE_VAR */
    uint8_t varsize;
    uint8_t has_free;
} axi_type_slot;

/* No payload has this size, so varsize and oversized types always miss
 * the fast path's size compare. */
#define AXI_SIZE_VAR UINT32_MAX

/* What the send fast path needs of a type, copied into its cache. */
typedef struct axi_type_hot {
    uint32_t id;        /* 0: empty; first, and fast_size right after it: */
    uint32_t fast_size; /* the fast path compares both as one 64-bit key */
    uint8_t fast_cls; /* AXI_CLS_NONE unless fast (then no node flags) */
    uint8_t pad[7];   /* 16 bytes: an index is a shift */
} axi_type_hot;

typedef struct axi_types {
    axi_type_slot *slots;
    uint32_t mask;  /* capacity - 1 */
    uint32_t count;
    ax_msg_type *recs; /* full records, names owned */
    uint32_t rec_cap;
    const ax_allocator *alloc;
    const axi_type_slot *cache; /* last type received from a link; never
                                   NULL; reset to a never-matching slot on
                                   rehash and close */
    /* The send path's cache, direct-mapped by id: request and reply types
     * (and a few more) stay cached together.  Entries are copies, so a
     * hit costs no pointer chase; a type's hot fields never change once
     * registered.  Reset (id 0: never matches) on close. */
    axi_type_hot dcache[8];
} axi_types;

/* Fill the send cache's entry for a slot. */
static inline void axi_types_cache_put(axi_types *t, const axi_type_slot *s)
{
    axi_type_hot *h = &t->dcache[s->id & 7u];
    h->id = s->id;
    h->fast_size = s->fast_size;
    h->fast_cls = s->fast_cls;
}

int axi_types_init(axi_types *t, const ax_allocator *a);
void axi_types_destroy(axi_types *t);
/* Register without the user-range check (axon's own types). */
int axi_types_add(axi_types *t, const ax_msg_type *type);

static inline const axi_type_slot *axi_types_find(const axi_types *t, uint32_t id)
{
    if (AXI_UNLIKELY(id == 0))
        return NULL;
    uint32_t i = (id * 0x9E3779B1u) & t->mask;
    for (;;) {
        const axi_type_slot *s = &t->slots[i];
        if (AXI_LIKELY(s->id == id))
            return s;
        if (s->id == 0)
            return NULL;
        i = (i + 1) & t->mask;
    }
}

/* Point the cache at the never-matching slot (after rehash, on close). */
void axi_types_uncache(axi_types *t);

/* Run a type's free hook on a node's payload, if it has one. */
void axi_msg_run_free_hook(const axi_types *t, axi_msg *m);

#endif /* AXI_MSG_INT_H */
