/* fuzz_harness.c - see fuzz_harness.h. */
#include "fuzz_harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net_int.h"

enum { T_POD = 10, T_VAR = 11, T_HOOK = 12 };

/* A decode hook that rejects odd first bytes (exercises the error path). */
static long ser(const void *msg, void *buf, size_t cap)
{
    if (cap >= 4)
        memcpy(buf, msg, 4);
    return 4;
}

static int deser(const void *buf, size_t len, void *out)
{
    if (len != 4 || (((const uint8_t *)buf)[0] & 1))
        return AX_EINVAL;
    memcpy(out, buf, 4);
    return 0;
}

/* Reads every payload byte (ASan checks them, also when the message is
 * handled in place in the input buffer) and, steered by the first byte,
 * forwards to the other sink (a local copy of a borrowed message) or
 * replies over the link.  state: the other sink's id, or NULL. */
static void sink(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    const unsigned char *p = msg->data;
    unsigned sum = 0;
    for (uint32_t i = 0; i < msg->size; i++)
        sum += p[i];
    if (msg->size == 0)
        return;
    if ((p[0] & 1u) && state)
        ax_forward(ctx, *(const ax_id *)state);
    if ((p[0] & 2u) && sum != 0)
        ax_reply(ctx, msg->type, msg->data, msg->size);
}

static void quiet(void *arg, int level, const char *line)
{
    (void)arg;
    (void)level;
    (void)line;
}

static void hello_prefix(uint8_t *out, size_t *len, uint32_t node)
{
    axn_preamble_put(out);
    axn_hello h;
    memset(&h, 0, sizeof h);
    h.node = node;
    h.expect = 1;
    h.inc = 0x5eed;
    h.max_frame = 1u << 20;
    h.flags = AXN_HF_DIALER;
    h.ack_window = 4096;
    ax_id from = {0, 0, 0}, to = {0, 0, 0};
    axn_hdr_put(out + AXN_PREAMBLE_LEN, AXN_HELLO_FIXED, AXN_T_HELLO, from, to);
    axn_hello_put(out + AXN_PREAMBLE_LEN + AXN_HDR, &h, NULL);
    *len = AXN_PREAMBLE_LEN + AXN_HDR + AXN_HELLO_FIXED;
}

int fuzz_run(int mode, const uint8_t *data, size_t size)
{
    ax_loop *loop;
    ax_system *sys;
    ax_system_options so;
    memset(&so, 0, sizeof so);
    so.node_id = 1;
    if (ax_loop_new(NULL, &loop) || ax_system_new(loop, &so, &sys))
        abort();
    ax_node_set_log(sys, quiet, NULL, AX_LOG_INFO);
    /* Alignment 1: frames after the handshake need not be 8-aligned in the
     * buffer, and the fuzzer should reach the in-place handler path. */
    ax_msg_register_pod(sys, T_POD, "pod", 8, 1);
    ax_msg_type t;
    memset(&t, 0, sizeof t);
    t.id = T_VAR;
    t.flags = AX_MSG_F_VARSIZE;
    ax_msg_register(sys, &t);
    memset(&t, 0, sizeof t);
    t.id = T_HOOK;
    t.size = 4;
    t.serialize = ser;
    t.deserialize = deser;
    ax_msg_register(sys, &t);
    ax_id id, first = {0, 1, 1}; /* sink 0 forwards to sink 1 */
    ax_spawn(sys, sink, &first, NULL, &id); /* {1, 0, 1}: a plain actor */
    /* {1, 1, 1}: a behaviour actor, synchronous for T_POD (in place from
     * the buffer too), asynchronous for T_VAR (through the mailbox). */
    ax_handler hs[2] = {{T_POD, sink, AX_HANDLER_SYNC}, {T_VAR, sink, AX_HANDLER_ASYNC}};
    ax_behavior *b;
    if (ax_behavior_new(sys, hs, 2, sink, &b) || ax_spawn_behavior(sys, b, NULL, NULL, &id))
        abort();
    ax_name_register(sys, "sink", id);

    axn_net *n;
    if (axn_net_get(sys, &n))
        abort();
    ax_link_options lo;
    memset(&lo, 0, sizeof lo);
    if (mode == FUZZ_FRAMES)
        lo.flags = AX_LINK_INSECURE;
    else
        lo.secret = FUZZ_SECRET;
    lo.max_frame = 65536;
    lo.timeout = AX_MSEC(200);
    axn_listener lst;
    memset(&lst, 0, sizeof lst);
    lst.net = n;
    lst.fd = -1;
    lst.addr.kind = AXN_AF_UNIX;
    if (axn_cfg_new(n, &lo, 1, &lst.cfg))
        abort();
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
        abort();
    axn_conn_accept(n, &lst, sv[0], "fuzz");
    axn_cfg_unref(n, lst.cfg); /* the connection holds its own reference */
    uint8_t pre[256];
    size_t plen = 0;
    if (mode == FUZZ_FRAMES)
        hello_prefix(pre, &plen, 2);
    /* Write the input (in pieces, as the socket takes it), stepping the
     * node in between; then end the stream. */
    size_t off = 0, total = plen + size;
    for (int spins = 0; spins < 10000 && off < total; spins++) {
        const uint8_t *p = off < plen ? pre + off : data + (off - plen);
        size_t chunk = off < plen ? plen - off : total - off;
        ssize_t w = send(sv[1], p, chunk, MSG_NOSIGNAL);
        if (w > 0)
            off += (size_t)w;
        else if (w < 0 && errno != EAGAIN)
            break;
        char sink_buf[65536];
        while (recv(sv[1], sink_buf, sizeof sink_buf, 0) > 0) {
        }
        ax_loop_step(loop, 0);
    }
    shutdown(sv[1], SHUT_WR);
    for (int i = 0; i < 200 && n->conns; i++) {
        char sink_buf[65536];
        while (recv(sv[1], sink_buf, sizeof sink_buf, 0) > 0) {
        }
        ax_loop_step(loop, AX_MSEC(1));
    }
    close(sv[1]);
    if (getenv("FUZZ_DEBUG")) {
        ax_link_stats st;
        ax_stats ss;
        ax_node_stats(sys, 0, &st);
        ax_system_stats(sys, &ss);
        fprintf(stderr, "fuzz: in=%llu undeliverable=%llu bad=%llu refusals=%llu auth=%llu "
                        "connects=%llu delivered=%llu\n",
                (unsigned long long)st.frames_in, (unsigned long long)st.undeliverable_in,
                (unsigned long long)st.bad_frames, (unsigned long long)st.proto_refusals,
                (unsigned long long)st.auth_failures, (unsigned long long)st.connects,
                (unsigned long long)ss.delivered);
    }
    ax_system_free(sys);
    ax_loop_free(loop);
    return 0;
}

