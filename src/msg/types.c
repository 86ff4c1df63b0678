/* types.c - the message type registry: an open-addressed table of hot
 * fields keyed by id, plus the full records (with owned names). */
#include "msg/msg_int.h"

/* The cache's resting value: id 0 is never sent successfully, and
 * varsize routes any match to the general path, which reports it. */
static const axi_type_slot no_type = {.id = 0,
                                      .fast_size = AXI_SIZE_VAR,
                                      .fast_cls = AXI_CLS_NONE,
                                      .varsize = 1};

void axi_types_uncache(axi_types *t)
{
    t->cache = &no_type;
    /* Id 0 is never registered, and should a send of type 0 match the
     * empty id anyway, its size never equals AXI_SIZE_VAR's sendable
     * twin and its class's free list is always empty: the general path
     * reports it. */
    for (unsigned i = 0; i < sizeof t->dcache / sizeof t->dcache[0]; i++) {
        memset(&t->dcache[i], 0, sizeof t->dcache[i]);
        t->dcache[i].fast_size = AXI_SIZE_VAR;
        t->dcache[i].fast_cls = AXI_CLS_NONE;
    }
}

int axi_types_init(axi_types *t, const ax_allocator *a)
{
    memset(t, 0, sizeof *t);
    axi_types_uncache(t);
    t->alloc = a;
    t->slots = axi_calloc(a, 64 * sizeof *t->slots);
    if (!t->slots)
        return AX_ENOMEM;
    t->mask = 63;
    return 0;
}

void axi_types_destroy(axi_types *t)
{
    for (uint32_t i = 0; i < t->count; i++) {
        const char *n = t->recs[i].name;
        if (n)
            axi_free(t->alloc, (void *)n, strlen(n) + 1);
    }
    axi_free(t->alloc, t->recs, (size_t)t->rec_cap * sizeof *t->recs);
    axi_free(t->alloc, t->slots, ((size_t)t->mask + 1) * sizeof *t->slots);
    memset(t, 0, sizeof *t);
}

static void slot_insert(axi_type_slot *slots, uint32_t mask, const axi_type_slot *s)
{
    uint32_t i = (s->id * 0x9E3779B1u) & mask;
    while (slots[i].id != 0)
        i = (i + 1) & mask;
    slots[i] = *s;
}

static int rehash(axi_types *t)
{
    uint32_t ncap = (t->mask + 1) * 2;
    axi_type_slot *ns = axi_calloc(t->alloc, (size_t)ncap * sizeof *ns);
    if (!ns)
        return AX_ENOMEM;
    for (uint32_t i = 0; i <= t->mask; i++)
        if (t->slots[i].id)
            slot_insert(ns, ncap - 1, &t->slots[i]);
    axi_free(t->alloc, t->slots, ((size_t)t->mask + 1) * sizeof *t->slots);
    t->slots = ns;
    t->cache = &no_type; /* slots moved (dcache holds copies) */
    t->mask = ncap - 1;
    return 0;
}

int axi_types_add(axi_types *t, const ax_msg_type *type)
{
    if (!type || type->id == 0)
        return AX_EINVAL;
    uint32_t align = type->align ? type->align : 1;
    if (align > AX_MSG_MAX_ALIGN || (align & (align - 1)))
        return AX_EINVAL;
    if (!type->serialize != !type->deserialize)
        return AX_EINVAL;
    int varsize = (type->flags & AX_MSG_F_VARSIZE) != 0;
    if (type->flags & ~(uint32_t)AX_MSG_F_VARSIZE)
        return AX_EINVAL;
    if (!varsize && type->size > AX_MSG_MAX_SIZE)
        return AX_ERANGE;
    if (varsize && type->free)
        return AX_EINVAL; /* a free hook needs a fixed struct to work on */
    if (axi_types_find(t, type->id))
        return AX_EEXIST;
    if ((t->count + 1) * 2 > t->mask + 1) {
        int rc = rehash(t);
        if (rc)
            return rc;
    }
    if (t->count == t->rec_cap) {
        uint32_t ncap = t->rec_cap ? t->rec_cap * 2 : 16;
        ax_msg_type *r = axi_realloc(t->alloc, t->recs, (size_t)t->rec_cap * sizeof *r,
                                     (size_t)ncap * sizeof *r);
        if (!r)
            return AX_ENOMEM;
        t->recs = r;
        t->rec_cap = ncap;
    }
    ax_msg_type rec = *type;
    rec.align = align;
    if (varsize)
        rec.size = 0;
    if (type->name) {
        rec.name = axi_strndup(t->alloc, type->name, strlen(type->name));
        if (!rec.name)
            return AX_ENOMEM;
    }
    axi_type_slot s;
    memset(&s, 0, sizeof s);
    s.id = type->id;
    s.size = rec.size;
    s.rec = t->count;
    s.cls = axi_size_class(rec.size);
    s.varsize = (uint8_t)varsize;
    s.has_free = type->free != NULL;
    s.mflags = s.has_free ? AXI_MF_HAS_FREE : 0;
    if (type->id == AX_MSG_POISON)
        s.mflags |= AXI_MF_POISON;
    if (type->id == AXI_MSG_ASKDONE)
        s.mflags |= AXI_MF_ASKDONE;
    /* Only plain fixed-size types take the send fast path, which then
     * needs no flags from the type.  Poison takes the general path: it
     * must see whether its target is a suspended coroutine (which it then
     * cancels); so do types with a free hook. */
    int fast = !varsize && s.cls < AXI_NCLASSES && s.mflags == 0;
    s.fast_size = fast ? rec.size : AXI_SIZE_VAR;
    s.fast_cls = fast ? s.cls : (uint8_t)AXI_CLS_NONE;
    t->recs[t->count++] = rec;
    slot_insert(t->slots, t->mask, &s);
    return 0;
}

void axi_msg_run_free_hook(const axi_types *t, axi_msg *m)
{
    const axi_type_slot *s = axi_types_find(t, m->view.type);
    if (s && t->recs[s->rec].free)
        t->recs[s->rec].free(axi_msg_payload(m));
}
