/* conn.c - one connection: dialing (with name resolution off the loop),
 * accepting, the transport handshake, reading and decoding frames, writing
 * the link's queue, and closing with a reason.
 *
 * The read path reads as much as the input buffer takes and decodes every
 * complete frame in place, at most turn_budget frames per turn; the rest
 * waits in the buffer (the runner continues it next turn, and reading
 * pauses meanwhile, so a fast peer cannot flood the mailboxes).  The write
 * path gathers the handshake bytes and the queue's unsent blocks into one
 * writev (or TLS write) per flush. */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "net/conn_hs.h"
#include "net/net_int.h"

static void conn_io(ax_loop *loop, ax_io *w, int fd, unsigned events, void *arg);

ax_link_stats *axn_conn_stats(axn_conn *c)
{
    return c->link ? &c->link->st : &c->net->orphan;
}

static void update_events(axn_conn *c)
{
    if (c->state == AXN_C_CLOSED || !c->io)
        return;
    unsigned ev = 0;
    if (c->state == AXN_C_CONNECTING) {
        ev = AX_WRITABLE;
    } else {
        /* READABLE stays on while the read budget is used up: toggling it
         * would cost two epoll_ctl calls per turn; the event is ignored
         * meanwhile. */
        ev |= AX_READABLE;
        if (c->write_blocked)
            ev |= c->want_write;
        if (c->read_wants_write || axn_conn_tx_held(c))
            ev |= AX_WRITABLE;
        if (c->state == AXN_C_TLS)
            ev = c->want ? c->want : AX_READABLE;
    }
    if (ev != c->io_events) {
        if (ax_io_update(c->io, ev) == 0)
            c->io_events = ev;
    }
}

static axn_conn *conn_new(axn_net *n, axn_cfg *cfg)
{
    axn_conn *c = axi_calloc(n->alloc, sizeof *c);
    if (!c)
        return NULL;
    c->net = n;
    c->cfg = axn_cfg_ref(cfg);
    c->fd = -1;
    c->ops = &axn_plain_ops;
    c->next = n->conns;
    if (n->conns)
        n->conns->prev = c;
    n->conns = c;
    return c;
}

void axn_conn_free(axn_conn *c)
{
    axn_net *n = c->net;
    axi_free(n->alloc, c->ib, c->ib_cap);
    axi_free(n->alloc, c->hs_out, c->hs_cap);
    axn_cfg_unref(n, c->cfg);
    axi_free(n->alloc, c, sizeof *c);
}

static void hs_timeout(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    axn_conn *c = arg;
    c->hs_timer_on = 0;
    axn_conn_close(c, AXN_WHY_TIMEOUT, AX_LOG_WARN, "handshake not completed in %lld ms",
                   (long long)(c->cfg->timeout / 1000000));
}

static int arm_hs_timer(axn_conn *c)
{
    int rc = axi_timer_start(c->net->loop, c->cfg->timeout, 0, hs_timeout, c, NULL, c->net,
                             &c->hs_timer);
    if (rc == 0)
        c->hs_timer_on = 1;
    return rc;
}

static int watch(axn_conn *c, unsigned events)
{
    int rc = ax_io_start(c->net->loop, c->fd, events, conn_io, c, &c->io);
    if (rc == 0)
        c->io_events = events;
    return rc;
}

/* ---- close ------------------------------------------------------------ */

static void count_why(ax_link_stats *st, axn_why why, int was_up)
{
    switch (why) {
    case AXN_WHY_OVERSIZE:
    case AXN_WHY_MALFORMED:
    case AXN_WHY_TRUNCATED:
        st->bad_frames++;
        break;
    case AXN_WHY_AUTH:
        st->auth_failures++;
        break;
    case AXN_WHY_MAGIC:
    case AXN_WHY_VERSION:
    case AXN_WHY_CONFLICT:
    case AXN_WHY_SCHEMA:
        st->proto_refusals++;
        break;
    case AXN_WHY_TIMEOUT:
        if (was_up)
            st->heartbeat_timeouts++;
        break;
    default:
        break;
    }
}

