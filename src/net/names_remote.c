/* names_remote.c - name lookup across nodes (ax_name_resolve).
 *
 * A lookup tries this system's registry, then a cache of earlier remote
 * answers, then asks every linked node with a NAMEQ frame (links not up
 * yet keep the query in their buffer, so a node that connects later still
 * answers in time).  The first positive NAMEA wins; when every node asked
 * has said no, the answer is AX_ENOENT; the timeout gives AX_ETIMEDOUT.
 *
 * A cached entry is dropped when its actor ends (the cache watches it with
 * a remote monitor of its own) or when its node's link is lost.  Callbacks
 * always run from a timer or an I/O callback, never inside
 * ax_name_resolve(), and exactly once (AX_ECLOSED at shutdown). */
#include "net/net_int.h"

typedef struct nreq nreq;
struct nreq {
    nreq *next;
    axn_net *net;
    uint64_t id;
    ax_name_fn cb;
    void *arg;
    ax_timer timer;
    int timer_on;
    uint32_t outstanding;
    size_t len;
    char name[];
};

typedef struct nentry nentry;
struct nentry {
    nentry *next;
    ax_id id;
    uint64_t hash;
    size_t len;
    char name[];
};

struct axn_names {
    nreq *reqs;
    uint64_t next_id;
    nentry **buckets;
    uint32_t mask, count;
};

/* A callback to run later: the answer of a lookup settled at once. */
typedef struct later {
    ax_system *sys;
    ax_name_fn cb;
    void *arg;
    int err;
    ax_id id;
} later;

static uint64_t hash_name(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static axn_names *names(axn_net *n)
{
    if (!n->names)
        n->names = axi_calloc(n->alloc, sizeof *n->names);
    return n->names;
}

/* ---- deferred answers ------------------------------------------------- */

static void later_fire(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    later *lt = arg;
    ax_name_fn cb = lt->cb;
    void *cb_arg = lt->arg;
    int err = lt->err;
    ax_id id = lt->id;
    axi_free(lt->sys->alloc, lt, sizeof *lt);
    cb(cb_arg, err, id);
}

static void later_drop(void *arg)
{
    later *lt = arg;
    ax_name_fn cb = lt->cb;
    void *cb_arg = lt->arg;
    axi_free(lt->sys->alloc, lt, sizeof *lt);
    cb(cb_arg, AX_ECLOSED, ax_id_nil());
}

static int answer_later(ax_system *sys, const void *owner, ax_name_fn cb, void *arg, int err,
                        ax_id id)
{
    later *lt = axi_alloc(sys->alloc, sizeof *lt);
    if (!lt)
        return AX_ENOMEM;
    lt->sys = sys;
    lt->cb = cb;
    lt->arg = arg;
    lt->err = err;
    lt->id = id;
    int rc = axi_timer_start(sys->loop, 0, 0, later_fire, lt, later_drop, owner, NULL);
    if (rc)
        axi_free(sys->alloc, lt, sizeof *lt);
    return rc;
}

/* ---- the cache -------------------------------------------------------- */

static nentry **cache_slot(axn_names *nm, const char *name, size_t len, uint64_t h)
{
    if (!nm->buckets)
        return NULL;
    nentry **pp = &nm->buckets[h & nm->mask];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->hash == h && (*pp)->len == len && memcmp((*pp)->name, name, len) == 0)
            return pp;
    return pp;
}

