/* node.c - the public API of links (axon/node.h), the route hook the core
 * calls for every remote id, and the per-turn runner that writes each
 * link's queued frames with one writev (or TLS write).
 *
 * The runner sits at the tail of the loop's runner list, after the
 * systems' dispatch passes, so the frames handlers queue in a pass go out
 * in the same turn; a turn never waits for I/O while it has frames to
 * write on a writable link. */
#include <stdarg.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "net/net_int.h"

/* ---- logging ---------------------------------------------------------- */

void axn_log(axn_net *n, int level, const char *fmt, ...)
{
    if (level > n->log_level)
        return;
    char line[512];
    int k = snprintf(line, sizeof line, "axon node %u: ", n->node);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + k, sizeof line - (size_t)k, fmt, ap);
    va_end(ap);
    if (n->log) {
        n->log(n->log_arg, level, line);
        return;
    }
    static const char *const lv[] = {"error", "warning", "info"};
    fprintf(stderr, "%s: %s\n", line, lv[level < 0 ? 0 : level > 2 ? 2 : level]);
}

uint64_t axn_rand(axn_net *n)
{
    /* xorshift64*: jitter only, not security. */
    uint64_t x = n->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    n->rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* ---- configuration ---------------------------------------------------- */

int axn_cfg_new(axn_net *n, const ax_link_options *o, int server, axn_cfg **out)
{
    if (!o)
        return AX_EINVAL;
    if (o->flags & ~(uint32_t)(AX_LINK_TLS | AX_LINK_INSECURE))
        return AX_EINVAL;
    int tls = (o->flags & AX_LINK_TLS) != 0;
    int has_secret = o->secret && o->secret[0];
    if (!tls && !has_secret && !(o->flags & AX_LINK_INSECURE))
        return AX_EINVAL;
    if (o->reconnect_min < 0 || o->reconnect_max < 0 || o->heartbeat < 0 || o->timeout < 0)
        return AX_EINVAL;
    axn_cfg *c = axi_calloc(n->alloc, sizeof *c);
    if (!c)
        return AX_ENOMEM;
    c->refs = 1;
    c->flags = o->flags;
    if (has_secret) {
        c->secret_len = strlen(o->secret);
        c->secret = axi_strndup(n->alloc, o->secret, c->secret_len);
        if (!c->secret) {
            axi_free(n->alloc, c, sizeof *c);
            return AX_ENOMEM;
        }
    }
    c->max_frame = o->max_frame ? o->max_frame : AX_MSG_MAX_SIZE;
    if (c->max_frame > AX_MSG_MAX_SIZE)
        c->max_frame = AX_MSG_MAX_SIZE;
    c->max_buffer = o->max_buffer ? o->max_buffer : (uint64_t)64 << 20;
    c->reconnect_min = o->reconnect_min ? o->reconnect_min : AX_SEC(1);
    c->reconnect_max = o->reconnect_max ? o->reconnect_max : AX_SEC(30);
    if (c->reconnect_max < c->reconnect_min)
        c->reconnect_max = c->reconnect_min;
    c->heartbeat = o->heartbeat ? o->heartbeat : AX_SEC(1);
    c->timeout = o->timeout ? o->timeout : AX_SEC(5);
    if (tls) {
        char err[160];
        int rc = axn_tls_ctx_new(o, server, &c->ssl_ctx, err, sizeof err);
        if (rc) {
            axn_log(n, AX_LOG_ERROR, "TLS setup failed: %s", err);
            axn_cfg_unref(n, c);
            return rc;
        }
    }
    *out = c;
    return 0;
}

axn_cfg *axn_cfg_ref(axn_cfg *c)
{
    c->refs++;
    return c;
}

void axn_cfg_unref(axn_net *n, axn_cfg *c)
{
    if (!c || --c->refs > 0)
        return;
    if (c->secret)
        axi_free(n->alloc, c->secret, c->secret_len + 1);
    if (c->ssl_ctx)
        axn_tls_ctx_free(c->ssl_ctx);
    axi_free(n->alloc, c, sizeof *c);
}

/* ---- the route hook: every send to a remote id ------------------------ */

static AXI_NOINLINE axn_link *route_lookup(axn_net *n, uint32_t node)
{
    axn_link *l = axn_link_find(n, node);
    if (l) {
        n->cache_node = node;
        n->cache_link = l;
    }
    return l;
}

static AXI_NOINLINE int put_special(axn_net *n, axn_link *l, ax_id to, axi_msg *m, ax_id from)
{
    ax_system *s = n->sys;
    uint32_t type = m->view.type;
    if (type == AX_MSG_DOWN) {
        const ax_down *d = m->view.data;
        ax_id who = d->who;
        if (who.node == 0)
            who.node = n->node;
        char buf[AXN_DOWN_LEN];
        axn_down_put(buf, who, d->reason);
        axn_mon_down_sent(l, to, d->who);
        return axn_link_put_raw(l, type, from, to, buf, sizeof buf);
    }
    /* A payload that owns resources (a free hook) but has no serialize
     * hook holds pointers: its bytes mean nothing in another process.
     * Nor do those of an ask's completion (axon's own, always local). */
    const ax_msg_type *rec = ax_msg_type_find(s, type);
    if ((rec && rec->free && !rec->serialize) || type == AXI_MSG_ASKDONE)
        return AX_EINVAL;
    /* A type with a serialize hook: encode straight into the queue. */
    long need = ax_msg_encode(s, type, m->view.data, m->view.size, NULL, 0);
    if (need < 0)
        return (int)need;
    if ((uint64_t)need > l->max_payload)
        return AX_EMSGSIZE;
    const size_t hl = axn_hdr_len(from);
    size_t len = hl + (size_t)need;
    axn_outq_settle(&l->q);
    if (l->q.bytes + len > l->max_buffer) {
        l->st.dropped_full++;
        return AX_ELINKFULL;
    }
    char *p = axn_outq_reserve(n, &l->q, len);
    if (!p)
        return AX_ENOMEM;
    long got = ax_msg_encode(s, type, m->view.data, m->view.size, p + hl, (size_t)need);
    if (got != need)
        return got < 0 ? (int)got : AX_EINVAL;
    axn_hdr_put(p, (uint32_t)need, type, from, to);
    axn_outq_commit(&l->q, len);
    l->st.frames_out++;
    axn_link_dirty(l);
    return 0;
}

/* Whether `type` travels as its bytes (no serialize or free hook, not
 * DOWN or an ask's completion).  That never changes once a type is
 * registered, so the answer for the last such type is kept. */
static int travels_plain(axn_net *n, uint32_t type)
{
    if (type == n->plain_type)
        return 1;
    const axi_type_slot *t = axi_types_find(&n->sys->types, type);
    const ax_msg_type *rec = t ? &n->sys->types.recs[t->rec] : NULL;
    if (!rec || rec->serialize || rec->free || type == AX_MSG_DOWN || type == AXI_MSG_ASKDONE)
        return 0;
    n->plain_type = type;
    return 1;
}

/* Everything but the hot case: another node than the last one, a type
 * not yet known to travel as its bytes (or one that does not), a full
 * queue, an oversized payload, a new block. */
static int route_general(axn_net *n, ax_id to, axi_msg *m)
{
    axn_link *l = n->cache_link;
    if (n->cache_node != to.node || !l) {
        l = route_lookup(n, to.node);
        if (!l)
            return AX_ENOROUTE;
    }
    ax_id from = axn_wire_from(m->sender, n->node);
    int rc;
    if (!travels_plain(n, m->view.type)) {
        rc = put_special(n, l, to, m, from);
    } else {
        uint32_t size = m->view.size;
        if (size > l->max_payload)
            return AX_EMSGSIZE;
        rc = axn_link_put_raw(l, m->view.type, from, to, m->view.data, size);
    }
    return rc;
}

/* After a frame of the last plain type to the cached link went out the
 * general way: the hot path appends the next ones through the queue's
 * window, while the link is in the dirty list (its flush settles the
 * window).  The window is no longer than the queue's bound leaves, nor
 * than the largest frame the link takes: a frame that fits is one the
 * link may send (axn_route checks nothing else of its size). */
static void open_window(axn_net *n)
{
    axn_link *l = n->cache_link;
    if (l && l->in_dirty && l->q.bytes < l->max_buffer) {
        uint64_t limit = l->max_buffer - l->q.bytes;
        if (limit > (uint64_t)l->max_payload + AXN_HDR)
            limit = (uint64_t)l->max_payload + AXN_HDR;
        axn_outq_window(&l->q, limit);
    }
}

/* The hook's contract: a failure is counted here, as a dead letter (the
 * hot path never fails, so the core calls the hook as a tail call). */
static AXI_NOINLINE int route_slow(axn_net *n, ax_id to, axi_msg *m)
{
    int rc = route_general(n, to, m);
    if (rc)
        axi_dead_letter(n->sys, m->sender, to, m->view.type, rc);
    else if (m->view.type == n->plain_type && to.node == n->cache_node)
        open_window(n);
    return rc;
}

/* A copying send to a remote id (axi_send): a plain type is encoded from
 * the caller's bytes, with no node and no extra copy; other types ask the
 * core for a node (1), which then goes through axn_route. */
int axn_route_bytes(void *arg, ax_id from, ax_id to, uint32_t type, const void *data,
                    size_t size)
{
    axn_net *n = arg;
    axn_link *l = n->cache_link;
    if (n->cache_node != to.node || !l) {
        l = route_lookup(n, to.node);
        if (!l)
            return AX_ENOROUTE;
    }
    if (!travels_plain(n, type))
        return 1;
    if (size > l->max_payload)
        return AX_EMSGSIZE;
    return axn_link_put_raw(l, type, from, to, data, size);
}

/* The window path for a sender on a third node (a forward keeps it): the
 * 32-byte header.  Off axn_route's straight line, which it would crowd. */
static AXI_NOINLINE int route_far(axn_net *n, ax_id to, axi_msg *m, uint64_t tw)
{
    axn_link *l = n->cache_link;
    const uint32_t size = m->view.size;
    char *p = l->q.wp;
    const size_t len = AXN_HDR_MAX + (size_t)size;
    if (size > l->max_payload || len > (size_t)(l->q.wend - p))
        return route_slow(n, to, m);
    axn_hdr_put_w(p, size, m->view.type, m->sender, tw);
    memcpy(p + AXN_HDR_MAX, m->view.data, size);
    l->q.wp = p + len;
    l->st.frames_out++;
    return 0;
}

/* axn_route's copy of a payload over 16 bytes. */
static AXI_NOINLINE int route_copy(char *dst, const void *src, size_t size)
{
    memcpy(dst, src, size);
    return 0;
}

int axn_route(void *arg, ax_id to, axi_msg *m)
{
    axn_net *n = arg;
    /* The recipient's header word, built from the argument's registers
     * now: else GCC spills the id for the slow path's tail call and loads
     * the word back across the two stores, a failed store-to-load forward
     * (the hottest instruction of this function under perf). */
    uint32_t ti = to.index, tc = to.cookie;
#if defined(__GNUC__)
    __asm__("" : "+r"(ti), "+r"(tc));
#endif
    const uint64_t tw = (uint64_t)tc << 32 | ti;
    /* The hot case in one test each: the last node (cache_link is set
     * whenever cache_node is, and node 0 never routes), the last plain
     * type, a sender of this node or none (one of another node is named
     * on the wire: route_far), room in the queue's open window (within
     * the tail block, the queue's bound and the link's largest frame,
     * the link in the dirty list; closed, wp and wend are both NULL: no
     * room). */
    if (AXI_UNLIKELY(n->cache_node != to.node || m->view.type != n->plain_type))
        return route_slow(n, to, m);
    if (AXI_UNLIKELY(m->sender.node != 0))
        return route_far(n, to, m, tw);
    axn_link *l = n->cache_link;
    const uint32_t size = m->view.size;
    char *p = l->q.wp;
    const size_t len = AXN_HDR + (size_t)size;
    if (AXI_UNLIKELY(len > (size_t)(l->q.wend - p)))
        return route_slow(n, to, m);
    axn_hdr_put_w(p, size, m->view.type, m->sender, tw);
    l->q.wp = p + len;
    l->st.frames_out++;
    /* Small payloads inline; larger ones in a tail call, so that the small
     * case needs no stack frame. */
    if (AXI_UNLIKELY(size > 16))
        return route_copy(p + AXN_HDR, m->view.data, size);
    axi_copy_small(p + AXN_HDR, m->view.data, size);
    return 0;
}

/* ---- the runner ------------------------------------------------------- */

void axn_ready_add(axn_conn *c)
{
    if (c->in_ready)
        return;
    c->in_ready = 1;
    c->ready_next = c->net->ready;
    c->net->ready = c;
}

void axn_reap(axn_net *n)
{
    while (n->zombies) {
        axn_conn *c = n->zombies;
        n->zombies = c->next;
        axn_conn_free(c);
    }
    while (n->dead_links) {
        axn_link *l = n->dead_links;
        n->dead_links = l->next;
        axn_link_free(l);
    }
}

int axn_runner_pending(void *arg)
{
    axn_net *n = arg;
    return n->dirty || n->ready || n->zombies || n->dead_links;
}

void axn_flush_link(axn_link *l)
{
    axn_outq_settle(&l->q);
    axn_conn *c = l->conn;
    if (!c)
        return;
    /* An ACK is due (forced), or can ride along with frames going out.
     * It respects the buffer bound like any frame: a peer that stops
     * reading gets no more heartbeats queued. */
    if ((l->ack_needed || (l->rx_unacked >= AXN_ACK_PIGGYBACK && l->q.unsent)) &&
        l->q.bytes + AXN_HDR + AXN_ACK_LEN <= l->max_buffer) {
        char buf[AXN_ACK_LEN];
        axn_ack_put(buf, l->rx);
        ax_id none = {0, 0, 0};
        /* Acks bypass the bound: they are tiny and keep the peer's queue
         * (and so ours, through its acks) moving. */
        char *p = axn_outq_reserve(l->net, &l->q, AXN_HDR + AXN_ACK_LEN);
        if (p) {
            axn_hdr_put(p, AXN_ACK_LEN, AXN_T_ACK, none, none);
            memcpy(p + AXN_HDR, buf, sizeof buf);
            axn_outq_commit(&l->q, AXN_HDR + AXN_ACK_LEN);
            l->ack_needed = 0;
            l->rx_unacked = 0;
        }
    }
    axn_conn_flush(c);
}

void axn_runner_run(void *arg)
{
    axn_net *n = arg;
    axn_reap(n);
    if (n->ready) {
        axn_conn *c = n->ready;
        n->ready = NULL;
        while (c) {
            axn_conn *next = c->ready_next;
            c->in_ready = 0;
            if (c->state != AXN_C_CLOSED)
                axn_conn_resume_read(c);
            c = next;
        }
    }
    axn_flush_dirty(n);
}

void axn_flush_dirty(axn_net *n)
{
    if (n->early_pause) {
        n->early_pause--;
        n->flush_in = UINT32_MAX;
    } else {
        n->flush_in = n->early_flush;
    }
    while (n->dirty) {
        axn_link *l = n->dirty;
        n->dirty = l->dirty_next;
        l->in_dirty = 0;
        axn_flush_link(l);
    }
}

/* Involuntary context switches of this thread so far. */
static uint64_t preemptions(void)
{
    struct rusage ru;
#ifdef RUSAGE_THREAD
    if (getrusage(RUSAGE_THREAD, &ru) != 0)
#else
    if (getrusage(RUSAGE_SELF, &ru) != 0)
#endif
        return 0;
    return (uint64_t)ru.ru_nivcsw;
}

void axn_flush_early(axn_net *n)
{
    axn_flush_dirty(n);
    uint64_t now = preemptions();
    if (now != n->nivcsw) {
        /* Preempted since the last early flush: most likely by the peer
         * it woke, on this CPU.  Pause (longer each time in a row). */
        n->nivcsw = now;
        n->early_backoff = n->early_backoff ? n->early_backoff * 2 : 1;
        if (n->early_backoff > AXN_EARLY_BACKOFF)
            n->early_backoff = AXN_EARLY_BACKOFF;
        n->early_pause = n->early_backoff;
        n->flush_in = UINT32_MAX;
    } else {
        n->early_backoff = 0;
    }
}

/* ---- public API -------------------------------------------------------- */

int ax_node_add(ax_system *sys, uint32_t node_id, const char *address,
                const ax_link_options *opt)
{
    axn_net *n;
    int rc = axn_net_get(sys, &n);
    if (rc)
        return rc;
    if (node_id == 0 || node_id == n->node || !address)
        return AX_EINVAL;
    axn_addr a;
    if (axn_addr_parse(address, &a) != 0)
        return AX_EINVAL;
    axn_link *l = axn_link_find(n, node_id);
    if (l && l->has_addr)
        return AX_EEXIST;
    axn_cfg *cfg;
    rc = axn_cfg_new(n, opt, 0, &cfg);
    if (rc)
        return rc;
    if (l) {
        /* It dialed us first: from now on we redial it too, with these options. */
        axn_cfg_unref(n, l->cfg);
        l->cfg = cfg;
        axn_outq_settle(&l->q); /* its window kept the old bounds */
        l->max_buffer = cfg->max_buffer;
        if (l->max_payload > cfg->max_frame)
            l->max_payload = cfg->max_frame;
    } else {
        rc = axn_link_new(n, node_id, cfg, &l);
        axn_cfg_unref(n, cfg);
        if (rc)
            return rc;
    }
    l->addr = a;
    l->has_addr = 1;
    if (!l->conn) {
        l->state = AX_NODE_CONNECTING;
        axn_link_schedule_dial(l, 1);
    }
    return 0;
}

/* The link to `node_id` on `sys`: AX_EINVAL without a system, AX_ENOENT
 * when the node was never added (or the system has no links at all). */
static int link_of(ax_system *sys, uint32_t node_id, axn_link **out)
{
    if (!sys)
        return AX_EINVAL;
    if (sys->route != axn_route)
        return AX_ENOENT;
    *out = axn_link_find(sys->route_arg, node_id);
    return *out ? 0 : AX_ENOENT;
}

int ax_node_remove(ax_system *sys, uint32_t node_id)
{
    axn_link *l;
    int rc = link_of(sys, node_id, &l);
    if (rc)
        return rc;
    axn_link_remove(l);
    return 0;
}

int ax_node_disconnect(ax_system *sys, uint32_t node_id)
{
    axn_link *l;
    int rc = link_of(sys, node_id, &l);
    if (rc)
        return rc;
    if (!l->conn)
        return AX_ENOROUTE;
    axn_conn_close(l->conn, AXN_WHY_LOCAL, AX_LOG_INFO, "disconnected on request");
    return 0;
}

static void on_accept(ax_loop *loop, ax_io *w, int fd, unsigned events, void *arg)
{
    (void)loop;
    (void)w;
    (void)events;
    axn_listener *lst = arg;
    axn_net *n = lst->net;
    for (int i = 0; i < 64; i++) {
        int cfd;
        char peer[128];
        int rc = axn_sock_accept(fd, &cfd, peer, sizeof peer);
        if (rc == AX_EAGAIN)
            return;
        if (rc) {
            axn_log(n, AX_LOG_ERROR, "accept on %s failed: %s", lst->bound, ax_strerror(rc));
            return;
        }
        if (lst->addr.kind == AXN_AF_UNIX)
            snprintf(peer, sizeof peer, "%.100s (unix peer)", lst->bound);
        axn_conn_accept(n, lst, cfd, peer);
    }
}

int ax_serve(ax_system *sys, const char *address, const ax_link_options *opt, uint32_t *id)
{
    axn_net *n;
    int rc = axn_net_get(sys, &n);
    if (rc)
        return rc;
    if (!address)
        return AX_EINVAL;
    axn_listener *lst = axi_calloc(n->alloc, sizeof *lst);
    if (!lst)
        return AX_ENOMEM;
    lst->net = n;
    lst->fd = -1;
    if (axn_addr_parse(address, &lst->addr) != 0) {
        axi_free(n->alloc, lst, sizeof *lst);
        return AX_EINVAL;
    }
    rc = axn_cfg_new(n, opt, 1, &lst->cfg);
    if (rc) {
        axi_free(n->alloc, lst, sizeof *lst);
        return rc;
    }
    rc = axn_sock_listen(&lst->addr, &lst->fd, lst->bound, sizeof lst->bound);
    if (rc == 0)
        rc = ax_io_start(n->loop, lst->fd, AX_READABLE, on_accept, lst, &lst->io);
    if (rc) {
        if (lst->fd >= 0)
            close(lst->fd);
        axn_cfg_unref(n, lst->cfg);
        axi_free(n->alloc, lst, sizeof *lst);
        return rc;
    }
    lst->unlink_path = lst->addr.kind == AXN_AF_UNIX && lst->addr.path[0] != '\0';
    lst->id = ++n->next_listener;
    lst->next = n->listeners;
    n->listeners = lst;
    if (id)
        *id = lst->id;
    return 0;
}

static axn_listener *listener_find(const ax_system *sys, uint32_t id)
{
    if (!sys || sys->route != axn_route)
        return NULL;
    const axn_net *n = sys->route_arg;
    for (axn_listener *l = n->listeners; l; l = l->next)
        if (l->id == id)
            return l;
    return NULL;
}

int ax_serve_address(const ax_system *sys, uint32_t listener, char *buf, size_t cap)
{
    if (!sys || !buf)
        return AX_EINVAL;
    axn_listener *l = listener_find(sys, listener);
    if (!l)
        return AX_ENOENT;
    size_t len = strlen(l->bound);
    if (len + 1 > cap)
        return AX_ERANGE;
    memcpy(buf, l->bound, len + 1);
    return 0;
}

int ax_serve_stop(ax_system *sys, uint32_t listener)
{
    if (!sys)
        return AX_EINVAL;
    axn_listener *l = listener_find(sys, listener);
    if (!l)
        return AX_ENOENT;
    axn_listener_stop(sys->route_arg, l);
    return 0;
}

ax_id ax_id_global(const ax_system *sys, ax_id id)
{
    if (sys && id.node == 0 && !ax_id_is_nil(id))
        id.node = sys->node_id;
    return id;
}

static void add_stats(ax_link_stats *t, const ax_link_stats *s)
{
    t->frames_out += s->frames_out;
    t->frames_in += s->frames_in;
    t->frames_direct += s->frames_direct;
    t->bytes_out += s->bytes_out;
    t->bytes_in += s->bytes_in;
    t->connects += s->connects;
    t->disconnects += s->disconnects;
    t->connect_failures += s->connect_failures;
    t->resumed += s->resumed;
    t->peer_restarts += s->peer_restarts;
    t->lost_unconfirmed += s->lost_unconfirmed;
    t->dropped_full += s->dropped_full;
    t->dropped_closed += s->dropped_closed;
    t->dropped_oversize += s->dropped_oversize;
    t->undeliverable_in += s->undeliverable_in;
    t->bad_frames += s->bad_frames;
    t->auth_failures += s->auth_failures;
    t->proto_refusals += s->proto_refusals;
    t->heartbeat_timeouts += s->heartbeat_timeouts;
    t->buffered_bytes += s->buffered_bytes;
    t->buffered_hwm += s->buffered_hwm;
    t->unconfirmed += s->unconfirmed;
}

static void link_stats(const axn_link *l, ax_link_stats *out)
{
    *out = l->st;
    out->node_id = l->node;
    out->state = (uint32_t)l->state;
    const uint64_t bytes = axn_outq_bytes(&l->q);
    out->buffered_bytes = bytes;
    /* The queue notes its mark only when it shrinks (outq.c): the bytes
     * held now may be above it. */
    out->buffered_hwm = l->q.hwm > bytes ? l->q.hwm : bytes;
    out->unconfirmed = l->q.written - l->q.confirmed;
}

void axn_link_retire_stats(axn_link *l)
{
    ax_link_stats one = l->st;
    one.buffered_hwm = 0; /* a mark, not a count: it does not add up */
    add_stats(&l->net->retired, &one);
}

int ax_node_stats(const ax_system *sys, uint32_t node_id, ax_link_stats *out)
{
    if (!sys || !out)
        return AX_EINVAL;
    memset(out, 0, sizeof *out);
    if (sys->route != axn_route)
        return node_id ? AX_ENOENT : 0;
    const axn_net *n = sys->route_arg;
    if (node_id) {
        const axn_link *l = axn_link_find(n, node_id);
        if (!l)
            return AX_ENOENT;
        link_stats(l, out);
        return 0;
    }
    add_stats(out, &n->orphan);
    add_stats(out, &n->retired);
    for (const axn_link *l = n->links; l; l = l->next) {
        ax_link_stats one;
        link_stats(l, &one);
        add_stats(out, &one);
        if (l->state == AX_NODE_UP)
            out->state++;
    }
    return 0;
}

void ax_node_set_log(ax_system *sys, ax_log_fn fn, void *arg, int max_level)
{
    axn_net *n;
    if (axn_net_get(sys, &n) != 0)
        return;
    n->log = fn;
    n->log_arg = arg;
    n->log_level = max_level;
}
