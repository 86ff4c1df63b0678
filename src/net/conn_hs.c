/* conn_hs.c - the axon handshake on one connection.
 *
 * Both sides send the preamble and HELLO as soon as the transport is
 * ready.  On the peer's HELLO each side checks the ids (not ours, the one
 * dialed, not already connected), that both sides agree on using the
 * shared secret, and the message schemas; then it proves the secret with
 * AUTH.  The connection is up once the peer's AUTH checks out (or at once
 * after HELLO when no secret is configured, i.e. TLS or insecure links).
 * Anything else before that point - data frames, a second HELLO, garbage -
 * closes the connection, so nothing an unauthenticated peer sends is ever
 * delivered.  A refusal tells the peer why (REFUSE) before closing. */
#include <stdarg.h>
#include <stdio.h>

#include "net/conn_hs.h"

static int hs_append(axn_conn *c, const void *p, size_t len)
{
    size_t need = c->hs_len + len;
    if (need > c->hs_cap) {
        size_t ncap = c->hs_cap ? c->hs_cap : 512;
        while (ncap < need)
            ncap *= 2;
        char *nb = axi_realloc(c->net->alloc, c->hs_out, c->hs_cap, ncap);
        if (!nb)
            return AX_ENOMEM;
        c->hs_out = nb;
        c->hs_cap = ncap;
    }
    memcpy(c->hs_out + c->hs_len, p, len);
    c->hs_len += len;
    return 0;
}

static int hs_frame(axn_conn *c, uint32_t type, const void *payload, size_t len)
{
    char hdr[AXN_HDR];
    const ax_id none = {0, 0, 0};
    axn_hdr_put(hdr, (uint32_t)len, type, none, none);
    int rc = hs_append(c, hdr, sizeof hdr);
    if (rc == 0 && len)
        rc = hs_append(c, payload, len);
    return rc;
}