static void cache_put(axn_net *n, const char *name, size_t len, ax_id id)
{
    axn_names *nm = n->names;
    if (!nm->buckets || nm->count >= nm->mask + 1) {
        uint32_t ncap = nm->buckets ? (nm->mask + 1) * 2 : 32;
        nentry **nb = axi_calloc(n->alloc, ncap * sizeof *nb);
        if (!nb)
            return; /* a cache: fine to skip */
        for (uint32_t i = 0; nm->buckets && i <= nm->mask; i++) {
            nentry *e = nm->buckets[i];
            while (e) {
                nentry *next = e->next;
                e->next = nb[e->hash & (ncap - 1)];
                nb[e->hash & (ncap - 1)] = e;
                e = next;
            }
        }
        if (nm->buckets)
            axi_free(n->alloc, nm->buckets, ((size_t)nm->mask + 1) * sizeof *nb);
        nm->buckets = nb;
        nm->mask = ncap - 1;
    }
    uint64_t h = hash_name(name, len);
    nentry **pp = cache_slot(nm, name, len, h);
    if (*pp) {
        (*pp)->id = id;
        return;
    }
    nentry *e = axi_alloc(n->alloc, sizeof *e + len);
    if (!e)
        return;
    e->next = NULL;
    e->id = id;
    e->hash = h;
    e->len = len;
    memcpy(e->name, name, len);
    *pp = e;
    nm->count++;
    /* Forget the entry when the actor ends. */
    (void)axn_mon_cache_watch(n, id);
}

/* Drop every entry for which drop(e, arg) holds. */
static void cache_purge(axn_net *n, int (*drop)(const nentry *e, const void *arg), const void *arg)
{
    axn_names *nm = n->names;
    if (!nm || !nm->buckets)
        return;
    for (uint32_t i = 0; i <= nm->mask; i++) {
        nentry **pp = &nm->buckets[i];
        while (*pp) {
            nentry *e = *pp;
            if (drop(e, arg)) {
                *pp = e->next;
                nm->count--;
                axi_free(n->alloc, e, sizeof *e + e->len);
            } else {
                pp = &e->next;
            }
        }
    }
}

static int same_id(const nentry *e, const void *arg)
{
    return ax_id_eq(e->id, *(const ax_id *)arg);
}

static int same_node(const nentry *e, const void *arg)
{
    return e->id.node == *(const uint32_t *)arg;
}

static int every(const nentry *e, const void *arg)
{
    (void)e;
    (void)arg;
    return 1;
}

void axn_names_target_down(axn_net *n, ax_id target)
{
    cache_purge(n, same_id, &target);
}

/* ---- queries ---------------------------------------------------------- */

static void req_free(axn_net *n, nreq *q)
{
    for (nreq **pp = &n->names->reqs; *pp; pp = &(*pp)->next) {
        if (*pp == q) {
            *pp = q->next;
            break;
        }
    }
    if (q->timer_on)
        ax_timer_stop(n->loop, q->timer);
    axi_free(n->alloc, q, sizeof *q + q->len);
}

static void req_finish(axn_net *n, nreq *q, int err, ax_id id)
{
    ax_name_fn cb = q->cb;
    void *arg = q->arg;
    req_free(n, q);
    cb(arg, err, id);
}

static void req_timeout(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    nreq *q = arg;
    q->timer_on = 0;
    req_finish(q->net, q, AX_ETIMEDOUT, ax_id_nil());
}

static int check_name(const char *name, size_t *len)
{
    if (!name)
        return AX_EINVAL;
    size_t k = strnlen(name, AX_NAME_MAX + 1);
    if (k == 0 || k > AX_NAME_MAX)
        return AX_EINVAL;
    *len = k;
    return 0;
}

