/* link.c - a link to one node: the session across reconnects, back-off,
 * heartbeats, and what happens to queued frames when things go wrong.
 *
 * Sessions.  Every system has a random incarnation.  A session is a pair
 * (our incarnation, the peer's); both sides count the frames they received
 * in it (rx) and confirm them with ACK frames.  When a connection comes
 * back and both sides still talk to the same incarnations, the session
 * resumes: the frames the peer confirmed in its HELLO are dropped, the
 * rest are sent again, so a flapping connection loses and duplicates
 * nothing.  When the peer is a new process (it restarted), the frames
 * written to the old one but never confirmed are lost: each becomes a dead
 * letter and is counted in lost_unconfirmed; the frames never written are
 * sent to the new process in order. */
#include <stdio.h>

#include "net/net_int.h"

axn_link *axn_link_find(const axn_net *n, uint32_t node)
{
    if (!n->buckets)
        return NULL;
    axn_link *l = n->buckets[(node * 0x9E3779B1u) & n->mask];
    while (l && l->node != node)
        l = l->hash_next;
    return l;
}

static int grow(axn_net *n)
{
    uint32_t ncap = n->buckets ? (n->mask + 1) * 2 : 16;
    axn_link **nb = axi_calloc(n->alloc, ncap * sizeof *nb);
    if (!nb)
        return AX_ENOMEM;
    for (axn_link *l = n->links; l; l = l->next) {
        uint32_t i = (l->node * 0x9E3779B1u) & (ncap - 1);
        l->hash_next = nb[i];
        nb[i] = l;
    }
    if (n->buckets)
        axi_free(n->alloc, n->buckets, ((size_t)n->mask + 1) * sizeof *nb);
    n->buckets = nb;
    n->mask = ncap - 1;
    return 0;
}

int axn_link_new(axn_net *n, uint32_t node, axn_cfg *cfg, axn_link **out)
{
    if (!n->buckets || n->nlinks + 1 > n->mask + 1) {
        int rc = grow(n);
        if (rc)
            return rc;
    }
    axn_link *l = axi_calloc(n->alloc, sizeof *l);
    if (!l)
        return AX_ENOMEM;
    l->net = n;
    l->node = node;
    l->cfg = axn_cfg_ref(cfg);
    l->st.node_id = node;
    l->peer_max_frame = cfg->max_frame;
    l->max_payload = cfg->max_frame;
    l->max_buffer = cfg->max_buffer;
    uint32_t i = (node * 0x9E3779B1u) & n->mask;
    l->hash_next = n->buckets[i];
    n->buckets[i] = l;
    l->next = n->links;
    if (n->links)
        n->links->prev = l;
    n->links = l;
    n->nlinks++;
    *out = l;
    return 0;
}

static void unhash(axn_net *n, axn_link *l)
{
    for (axn_link **pp = &n->buckets[(l->node * 0x9E3779B1u) & n->mask]; *pp;
         pp = &(*pp)->hash_next) {
        if (*pp == l) {
            *pp = l->hash_next;
            break;
        }
    }
    if (l->prev)
        l->prev->next = l->next;
    else
        n->links = l->next;
    if (l->next)
        l->next->prev = l->prev;
    l->prev = l->next = NULL;
    n->nlinks--;
    if (n->cache_link == l) {
        n->cache_link = NULL;
        n->cache_node = 0;
    }
    if (l->in_dirty) {
        for (axn_link **pp = &n->dirty; *pp; pp = &(*pp)->dirty_next) {
            if (*pp == l) {
                *pp = l->dirty_next;
                break;
            }
        }
        l->in_dirty = 0;
    }
}

void axn_link_dirty(axn_link *l)
{
    if (!l->in_dirty && l->conn) {
        l->in_dirty = 1;
        l->dirty_next = l->net->dirty;
        l->net->dirty = l;
    }
}

