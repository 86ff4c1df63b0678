/* system.c - system lifecycle and statistics. */
#include "actor/actor_int.h"

static int register_system_types(ax_system *s)
{
    ax_msg_type poison = {AX_MSG_POISON, "axon.poison", 0, 1, 0, 0, NULL, NULL, NULL};
    ax_msg_type down = {AX_MSG_DOWN, "axon.down", sizeof(ax_down), _Alignof(ax_down), 0, 0,
                        NULL, NULL, NULL};
    ax_msg_type askdone = {AXI_MSG_ASKDONE, "axon.askdone", sizeof(axi_askdone),
                           _Alignof(axi_askdone), 0, 0, NULL, NULL, NULL};
    int rc = axi_types_add(&s->types, &poison);
    if (rc == 0)
        rc = axi_types_add(&s->types, &down);
    if (rc == 0)
        rc = axi_types_add(&s->types, &askdone);
    return rc;
}

int ax_system_new(ax_loop *loop, const ax_system_options *opt, ax_system **out)
{
    if (!loop || !out)
        return AX_EINVAL;
    *out = NULL;
    ax_system_options o;
    if (opt)
        o = *opt;
    else
        memset(&o, 0, sizeof o);
    const ax_allocator *a = o.allocator ? o.allocator : &loop->alloc;
    if (!a->alloc || !a->realloc || !a->free)
        return AX_EINVAL;
    ax_system *s = axi_calloc(a, sizeof *s);
    if (!s)
        return AX_ENOMEM;
    s->loop = loop;
    s->alloc_copy = *a;
    s->alloc = &s->alloc_copy;
    s->node_id = o.node_id;
    s->max_actors = o.max_actors ? o.max_actors : (1u << 24);
    s->batch = o.batch ? o.batch : 64;
    s->turn_budget = o.turn_budget ? o.turn_budget : 4096;
    s->post_limit = o.post_limit ? o.post_limit : (1u << 20);
    s->stack_size = o.stack_size;
    s->stack_cache = o.stack_cache ? o.stack_cache : 1024;
    s->on_dead_letter = o.on_dead_letter;
    s->dead_letter_arg = o.dead_letter_arg;
    s->ctx.sys = s;
    atomic_init(&s->post_head, NULL);
    atomic_init(&s->post_pending, 0);
    atomic_init(&s->wake_pending, 0);
    atomic_init(&s->post_closed, 0);
    axi_pool_init(&s->pool, s->alloc);
    int rc = axi_types_init(&s->types, s->alloc);
    if (rc == 0)
        rc = register_system_types(s);
    if (rc == 0)
        rc = axi_post_init(s);
    if (rc) {
        axi_types_destroy(&s->types);
        axi_free(a, s, sizeof *s);
        return rc;
    }
    s->runner.pending = axi_dispatch_pending;
    s->runner.run = axi_dispatch_run;
    s->runner.arg = s;
    axi_loop_add_runner(loop, &s->runner);
    axi_loop_attach(loop);
    *out = s;
    return 0;
}

int ax_system_free(ax_system *sys)
{
    if (!sys)
        return AX_EINVAL;
    if (sys->in_dispatch)
        return AX_EBUSY;
    ax_system_shutdown(sys);
    axi_post_close(sys, 1); /* again: a post may have raced the shutdown */
    if (sys->net && sys->net->free)
        sys->net->free(sys->route_arg);
    sys->net = NULL;
    sys->route = NULL;
    axi_names_free(sys);
    axi_behaviors_free(sys);
    axi_coro_system_free(sys);
    axi_table_free(sys);
    axi_pool_destroy(&sys->pool);
    axi_types_destroy(&sys->types);
    axi_loop_remove_runner(sys->loop, &sys->runner);
    axi_loop_detach(sys->loop);
    ax_allocator a = sys->alloc_copy;
    axi_free(&a, sys, sizeof *sys);
    return 0;
}

ax_loop *ax_system_loop(const ax_system *sys)
{
    return sys ? sys->loop : NULL;
}

size_t ax_actor_count(const ax_system *sys)
{
    return sys ? (size_t)sys->stats.live_actors : 0;
}

void ax_system_stats(const ax_system *sys, ax_stats *out)
{
    if (!sys || !out)
        return;
    *out = sys->stats;
    out->mailbox_hwm = sys->mb_hwm;
}
