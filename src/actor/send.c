/* send.c - every way a message enters a mailbox: send, forward, reply,
 * construct-in-place, and scheduled (delayed) sends.
 *
 * The copying send is the hot path: one type probe, one id compare, one
 * free-list pop, a payload copy and a mailbox append.  No allocation in
 * steady state, no O(n) work. */
#include "actor/coro_int.h"

void axi_dead_letter(ax_system *s, ax_id from, ax_id to, uint32_t type, int reason)
{
    s->stats.dead_letters++;
    if (s->on_dead_letter) {
        ax_dead_letter dl = {from, to, type, reason};
        int was = s->in_dispatch;
        s->in_dispatch = 1; /* user code: ax_system_free must refuse */
        s->on_dead_letter(s->dead_letter_arg, &dl);
        s->in_dispatch = was;
    }
}

/* Where an undeliverable send goes: the error for the caller, counted. */
static AXI_NOINLINE int send_failed(ax_system *s, ax_id from, ax_id to, uint32_t type, int reason)
{
    axi_dead_letter(s, from, to, type, reason);
    return reason;
}

/* Send a copy of m to a remote id; m stays the caller's.  The hook counts
 * its own failures, so this is a tail call. */
static inline int route_copy(ax_system *s, ax_id to, axi_msg *m)
{
    if (AXI_UNLIKELY(!s->route))
        return send_failed(s, m->sender, to, m->view.type, AX_ENOROUTE);
    return s->route(s->route_arg, to, m);
}

/* The same, taking the node on success (axi_deliver's contract). */
static AXI_NOINLINE int deliver_remote(ax_system *s, ax_id to, axi_msg *m)
{
    int rc = route_copy(s, to, m);
    if (rc == 0)
        axi_msg_drop(s, m);
    return rc;
}

int axi_deliver(ax_system *s, ax_id to, axi_msg *m)
{
    if (AXI_UNLIKELY(s->closed))
        return AX_ECLOSED;
    if (AXI_UNLIKELY(!axi_is_local(s, to)))
        return deliver_remote(s, to, m);
    axi_actor *a = axi_actor_lookup(s, to);
    if (AXI_UNLIKELY(!a))
        return send_failed(s, m->sender, to, m->view.type, AX_ESTALE);
    if (AXI_UNLIKELY(a->mb_len >= a->mb_limit))
        return send_failed(s, m->sender, to, m->view.type, AX_EFULL);
    axi_enqueue(s, a, m);
    if (AXI_UNLIKELY(a->flags & AXI_AF_SUSPENDED) && m->view.type == AX_MSG_POISON)
        axi_coro_cancel(s, a);
    return 0;
}

/* Check type and size; return the type slot or NULL with *err set. */
static inline const axi_type_slot *check_type(ax_system *s, uint32_t type, const void *data,
                                              size_t size, int *err)
{
    const axi_type_slot *t = axi_types_find(&s->types, type);
    if (AXI_UNLIKELY(!t)) {
        *err = AX_EUNKNOWNTYPE;
        return NULL;
    }
    if (AXI_UNLIKELY(t->varsize ? size > AX_MSG_MAX_SIZE : size != t->size)) {
        *err = AX_EMSGSIZE;
        return NULL;
    }
    if (AXI_UNLIKELY(!data && size)) {
        *err = AX_EINVAL;
        return NULL;
    }
    return t;
}

static inline void fill(axi_msg *m, const axi_type_slot *t, ax_id from, uint32_t type,
                        const void *data, size_t size)
{
    m->sender = from;
    m->view.type = type;
    m->view.size = (uint32_t)size;
    m->flags |= t->mflags; /* keeps AXI_MF_DIRECT from the allocation */
    axi_copy_payload(axi_msg_payload(m), data, size);
}

axi_msg *axi_msg_build(ax_system *s, ax_id from, uint32_t type, const void *data, size_t size,
                       int *err)
{
    const axi_type_slot *t = check_type(s, type, data, size, err);
    if (!t)
        return NULL;
    uint8_t cls = t->varsize ? axi_size_class(size) : t->cls;
    axi_msg *m = axi_msg_alloc(&s->pool, size, cls);
    if (!m) {
        *err = AX_ENOMEM;
        return NULL;
    }
    fill(m, t, from, type, data, size);
    return m;
}

