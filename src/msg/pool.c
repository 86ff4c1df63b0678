/* pool.c - size-class free lists for message nodes.  Memory comes in
 * chunks that are carved into nodes of one class and kept until the
 * system is freed, so steady-state traffic never calls the allocator. */
#include "msg/msg_int.h"

struct axi_chunk {
    axi_chunk *next;
    size_t bytes;
    uint64_t pad; /* keep nodes 16-byte aligned */
    uint64_t pad2;
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
        axi_free(p->alloc, c, c->bytes);
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
    size_t bytes = sizeof(axi_chunk) + count * node;
    axi_chunk *c = axi_alloc(p->alloc, bytes);
    if (!c)
        return NULL;
    c->bytes = bytes;
    c->next = p->chunks;
    p->chunks = c;
    p->chunk_bytes += bytes;
    char *base = (char *)(c + 1);
    /* Thread nodes 1..count-1 onto the free list; hand out node 0. */
    axi_msg *head = p->free[cls];
    for (size_t i = count - 1; i >= 1; i--) {
        axi_msg *m = (axi_msg *)(base + i * node);
        m->view.data = axi_msg_payload(m); /* fixed for the node's life */
        m->next = head;
        head = m;
    }
    p->free[cls] = head;
    axi_msg *first = (axi_msg *)base;
    first->view.data = axi_msg_payload(first);
    return first;
}
