/* net.c - the links layer of one system: created on the first
 * ax_node_add/ax_serve, plugged into the core through route/route_arg and
 * the net hooks, torn down by the system's shutdown and free. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "net/net_int.h"

static void listener_stop(axn_net *n, axn_listener *l)
{
    if (l->io)
        ax_io_stop(l->io);
    if (l->fd >= 0)
        close(l->fd);
    if (l->unlink_path)
        unlink(l->addr.path);
    axn_cfg_unref(n, l->cfg);
    axi_free(n->alloc, l, sizeof *l);
}

void axn_listener_stop(axn_net *n, axn_listener *l)
{
    for (axn_listener **pp = &n->listeners; *pp; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    }
    listener_stop(n, l);
}

/* Called first by ax_system_shutdown: a last flush, then everything closes.
 * Frames never written become dead letters (AX_ECLOSED). */
static void net_shutdown(void *arg)
{
    axn_net *n = arg;
    if (n->closed)
        return;
    for (axn_link *l = n->links; l; l = l->next)
        if (l->conn)
            axn_flush_link(l);
    n->closed = 1;
    while (n->listeners) {
        axn_listener *l = n->listeners;
        n->listeners = l->next;
        listener_stop(n, l);
    }
    while (n->links)
        axn_link_remove(n->links);
    while (n->conns)
        axn_conn_close(n->conns, AXN_WHY_LOCAL, -1, "shutdown");
    axn_names_free(n);
    axi_timer_drop_owner(n->loop, n);
}

static void net_free(void *arg)
{
    axn_net *n = arg;
    net_shutdown(n);
    axn_reap(n);
    axn_mon_free(n);
    axn_resolver_free(n->resolver);
    while (n->free_blocks) {
        axn_block *b = n->free_blocks;
        n->free_blocks = b->next;
        axi_free(n->alloc, b, sizeof *b + b->cap);
    }
    axi_free(n->alloc, n->buckets, ((size_t)n->mask + 1) * sizeof *n->buckets);
    axi_loop_remove_runner(n->loop, &n->runner);
    ax_system *s = n->sys;
    s->net = NULL;
    s->route = NULL;
    s->route_bytes = NULL;
    s->route_arg = NULL;
    axi_free(n->alloc, n, sizeof *n);
}

int axn_net_get(ax_system *sys, axn_net **out)
{
    if (!sys)
        return AX_EINVAL;
    if (sys->closed)
        return AX_ECLOSED;
    if (sys->node_id == 0)
        return AX_EINVAL;
    if (sys->route_arg && sys->route == axn_route) {
        *out = sys->route_arg;
        return 0;
    }
    if (sys->route)
        return AX_EBUSY; /* another links layer is installed */
    axn_net *n = axi_calloc(sys->alloc, sizeof *n);
    if (!n)
        return AX_ENOMEM;
    n->sys = sys;
    n->loop = sys->loop;
    n->alloc = sys->alloc;
    n->node = sys->node_id;
    n->log_level = AX_LOG_WARN;
    n->rx_size = UINT32_MAX; /* the rx fast path matches nothing yet */
    n->early_flush = n->flush_in = AXN_EARLY_FLUSH;
    n->orphan.node_id = 0;
    uint64_t seed[2] = {0, 0};
    if (axn_random(seed, sizeof seed) != 0) {
        axi_free(sys->alloc, n, sizeof *n);
        return AX_ESYS;
    }
    n->inc = seed[0] ? seed[0] : 1;
    n->rng = seed[1] ? seed[1] : (uint64_t)time(NULL) | 1;
    n->hooks.monitor = axn_mon_monitor;
    n->hooks.demonitor = axn_mon_demonitor;
    n->hooks.shutdown = net_shutdown;
    n->hooks.free = net_free;
    n->runner.pending = axn_runner_pending;
    n->runner.run = axn_runner_run;
    n->runner.arg = n;
    /* After the systems' dispatch passes: what handlers queued in a pass
     * goes out in the same turn. */
    axi_loop_add_runner_last(n->loop, &n->runner);
    sys->route = axn_route;
    sys->route_bytes = axn_route_bytes;
    sys->route_arg = n;
    sys->net = &n->hooks;
    *out = n;
    return 0;
}