void axn_conn_close(axn_conn *c, axn_why why, int level, const char *fmt, ...)
{
    if (c->state == AXN_C_CLOSED)
        return;
    axn_net *n = c->net;
    int was_up = c->state == AXN_C_UP;
    if (level >= 0) {
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (c->link)
            axn_log(n, level, "link to node %u (%s): %s", c->link->node, c->peer, msg);
        else
            axn_log(n, level, "connection from %s: %s", c->peer, msg);
    }
    count_why(axn_conn_stats(c), why, was_up);
    c->state = AXN_C_CLOSED;
    /* Closed from inside a handler: it takes its slow path when it
     * returns (harmless for a dispatch), which is all a run of frames
     * from this connection's input checks after each call (deliver.c). */
    if (n->sys->ctx.actor)
        n->sys->ctx.slow = 1;
    if (c->pending) {
        c->pending = 0;
        n->pending--;
    }
    if (c->resolve) {
        axn_resolve_cancel(c->resolve);
        c->resolve = NULL;
    }
    if (c->hs_timer_on) {
        ax_timer_stop(n->loop, c->hs_timer);
        c->hs_timer_on = 0;
    }
    if (c->io) {
        ax_io_stop(c->io);
        c->io = NULL;
    }
    c->ops->close(c);
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    if (c->in_ready) {
        for (axn_conn **pp = &n->ready; *pp; pp = &(*pp)->ready_next) {
            if (*pp == c) {
                *pp = c->ready_next;
                break;
            }
        }
        c->in_ready = 0;
    }
    /* Off the live list, onto the zombie list (freed by the runner:
     * callers up the stack may still hold c). */
    if (c->prev)
        c->prev->next = c->next;
    else
        n->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = NULL;
    c->next = n->zombies;
    n->zombies = c;
    axn_link *l = c->link;
    if (l && l->conn == c) {
        l->conn = NULL;
        axn_link_lost(l, why);
    } else if (l && l->dialing == c) {
        l->dialing = NULL;
        if (why == AXN_WHY_DUPLICATE) {
            /* Not a failure: the peer's connection is kept.  Should that
             * one fail before it is up, the link dials again. */
            axn_link_schedule_dial(l, 0);
        } else {
            l->st.connect_failures++;
            axn_link_dial_failed(l);
        }
    } else if (!was_up && why != AXN_WHY_DUPLICATE) {
        axn_conn_stats(c)->connect_failures++;
    }
}

/* ---- dialing ---------------------------------------------------------- */

static void connected(axn_conn *c);

static void try_connect(axn_conn *c)
{
    while (c->addr_i < c->naddrs) {
        int i = c->addr_i++;
        axn_sock_name((struct sockaddr *)&c->addrs[i], c->addr_lens[i], c->peer, sizeof c->peer);
        int fd = -1;
        int rc = axn_sock_connect((struct sockaddr *)&c->addrs[i], c->addr_lens[i], &fd);
        if (rc == 0 || rc == AX_EAGAIN) {
            c->fd = fd;
            if (rc == 0) {
                connected(c);
                return;
            }
            c->state = AXN_C_CONNECTING;
            if (watch(c, AX_WRITABLE) != 0) {
                axn_conn_close(c, AXN_WHY_IO, AX_LOG_ERROR, "cannot watch the socket");
                return;
            }
            return;
        }
        if (c->addr_i >= c->naddrs) {
            axn_conn_close(c, AXN_WHY_IO, AX_LOG_INFO, "connect failed: %s", ax_strerror(rc));
            return;
        }
    }
    axn_conn_close(c, AXN_WHY_IO, AX_LOG_INFO, "no address to connect to");
}

static void on_resolved(void *arg, int err, const struct sockaddr_storage *addrs,
                        const socklen_t *lens, int n)
{
    axn_conn *c = arg;
    c->resolve = NULL;
    if (c->state == AXN_C_CLOSED)
        return;
    if (err || n == 0) {
        axn_conn_close(c, AXN_WHY_IO, AX_LOG_WARN, "cannot resolve host name");
        return;
    }
    for (int i = 0; i < n && i < 8; i++) {
        c->addrs[i] = addrs[i];
        c->addr_lens[i] = lens[i];
    }
    c->naddrs = n < 8 ? n : 8;
    c->addr_i = 0;
    try_connect(c);
}