int axn_link_put_raw(axn_link *l, uint32_t type, ax_id from, ax_id to, const void *payload,
                     size_t size)
{
    from = axn_wire_from(from, l->net->node);
    size_t len = axn_hdr_len(from) + size;
    axn_outq_settle(&l->q);
    if (l->q.bytes + len > l->max_buffer) {
        l->st.dropped_full++;
        return AX_ELINKFULL;
    }
    char *p = axn_outq_reserve(l->net, &l->q, len);
    if (!p)
        return AX_ENOMEM;
    size_t hl = axn_hdr_put(p, (uint32_t)size, type, from, to);
    if (size)
        memcpy(p + hl, payload, size);
    axn_outq_commit(&l->q, len);
    l->st.frames_out++;
    axn_link_dirty(l);
    return 0;
}

/* ---- loss accounting -------------------------------------------------- */

typedef struct lost_ctx {
    axn_link *l;
    int reason;
    int skip_written; /* written frames are the peer's: not lost */
    uint64_t count;
} lost_ctx;

/* A queued frame that will never be delivered: a dead letter, unless it
 * is link control traffic (acks, monitors, name queries), which carries
 * no message of anyone's. */
static void lost_frame(void *arg, const axn_hdr *h, int written)
{
    lost_ctx *lc = arg;
    if (written && lc->skip_written)
        return;
    axn_net *n = lc->l->net;
    if (axn_is_control(h->type))
        return;
    /* A frame of our queue: its sender is local unless it names a node,
     * its recipient lives on the link's node. */
    ax_id from = h->from, to = h->to;
    if (from.node == n->node)
        from.node = 0;
    to.node = lc->l->node;
    lc->count++;
    axi_dead_letter(n->sys, from, to, h->type, lc->reason);
}

uint64_t axn_link_drop_queue(axn_link *l, int reason)
{
    lost_ctx lc = {l, reason, 1, 0};
    axn_outq_drop_all(l->net, &l->q, lost_frame, &lc);
    return lc.count;
}

/* ---- up and down ------------------------------------------------------ */

static void heartbeat(ax_loop *loop, ax_timer t, void *arg)
{
    (void)t;
    axn_link *l = arg;
    axn_conn *c = l->conn;
    if (!c)
        return;
    int64_t now = ax_loop_now(loop);
    if (now - l->last_rx > l->cfg->timeout) {
        axn_conn_close(c, AXN_WHY_TIMEOUT, AX_LOG_WARN, "nothing received for %lld ms",
                       (long long)((now - l->last_rx) / 1000000));
        return;
    }
    /* Idle: an ACK doubles as the heartbeat (and confirms what we got). */
    if (now - l->last_tx >= l->cfg->heartbeat) {
        l->ack_needed = 1;
        axn_link_dirty(l);
    }
}

static void ack_due(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    axn_link *l = arg;
    l->ack_timer_on = 0;
    if (l->rx_unacked && l->conn) {
        l->ack_needed = 1;
        axn_link_dirty(l);
    }
}

/* Frames that call for an ACK arrived.  An ACK rides along with the next
 * frames we send anyway (flush_link); on its own it goes out once a
 * window of bytes is unconfirmed, or after AXN_ACK_DELAY: a one-way
 * stream then costs the receiver one small write per window, not one per
 * read. */
void axn_link_received(axn_link *l, uint64_t bytes)
{
    l->rx_unacked += bytes;
    if (l->rx_unacked >= l->ack_window) {
        l->ack_needed = 1;
        axn_link_dirty(l);
    } else if (!l->ack_timer_on) {
        if (axi_timer_start(l->net->loop, AXN_ACK_DELAY, 0, ack_due, l, NULL, l->net,
                            &l->ack_timer) == 0)
            l->ack_timer_on = 1;
        else
            l->ack_needed = 1, axn_link_dirty(l);
    }
}

