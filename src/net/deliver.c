/* deliver.c - frames received on a link that is up: user messages go to
 * local mailboxes (decoded by the type's deserialize hook where it has
 * one), control frames to their handlers.
 *
 * A message that cannot be delivered (unknown type, wrong size, a decode
 * hook error, an ended target) is a dead letter of this system, counted
 * in undeliverable_in; the link stays up.  Only a frame that breaks the
 * protocol closes the link. */
#include <stddef.h>
#include <stdio.h>

#include "net/net_int.h"

static AXI_NOINLINE int undeliverable(axn_link *l, const axn_hdr *h, int reason)
{
    l->st.undeliverable_in++;
    axi_dead_letter(l->net->sys, h->from, h->to, h->type, reason);
    return 0;
}

static AXI_NOINLINE int protocol_error(axn_link *l, const axn_hdr *h, const char *what)
{
    if (l->conn)
        axn_conn_close(l->conn, AXN_WHY_MALFORMED, AX_LOG_WARN, "%s (type 0x%x, %u bytes)", what,
                       h->type, h->size);
    return -1;
}

/* A DOWN from the peer for one of our monitors of its actors. */
static int on_down(axn_link *l, const axn_hdr *h, const char *p)
{
    ax_id who;
    int32_t reason;
    if (axn_down_get(p, h->size, &who, &reason) != AXN_WHY_NONE)
        return protocol_error(l, h, "malformed DOWN");
    ax_id to = {0, h->to.index, h->to.cookie};
    if (who.node == 0)
        who.node = l->node;
    if (!axn_mon_on_down(l, to, who))
        return 0; /* no such monitor any more (the link dropped in between) */
    ax_down d;
    memset(&d, 0, sizeof d);
    d.who = who;
    d.reason = reason;
    /* A DOWN the watcher cannot take (its mailbox is full, it ended) is
     * a dead letter here, counted like any message that arrived and
     * could not be delivered. */
    if (axi_send(l->net->sys, who, to, AX_MSG_DOWN, &d, sizeof d) != 0)
        l->st.undeliverable_in++;
    return 0;
}

static AXI_NOINLINE int control(axn_link *l, const axn_hdr *h, const char *p)
{
    switch (h->type) {
    case AXN_T_ACK: {
        uint64_t rx;
        if (axn_ack_get(p, h->size, &rx) != AXN_WHY_NONE)
            return protocol_error(l, h, "malformed ACK");
        axn_outq_confirm(l->net, &l->q, rx);
        return 0;
    }
    case AX_MSG_DOWN:
        return on_down(l, h, p);
    case AXN_T_NAMEQ:
        axn_names_on_query(l, p, h->size);
        return 0;
    case AXN_T_NAMEA:
        axn_names_on_answer(l, p, h->size);
        return 0;
    case AXN_T_MONITOR:
    case AXN_T_DEMON:
        axn_mon_on_frame(l, h->type, p, h->size);
        return 0;
    case AXN_T_BYE:
        if (h->size != 0)
            return protocol_error(l, h, "malformed BYE");
        l->peer_bye = 1; /* the close that follows is not a failure */
        return 0;
    default:
        return protocol_error(l, h, "unexpected control frame");
    }
}

/* The first frame of a type (or a type that is not the remembered one):
 * find it and check that a peer may send it.  NULL when the frame was
 * dead-lettered.  A plain, fixed-size, pooled type becomes the net's rx
 * cache, which the input loop's fast path tests first. */
static AXI_NOINLINE const axi_type_slot *rx_type(axn_link *l, ax_system *s, const axn_hdr *h)
{
    axn_net *n = l->net;
    const axi_type_slot *t = axi_types_find(&s->types, h->type);
    if (!t) {
        undeliverable(l, h, s->closed ? AX_ECLOSED : AX_EUNKNOWNTYPE);
        return NULL;
    }
    /* Axon's own types other than the poison pill carry pointers of this
     * process (an ask's completion): from a peer they are forged.  (DOWN
     * never gets here: it is a control frame.) */
    if (h->type >= AX_MSG_SYSTEM_BASE && h->type != AX_MSG_POISON) {
        undeliverable(l, h, AX_EUNKNOWNTYPE);
        return NULL;
    }
    const ax_msg_type *rec = &s->types.recs[t->rec];
    /* A payload with a free hook and no deserialize hook holds pointers:
     * bytes from another process would be freed as if they were ours
     * (the sending side refuses such types too). */
    if (rec->free && !rec->deserialize) {
        undeliverable(l, h, AX_EINVAL);
        return NULL;
    }
    s->types.cache = t;
    if (!rec->deserialize && !t->varsize && t->cls < AXI_NCLASSES && t->mflags == 0) {
        n->rx_type = h->type;
        n->rx_size = t->size;
        n->rx_cls = t->cls;
        n->rx_amask = t->size && rec->align > 1 ? rec->align - 1 : 0;
    }
    return t;
}