int axn_conn_dial(axn_link *l)
{
    axn_net *n = l->net;
    axn_conn *c = conn_new(n, l->cfg);
    if (!c)
        return AX_ENOMEM;
    c->link = l;
    c->dialer = 1;
    c->kind = l->addr.kind;
    l->dialing = c;
    snprintf(c->peer, sizeof c->peer, "%.120s", l->addr.text);
    if (arm_hs_timer(c) != 0) {
        axn_conn_close(c, AXN_WHY_IO, AX_LOG_ERROR, "out of memory");
        return AX_ENOMEM;
    }
    if (l->addr.kind == AXN_AF_UNIX) {
        c->addr_lens[0] = axn_sock_unix_addr(&l->addr, &c->addrs[0]);
        c->naddrs = 1;
        try_connect(c);
        return 0;
    }
    /* Numeric addresses need no lookup: no thread, no waiting. */
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(l->addr.host, l->addr.port, &hints, &res) == 0 && res) {
        for (struct addrinfo *ai = res; ai && c->naddrs < 8; ai = ai->ai_next) {
            memcpy(&c->addrs[c->naddrs], ai->ai_addr, ai->ai_addrlen);
            c->addr_lens[c->naddrs++] = ai->ai_addrlen;
        }
        freeaddrinfo(res);
        try_connect(c);
        return 0;
    }
    int rc = n->resolver ? 0 : axn_resolver_new(n, &n->resolver);
    if (rc == 0)
        rc = axn_resolve(n->resolver, l->addr.host, l->addr.port, on_resolved, c, &c->resolve);
    if (rc) {
        axn_conn_close(c, AXN_WHY_IO, AX_LOG_ERROR, "cannot start name resolution: %s",
                       ax_strerror(rc));
        return 0;
    }
    c->state = AXN_C_RESOLVING;
    return 0;
}

int axn_conn_accept(axn_net *n, axn_listener *lst, int fd, const char *peer)
{
    if (n->pending >= AXN_MAX_PENDING) {
        /* Unauthenticated connections are bounded: refuse more. */
        close(fd);
        n->orphan.connect_failures++;
        axn_log(n, AX_LOG_WARN, "connection from %s dropped: %u handshakes already pending", peer,
                n->pending);
        return AX_EFULL;
    }
    axn_conn *c = conn_new(n, lst->cfg);
    if (!c) {
        close(fd);
        return AX_ENOMEM;
    }
    c->fd = fd;
    c->kind = lst->addr.kind;
    c->pending = 1;
    n->pending++;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    if (arm_hs_timer(c) != 0 || watch(c, AX_READABLE) != 0) {
        axn_conn_close(c, AXN_WHY_IO, AX_LOG_ERROR, "out of memory");
        return AX_ENOMEM;
    }
    connected(c);
    return 0;
}

/* ---- transport handshake --------------------------------------------- */

static void drive_tls(axn_conn *c)
{
    int rc = c->ops->start(c);
    if (rc == AX_EAGAIN) {
        update_events(c);
        return;
    }
    if (rc) {
        /* AX_EINVAL: the peer's certificate did not verify. */
        axn_conn_close(c, rc == AX_EINVAL ? AXN_WHY_AUTH : AXN_WHY_TLS, AX_LOG_WARN,
                       "TLS handshake failed: %s", c->err_text[0] ? c->err_text : ax_strerror(rc));
        return;
    }
    c->want = 0;
    axn_hs_begin(c);
    /* Read-ahead may have taken the peer's first frames with its last
     * handshake record: the socket will not say so again. */
    if (c->state != AXN_C_CLOSED && c->ops->pending(c))
        axn_ready_add(c);
    update_events(c);
}

static void connected(axn_conn *c)
{
    if (!c->io && watch(c, AX_READABLE) != 0) {
        axn_conn_close(c, AXN_WHY_IO, AX_LOG_ERROR, "cannot watch the socket");
        return;
    }
    if (c->cfg->ssl_ctx) {
        int rc = axn_tls_attach(c);
        if (rc) {
            axn_conn_close(c, AXN_WHY_TLS, AX_LOG_ERROR, "cannot start TLS: %s",
                           c->err_text[0] ? c->err_text : ax_strerror(rc));
            return;
        }
        c->state = AXN_C_TLS;
        drive_tls(c);
        return;
    }
    axn_hs_begin(c);
    update_events(c);
}

/* ---- reading ---------------------------------------------------------- */