/* ---- seeds ------------------------------------------------------------- */

static size_t frame_from(uint8_t *out, uint32_t type, ax_id from, ax_id to, const void *payload,
                         uint32_t len)
{
    size_t hl = axn_hdr_put(out, len, type, from, to);
    if (len)
        memcpy(out + hl, payload, len);
    return hl + len;
}

/* A frame from an actor on the peer (node 2: the sender's node is not
 * sent). */
static size_t frame(uint8_t *out, uint32_t type, ax_id to, const void *payload, uint32_t len)
{
    ax_id from = {0, 0, 1};
    return frame_from(out, type, from, to, payload, len);
}

void fuzz_seeds(int mode, fuzz_seed_fn fn, void *arg)
{
    uint8_t buf[4096];
    ax_id a0 = {1, 0, 1}, a1 = {1, 1, 1}, stale = {1, 0, 3}, none = {0, 0, 0};
    if (mode == FUZZ_FRAMES) {
        uint8_t p8[8] = {1, 2, 3, 4, 5, 6, 7, 8};
        size_t k = 0;
        k += frame(buf + k, T_POD, a0, p8, 8);
        k += frame(buf + k, T_VAR, a1, "hello", 5);
        k += frame(buf + k, T_HOOK, a0, "\x02xyz", 4);
        k += frame(buf + k, T_HOOK, a0, "\x01xyz", 4);
        k += frame(buf + k, T_POD, stale, p8, 8);
        k += frame(buf + k, 999, a0, p8, 8);
        ax_id far = {3, 4, 5}; /* a sender on a third node (forwarded) */
        k += frame_from(buf + k, T_POD, far, a0, p8, 8);
        k += frame_from(buf + k, T_VAR, far, a1, "far", 3);
        fn(arg, buf, k);
        k = 0;
        uint8_t ack[8];
        axn_ack_put(ack, 123);
        k += frame(buf + k, AXN_T_ACK, none, ack, 8);
        uint8_t q[16];
        axn_put64(q, 1);
        memcpy(q + 8, "sink", 4);
        k += frame(buf + k, AXN_T_NAMEQ, none, q, 12);
        uint8_t mon[AXN_MON_LEN];
        ax_id w = {2, 0, 1};
        axn_mon_put(mon, w, a0);
        k += frame(buf + k, AXN_T_MONITOR, none, mon, sizeof mon);
        k += frame(buf + k, AXN_T_DEMON, none, mon, sizeof mon);
        uint8_t down[AXN_DOWN_LEN];
        axn_down_put(down, a0, 1);
        k += frame(buf + k, AX_MSG_DOWN, a0, down, sizeof down);
        k += frame(buf + k, AX_MSG_POISON, a1, NULL, 0);
        fn(arg, buf, k);
        /* A run of one plain type to idle plain actors: all but the first
         * are handled in place in the input buffer (and forwarded or
         * replied to, as the first byte says). */
        k = 0;
        for (uint8_t i = 0; i < 8; i++) {
            p8[0] = i;
            k += frame(buf + k, T_POD, (i & 4u) ? a1 : a0, p8, 8);
        }
        fn(arg, buf, k);
        axn_namea na = {5, 0, {2, 3, 4}};
        uint8_t nab[AXN_NAMEA_LEN];
        axn_namea_put(nab, &na);
        fn(arg, buf, frame(buf, AXN_T_NAMEA, none, nab, sizeof nab));
    } else {
        size_t k;
        hello_prefix(buf, &k, 2);
        fn(arg, buf, k);
        /* HELLO, then an AUTH of the right shape (wrong MAC). */
        uint8_t mac[AXN_MAC_LEN];
        memset(mac, 7, sizeof mac);
        ax_id f = {0, 0, 0}, t = {0, 0, 0};
        axn_hdr_put(buf + k, AXN_MAC_LEN, AXN_T_AUTH, f, t);
        memcpy(buf + k + AXN_HDR, mac, sizeof mac);
        fn(arg, buf, k + AXN_HDR + AXN_MAC_LEN);
        /* A refusal, and garbage. */
        uint8_t r[64];
        size_t rl = axn_refuse_put(r, AXN_WHY_AUTH, "no");
        axn_preamble_put(buf);
        axn_hdr_put(buf + AXN_PREAMBLE_LEN, (uint32_t)rl, AXN_T_REFUSE, f, t);
        memcpy(buf + AXN_PREAMBLE_LEN + AXN_HDR, r, rl);
        fn(arg, buf, AXN_PREAMBLE_LEN + AXN_HDR + rl);
        fn(arg, (const uint8_t *)"GET / HTTP/1.0\r\n\r\n", 18);
    }
}