int ax_name_resolve(ax_system *sys, const char *name, ax_duration timeout, ax_name_fn cb,
                    void *arg)
{
    size_t len;
    if (!sys || !cb || check_name(name, &len) || (timeout < 0 && timeout != AX_FOREVER))
        return AX_EINVAL;
    if (sys->closed)
        return AX_ECLOSED;
    ax_id id;
    axn_net *n = NULL;
    if (sys->node_id != 0 && axn_net_get(sys, &n) != 0)
        n = NULL;
    const void *owner = n ? (const void *)n : (const void *)sys;
    if (ax_name_lookup(sys, name, &id) == 0)
        return answer_later(sys, owner, cb, arg, 0, id);
    if (!n || !n->links)
        return answer_later(sys, owner, cb, arg, AX_ENOENT, ax_id_nil());
    axn_names *nm = names(n);
    if (!nm)
        return AX_ENOMEM;
    nentry **pp = cache_slot(nm, name, len, hash_name(name, len));
    if (pp && *pp)
        return answer_later(sys, owner, cb, arg, 0, (*pp)->id);
    nreq *q = axi_calloc(n->alloc, sizeof *q + len);
    if (!q)
        return AX_ENOMEM;
    q->net = n;
    q->id = ++nm->next_id;
    q->cb = cb;
    q->arg = arg;
    q->len = len;
    memcpy(q->name, name, len);
    char buf[8 + AX_NAME_MAX];
    axn_put64(buf, q->id);
    memcpy(buf + 8, name, len);
    ax_id none = {0, 0, 0};
    for (axn_link *l = n->links; l; l = l->next)
        if (axn_link_put_raw(l, AXN_T_NAMEQ, none, none, buf, 8 + len) == 0)
            q->outstanding++;
    if (q->outstanding == 0) {
        axi_free(n->alloc, q, sizeof *q + len);
        return answer_later(sys, owner, cb, arg, AX_ENOENT, ax_id_nil());
    }
    if (timeout != AX_FOREVER) {
        int rc = axi_timer_start(n->loop, timeout, 0, req_timeout, q, NULL, n, &q->timer);
        if (rc) {
            axi_free(n->alloc, q, sizeof *q + len);
            return rc;
        }
        q->timer_on = 1;
    }
    q->next = nm->reqs;
    nm->reqs = q;
    return 0;
}

void axn_names_on_query(axn_link *l, const char *payload, size_t len)
{
    uint64_t req;
    const char *name;
    size_t nlen;
    if (axn_nameq_get(payload, len, &req, &name, &nlen) != AXN_WHY_NONE)
        return;
    char buf[AX_NAME_MAX + 1];
    memcpy(buf, name, nlen);
    buf[nlen] = '\0';
    axn_namea a;
    memset(&a, 0, sizeof a);
    a.req = req;
    ax_id id;
    if (ax_name_lookup(l->net->sys, buf, &id) == 0) {
        a.status = 0;
        a.id = ax_id_global(l->net->sys, id);
    } else {
        a.status = AX_ENOENT;
    }
    char out[AXN_NAMEA_LEN];
    axn_namea_put(out, &a);
    ax_id none = {0, 0, 0};
    (void)axn_link_put_raw(l, AXN_T_NAMEA, none, none, out, sizeof out);
}

void axn_names_on_answer(axn_link *l, const char *payload, size_t len)
{
    axn_net *n = l->net;
    axn_namea a;
    if (!n->names || axn_namea_get(payload, len, &a) != AXN_WHY_NONE)
        return;
    nreq *q = n->names->reqs;
    while (q && q->id != a.req)
        q = q->next;
    if (!q)
        return; /* answered already, or timed out */
    if (a.status == 0) {
        /* Only the node itself can vouch for its actors. */
        if (a.id.node == 0)
            a.id.node = l->node;
        if (a.id.node != l->node)
            return;
        cache_put(n, q->name, q->len, a.id);
        req_finish(n, q, 0, a.id);
        return;
    }
    if (q->outstanding > 0 && --q->outstanding == 0)
        req_finish(n, q, AX_ENOENT, ax_id_nil());
}

void axn_names_link_lost(axn_net *n, axn_link *l)
{
    cache_purge(n, same_node, &l->node);
}

void axn_names_free(axn_net *n)
{
    axn_names *nm = n->names;
    if (!nm)
        return;
    while (nm->reqs)
        req_finish(n, nm->reqs, AX_ECLOSED, ax_id_nil());
    cache_purge(n, every, NULL);
    if (nm->buckets)
        axi_free(n->alloc, nm->buckets, ((size_t)nm->mask + 1) * sizeof *nm->buckets);
    axi_free(n->alloc, nm, sizeof *nm);
    n->names = NULL;
}