int axn_conn_room(axn_conn *c, size_t need)
{
    if (c->ib_pos > 0 && (c->ib_pos == c->ib_len || c->ib_cap - c->ib_len < need ||
                          c->ib_cap - c->ib_len < AXN_IB_SIZE / 4)) {
        size_t left = c->ib_len - c->ib_pos;
        if (left)
            memmove(c->ib, c->ib + c->ib_pos, left);
        c->ib_len = left;
        c->ib_pos = 0;
    }
    size_t want = c->ib_len + need;
    if (want <= c->ib_cap)
        return 0;
    /* Small until the peer is authenticated: a flood of connections that
     * never finish their handshake costs little memory. */
    size_t ncap = c->ib_cap ? c->ib_cap : c->state == AXN_C_UP ? AXN_IB_SIZE : 4096;
    while (ncap < want)
        ncap *= 2;
    char *nb = axi_realloc(c->net->alloc, c->ib, c->ib_cap, ncap);
    if (!nb)
        return AX_ENOMEM;
    c->ib = nb;
    c->ib_cap = ncap;
    return 0;
}

/* The frames a connection may decode in one pass: the system's turn
 * budget, at most AXN_READ_BUDGET. */
static uint32_t pass_budget(const axn_conn *c)
{
    uint32_t budget = c->net->sys->turn_budget;
    return budget > AXN_READ_BUDGET ? AXN_READ_BUDGET : budget;
}

/* Decode the complete frames buffered, at most *left of them (*left is
 * what is left of this pass's budget, over all its reads).  Returns 0, or
 * -1 if the connection closed. */
static int decode(axn_conn *c, uint32_t *left)
{
    while (c->state != AXN_C_UP && c->ib_len > c->ib_pos) {
        int rc = axn_hs_input(c);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return 0; /* waiting for bytes */
    }
    if (c->state != AXN_C_UP)
        return c->state == AXN_C_CLOSED ? -1 : 0;
    axn_link *l = c->link;
    const uint64_t before = l->st.frames_in;
    int rc = axn_link_input(l, c, *left);
    if (rc < 0 || c->state == AXN_C_CLOSED)
        return -1;
    const uint64_t done = l->st.frames_in - before;
    *left = done < *left ? *left - (uint32_t)done : 0;
    if (rc == 1 || *left == 0) {
        /* Enough for this turn: the rest waits in the buffer. */
        c->read_paused = 1;
        axn_ready_add(c);
    }
    if (c->ib_pos == c->ib_len)
        c->ib_pos = c->ib_len = 0;
    return 0;
}

static void do_read(axn_conn *c, uint32_t left)
{
    /* A plain socket is drained when a read returns less than asked; TLS
     * returns one record per read, so it keeps reading until the socket
     * says EAGAIN (bounded: the rest waits for the next turn). */
    int max_reads = c->ssl ? 64 : 4;
    int drained = 0; /* left: the pass's budget, shared by its reads */
    for (int i = 0; i < max_reads && !c->read_paused; i++) {
        size_t want = c->state != AXN_C_UP ? 4096 : c->ssl ? 16 * 1024 + 64 : AXN_IB_SIZE / 2;
        if (axn_conn_room(c, want)) {
            axn_conn_close(c, AXN_WHY_IO, AX_LOG_ERROR, "out of memory for the input buffer");
            return;
        }
        size_t room = c->ib_cap - c->ib_len;
        long r = c->ops->read(c, c->ib + c->ib_len, room);
        c->read_wants_write = 0;
        if (r == AX_EAGAIN) {
            if (c->want == AX_WRITABLE)
                c->read_wants_write = 1;
            drained = 1;
            break;
        }
        if (r == 0) {
            if (c->ib_len > c->ib_pos)
                axn_conn_close(c, AXN_WHY_TRUNCATED, AX_LOG_WARN,
                               "stream ended inside a frame (%zu bytes left)",
                               c->ib_len - c->ib_pos);
            else
                axn_conn_close(c, AXN_WHY_CLOSED, AX_LOG_INFO, "closed by the peer");
            return;
        }
        if (r < 0) {
            axn_conn_close(c, c->ssl ? AXN_WHY_TLS : AXN_WHY_IO, AX_LOG_INFO, "read failed: %s",
                           c->err_text[0] ? c->err_text : ax_strerror((int)r));
            return;
        }
        c->ib_len += (size_t)r;
        axn_conn_stats(c)->bytes_in += (uint64_t)r;
        if (c->link)
            c->link->last_rx = ax_loop_now(c->net->loop);
        if (decode(c, &left) < 0)
            return;
        if (!c->ssl && (size_t)r < room)
            break; /* the socket is drained */
    }
    /* Stopped early with bytes in the transport (TLS records read ahead):
     * continue next turn.  After EAGAIN what it holds is a partial record
     * that waits for the socket: the poller says when. */
    if (!drained && !c->read_paused && c->ops->pending(c))
        axn_ready_add(c);
}

