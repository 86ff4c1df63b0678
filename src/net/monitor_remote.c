/* monitor_remote.c - monitors across nodes.
 *
 * Outbound: a local watcher monitors an actor on node N.  We keep a record
 * (watcher, target) on N's link and send MONITOR; N installs an ordinary
 * monitor whose watcher is our (remote) actor, so when the target ends,
 * N's core sends AX_MSG_DOWN to it like to any actor, and the frame comes
 * back here.  A DOWN that matches a record is delivered (and the record
 * dropped); one that does not is stale and dropped.  When the link to N is
 * lost, every record on it yields DOWN with AX_REASON_NODE_DOWN.
 *
 * Inbound: N's watchers of our actors.  The record lets the link's loss
 * remove those monitors from our actors (nobody is left to tell), and a
 * DOWN going out removes its record.
 *
 * Records live in a hash keyed by (link node, target, direction) and on
 * their link's list, so a DOWN is O(1) and a link loss is O(its records). */
#include "net/net_int.h"

typedef struct axn_mon_rec mon_rec;
struct axn_mon_rec {
    mon_rec *hnext;          /* hash chain */
    mon_rec *lprev, *lnext;  /* the link's list */
    ax_id watcher;           /* outbound: local (node 0); inbound: remote */
    ax_id target;            /* outbound: remote; inbound: local (node 0) */
    uint32_t node;           /* the link */
    uint8_t inbound;
    uint8_t cache;           /* outbound, for the name cache: no watcher actor */
};

struct axn_mons {
    mon_rec **buckets;
    uint32_t mask, count;
};

/* The links layer's own watcher (name cache): never a real actor. */
#define CACHE_INDEX UINT32_MAX

static uint32_t key_hash(uint32_t node, ax_id t, int inbound)
{
    uint64_t h = ((uint64_t)node * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)t.index << 32 | t.cookie);
    h ^= (uint64_t)inbound * 0xBF58476D1CE4E5B9ull;
    h *= 0x94D049BB133111EBull;
    return (uint32_t)(h >> 32);
}

static axn_mons *mons(axn_net *n)
{
    if (!n->mons) {
        n->mons = axi_calloc(n->alloc, sizeof *n->mons);
        if (!n->mons)
            return NULL;
    }
    axn_mons *m = n->mons;
    if (!m->buckets || m->count >= m->mask + 1) {
        uint32_t ncap = m->buckets ? (m->mask + 1) * 2 : 64;
        mon_rec **nb = axi_calloc(n->alloc, ncap * sizeof *nb);
        if (!nb)
            return m->buckets ? m : NULL; /* keep the old table */
        for (uint32_t i = 0; m->buckets && i <= m->mask; i++) {
            mon_rec *r = m->buckets[i];
            while (r) {
                mon_rec *next = r->hnext;
                uint32_t k = key_hash(r->node, r->target, r->inbound) & (ncap - 1);
                r->hnext = nb[k];
                nb[k] = r;
                r = next;
            }
        }
        if (m->buckets)
            axi_free(n->alloc, m->buckets, ((size_t)m->mask + 1) * sizeof *nb);
        m->buckets = nb;
        m->mask = ncap - 1;
    }
    return m;
}

static int rec_add(axn_net *n, axn_link *l, ax_id watcher, ax_id target, int inbound, int cache)
{
    axn_mons *m = mons(n);
    if (!m)
        return AX_ENOMEM;
    mon_rec *r = axi_calloc(n->alloc, sizeof *r);
    if (!r)
        return AX_ENOMEM;
    r->watcher = watcher;
    r->target = target;
    r->node = l->node;
    r->inbound = (uint8_t)inbound;
    r->cache = (uint8_t)cache;
    uint32_t k = key_hash(r->node, target, inbound) & m->mask;
    r->hnext = m->buckets[k];
    m->buckets[k] = r;
    r->lnext = l->mons;
    if (l->mons)
        l->mons->lprev = r;
    l->mons = r;
    m->count++;
    return 0;
}

