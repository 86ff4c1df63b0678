/* monitor.c - monitors: a watcher gets AX_MSG_DOWN when its target ends.
 * Records hang off the target; a record whose watcher has ended by the
 * time the target ends is dropped without a dead letter (the monitor died
 * with its watcher, as in Erlang). */
#include "actor/coro_int.h"

/* Records are small blocks from the message pool: no allocator call per
 * monitor in steady state (every ask sets one up). */
_Static_assert(sizeof(axi_monitor) <= 64, "a monitor record must fit a pool block");

int axi_monitor_add(ax_system *s, axi_actor *t, ax_id watcher)
{
    axi_actor_ext *ext = axi_actor_ext_get(s, t);
    if (!ext)
        return AX_ENOMEM;
    axi_monitor *m = axi_pool_raw_get(&s->pool);
    if (!m)
        return AX_ENOMEM;
    m->watcher = watcher;
    m->next = ext->monitors;
    ext->monitors = m;
    return 0;
}

void axi_monitor_remove(ax_system *s, ax_id watcher, ax_id target)
{
    axi_actor *a = axi_actor_lookup(s, target);
    if (!a || !a->ext)
        return;
    for (axi_monitor **pp = &a->ext->monitors; *pp; pp = &(*pp)->next) {
        if (ax_id_eq((*pp)->watcher, watcher)) {
            axi_monitor *m = *pp;
            *pp = m->next;
            axi_pool_raw_put(&s->pool, m);
            return;
        }
    }
}

static int send_down(ax_system *s, ax_id who, ax_id watcher, int reason)
{
    ax_down d;
    memset(&d, 0, sizeof d);
    d.who = who;
    d.reason = reason;
    return axi_send(s, who, watcher, AX_MSG_DOWN, &d, sizeof d);
}

int ax_system_monitor(ax_system *sys, ax_id watcher, ax_id target)
{
    if (!sys || ax_id_is_nil(watcher) || ax_id_is_nil(target))
        return AX_EINVAL;
    if (sys->closed)
        return AX_ECLOSED;
    if (!axi_is_local(sys, target)) {
        if (!sys->net || !sys->net->monitor)
            return AX_ENOROUTE;
        return sys->net->monitor(sys->route_arg, watcher, target);
    }
    axi_actor *a = axi_actor_lookup(sys, target);
    if (!a) {
        /* Already gone: DOWN at once, unless the watcher is gone too (then
         * there is nobody to tell, and it is not a dead letter). */
        if (axi_is_local(sys, watcher) && !axi_actor_lookup(sys, watcher))
            return AX_ESTALE;
        return send_down(sys, target, watcher, AX_REASON_NOPROC);
    }
    return axi_monitor_add(sys, a, watcher);
}

int ax_monitor(ax_ctx *ctx, ax_id target)
{
    if (!ctx || !ctx->actor)
        return AX_EINVAL;
    return ax_system_monitor(ctx->sys, ctx->self, target);
}

int ax_demonitor(ax_ctx *ctx, ax_id target)
{
    if (!ctx || !ctx->actor)
        return AX_EINVAL;
    ax_system *s = ctx->sys;
    if (!axi_is_local(s, target)) {
        if (!s->net || !s->net->demonitor)
            return AX_ENOENT;
        return s->net->demonitor(s->route_arg, ctx->self, target);
    }
    axi_actor *a = axi_actor_lookup(s, target);
    if (!a || !a->ext)
        return AX_ENOENT;
    for (axi_monitor **pp = &a->ext->monitors; *pp; pp = &(*pp)->next) {
        if (ax_id_eq((*pp)->watcher, ctx->self)) {
            axi_monitor *m = *pp;
            *pp = m->next;
            axi_pool_raw_put(&s->pool, m);
            return 0;
        }
    }
    return AX_ENOENT;
}

void axi_monitors_fire(ax_system *s, axi_actor *a, int reason)
{
    /* `a` is already stale (cookie bumped); DOWN names its last id. */
    ax_id who = {0, a->index, a->cookie - 1};
    /* Records were pushed at the head: walk them oldest first. */
    axi_monitor *rev = NULL, *m = a->ext->monitors;
    while (m) {
        axi_monitor *next = m->next;
        m->next = rev;
        rev = m;
        m = next;
    }
    a->ext->monitors = rev;
    for (m = rev; m; m = m->next) {
        if (axi_is_local(s, m->watcher) && !axi_actor_lookup(s, m->watcher))
            continue; /* the watcher ended first: its monitor ended with it */
        int rc = send_down(s, who, m->watcher, reason);
        /* Target-side failures were counted by the send; an allocation
         * failure was not, and a DOWN must never vanish silently. */
        if (rc == AX_ENOMEM)
            axi_dead_letter(s, who, m->watcher, AX_MSG_DOWN, rc);
    }
}

void axi_monitors_free(ax_system *s, axi_actor *a)
{
    axi_monitor *m = a->ext->monitors;
    while (m) {
        axi_monitor *next = m->next;
        axi_pool_raw_put(&s->pool, m);
        m = next;
    }
    a->ext->monitors = NULL;
}