/* A node the fast delivery did not take: the general path decides. */
static AXI_NOINLINE void deliver_slow(axn_link *l, ax_system *s, ax_id to, axi_msg *m)
{
    ax_id from = m->sender;
    uint32_t type = m->view.type;
    int rc = axi_deliver(s, to, m);
    if (rc != 0) {
        /* axi_deliver counted it, except after shutdown. */
        if (rc == AX_ECLOSED)
            axi_dead_letter(s, from, to, type, rc);
        l->st.undeliverable_in++;
        axi_msg_drop(s, m);
    }
}

/* One user message of any type: decode into a pooled node and enqueue it
 * (the input loop's fast path handles the remembered plain type). */
static AXI_NOINLINE int deliver(axn_link *l, ax_system *s, const axn_hdr *h, const char *p)
{
    const axi_type_slot *t = s->types.cache;
    if (t->id != h->type) {
        t = rx_type(l, s, h);
        if (!t)
            return 0;
    }
    ax_id to = {0, h->to.index, h->to.cookie};
    axi_msg *m;
    if (!s->types.recs[t->rec].deserialize) {
        if (t->varsize ? h->size > AX_MSG_MAX_SIZE : h->size != t->size)
            return undeliverable(l, h, AX_EMSGSIZE);
        uint8_t cls = t->varsize ? axi_size_class(h->size) : t->cls;
        m = axi_msg_alloc(&s->pool, h->size, cls);
        if (!m)
            return undeliverable(l, h, AX_ENOMEM);
        m->view.size = h->size;
        axi_copy_payload(axi_msg_payload(m), p, h->size);
    } else {
        m = axi_msg_alloc(&s->pool, t->size, t->cls);
        if (!m)
            return undeliverable(l, h, AX_ENOMEM);
        m->view.size = t->size;
        memset(axi_msg_payload(m), 0, t->size);
        int rc = s->types.recs[t->rec].deserialize(p, h->size, axi_msg_payload(m));
        if (rc) {
            axi_msg_dealloc(&s->pool, m);
            return undeliverable(l, h, rc < 0 ? rc : AX_EINVAL);
        }
    }
    m->flags |= t->mflags;
    m->view.type = h->type;
    m->sender = h->from;
    if (axi_deliver_local_fast(s, to, m) != 0)
        deliver_slow(l, s, to, m);
    return 0;
}

/* A run of frames for one idle plain actor, its handler called on each
 * where it lies in the read buffer.  p is the first frame, already
 * checked (the remembered type and size, a 24-byte header, a live
 * recipient that may run now, an aligned payload); the run goes on while
 * the next frame has the same size word, type and recipient, up to
 * `limit` frames (all complete in the buffer, with aligned payloads).
 * The actor stays in its handler context from one to the next, as in a
 * mailbox batch: the per-frame work is the sender, the call and the
 * checks a handler may invalidate: ctx->slow (it stopped, shut the system
 * down, or closed a connection - axn_conn_close sets it while a handler
 * runs) and its mailbox (mail to itself).  A plain actor cannot end but
 * through ax_stop.  Returns the frames run; *stop is 1 when the system is
 * shutting down; the caller checks the connection's state. */
static AXI_NOINLINE uint32_t direct_run(axn_link *l, ax_system *s, axi_actor *a,
                                        const char *p, size_t fl, uint32_t limit, int *stop)
{
    ax_ctx *ctx = &s->ctx;
    uint64_t head, key;
    memcpy(&head, p, 8); /* size word and type, as bytes */
    memcpy(&key, p + 8, 8); /* the recipient's index and cookie */
    const uint32_t node = l->node;
    const ax_receive_fn fn = a->receive;
    void *const state = a->state;
    axi_msg b;
    b.view.type = axn_get32(p + 4);
    b.view.size = axn_get32(p);
    b.flags = AXI_MF_BORROWED;
    a->flags = AXI_AF_QUEUED;
    s->in_dispatch = 1;
    ctx->sys = s;
    ctx->actor = a;
    ctx->self = axi_actor_id(a);
    ctx->cur = &b;
    const char *const first = p, *const last = p + (size_t)(limit - 1) * fl;
    for (;;) {
        const uint32_t fc = axn_get32(p + 20);
        b.sender.node = fc ? node : 0;
#if AXN_LE_HOST
        /* Index and cookie in one store, as the route hook reads them
         * back (two narrower stores would stall that load). */
        memcpy((char *)&b.sender + offsetof(ax_id, index), p + 16, 8);
#else
        b.sender.index = axn_get32(p + 16);
        b.sender.cookie = fc;
#endif
        b.view.data = (void *)(p + AXN_HDR);
        fn(state, ctx, &b.view);
        if (AXI_UNLIKELY(p == last))
            break;
        if (AXI_UNLIKELY(ctx->slow || a->mb_head != NULL))
            break;
        const char *next = p + fl;
        uint64_t h2, k2;
        memcpy(&h2, next, 8);
        memcpy(&k2, next + 8, 8);
        if ((h2 ^ head) | (k2 ^ key))
            break;
        p = next;
    }
    /* p is the last frame run. */
    const uint32_t k = (uint32_t)((size_t)(p - first) / fl) + 1;
    s->stats.delivered += k;
    ctx->cur = NULL;
    ctx->actor = NULL;
    s->in_dispatch = 0;
    if (AXI_LIKELY(!ctx->slow && a->mb_head == NULL)) {
        a->flags = 0;
        *stop = 0;
    } else {
        *stop = axi_run_now_after(s, a);
    }
    return k;
}