static void rec_remove(axn_net *n, axn_link *l, mon_rec *r)
{
    axn_mons *m = n->mons;
    uint32_t k = key_hash(r->node, r->target, r->inbound) & m->mask;
    for (mon_rec **pp = &m->buckets[k]; *pp; pp = &(*pp)->hnext) {
        if (*pp == r) {
            *pp = r->hnext;
            break;
        }
    }
    if (r->lprev)
        r->lprev->lnext = r->lnext;
    else
        l->mons = r->lnext;
    if (r->lnext)
        r->lnext->lprev = r->lprev;
    m->count--;
    axi_free(n->alloc, r, sizeof *r);
}

static mon_rec *rec_find(axn_net *n, uint32_t node, ax_id watcher, ax_id target, int inbound)
{
    axn_mons *m = n->mons;
    if (!m || !m->buckets)
        return NULL;
    mon_rec *r = m->buckets[key_hash(node, target, inbound) & m->mask];
    for (; r; r = r->hnext)
        if (r->node == node && r->inbound == inbound && ax_id_eq(r->target, target) &&
            ax_id_eq(r->watcher, watcher))
            return r;
    return NULL;
}

static ax_id local_id(ax_id id)
{
    id.node = 0;
    return id;
}

/* DOWN to a local watcher, unless it has ended (its monitor ended too). */
static void down_local(axn_net *n, ax_id watcher, ax_id who, int reason)
{
    ax_system *s = n->sys;
    if (!axi_actor_lookup(s, watcher))
        return;
    ax_down d;
    memset(&d, 0, sizeof d);
    d.who = who;
    d.reason = reason;
    (void)axi_send(s, who, watcher, AX_MSG_DOWN, &d, sizeof d);
}

static int send_mon(axn_link *l, uint32_t type, ax_id watcher, ax_id target)
{
    char buf[AXN_MON_LEN];
    ax_id none = {0, 0, 0};
    axn_mon_put(buf, ax_id_global(l->net->sys, watcher), target);
    return axn_link_put_raw(l, type, none, none, buf, sizeof buf);
}

/* Is this local watcher the reply slot of an ask? */
static int ask_slot(axn_net *n, ax_id watcher)
{
    const axi_actor *w = axi_actor_lookup(n->sys, watcher);
    return w && w->kind == AXI_KIND_REPLY;
}

static int watch(axn_net *n, ax_id watcher, ax_id target, int cache)
{
    axn_link *l = axn_link_find(n, target.node);
    if (!l)
        return AX_ENOROUTE;
    if (l->state != AX_NODE_UP && !cache) {
        /* Not connected: like a target that is gone (Erlang's
         * noconnection) - except for the reply slot of an ask, whose
         * request waits in the link buffer like any send: its monitor
         * waits there too, and the ask's timeout bounds the wait. */
        if (!ask_slot(n, watcher)) {
            down_local(n, watcher, target, AX_REASON_NODE_DOWN);
            return 0;
        }
    }
    int rc = rec_add(n, l, watcher, target, 0, cache);
    if (rc)
        return rc;
    rc = send_mon(l, AXN_T_MONITOR, watcher, target);
    if (rc) {
        mon_rec *r = rec_find(n, l->node, watcher, target, 0);
        if (r)
            rec_remove(n, l, r);
    }
    return rc;
}

int axn_mon_monitor(void *arg, ax_id watcher, ax_id target)
{
    axn_net *n = arg;
    if (!axi_is_local(n->sys, watcher))
        return AX_EINVAL; /* only local actors watch through this node */
    return watch(n, local_id(watcher), target, 0);
}

int axn_mon_cache_watch(axn_net *n, ax_id target)
{
    ax_id w = {0, CACHE_INDEX, 1};
    return watch(n, w, target, 1);
}