int axi_send(ax_system *s, ax_id from, ax_id to, uint32_t type, const void *data, size_t size)
{
    int err;
    if (AXI_UNLIKELY(s->closed))
        return AX_ECLOSED;
    const axi_type_slot *t = check_type(s, type, data, size, &err);
    if (AXI_UNLIKELY(!t))
        return err;
    axi_types_cache_put(&s->types, t); /* the fast path's next try hits */
    if (AXI_LIKELY(axi_is_local(s, to))) {
        /* Resolve the target before allocating: a stale id costs nothing. */
        axi_actor *a = axi_actor_lookup(s, to);
        if (AXI_UNLIKELY(!a))
            return send_failed(s, from, to, type, AX_ESTALE);
        if (AXI_UNLIKELY(a->mb_len >= a->mb_limit))
            return send_failed(s, from, to, type, AX_EFULL);
        uint8_t cls = t->varsize ? axi_size_class(size) : t->cls;
        axi_msg *m = axi_msg_alloc(&s->pool, size, cls);
        if (AXI_UNLIKELY(!m))
            return AX_ENOMEM;
        fill(m, t, from, type, data, size);
        axi_enqueue(s, a, m);
        if (AXI_UNLIKELY(a->flags & AXI_AF_SUSPENDED) && type == AX_MSG_POISON)
            axi_coro_cancel(s, a);
        return 0;
    }
    if (s->route_bytes) {
        /* Encoded straight from the caller's bytes: no node, no copy. */
        int rc = s->route_bytes(s->route_arg, from, to, type, data, size);
        if (rc <= 0) {
            if (rc)
                axi_dead_letter(s, from, to, type, rc);
            return rc;
        }
    }
    axi_msg *m = axi_msg_build(s, from, type, data, size, &err);
    if (!m)
        return err;
    int rc = deliver_remote(s, to, m);
    if (rc)
        axi_msg_dealloc(&s->pool, m); /* failed send: the payload stays the caller's */
    return rc;
}

/* ---- public send API ------------------------------------------------- */

/* The fast path: a cached fixed-size type, a live local target under its
 * mailbox limit, and a node on the free list.  Anything else takes the
 * general path above, which handles (and reports) every other case. */
/* send_fast's answer when the general path must decide. */
#define SLOW 1

AXI_INLINE int send_fast(ax_system *s, const ax_id *from, ax_id to, uint32_t type,
                         const void *data, size_t size)
{
    /* A miss (or a closed system: that empties the cache) goes to the
     * general path, which refills it.  Keeping the probe out of here
     * keeps this a short straight line. */
    const axi_type_hot *t = &s->types.dcache[type & 7u];
    /* Id and size in one compare (the loads, not the instructions, are
     * what a hop is short of).  Varsize and oversized types carry
     * AXI_SIZE_VAR, which no sendable size equals. */
    const uint32_t want[2] = {type, (uint32_t)size};
    uint64_t key, wkey;
    memcpy(&key, t, sizeof key);
    memcpy(&wkey, want, sizeof wkey); /* folds to a constant for constant args */
    if (AXI_UNLIKELY(key != wkey || size > UINT32_MAX))
        return SLOW;
    if (AXI_UNLIKELY(to.node != 0 || to.index >= s->nslots))
        return SLOW;
    axi_actor *a = axi_actor_at(s, to.index);
    /* Free and new slots have mb_mark 0: a forged even cookie fails here
     * too, and so does a mailbox at its limit or at the high-water mark. */
    const uint32_t len = a->mb_len;
    if (AXI_UNLIKELY(a->cookie != to.cookie || len >= a->mb_mark))
        return SLOW;
    /* NULL data is only valid for empty payloads. */
    if (AXI_UNLIKELY(!data) && size)
        return SLOW;
    /* Types whose fast_size is only a marker have an always-empty class,
     * so a size that happens to equal the marker still ends up here. */
    axi_msg *m = s->pool.free[t->fast_cls];
    if (AXI_UNLIKELY(!m))
        return SLOW;
    s->pool.free[t->fast_cls] = m->next;
    /* Nothing to set but what this message changes: a free node has no
     * flags (fast types need none) and keeps its class for life. */
    m->sender = *from;
    m->view.type = type;
    m->view.size = (uint32_t)size;
    axi_copy_payload(axi_msg_payload(m), data, size);
    axi_enqueue_len(s, a, m, len);
    return 0;
}

/* The slow paths take the public functions' own arguments, so the fast
 * paths reach them with a tail call and stay leaf functions.  The id goes
 * as its three fields: they are in registers already (the fast path
 * compared them), where a by-value struct would be rebuilt in memory on
 * every send just in case. */
static AXI_COLD int send_slow(ax_ctx *ctx, uint32_t node, uint32_t index, uint32_t cookie,
                              uint32_t type, const void *data, size_t size)
{
    if (!ctx)
        return AX_EINVAL;
    ax_id to = {node, index, cookie};
    return axi_send(ctx->sys, ctx->self, to, type, data, size);
}

