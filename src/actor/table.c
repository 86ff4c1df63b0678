/* table.c - the actor table: pages of slots that never move, a LIFO list
 * of recycled slots, and the lazily allocated cold part of an actor. */
#include "actor/actor_int.h"

static int add_page(ax_system *s)
{
    if (s->npages == s->pages_cap) {
        uint32_t ncap = s->pages_cap ? s->pages_cap * 2 : 16;
        axi_actor **p = axi_realloc(s->alloc, s->pages, (size_t)s->pages_cap * sizeof *p,
                                    (size_t)ncap * sizeof *p);
        if (!p)
            return AX_ENOMEM;
        s->pages = p;
        s->pages_cap = ncap;
    }
    /* Not zeroed: a slot is initialised when first handed out, which keeps
     * untouched slots out of the resident set. */
    axi_actor *page = axi_alloc(s->alloc, (size_t)AXI_PAGE_SIZE * sizeof *page);
    if (!page)
        return AX_ENOMEM;
    s->pages[s->npages++] = page;
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
        if (s->nslots == (uint64_t)s->npages * AXI_PAGE_SIZE) {
            int rc = add_page(s);
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
    for (uint32_t i = 0; i < s->npages; i++)
        axi_free(s->alloc, s->pages[i], (size_t)AXI_PAGE_SIZE * sizeof(axi_actor));
    axi_free(s->alloc, s->pages, (size_t)s->pages_cap * sizeof *s->pages);
    s->pages = NULL;
    s->npages = s->pages_cap = s->nslots = 0;
    s->free_list = NULL;
}