void axn_conn_resume_read(axn_conn *c)
{
    /* Only what is buffered: the socket is read when the poller says so
     * (level-triggered, so nothing is missed). */
    c->read_paused = 0;
    uint32_t left = pass_budget(c);
    if (decode(c, &left) < 0)
        return;
    if (!c->read_paused && c->ops->pending(c))
        do_read(c, left);
}

/* ---- writing ---------------------------------------------------------- */

void axn_conn_flush(axn_conn *c)
{
    if (c->state == AXN_C_CLOSED || c->state < AXN_C_HELLO || c->write_blocked)
        return;
    axn_link *l = c->state == AXN_C_UP ? c->link : NULL;
    for (;;) {
        struct iovec iov[AXN_MAX_IOV];
        int k = 0;
        size_t hs_left = c->hs_len - c->hs_pos;
        if (hs_left) {
            iov[k].iov_base = c->hs_out + c->hs_pos;
            iov[k].iov_len = hs_left;
            k++;
        }
        if (l)
            k += axn_outq_iov(&l->q, iov + k, AXN_MAX_IOV - k);
        /* Nothing new, but the transport may hold bytes of the last
         * flush: a writev of nothing writes them. */
        if (k == 0 && !axn_conn_tx_held(c))
            break;
        size_t total = 0;
        for (int i = 0; i < k; i++)
            total += iov[i].iov_len;
        long w = c->ops->writev(c, iov, k);
        if (w == AX_EAGAIN) {
            c->write_blocked = 1;
            c->want_write = c->want ? c->want : AX_WRITABLE;
            break;
        }
        if (w < 0) {
            axn_conn_close(c, c->ssl ? AXN_WHY_TLS : AXN_WHY_IO, AX_LOG_INFO,
                           "write failed: %s", c->err_text[0] ? c->err_text : ax_strerror((int)w));
            return;
        }
        size_t done = (size_t)w;
        axn_conn_stats(c)->bytes_out += done;
        size_t from_hs = done < hs_left ? done : hs_left;
        c->hs_pos += from_hs;
        if (c->hs_pos == c->hs_len)
            c->hs_pos = c->hs_len = 0;
        if (l && done > from_hs) {
            axn_outq_sent(&l->q, done - from_hs);
            l->last_tx = ax_loop_now(c->net->loop);
        }
        if (done < total || axn_conn_tx_held(c)) {
            /* A short write: the socket buffer is full. */
            c->write_blocked = 1;
            c->want_write = AX_WRITABLE;
            break;
        }
    }
    update_events(c);
}

/* ---- the watcher ------------------------------------------------------ */

static void conn_io(ax_loop *loop, ax_io *w, int fd, unsigned events, void *arg)
{
    (void)loop;
    (void)w;
    (void)fd;
    axn_conn *c = arg;
    switch (c->state) {
    case AXN_C_CONNECTING: {
        int rc = axn_sock_connected(c->fd);
        if (rc) {
            /* Try the next address, if any. */
            ax_io_stop(c->io);
            c->io = NULL;
            close(c->fd);
            c->fd = -1;
            if (c->addr_i < c->naddrs) {
                try_connect(c);
                return;
            }
            axn_conn_close(c, AXN_WHY_IO, AX_LOG_INFO, "connect failed: %s", ax_strerror(rc));
            return;
        }
        connected(c);
        return;
    }
    case AXN_C_TLS:
        drive_tls(c);
        return;
    case AXN_C_HELLO:
    case AXN_C_UP:
        if (events & AX_WRITABLE) {
            c->write_blocked = 0;
            if (c->link && c->state == AXN_C_UP)
                axn_link_dirty(c->link);
            axn_conn_flush(c);
            if (c->state == AXN_C_CLOSED)
                return;
        }
        if ((events & AX_READABLE) || c->read_wants_write) {
            if (!c->read_paused)
                do_read(c, pass_budget(c));
            if (c->state == AXN_C_CLOSED)
                return;
        }
        update_events(c);
        return;
    default:
        return;
    }
}
