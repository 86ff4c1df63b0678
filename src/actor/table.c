/* table.c - the actor table: one reserved run of address space whose
 * slots never move, committed a step at a time as it grows; a LIFO list of
 * recycled slots; and the lazily allocated cold part of an actor.
 *
 * Reserving the whole table up front (like Erlang's process table) makes
 * an id resolve with one load: actors[index].  Untouched slots cost
 * address space only, not memory. */
#include <sys/mman.h>

#include "actor/actor_int.h"

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

/* Slots committed per step: 4096 * 72 bytes is a whole number of 4 KiB
 * pages, so every step starts on a page boundary. */
#define COMMIT_SLOTS 4096u

_Static_assert((COMMIT_SLOTS * sizeof(axi_actor)) % 4096u == 0, "commit step not page-sized");

static int reserve(ax_system *s)
{
    /* Room for every live actor and as many ask reply slots again. */
    uint64_t cap = (uint64_t)s->max_actors * 2u + COMMIT_SLOTS;
    if (cap > UINT32_MAX)
        cap = UINT32_MAX;
    cap -= cap % COMMIT_SLOTS;
    size_t bytes = (size_t)cap * sizeof(axi_actor);
    void *p = mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return AX_ENOMEM;
    s->actors = p;
    s->slots_cap = (uint32_t)cap;
    s->slots_ready = 0;
    return 0;
}

/* Make the next COMMIT_SLOTS slots usable. */
static int commit(ax_system *s)
{
    if (!s->actors) {
        int rc = reserve(s);
        if (rc)
            return rc;
    }
    if (s->slots_ready == s->slots_cap)
        return AX_EFULL;
    char *at = (char *)(s->actors + s->slots_ready);
    if (mprotect(at, (size_t)COMMIT_SLOTS * sizeof(axi_actor), PROT_READ | PROT_WRITE) != 0)
        return AX_ENOMEM;
    s->slots_ready += COMMIT_SLOTS;
    return 0;
}

int axi_actor_new(ax_system *s, axi_actor **out)
{
    if (s->stats.live_actors >= s->max_actors)
        return AX_EFULL;
    axi_actor *a = s->free_list;
    if (a) {
        s->free_list = a->rq_next;
    } else {
        if (s->nslots == s->slots_ready) {
            int rc = commit(s);
            if (rc)
                return rc;
        }
        uint32_t index = s->nslots++;
        a = axi_actor_at(s, index);
        a->index = index;
        a->cookie = 0;
    }
    a->cookie++; /* odd: alive */
    a->mb_head = NULL;
    a->mb_tailp = &a->mb_head;
    a->rq_next = NULL;
    a->state = NULL;
    a->receive = NULL;
    a->mb_len = 0;
    a->mb_limit = UINT32_MAX;
    a->mb_mark = 0;
    a->kind = AXI_KIND_FREE;
    a->flags = 0;
    a->ext = NULL;
    s->stats.live_actors++;
    s->stats.spawned++;
    *out = a;
    return 0;
}

void axi_actor_release(ax_system *s, axi_actor *a)
{
    if (a->cookie & 1u)
        a->cookie++; /* even: free, every id of it is stale */
    if (a->ext) {
        axi_free(s->alloc, a->ext, sizeof *a->ext);
        a->ext = NULL;
    }
    if (a->kind != AXI_KIND_REPLY)
        s->stats.live_actors--;
    a->kind = AXI_KIND_FREE;
    a->mb_limit = 0;
    a->mb_mark = 0;
    a->rq_next = s->free_list;
    s->free_list = a;
}

axi_actor_ext *axi_actor_ext_get(ax_system *s, axi_actor *a)
{
    if (!a->ext)
        a->ext = axi_calloc(s->alloc, sizeof *a->ext);
    return a->ext;
}

void axi_table_free(ax_system *s)
{
    if (s->actors)
        munmap(s->actors, (size_t)s->slots_cap * sizeof(axi_actor));
    s->actors = NULL;
    s->slots_cap = s->slots_ready = s->nslots = 0;
    s->free_list = NULL;
}