/* Refuse the peer: tell it why (best effort), log, close. */
static int refuse(axn_conn *c, axn_why why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(axn_conn *c, axn_why why, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char buf[AXN_REFUSE_MAX];
    /* An unauthenticated peer learns the category, not our details. */
    size_t len = axn_refuse_put(buf, why, axn_why_str(why));
    if (hs_frame(c, AXN_T_REFUSE, buf, len) == 0 && c->state != AXN_C_TLS &&
        !c->write_blocked) {
        /* One try, errors ignored: the peer may be gone already, and the
         * reason we close for is this one, not a write error. */
        struct iovec iov = {c->hs_out + c->hs_pos, c->hs_len - c->hs_pos};
        (void)c->ops->writev(c, &iov, 1);
    }
    axn_conn_close(c, why, why == AXN_WHY_DUPLICATE ? AX_LOG_INFO : AX_LOG_WARN, "refused: %s",
                   msg);
    return -1;
}

static uint64_t type_hash(void *arg, uint32_t id)
{
    axn_net *n = arg;
    const ax_msg_type *t = ax_msg_type_find(n->sys, id);
    return t ? t->layout_hash : 0;
}

typedef struct schema_ctx {
    axn_conn *c;
    uint32_t node;
} schema_ctx;

static void schema_report(void *arg, uint32_t id, uint64_t ours, uint64_t theirs)
{
    schema_ctx *sc = arg;
    const ax_msg_type *t = ax_msg_type_find(sc->c->net->sys, id);
    axn_log(sc->c->net, AX_LOG_ERROR,
            "schema mismatch with node %u (%s) on message type %u (%s): ours 0x%016llx, "
            "theirs 0x%016llx; regenerate both sides from the same IDL",
            sc->node, sc->c->peer, id, t && t->name ? t->name : "?", (unsigned long long)ours,
            (unsigned long long)theirs);
}

/* Append HELLO.  The dialer sends it at once; the accepting side once it
 * knows who dialed, so that its resume counters are those of that link. */
static int send_hello(axn_conn *c, const axn_link *l)
{
    axn_net *n = c->net;
    /* Every registered type with a schema hash goes into HELLO, so the
     * peer can name each type both sides use with different layouts. */
    const axi_types *ty = &n->sys->types;
    uint32_t nt = 0;
    for (uint32_t i = 0; i < ty->count; i++)
        if (ty->recs[i].layout_hash && nt < AXN_HELLO_MAX_TYPES)
            nt++;
    axn_type_hash *types = NULL;
    if (nt) {
        types = axi_alloc(n->alloc, nt * sizeof *types);
        if (!types)
            return AX_ENOMEM;
        uint32_t k = 0;
        for (uint32_t i = 0; i < ty->count && k < nt; i++) {
            if (ty->recs[i].layout_hash) {
                types[k].id = ty->recs[i].id;
                types[k].hash = ty->recs[i].layout_hash;
                k++;
            }
        }
    }
    axn_hello h;
    memset(&h, 0, sizeof h);
    h.node = n->node;
    h.expect = c->dialer ? c->link->node : 0;
    h.inc = n->inc;
    if (l) {
        h.peer_inc = l->peer_inc;
        h.rx = l->rx;
    }
    h.max_frame = c->cfg->max_frame;
    /* The peer must confirm well before our buffer bound fills up. */
    uint64_t win = c->cfg->max_buffer / 4;
    h.ack_window = win < AXN_ACK_WINDOW ? (uint32_t)win : AXN_ACK_WINDOW;
    h.flags = (c->cfg->secret ? AXN_HF_AUTH : 0) | (c->dialer ? AXN_HF_DIALER : 0);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    h.flags |= AXN_HF_BIGENDIAN;
#endif
    memcpy(h.nonce, c->hs.nonce, AXN_NONCE_LEN);
    h.ntypes = nt;
    h.schema = axn_schema_hash(types, nt);
    size_t len = axn_hello_size(nt);
    int rc = AX_ENOMEM;
    char *payload = axi_alloc(n->alloc, len);
    if (payload) {
        axn_hello_put(payload, &h, types);
        rc = hs_frame(c, AXN_T_HELLO, payload, len);
        axi_free(n->alloc, payload, len);
    }
    if (types)
        axi_free(n->alloc, types, nt * sizeof *types);
    return rc;
}

void axn_hs_begin(axn_conn *c)
{
    c->state = AXN_C_HELLO;
    if (axn_random(c->hs.nonce, sizeof c->hs.nonce) != 0) {
        axn_conn_close(c, AXN_WHY_IO, AX_LOG_ERROR, "no random bytes for the nonce");
        return;
    }
    /* The preamble goes out at once from both sides, so that even a
     * refusal before HELLO is well-formed for the peer. */
    char pre[AXN_PREAMBLE_LEN];
    axn_preamble_put(pre);
    int rc = hs_append(c, pre, sizeof pre);
    if (rc == 0 && c->dialer)
        rc = send_hello(c, c->link);
    if (rc) {
        axn_conn_close(c, AXN_WHY_IO, AX_LOG_ERROR, "out of memory");
        return;
    }
    axn_conn_flush(c);
}

/* Both sides are satisfied: attach to the link and go up. */
static int finish(axn_conn *c)
{
    axn_net *n = c->net;
    uint32_t node = c->hs.peer.node;
    axn_link *l = c->link;
    if (!c->dialer) {
        l = axn_link_find(n, node);
        if (l && l->conn)
            return refuse(c, AXN_WHY_CONFLICT, "node %u is already connected (%s)", node,
                          l->conn->peer);
        /* Both sides dialed at once.  Our id is smaller: ours wins.  The
         * peer's is: its connection (this one) wins, and ours is left to
         * finish its handshake, which the peer refuses as a duplicate -
         * dropped here mid-handshake, it would look like a failure there. */
        if (l && l->dialing && n->node < node)
            return refuse(c, AXN_WHY_DUPLICATE, "simultaneous connect: keeping ours");
        if (!l) {
            int rc = axn_link_new(n, node, c->cfg, &l);
            if (rc) {
                axn_conn_close(c, AXN_WHY_IO, AX_LOG_ERROR, "cannot make a link: %s",
                               ax_strerror(rc));
                return -1;
            }
        }
        c->link = l;
    } else {
        if (l->conn) {
            /* An accepted connection of the same node went up first. */
            l->dialing = NULL;
            c->link = NULL;
            axn_conn_close(c, AXN_WHY_LOCAL, -1, "superseded");
            return -1;
        }
        l->dialing = NULL;
    }
    if (c->hs_timer_on) {
        ax_timer_stop(n->loop, c->hs_timer);
        c->hs_timer_on = 0;
    }
    c->state = AXN_C_UP;
    if (c->pending) {
        c->pending = 0;
        n->pending--;
    }
    l->conn = c;
    axn_link_up(l, c);
    return c->state == AXN_C_UP ? 1 : -1;
}

static int on_hello(axn_conn *c, const char *p, size_t len)
{
    axn_net *n = c->net;
    axn_hello *h = &c->hs.peer;
    if (c->hs.got_hello)
        return refuse(c, AXN_WHY_MALFORMED, "a second HELLO");
    if (axn_hello_get(p, len, h) != AXN_WHY_NONE)
        return refuse(c, AXN_WHY_MALFORMED, "malformed HELLO (%zu bytes)", len);
    if (h->node == n->node)
        return refuse(c, AXN_WHY_CONFLICT, "the peer claims our own node id %u", n->node);
    if (h->expect && h->expect != n->node)
        return refuse(c, AXN_WHY_CONFLICT, "the peer wants node %u; this is node %u", h->expect,
                      n->node);
    if (c->dialer && h->node != c->link->node)
        return refuse(c, AXN_WHY_CONFLICT, "dialed node %u, but the peer is node %u",
                      c->link->node, h->node);
    if (c->cfg->secret && !(h->flags & AXN_HF_AUTH))
        return refuse(c, AXN_WHY_AUTH, "node %u offers no shared-secret authentication",
                      h->node);
    if (!c->cfg->secret && (h->flags & AXN_HF_AUTH))
        return refuse(c, AXN_WHY_AUTH,
                      "node %u requires a shared secret, and none is configured here", h->node);
    if (h->flags & AXN_HF_BIGENDIAN) {
#if !(defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
        axn_log(n, AX_LOG_WARN,
                "node %u is big-endian: plain-data payloads travel as raw bytes; use "
                "serialize hooks for types both use",
                h->node);
#endif
    }
    schema_ctx sc = {c, h->node};
    if (axn_schema_compare(h, type_hash, n, schema_report, &sc) > 0) {
        /* The accepting side still sends its HELLO, so the dialer can name
         * the mismatched types in its own log too. */
        if (!c->dialer)
            (void)send_hello(c, axn_link_find(n, h->node));
        return refuse(c, AXN_WHY_SCHEMA, "message schema mismatch with node %u (see above)",
                      h->node);
    }
    if (!c->dialer) {
        axn_link *l = axn_link_find(n, h->node);
        /* Already connected: the same process racing with itself (a dial
         * it has since dropped) is harmless; another process claiming the
         * id is a conflict. */
        if (l && l->conn && h->inc == l->peer_inc)
            return refuse(c, AXN_WHY_DUPLICATE, "node %u is already connected (%s)", h->node,
                          l->conn->peer);
        if (l && l->conn)
            return refuse(c, AXN_WHY_CONFLICT,
                          "node %u is already connected (%s) from another process", h->node,
                          l->conn->peer);
        /* Both sides dialing each other: the connection opened by the
         * smaller node id wins, on both sides.  Decided here, before our
         * HELLO, so the loser never sees a handshake complete. */
        if (l && l->dialing && n->node < h->node) {
            return refuse(c, AXN_WHY_DUPLICATE,
                          "node %u dialed us while we dial it: keeping our connection", h->node);
        }
        if (send_hello(c, l) != 0) {
            axn_conn_close(c, AXN_WHY_IO, AX_LOG_ERROR, "out of memory");
            return -1;
        }
    }
    h->types = NULL; /* points into the input buffer */
    c->hs.got_hello = 1;
    if (!c->cfg->secret) {
        axn_conn_flush(c);
        if (c->state == AXN_C_CLOSED)
            return -1;
        return finish(c);
    }
    unsigned char mac[AXN_MAC_LEN];
    if (axn_auth_mac(c->cfg->secret, c->cfg->secret_len, h->nonce, c->hs.nonce, n->node,
                     h->node, n->inc, mac) != 0 ||
        hs_frame(c, AXN_T_AUTH, mac, sizeof mac) != 0) {
        axn_conn_close(c, AXN_WHY_IO, AX_LOG_ERROR, "cannot compute the authentication");
        return -1;
    }
    c->hs.sent_auth = 1;
    axn_conn_flush(c);
    if (c->state == AXN_C_CLOSED)
        return -1;
    return 1;
}

static int on_auth(axn_conn *c, const char *p, size_t len)
{
    axn_hello *h = &c->hs.peer;
    if (!c->hs.got_hello || c->hs.got_auth || !c->cfg->secret)
        return refuse(c, AXN_WHY_MALFORMED, "unexpected AUTH");
    unsigned char expect[AXN_MAC_LEN];
    if (axn_auth_mac(c->cfg->secret, c->cfg->secret_len, c->hs.nonce, h->nonce, h->node,
                     c->net->node, h->inc, expect) != 0) {
        axn_conn_close(c, AXN_WHY_IO, AX_LOG_ERROR, "cannot compute the authentication");
        return -1;
    }
    if (axn_auth_verify(p, len, expect) != AXN_WHY_NONE)
        return refuse(c, AXN_WHY_AUTH, "node %u failed the challenge: wrong shared secret",
                      h->node);
    c->hs.got_auth = 1;
    return finish(c);
}

int axn_hs_input(axn_conn *c)
{
    size_t avail = c->ib_len - c->ib_pos;
    const char *p = c->ib + c->ib_pos;
    if (!c->hs.got_preamble) {
        if (avail < AXN_PREAMBLE_LEN) {
            if (memcmp(p, "AXON", avail < 4 ? avail : 4) != 0)
                return refuse(c, AXN_WHY_MAGIC, "garbage instead of the axon preamble");
            return 0;
        }
        uint32_t version = 0;
        axn_why why = axn_preamble_check(p, &version);
        if (why == AXN_WHY_MAGIC)
            return refuse(c, why, "garbage instead of the axon preamble");
        if (why != AXN_WHY_NONE)
            return refuse(c, why, "the peer speaks protocol version %u; we speak %u", version,
                          AXN_PROTO_VERSION);
        c->ib_pos += AXN_PREAMBLE_LEN;
        c->hs.got_preamble = 1;
        return 1;
    }
    axn_hdr h;
    long fl = axn_frame_scan(p, avail, AXN_HS_MAX_PAYLOAD, &h);
    if (fl < 0)
        return refuse(c, (axn_why)-fl, "bad handshake frame (type 0x%x, %u bytes)", h.type,
                      h.size);
    if (fl == 0) {
        if (avail >= AXN_HDR && axn_conn_room(c, h.len + (size_t)h.size - avail) != 0) {
            axn_conn_close(c, AXN_WHY_IO, AX_LOG_ERROR, "out of memory");
            return -1;
        }
        return 0;
    }
    c->ib_pos += (size_t)fl;
    const char *payload = p + h.len;
    switch (h.type) {
    case AXN_T_HELLO:
        return on_hello(c, payload, h.size);
    case AXN_T_AUTH:
        return on_auth(c, payload, h.size);
    case AXN_T_REFUSE: {
        uint32_t why = 0;
        char text[AXN_REFUSE_MAX];
        if (axn_refuse_get(payload, h.size, &why, text, sizeof text) != AXN_WHY_NONE)
            snprintf(text, sizeof text, "(unreadable reason)");
        /* Refused as the loser of a simultaneous connect: a duplicate
         * here too (not a failure, not counted). */
        const int dup = why == AXN_WHY_DUPLICATE;
        axn_conn_close(c, dup ? AXN_WHY_DUPLICATE : AXN_WHY_REFUSED,
                       dup ? AX_LOG_INFO : AX_LOG_WARN, "the peer refused us: %s", text);
        return -1;
    }
    default:
        return refuse(c, AXN_WHY_MALFORMED, "frame type 0x%x before the handshake completed",
                      h.type);
    }
}