void axn_link_up(axn_link *l, axn_conn *c)
{
    axn_net *n = l->net;
    const axn_hello *h = &c->hs.peer;
    axn_outq *q = &l->q;
    int same = l->peer_inc != 0 && l->peer_inc == h->inc && h->peer_inc == n->inc;
    if (same) {
        axn_outq_confirm(n, q, h->rx);
        axn_outq_rewind(q);
        l->st.resumed++;
        axn_log(n, AX_LOG_INFO, "link to node %u (%s) resumed: %llu bytes to send again",
                l->node, c->peer, (unsigned long long)q->bytes);
    } else {
        /* Written to the old process, never confirmed: AX_ELOST. */
        lost_ctx lc = {l, AX_ELOST, 0, 0};
        axn_outq_drop_written(n, q, lost_frame, &lc);
        l->st.lost_unconfirmed += lc.count;
        if (l->peer_inc != 0) {
            l->st.peer_restarts++;
            axn_log(n, lc.count ? AX_LOG_WARN : AX_LOG_INFO,
                    "node %u (%s) is a new process: %llu messages sent to the old one "
                    "were never confirmed and are lost",
                    l->node, c->peer, (unsigned long long)lc.count);
        }
        q->confirmed = q->written = 0;
        axn_outq_rewind(q);
        l->rx = 0;
        l->peer_inc = h->inc;
    }
    l->state = AX_NODE_UP;
    l->attempts = 0;
    l->st.connects++;
    l->peer_max_frame = h->max_frame;
    l->ack_window = h->ack_window ? h->ack_window : AXN_ACK_WINDOW;
    if (l->ack_window > AXN_ACK_WINDOW)
        l->ack_window = AXN_ACK_WINDOW;
    l->rx_unacked = 0;
    const uint32_t was = l->max_payload;
    l->max_payload = h->max_frame < l->cfg->max_frame ? h->max_frame : l->cfg->max_frame;
    if (l->max_payload < was) {
        /* Queued under a larger limit (ours, before the peer's was
         * known): the peer would close the link on those frames. */
        lost_ctx lc = {l, AX_EMSGSIZE, 0, 0};
        axn_outq_drop_over(n, q, l->max_payload, lost_frame, &lc);
        l->st.dropped_oversize += lc.count;
        if (lc.count)
            axn_log(n, AX_LOG_WARN,
                    "link to node %u: %llu messages queued before it was up are above its "
                    "maximum frame (%u bytes) and are dropped",
                    l->node, (unsigned long long)lc.count, (unsigned)l->max_payload);
    }
    l->last_rx = l->last_tx = ax_loop_now(n->loop);
    if (l->retry_on) {
        ax_timer_stop(n->loop, l->retry_timer);
        l->retry_on = 0;
    }
    if (!l->hb_on && axi_timer_start(n->loop, l->cfg->heartbeat, l->cfg->heartbeat, heartbeat, l,
                                     NULL, n, &l->hb_timer) == 0)
        l->hb_on = 1;
    axn_log(n, AX_LOG_INFO, "link to node %u up (%s, %s%s)", l->node, c->peer,
            c->kind == AXN_AF_UNIX ? "unix" : "tcp", c->ssl ? "+tls" : "");
    axn_link_dirty(l);
}

void axn_link_lost(axn_link *l, axn_why why)
{
    axn_net *n = l->net;
    l->state = AX_NODE_DOWN;
    l->st.disconnects++;
    if (l->hb_on) {
        ax_timer_stop(n->loop, l->hb_timer);
        l->hb_on = 0;
    }
    l->ack_needed = 0;
    l->rx_unacked = 0;
    if (l->ack_timer_on) {
        ax_timer_stop(n->loop, l->ack_timer);
        l->ack_timer_on = 0;
    }
    if (!n->closed && !l->removed) {
        /* After a BYE, a reset is an orderly close too: the peer closed
         * with our frames unread in its socket, and its kernel answers a
         * close with unread input by a reset. */
        if (l->peer_bye && (why == AXN_WHY_CLOSED || why == AXN_WHY_IO))
            axn_log(n, AX_LOG_INFO, "node %u closed the link (it is shutting down)", l->node);
        else
            axn_log(n, why == AXN_WHY_LOCAL ? AX_LOG_INFO : AX_LOG_WARN,
                    "link to node %u lost (%s); %llu bytes kept for the reconnect", l->node,
                    axn_why_str(why), (unsigned long long)axn_outq_bytes(&l->q));
    }
    l->peer_bye = 0;
    axn_mon_link_lost(l);
    axn_names_link_lost(n, l);
    if (!n->closed && !l->removed)
        axn_link_schedule_dial(l, 0);
}