int ax_send(ax_ctx *ctx, ax_id to, uint32_t type, const void *data, size_t size)
{
    if (AXI_UNLIKELY(!ctx))
        return AX_EINVAL;
    int rc = send_fast(ctx->sys, &ctx->self, to, type, data, size);
    if (AXI_UNLIKELY(rc == SLOW))
        return send_slow(ctx, to.node, to.index, to.cookie, type, data, size);
    return rc;
}

int axi_send_from(ax_system *s, const ax_id *from, ax_id to, uint32_t type, const void *data,
                  size_t size)
{
    int rc = send_fast(s, from, to, type, data, size);
    if (AXI_UNLIKELY(rc == SLOW))
        return axi_send(s, *from, to, type, data, size);
    return rc;
}

int ax_system_send(ax_system *sys, ax_id from, ax_id to, uint32_t type, const void *data,
                   size_t size)
{
    if (!sys)
        return AX_EINVAL;
    int rc = send_fast(sys, &from, to, type, data, size);
    if (AXI_UNLIKELY(rc == SLOW))
        return axi_send(sys, from, to, type, data, size);
    return rc;
}

static AXI_NOINLINE int reply_slow(ax_ctx *ctx, uint32_t type, const void *data, size_t size)
{
    if (!ctx)
        return AX_EINVAL;
    if (!ctx->cur)
        return AX_ENOCTX;
    if (ax_id_is_nil(ctx->cur->sender))
        return AX_ENOSENDER;
    return axi_send(ctx->sys, ctx->self, ctx->cur->sender, type, data, size);
}

int ax_reply(ax_ctx *ctx, uint32_t type, const void *data, size_t size)
{
    if (AXI_UNLIKELY(!ctx || !ctx->cur))
        return reply_slow(ctx, type, data, size);
    int rc = send_fast(ctx->sys, &ctx->self, ctx->cur->sender, type, data, size);
    if (AXI_UNLIKELY(rc == SLOW))
        return reply_slow(ctx, type, data, size);
    return rc;
}

static AXI_NOINLINE int forward_slow(ax_ctx *ctx, ax_id to)
{
    if (!ctx)
        return AX_EINVAL;
    ax_system *s = ctx->sys;
    axi_msg *cur = ctx->cur;
    if (!cur)
        return AX_ENOCTX;
    if (!axi_is_local(s, to)) {
        /* The link encodes a copy: the node stays where it is (with the
         * dispatcher, or in the mailbox a first forward moved it to), so
         * the handler may still read it, and a payload with a free hook
         * is released once, by whoever holds the node. */
        if (s->closed)
            return AX_ECLOSED;
        return route_copy(s, to, cur);
    }
    if (!ctx->moved && !(cur->flags & AXI_MF_BORROWED)) {
        /* First forward: move the node itself, no copy. */
        int rc = axi_deliver(s, to, cur);
        if (rc == 0)
            ctx->moved = ctx->slow = 1; /* the dispatcher must not free it */
        return rc;
    }
    /* Already moved (the node stays untouched until this handler returns)
     * or borrowed (no node: the bytes lie in a link's input buffer): a
     * copy is safe - unless the payload owns resources. */
    if (cur->flags & AXI_MF_HAS_FREE)
        return AX_EINVAL;
    return axi_send(s, cur->sender, to, cur->view.type, cur->view.data, cur->view.size);
}

int ax_forward(ax_ctx *ctx, ax_id to)
{
    /* The remote case in a straight line, the route hook as a tail call
     * with the id where it came in; everything else (and every error)
     * in forward_slow. */
    if (AXI_LIKELY(ctx != NULL)) {
        ax_system *s = ctx->sys;
        axi_msg *cur = ctx->cur;
        if (AXI_LIKELY(cur != NULL && !axi_is_local(s, to) && !s->closed && s->route != NULL))
            return s->route(s->route_arg, to, cur);
    }
    return forward_slow(ctx, to);
}

/* ---- construct in place ---------------------------------------------- */

int ax_msg_new(ax_system *sys, uint32_t type, size_t size, ax_outmsg **out, void **data)
{
    if (!sys || !out || !data)
        return AX_EINVAL;
    if (sys->closed)
        return AX_ECLOSED;
    const axi_type_slot *t = axi_types_find(&sys->types, type);
    if (!t)
        return AX_EUNKNOWNTYPE;
    if (t->varsize ? size > AX_MSG_MAX_SIZE : size != t->size)
        return AX_EMSGSIZE;
    uint8_t cls = t->varsize ? axi_size_class(size) : t->cls;
    axi_msg *m = axi_msg_alloc(&sys->pool, size, cls);
    if (!m)
        return AX_ENOMEM;
    m->sender = ax_id_nil();
    m->view.type = type;
    m->view.size = (uint32_t)size;
    m->flags |= t->mflags;
    memset(axi_msg_payload(m), 0, size);
    *out = (ax_outmsg *)m;
    *data = axi_msg_payload(m);
    return 0;
}