int axn_mon_demonitor(void *arg, ax_id watcher, ax_id target)
{
    axn_net *n = arg;
    axn_link *l = axn_link_find(n, target.node);
    if (!l)
        return AX_ENOENT;
    mon_rec *r = rec_find(n, l->node, local_id(watcher), target, 0);
    if (!r)
        return AX_ENOENT;
    rec_remove(n, l, r);
    (void)send_mon(l, AXN_T_DEMON, local_id(watcher), target);
    return 0;
}

void axn_mon_on_frame(axn_link *l, uint32_t type, const char *payload, size_t len)
{
    axn_net *n = l->net;
    ax_id watcher, target;
    if (axn_mon_get(payload, len, &watcher, &target) != AXN_WHY_NONE ||
        watcher.node != l->node || !axi_is_local(n->sys, target))
        return; /* nothing sensible to do with it */
    target = local_id(target);
    if (type == AXN_T_DEMON) {
        mon_rec *r = rec_find(n, l->node, watcher, target, 1);
        if (r) {
            rec_remove(n, l, r);
            axi_monitor_remove(n->sys, watcher, target);
        }
        return;
    }
    if (rec_add(n, l, watcher, target, 1, 0) != 0)
        return;
    /* The core sends DOWN (maybe NOPROC at once) through the route hook,
     * which drops the record again (axn_mon_down_sent). */
    int rc = ax_system_monitor(n->sys, watcher, target);
    if (rc) {
        mon_rec *r = rec_find(n, l->node, watcher, target, 1);
        if (r)
            rec_remove(n, l, r);
    }
}

int axn_mon_on_down(axn_link *l, ax_id to, ax_id who)
{
    axn_net *n = l->net;
    if (to.index == CACHE_INDEX) {
        ax_id w = {0, CACHE_INDEX, 1};
        mon_rec *r = rec_find(n, l->node, w, who, 0);
        if (r) {
            rec_remove(n, l, r);
            axn_names_target_down(n, who);
        }
        return 0;
    }
    mon_rec *r = rec_find(n, l->node, local_id(to), who, 0);
    if (!r)
        return 0;
    rec_remove(n, l, r);
    return axi_actor_lookup(n->sys, local_id(to)) != NULL;
}

void axn_mon_down_sent(axn_link *l, ax_id watcher, ax_id who)
{
    mon_rec *r = rec_find(l->net, l->node, watcher, local_id(who), 1);
    if (r)
        rec_remove(l->net, l, r);
}

void axn_mon_link_lost(axn_link *l)
{
    axn_net *n = l->net;
    mon_rec *next;
    for (mon_rec *r = l->mons; r; r = next) {
        next = r->lnext;
        ax_id w = r->watcher, t = r->target;
        /* An ask waits for its reply or its timeout, across a flap too:
         * its request is in the link buffer (or already with the peer,
         * which resumes the session), so its monitor stays, and goes to
         * the peer again - which dropped it with the connection - once
         * the link is back. */
        if (!r->inbound && !r->cache && !l->removed && !n->closed && ask_slot(n, w) &&
            send_mon(l, AXN_T_MONITOR, w, t) == 0)
            continue;
        int inbound = r->inbound, cache = r->cache;
        rec_remove(n, l, r);
        if (inbound)
            axi_monitor_remove(n->sys, w, t);
        else if (cache)
            axn_names_target_down(n, t);
        else if (!n->closed)
            down_local(n, w, t, AX_REASON_NODE_DOWN);
    }
}

void axn_mon_free(axn_net *n)
{
    for (axn_link *l = n->links; l; l = l->next)
        while (l->mons)
            rec_remove(n, l, l->mons);
    if (n->mons) {
        if (n->mons->buckets)
            axi_free(n->alloc, n->mons->buckets,
                     ((size_t)n->mons->mask + 1) * sizeof *n->mons->buckets);
        axi_free(n->alloc, n->mons, sizeof *n->mons);
        n->mons = NULL;
    }
}