/* A dial failed: the next waits reconnect_min after an immediate dial
 * (ax_node_add), twice the last wait after a back-off's. */
static void count_failure(axn_link *l)
{
    if (l->dial_now)
        l->dial_now = 0;
    else
        l->attempts++;
}

void axn_link_dial_failed(axn_link *l)
{
    if (!l->conn)
        l->state = AX_NODE_DOWN;
    count_failure(l);
    axn_link_schedule_dial(l, 0);
}

static void redial(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    axn_link *l = arg;
    l->retry_on = 0;
    if (l->conn || l->dialing || l->removed || l->net->closed)
        return;
    l->state = AX_NODE_CONNECTING;
    if (axn_conn_dial(l) != 0) {
        count_failure(l);
        axn_link_schedule_dial(l, 0);
    }
}

void axn_link_schedule_dial(axn_link *l, int immediate)
{
    axn_net *n = l->net;
    if (!l->has_addr || l->removed || n->closed || l->conn || l->dialing || l->retry_on)
        return;
    ax_duration delay = 0;
    l->dial_now = (uint8_t)(immediate != 0);
    if (!immediate) {
        /* 1 s (reconnect_min), doubling per failure, capped, +-20 %. */
        ax_duration d = l->cfg->reconnect_min;
        for (uint32_t i = 0; i < l->attempts && d < l->cfg->reconnect_max; i++)
            d *= 2;
        if (d > l->cfg->reconnect_max)
            d = l->cfg->reconnect_max;
        int64_t span = d / 5;
        if (span > 0)
            d += (ax_duration)(axn_rand(n) % (uint64_t)(2 * span + 1)) - span;
        delay = d;
    }
    if (axi_timer_start(n->loop, delay, 0, redial, l, NULL, n, &l->retry_timer) == 0)
        l->retry_on = 1;
}

void axn_link_remove(axn_link *l)
{
    axn_net *n = l->net;
    l->removed = 1;
    if (l->conn) {
        /* Last chance for what is queued, then a BYE so the peer knows the
         * close is on purpose. */
        ax_id none = {0, 0, 0};
        char *p = axn_outq_reserve(n, &l->q, AXN_HDR);
        if (p) {
            axn_hdr_put(p, 0, AXN_T_BYE, none, none);
            axn_outq_commit(&l->q, AXN_HDR);
        }
        axn_flush_link(l);
    }
    if (l->retry_on) {
        ax_timer_stop(n->loop, l->retry_timer);
        l->retry_on = 0;
    }
    if (l->dialing) {
        axn_conn *d = l->dialing;
        l->dialing = NULL;
        d->link = NULL;
        axn_conn_close(d, AXN_WHY_LOCAL, -1, "node removed");
    }
    if (l->conn)
        axn_conn_close(l->conn, AXN_WHY_LOCAL, AX_LOG_INFO, "node removed");
    else
        axn_mon_link_lost(l);
    /* Frames written are the peer's now; the rest never will be. */
    l->st.dropped_closed += axn_link_drop_queue(l, n->closed ? AX_ECLOSED : AX_ENOROUTE);
    axn_link_retire_stats(l);
    unhash(n, l);
    l->next = n->dead_links;
    n->dead_links = l;
}

void axn_link_free(axn_link *l)
{
    axn_net *n = l->net;
    axn_outq_drop_all(n, &l->q, NULL, NULL);
    axn_cfg_unref(n, l->cfg);
    axi_free(n->alloc, l, sizeof *l);
}
