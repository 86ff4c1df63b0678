/* deliver.c - frames received on a link that is up: user messages go to
 * local mailboxes (decoded by the type's deserialize hook where it has
 * one), control frames to their handlers.
 *
 * A message that cannot be delivered (unknown type, wrong size, a decode
 * hook error, an ended target) is a dead letter of this system, counted
 * in undeliverable_in; the link stays up.  Only a frame that breaks the
 * protocol closes the link. */
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
    int rc = axi_send(l->net->sys, who, to, AX_MSG_DOWN, &d, sizeof d);
    if (rc && rc != AX_ESTALE && rc != AX_EFULL)
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
        l->ack_needed = 1;
        return on_down(l, h, p);
    case AXN_T_NAMEQ:
        l->ack_needed = 1;
        axn_names_on_query(l, p, h->size);
        return 0;
    case AXN_T_NAMEA:
        l->ack_needed = 1;
        axn_names_on_answer(l, p, h->size);
        return 0;
    case AXN_T_MONITOR:
    case AXN_T_DEMON:
        l->ack_needed = 1;
        axn_mon_on_frame(l, h->type, p, h->size);
        return 0;
    default:
        return protocol_error(l, h, "unexpected control frame");
    }
}

int axn_link_frame(axn_link *l, const axn_hdr *h, const char *p)
{
    l->rx++;
    l->st.frames_in++;
    if (AXI_UNLIKELY(h->type == AX_MSG_DOWN || axn_is_control(h->type))) {
        int rc = control(l, h, p);
        if (l->ack_needed)
            axn_link_dirty(l);
        return rc;
    }
    if (AXI_UNLIKELY(!l->ack_needed)) {
        l->ack_needed = 1;
        axn_link_dirty(l);
    }
    axn_net *n = l->net;
    ax_system *s = n->sys;
    /* The recipient must live here: frames are only sent to a node's own
     * actors (there is no routing through a node). */
    if (AXI_UNLIKELY(h->to.node != n->node && h->to.node != 0))
        return undeliverable(l, h, AX_ENOROUTE);
    const axi_type_slot *t = s->types.cache;
    if (AXI_UNLIKELY(t->id != h->type)) {
        t = axi_types_find(&s->types, h->type);
        if (AXI_UNLIKELY(!t))
            return undeliverable(l, h, s->closed ? AX_ECLOSED : AX_EUNKNOWNTYPE);
    }
    ax_id to = {0, h->to.index, h->to.cookie};
    const ax_msg_type *rec = &s->types.recs[t->rec];
    axi_msg *m;
    if (AXI_LIKELY(!rec->deserialize)) {
        if (AXI_UNLIKELY(t->varsize ? h->size > AX_MSG_MAX_SIZE : h->size != t->size))
            return undeliverable(l, h, AX_EMSGSIZE);
        uint8_t cls = t->varsize ? axi_size_class(h->size) : t->cls;
        m = axi_msg_alloc(&s->pool, h->size, cls);
        if (AXI_UNLIKELY(!m))
            return undeliverable(l, h, AX_ENOMEM);
        m->view.size = h->size;
        axi_copy_payload(axi_msg_payload(m), p, h->size);
    } else {
        m = axi_msg_alloc(&s->pool, t->size, t->cls);
        if (!m)
            return undeliverable(l, h, AX_ENOMEM);
        m->view.size = t->size;
        memset(axi_msg_payload(m), 0, t->size);
        int rc = rec->deserialize(p, h->size, axi_msg_payload(m));
        if (rc) {
            axi_msg_dealloc(&s->pool, m);
            return undeliverable(l, h, rc < 0 ? rc : AX_EINVAL);
        }
    }
    m->flags |= t->mflags;
    m->view.type = h->type;
    m->sender = h->from;
    int rc = axi_deliver(s, to, m);
    if (AXI_UNLIKELY(rc != 0)) {
        /* axi_deliver counted it, except after shutdown. */
        if (rc == AX_ECLOSED)
            axi_dead_letter(s, h->from, to, h->type, rc);
        l->st.undeliverable_in++;
        axi_msg_drop(s, m);
    }
    return 0;
}