int axn_link_input(axn_link *l, axn_conn *c, uint32_t budget)
{
    axn_net *n = l->net;
    ax_system *s = n->sys;
    const uint32_t max = l->cfg->max_frame;
    uint32_t frames = 0;
    uint64_t rx = 0;
    int rc = 0;
    size_t pos = c->ib_pos, len = c->ib_len;
    const char *ib = c->ib;
    uint64_t to_ack = 0; /* bytes of frames that call for an ACK */
    uint64_t direct = 0; /* messages handled straight from the buffer */
    uint32_t flush_in = n->flush_in; /* counts down across reads */
    /* Early flushes only for small messages (net_int.h). */
    const int early = n->rx_size <= AXN_EARLY_MAX_SIZE;
    while (len - pos >= AXN_HDR) {
        const char *p = ib + pos;
        /* The size word as a local: the full header (whose address the
         * general path takes) is read only off the fast path.  Flags make
         * it larger than any allowed size (max <= AXN_SIZE_MASK). */
        const uint32_t w = axn_get32(p);
        uint32_t size = w;
        size_t hl = AXN_HDR;
        axn_hdr h;
        if (AXI_UNLIKELY(w > max)) {
            size = w & AXN_SIZE_MASK;
            if (size > max) {
                axn_conn_close(c, AXN_WHY_OVERSIZE, AX_LOG_WARN,
                               "frame of %u bytes above the maximum %u (type 0x%x)", size, max,
                               axn_get32(p + 4));
                rc = -1;
                break;
            }
            if (w & AXN_F_RESERVED) {
                axn_conn_close(c, AXN_WHY_MALFORMED, AX_LOG_WARN,
                               "frame with reserved flags 0x%x (type 0x%x)", w & ~AXN_SIZE_MASK,
                               axn_get32(p + 4));
                rc = -1;
                break;
            }
            hl = AXN_HDR_MAX; /* AXN_F_NODE */
        }
        size_t fl = hl + (size_t)size;
        if (len - pos < fl) {
            c->ib_pos = pos;
            if (axn_conn_room(c, fl - (len - pos)) != 0) {
                axn_conn_close(c, AXN_WHY_IO, AX_LOG_ERROR, "out of memory for a frame");
                rc = -1;
            }
            pos = c->ib_pos; /* the buffer may have moved */
            break;
        }
        if (AXI_UNLIKELY(frames == budget)) {
            rc = 1; /* the rest waits for the next turn */
            break;
        }
        const uint32_t type = axn_get32(p + 4);
        pos += fl;
        frames++;
        rx += fl;
        /* The fast path: the remembered plain, fixed-size type (never a
         * control type, never type 0: rx_size starts at a size no frame
         * has), with a valid sender's node if one is named.  Everything
         * else - and every failure - takes the general path below. */
        if (AXI_LIKELY(type == n->rx_type && size == n->rx_size &&
                       (hl == AXN_HDR ||
                        (axn_get32(p + AXN_HDR) != 0 && axn_get32(p + AXN_HDR + 4) == 0)))) {
            to_ack += fl;
            ax_id to = {0, axn_get32(p + 8), axn_get32(p + 12)};
            axi_actor *a = axi_actor_lookup(s, to);
            const char *data = p + hl;
            const uint32_t fc = axn_get32(p + 20);
            ax_id from = {fc ? l->node : 0, axn_get32(p + 16), fc};
            if (AXI_UNLIKELY(hl != AXN_HDR))
                from.node = axn_get32(p + AXN_HDR); /* a sender elsewhere */
            /* An idle plain actor (or behaviour actor with a synchronous
             * handler for the type): its handler runs now, on the payload
             * where it lies (if aligned for the type), with no node, no
             * copy and no mailbox round trip.  Order holds: its mailbox
             * is empty. */
            if (AXI_LIKELY(a != NULL && axi_can_run_now(s, a, type) &&
                           ((uintptr_t)data & n->rx_amask) == 0)) {
                uint32_t k = 1;
                int stop;
                if (AXI_LIKELY(a->kind == AXI_KIND_PLAIN && hl == AXN_HDR)) {
                    /* This frame and those like it that follow. */
                    uint64_t lim = 1 + (len - pos) / fl;
                    if (lim > budget - frames + 1)
                        lim = budget - frames + 1;
                    if (early && lim > flush_in)
                        lim = flush_in;
                    if (fl & n->rx_amask)
                        lim = 1; /* the next payload would be misaligned */
                    k = direct_run(l, s, a, p, fl, (uint32_t)lim, &stop);
                    const size_t more = (size_t)(k - 1) * fl;
                    pos += more;
                    frames += k - 1;
                    rx += more;
                    to_ack += more;
                } else {
                    axi_msg b;
                    b.view.type = type;
                    b.view.size = size;
                    b.view.data = (void *)data;
                    b.sender = from;
                    b.flags = AXI_MF_BORROWED;
                    stop = axi_run_now(s, a, &b);
                }
                direct += k;
                if (AXI_UNLIKELY(stop)) {
                    rc = 1; /* a handler shut the system down */
                    break;
                }
                if (AXI_UNLIKELY(c->state == AXN_C_CLOSED)) {
                    rc = -1; /* a handler closed the link */
                    break;
                }
                if (AXI_UNLIKELY(early && (flush_in -= k) == 0)) {
                    /* A long batch: what its handlers wrote so far goes
                     * out now, so the next node works on it while this
                     * one works on the rest (net_int.h). */
                    axn_flush_early(n); /* resets n->flush_in */
                    flush_in = n->flush_in;
                    if (c->state == AXN_C_CLOSED) {
                        rc = -1;
                        break;
                    }
                }
                continue;
            }
            axi_msg *m = axi_msg_alloc(&s->pool, size, n->rx_cls);
            if (AXI_UNLIKELY(m == NULL)) {
                axn_hdr_get(p, &h);
                h.from = from;
                undeliverable(l, &h, AX_ENOMEM);
                continue;
            }
            /* A pooled node has no flags and keeps its class; the type
             * has no flags either. */
            m->view.type = type;
            m->view.size = size;
            m->sender = from;
            axi_copy_payload(axi_msg_payload(m), data, size);
            if (AXI_LIKELY(axi_deliver_local_fast(s, to, m) == 0))
                continue;
            deliver_slow(l, s, to, m);
            if (AXI_UNLIKELY(c->state == AXN_C_CLOSED)) {
                rc = -1; /* a dead-letter hook closed it */
                break;
            }
            continue;
        }
        axn_hdr_get(p, &h);
        if (hl == AXN_HDR_MAX && (h.from.node == 0 || axn_get32(p + AXN_HDR + 4) != 0)) {
            protocol_error(l, &h, "frame naming node 0 as its sender's, or padded with data");
            rc = -1;
            break;
        }
        if (h.from.node == 0 && h.from.cookie != 0)
            h.from.node = l->node; /* a sender on the peer's node */
        if (AXI_UNLIKELY(h.type == AX_MSG_DOWN || axn_is_control(h.type) || h.type == 0)) {
            c->ib_pos = pos;
            l->rx += rx;
            rx = 0;
            /* ACKs are not acknowledged (else two idle peers would ack
             * each other's acks forever); everything else is. */
            if (h.type != AXN_T_ACK)
                to_ack += fl;
            if (h.type == 0 || control(l, &h, p + hl) != 0 || c->state == AXN_C_CLOSED) {
                if (h.type == 0)
                    protocol_error(l, &h, "frame of type 0");
                rc = -1;
                break;
            }
            continue;
        }
        to_ack += fl;
        deliver(l, s, &h, p + hl);
        if (AXI_UNLIKELY(c->state == AXN_C_CLOSED)) {
            rc = -1; /* a dead-letter hook closed it */
            break;
        }
    }
    if (c->state != AXN_C_CLOSED)
        c->ib_pos = pos;
    l->rx += rx;
    l->st.frames_in += frames;
    l->st.frames_direct += direct;
    n->flush_in = flush_in;
    if (to_ack && c->state != AXN_C_CLOSED)
        axn_link_received(l, to_ack);
    return rc;
}