void ax_msg_discard(ax_system *sys, ax_outmsg *om)
{
    if (sys && om)
        axi_msg_drop(sys, (axi_msg *)om);
}

int ax_system_send_msg(ax_system *sys, ax_id from, ax_id to, ax_outmsg *om)
{
    if (!sys || !om)
        return AX_EINVAL;
    axi_msg *m = (axi_msg *)om;
    m->sender = from;
    return axi_deliver(sys, to, m);
}

int ax_send_msg(ax_ctx *ctx, ax_id to, ax_outmsg *om)
{
    if (!ctx)
        return AX_EINVAL;
    return ax_system_send_msg(ctx->sys, ctx->self, to, om);
}

/* ---- scheduled sends ------------------------------------------------- */

/* The timer's argument: kept in a pooled class-0 node (32 bytes), so a
 * scheduled send allocates nothing in steady state either. */
typedef struct sched {
    ax_system *sys;
    axi_msg *m;
    ax_id to;
} sched;

_Static_assert(sizeof(sched) <= 32, "sched must fit a class-0 node");

static void sched_free(ax_system *s, sched *sc)
{
    axi_pool_raw_put(&s->pool, sc);
}

static void sched_fire(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    sched *sc = arg;
    ax_system *s = sc->sys;
    axi_msg *m = sc->m;
    ax_id to = sc->to;
    sched_free(s, sc);
    ax_id from = m->sender;
    uint32_t type = m->view.type;
    int rc = axi_deliver(s, to, m);
    if (rc) {
        axi_msg_drop(s, m);
        if (rc == AX_ECLOSED) /* axi_deliver counts every other failure */
            axi_dead_letter(s, from, to, type, rc);
    }
}

/* Cancelled, or dropped at shutdown (then it is a dead letter): release
 * the payload. */
static void sched_drop(void *arg)
{
    sched *sc = arg;
    ax_system *s = sc->sys;
    axi_msg *m = sc->m;
    ax_id from = m->sender, to = sc->to;
    uint32_t type = m->view.type;
    sched_free(s, sc);
    axi_msg_drop(s, m); /* released before the hook hears of it */
    if (s->closed)
        axi_dead_letter(s, from, to, type, AX_ECLOSED);
}

int ax_system_schedule(ax_system *sys, ax_duration delay, ax_id from, ax_id to, uint32_t type,
                       const void *data, size_t size, ax_timer *out)
{
    if (!sys || delay < 0)
        return AX_EINVAL;
    if (sys->closed)
        return AX_ECLOSED;
    int err;
    axi_msg *m = axi_msg_build(sys, from, type, data, size, &err);
    if (!m)
        return err;
    void *holder = axi_pool_raw_get(&sys->pool);
    if (!holder) {
        axi_msg_dealloc(&sys->pool, m); /* failed: the payload stays the caller's */
        return AX_ENOMEM;
    }
    sched *sc = (sched *)holder;
    sc->sys = sys;
    sc->m = m;
    sc->to = to;
    int rc = axi_timer_start(sys->loop, delay, 0, sched_fire, sc, sched_drop, sys, out);
    if (rc) {
        axi_msg_dealloc(&sys->pool, m); /* failed: the payload stays the caller's */
        sched_free(sys, sc);
        return rc;
    }
    return 0;
}

int ax_schedule(ax_ctx *ctx, ax_duration delay, ax_id to, uint32_t type, const void *data,
                size_t size, ax_timer *out)
{
    if (!ctx)
        return AX_EINVAL;
    return ax_system_schedule(ctx->sys, delay, ctx->self, to, type, data, size, out);
}

int ax_system_cancel(ax_system *sys, ax_timer t)
{
    if (!sys)
        return AX_EINVAL;
    ax_loop *loop = sys->loop;
    /* Only this system's scheduled sends: a loop timer of someone else
     * must not be cancellable through a system handle. */
    if (t.index >= loop->timers.nslots || loop->timers.slots[t.index].owner != sys)
        return AX_ENOENT;
    return ax_timer_stop(loop, t);
}

int ax_cancel(ax_ctx *ctx, ax_timer t)
{
    if (!ctx)
        return AX_EINVAL;
    return ax_system_cancel(ctx->sys, t);
}
