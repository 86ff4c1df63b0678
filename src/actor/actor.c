/* actor.c - spawning plain and behaviour actors, behaviours, become. */
#include "actor/coro_int.h"

static int spawn(ax_system *s, int kind, ax_receive_fn fn, const ax_behavior *b, void *state,
                 const ax_spawn_options *opt, ax_id *out)
{
    if (s->closed)
        return AX_ECLOSED;
    axi_actor *a;
    int rc = axi_actor_new(s, &a);
    if (rc)
        return rc;
    a->kind = (uint8_t)kind;
    a->state = state;
    a->receive = kind == AXI_KIND_PLAIN ? fn : axi_behavior_receive;
    if (opt && opt->mailbox_limit)
        a->mb_limit = opt->mailbox_limit;
    if (kind == AXI_KIND_BEHAVIOR || (opt && opt->on_stop)) {
        axi_actor_ext *ext = axi_actor_ext_get(s, a);
        if (!ext) {
            axi_actor_release(s, a);
            s->stats.spawned--;
            return AX_ENOMEM;
        }
        ext->behavior = b;
        ext->on_stop = opt ? opt->on_stop : NULL;
        ext->stack_size = opt ? opt->stack_size : 0;
    }
    *out = axi_actor_id(a);
    return 0;
}

int ax_spawn(ax_system *sys, ax_receive_fn receive, void *state, const ax_spawn_options *opt,
             ax_id *out)
{
    if (!sys || !receive || !out)
        return AX_EINVAL;
    return spawn(sys, AXI_KIND_PLAIN, receive, NULL, state, opt, out);
}

int ax_spawn_behavior(ax_system *sys, const ax_behavior *b, void *state,
                      const ax_spawn_options *opt, ax_id *out)
{
    if (!sys || !b || !out || b->sys != sys)
        return AX_EINVAL;
    return spawn(sys, AXI_KIND_BEHAVIOR, NULL, b, state, opt, out);
}

/* ---- behaviours ------------------------------------------------------ */

static size_t bhv_bytes(uint32_t cap)
{
    return sizeof(ax_behavior) + (size_t)cap * sizeof(axi_bhv_slot);
}

int ax_behavior_new(ax_system *sys, const ax_handler *handlers, size_t n, ax_receive_fn unknown,
                    ax_behavior **out)
{
    if (!sys || !unknown || !out || (n && !handlers) || n > (1u << 20))
        return AX_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!handlers[i].fn || handlers[i].type == 0)
            return AX_EINVAL;
        if (handlers[i].flags & ~(uint32_t)AX_HANDLER_ASYNC)
            return AX_EINVAL;
        if (!axi_types_find(&sys->types, handlers[i].type))
            return AX_EUNKNOWNTYPE;
    }
    uint32_t cap = 8;
    while (cap < 2 * n)
        cap *= 2;
    ax_behavior *b = axi_calloc(sys->alloc, bhv_bytes(cap));
    if (!b)
        return AX_ENOMEM;
    b->sys = sys;
    b->unknown = unknown;
    b->mask = cap - 1;
    for (size_t i = 0; i < n; i++) {
        uint32_t t = handlers[i].type;
        uint32_t j = (t * 0x9E3779B1u) & b->mask;
        while (b->slots[j].type != 0 && b->slots[j].type != t)
            j = (j + 1) & b->mask;
        if (b->slots[j].type == t) {
            axi_free(sys->alloc, b, bhv_bytes(cap));
            return AX_EEXIST;
        }
        b->slots[j].type = t;
        b->slots[j].fn = handlers[i].fn;
        b->slots[j].flags = handlers[i].flags;
    }
    b->next_owned = sys->behaviors;
    sys->behaviors = b;
    *out = b;
    return 0;
}

void axi_behaviors_free(ax_system *s)
{
    ax_behavior *b = s->behaviors;
    while (b) {
        ax_behavior *next = b->next_owned;
        axi_free(s->alloc, b, bhv_bytes(b->mask + 1));
        b = next;
    }
    s->behaviors = NULL;
}

int ax_become(ax_ctx *ctx, const ax_behavior *b)
{
    if (!ctx || !b || !ctx->actor || b->sys != ctx->sys)
        return AX_EINVAL;
    if (ctx->actor->kind != AXI_KIND_BEHAVIOR)
        return AX_ENOTSUP;
    /* The dispatcher looks the handler up per message, so this applies
     * from the next message on. */
    ctx->actor->ext->behavior = b;
    return 0;
}
