/* pool.c - size-class free lists for message nodes.  Memory comes in
 * chunks that are carved into nodes of one class and kept until the
 * system is freed, so steady-state traffic never calls the allocator. */
#include "msg/msg_int.h"

/* A chunk's nodes start on a cache line: a node of one line never
 * straddles two, and the allocation is over-sized to allow the shift. */
#define LINE 64u

struct axi_chunk {
    axi_chunk *next;
    void *base;   /* what the allocator returned */
    size_t bytes; /* what it was asked for */
};

#define CHUNK_BYTES (64u * 1024u)

void axi_pool_init(axi_pool *p, const ax_allocator *a)
{
    memset(p, 0, sizeof *p);
    p->alloc = a;
}

void axi_pool_destroy(axi_pool *p)
{
    axi_chunk *c = p->chunks;
    while (c) {
        axi_chunk *next = c->next;
        axi_free(p->alloc, c->base, c->bytes);
        c = next;
    }
    memset(p->free, 0, sizeof p->free);
    p->chunks = NULL;
    p->chunk_bytes = 0;
}

axi_msg *axi_pool_refill(axi_pool *p, unsigned cls)
{
    size_t node = axi_class_bytes(cls);
    /* At least 4 nodes per chunk so big classes do not refill per message. */
    size_t count = CHUNK_BYTES / node;
    if (count < 4)
        count = 4;
    /* [chunk header][pad to a line][node 0][node 1]... */
    size_t bytes = LINE + LINE + count * node;
    void *base = axi_alloc(p->alloc, bytes);
    if (!base)
        return NULL;
    uintptr_t first = ((uintptr_t)base + sizeof(axi_chunk) + LINE - 1) & ~(uintptr_t)(LINE - 1);
    axi_chunk *c = (axi_chunk *)(first - sizeof(axi_chunk));
    c->base = base;
    c->bytes = bytes;
    c->next = p->chunks;
    p->chunks = c;
    p->chunk_bytes += bytes;
    char *nodes = (char *)first;
    /* Thread nodes 1..count-1 onto the free list; hand out node 0. */
    axi_msg *head = p->free[cls];
    for (size_t i = count - 1; i >= 1; i--) {
        axi_msg *m = (axi_msg *)(nodes + i * node);
        m->view.data = axi_msg_payload(m); /* both fixed for the node's life */
        m->cls = (uint8_t)cls;
        m->flags = 0;
        m->next = head;
        head = m;
    }
    p->free[cls] = head;
    axi_msg *m0 = (axi_msg *)nodes;
    m0->view.data = axi_msg_payload(m0);
    m0->cls = (uint8_t)cls;
    m0->flags = 0;
    return m0;
}
