/* net_int.h - the links layer's private structures.
 *
 *   axn_net     one per system (the system's route_arg): the links by node
 *               id, listeners, the flush list, names and monitors state.
 *   axn_link    one per remote node: its output queue, session counters,
 *               timers, statistics.  Outlives connections.
 *   axn_conn    one connection: transport, input buffer, handshake state.
 *   axn_cfg     the options of a link or listener, shared by reference.
 *
 * The output queue (outq.c) is a chain of blocks holding frames from the
 * oldest the peer has not confirmed to the newest.  Frames are written
 * from a send position; the peer confirms with ACK frames (cumulative
 * counts), which frees blocks.  After a reconnect to the same peer
 * process the unconfirmed frames are sent again; nothing is lost. */
#ifndef AXN_NET_INT_H
#define AXN_NET_INT_H

#include "actor/actor_int.h"
#include "axon/node.h"
#include "net/handshake.h"
#include "net/transport.h"

#define AXN_BLOCK_SIZE (64u * 1024u)
#define AXN_IB_SIZE (256u * 1024u)
#define AXN_MAX_IOV 64
/* Frames decoded per connection per loop turn (also capped by the
 * system's turn_budget): the rest wait in the buffer for the next turn, so
 * a fast peer cannot flood the mailboxes.  Measured with bench/ring_dist
 * on the 2-vCPU machine type (with the mailbox path): smaller budgets
 * (256, 512) split batches into more writes and wake-ups that cost more
 * than the overlap they bought.  The early flush below overlaps processes
 * without ending the turn, and only when it pays. */
#define AXN_READ_BUDGET 4096u
/* Early flush.  While a turn's input runs handlers straight from the
 * buffer, the output they produce is flushed every AXN_EARLY_FLUSH
 * messages, not only at the end of the turn: the next process of a chain
 * starts on it while this one goes on, so two CPUs work instead of one
 * waking the other.  Only for small messages (payloads up to
 * AXN_EARLY_MAX_SIZE): with large ones the system calls cost more than
 * the overlap gains, and the turn's read budget splits long batches
 * anyway.  When the process was preempted meanwhile (the peer woke up on
 * this CPU: no overlap, only extra switches), early flushes pause for 1,
 * 2, 4 ... AXN_EARLY_BACKOFF turns. */
#define AXN_EARLY_FLUSH 256u
#define AXN_EARLY_MAX_SIZE 128u
#define AXN_EARLY_BACKOFF 64u
/* ACKs: at the latest after this many bytes (or the peer's smaller
 * window, from its HELLO), or this long after the first unacknowledged
 * frame, unless they ride along with outgoing frames first.  On a one-way
 * stream each ACK is a send here and a wake-up of an otherwise idle peer:
 * measured with bench/ring_dist at P=10, a 5 ms delay made one in eight
 * wake-ups an ACK's.  The window bounds the sender's unconfirmed blocks,
 * which it keeps writing into anew: at 1 MiB they no longer fit a core's
 * L2 cache and 1 KiB frames lost 15%. */
#define AXN_ACK_WINDOW (256u * 1024u)
#define AXN_ACK_DELAY AX_MSEC(20)
/* ...and they ride along with outgoing frames once this much is
 * unconfirmed (not with every reply of a request/response exchange). */
#define AXN_ACK_PIGGYBACK (8u * 1024u)
#define AXN_FREE_BLOCKS 64
/* Accepted connections still in their handshake, at most. */
#define AXN_MAX_PENDING 256u

typedef struct axn_net axn_net;
typedef struct axn_link axn_link;
typedef struct axn_cfg axn_cfg;
typedef struct axn_listener axn_listener;
typedef struct axn_resolver axn_resolver;
typedef struct axn_resolve_req axn_resolve_req;
typedef struct axn_mon_rec axn_mon_rec;

/* ---- configuration ---------------------------------------------------- */

struct axn_cfg {
    uint32_t refs;
    uint32_t flags; /* AX_LINK_* */
    char *secret;
    size_t secret_len;
    void *ssl_ctx; /* SSL_CTX *, or NULL */
    uint32_t max_frame;
    uint64_t max_buffer;
    ax_duration reconnect_min, reconnect_max, heartbeat, timeout;
};

int axn_cfg_new(axn_net *n, const ax_link_options *o, int server, axn_cfg **out);
axn_cfg *axn_cfg_ref(axn_cfg *c);
void axn_cfg_unref(axn_net *n, axn_cfg *c);

/* ---- output queue (outq.c) ------------------------------------------- */

typedef struct axn_block axn_block;
struct axn_block {
    axn_block *next;
    uint32_t cap;
    uint32_t len;
    char data[];
};

typedef struct axn_outq {
    axn_block *head, *tail;
    uint32_t head_off;      /* first retained frame in head */
    uint32_t send_off;
    axn_block *send_blk;    /* first byte not yet written (NULL: none) */
    uint64_t bytes;         /* retained bytes */
    uint64_t unsent;        /* bytes from the send position on */
    uint64_t written;       /* session bytes handed to the transport */
    uint64_t confirmed;     /* session bytes the peer confirmed */
    /* The most bytes ever retained, noted whenever the queue shrinks (not
     * on every append: the mark is max(hwm, bytes) at any time). */
    uint64_t hwm;
    /* The open append window of the hot send path (axn_route): frames in
     * [tail->data + tail->len, wp) are appended but not yet counted in
     * tail->len, bytes and unsent; wend is as far as the tail block and
     * the queue's bound allow.  Both NULL when closed.  Every other use
     * of the queue settles it first (the functions below do). */
    char *wp, *wend;
} axn_outq;

/* The bytes the queue holds, the open window's included. */
static inline uint64_t axn_outq_bytes(const axn_outq *q)
{
    return q->bytes + (q->wp ? (uint64_t)(q->wp - (q->tail->data + q->tail->len)) : 0);
}

/* Count the open window's frames into the queue and close it. */
void axn_outq_settle_window(axn_outq *q);

static inline void axn_outq_settle(axn_outq *q)
{
    if (q->wp)
        axn_outq_settle_window(q);
}

/* Open the append window at the tail of a settled queue, at most `limit`
 * bytes long (the room the queue's bound leaves).  Not opened when there
 * is no tail block or no room. */
void axn_outq_window(axn_outq *q, uint64_t limit);

/* Room for a frame of `len` bytes at the tail (slow path of reserve). */
char *axn_outq_grow(axn_net *n, axn_outq *q, size_t len);

/* Room for a frame of `len` bytes at the tail; NULL on ENOMEM.  Commit it
 * with axn_outq_commit() before reserving again. */
static inline char *axn_outq_reserve(axn_net *n, axn_outq *q, size_t len)
{
    axn_outq_settle(q);
    axn_block *t = q->tail;
    if (AXI_LIKELY(t != NULL && t->cap - t->len >= len))
        return t->data + t->len;
    return axn_outq_grow(n, q, len);
}

static inline void axn_outq_commit(axn_outq *q, size_t len)
{
    axn_block *t = q->tail;
    if (q->unsent == 0) {
        q->send_blk = t;
        q->send_off = t->len;
    }
    t->len += (uint32_t)len;
    q->bytes += len;
    q->unsent += len;
}

/* Build iovecs of unsent bytes; returns the count. */
int axn_outq_iov(axn_outq *q, struct iovec *iov, int max);
/* n bytes were written: advance the send position. */
void axn_outq_sent(axn_outq *q, size_t n);
/* The peer confirmed `total` bytes of this session: drop them. */
void axn_outq_confirm(axn_net *n, axn_outq *q, uint64_t total);
/* Send again from the oldest retained frame. */
void axn_outq_rewind(axn_outq *q);
/* fn sees each dropped frame's header and whether it was fully written. */
typedef void (*axn_frame_fn)(void *arg, const axn_hdr *h, int written);
/* Drop the frames fully written but not confirmed; returns how many.
 * (A partly written frame stays, to be sent again whole.) */
uint64_t axn_outq_drop_written(axn_net *n, axn_outq *q, axn_frame_fn fn, void *arg);
/* Drop every frame; the queue is empty afterwards. */
void axn_outq_drop_all(axn_net *n, axn_outq *q, axn_frame_fn fn, void *arg);
/* Drop the frames whose payload is above max_payload, keeping the others
 * in order; returns how many.  Only for a queue with nothing written
 * since the last confirmation (written == confirmed, as after
 * axn_outq_rewind): frames move within their blocks. */
uint64_t axn_outq_drop_over(axn_net *n, axn_outq *q, uint32_t max_payload, axn_frame_fn fn,
                            void *arg);

/* ---- connections (conn.c) -------------------------------------------- */

enum {
    AXN_C_RESOLVING = 1,
    AXN_C_CONNECTING,
    AXN_C_TLS,       /* transport handshake */
    AXN_C_HELLO,     /* axon handshake */
    AXN_C_UP,
    AXN_C_CLOSED
};

typedef struct axn_conn_hs {
    int got_preamble;
    int got_hello;
    int got_auth;
    int sent_auth;
    axn_hello peer;          /* types pointer invalid after the frame */
    unsigned char nonce[AXN_NONCE_LEN];
} axn_conn_hs;

struct axn_conn {
    axn_net *net;
    axn_link *link;          /* dialed: from the start; accepted: once up */
    axn_cfg *cfg;
    const axn_stream_ops *ops;
    void *ssl;               /* SSL * for TLS */
    int fd;
    int state;
    int dialer;
    int kind;                /* AXN_AF_* */
    ax_io *io;
    unsigned want;           /* events the transport's last AX_EAGAIN waits for */
    unsigned want_write;     /* what a blocked write waits for */
    int read_wants_write;    /* TLS: a read needs the socket writable */
    unsigned io_events;      /* events registered */
    int write_blocked;
    int read_paused;         /* decode budget used: frames wait in ib */
    int busy;                /* inside its own callback */
    char *ib;
    size_t ib_cap, ib_len, ib_pos;
    char *hs_out;            /* preamble + handshake frames to write */
    size_t hs_len, hs_pos, hs_cap;
    axn_conn_hs hs;
    ax_timer hs_timer;
    int hs_timer_on;
    axn_resolve_req *resolve;
    struct sockaddr_storage addrs[8];
    socklen_t addr_lens[8];
    int naddrs, addr_i;
    axn_conn *prev, *next;   /* net->conns */
    axn_conn *ready_next;    /* net->ready (frames left in ib, TLS pending) */
    int in_ready;
    int pending;             /* accepted, handshake not done (net->pending) */
    char peer[128];          /* for logs */
    char err_text[160];      /* transport error detail (TLS) */
    /* TLS (tls.c): records encrypted but not yet written.  A flush
     * encrypts the queue record by record into this buffer and writes it
     * with one send, not one send per 16 KiB record. */
    char *tx;
    size_t tx_len, tx_pos, tx_cap;
    int tx_batch;            /* inside a writev: hold records for one send */
    int tx_err;              /* a failed send (AX_E*), reported by the next write */
};

/* The transport holds bytes it could not write yet (TLS records): the
 * connection must wait for writable even with nothing else to send. */
static inline int axn_conn_tx_held(const axn_conn *c)
{
    return c->tx_len > c->tx_pos;
}

/* Dial for link l (the link's address). */
int axn_conn_dial(axn_link *l);
/* A new accepted socket. */
int axn_conn_accept(axn_net *n, axn_listener *lst, int fd, const char *peer);
/* Close: log (level < 0: quiet), count, detach from its link (which goes
 * down if c was its connection).  c is freed later (net zombie list). */
void axn_conn_close(axn_conn *c, axn_why why, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Write what the link's queue (or the handshake buffer) holds. */
void axn_conn_flush(axn_conn *c);
/* Make room for `need` more bytes in the input buffer. */
int axn_conn_room(axn_conn *c, size_t need);
/* Decode frames already buffered (called by the runner). */
void axn_conn_resume_read(axn_conn *c);
void axn_conn_free(axn_conn *c);

/* ---- links (link.c) -------------------------------------------------- */

struct axn_link {
    axn_net *net;
    uint32_t node;
    int state;               /* AX_NODE_* */
    axn_cfg *cfg;
    axn_addr addr;
    int has_addr;            /* added with ax_node_add: redials */
    axn_conn *conn;          /* the connection up */
    axn_conn *dialing;       /* our connection being made */
    axn_outq q;
    uint64_t peer_inc;       /* the peer process of the current session */
    uint64_t rx;             /* bytes of whole frames received in this session */
    uint32_t max_payload;    /* min(ours, the peer's max_frame) */
    uint64_t max_buffer;     /* cfg->max_buffer, at hand for the route */
    int ack_needed;          /* an ACK must go out with the next flush */
    int peer_bye;            /* the peer said it is closing on purpose */
    uint64_t rx_unacked;     /* bytes received that call for an ACK */
    uint32_t ack_window;     /* ACK at the latest after this many bytes */
    ax_timer ack_timer;
    int ack_timer_on;
    uint32_t peer_max_frame;
    int64_t last_rx, last_tx;
    ax_timer hb_timer, retry_timer;
    int hb_on, retry_on;
    uint32_t attempts;       /* consecutive failed dials the back-off waited for */
    uint8_t dial_now;        /* the dial under way was not a back-off's (its
                                failure does not double the next wait) */
    int removed;
    axn_mon_rec *mons;       /* monitors across this link (monitor_remote.c) */
    axn_link *hash_next;
    axn_link *prev, *next;   /* net->links */
    axn_link *dirty_next;
    int in_dirty;
    ax_link_stats st;
};

axn_link *axn_link_find(const axn_net *n, uint32_t node);
int axn_link_new(axn_net *n, uint32_t node, axn_cfg *cfg, axn_link **out);
/* Queue a frame of `size` payload bytes.  AX_ELINKFULL at the buffer
 * bound (max_buffer), AX_ENOMEM. */
int axn_link_put_raw(axn_link *l, uint32_t type, ax_id from, ax_id to, const void *payload,
                     size_t size);
/* Mark the link as having output for the runner. */
void axn_link_dirty(axn_link *l);
/* `bytes` of frames that call for an ACK were received. */
void axn_link_received(axn_link *l, uint64_t bytes);
/* Flush one link: a due ACK, then its queue. */
void axn_flush_link(axn_link *l);
/* Connection c finished its handshake for link l: the link is up. */
void axn_link_up(axn_link *l, axn_conn *c);
/* The link's connection (up) was lost. */
void axn_link_lost(axn_link *l, axn_why why);
/* A dial failed: schedule the next. */
void axn_link_dial_failed(axn_link *l);
/* Schedule a redial after the back-off (or now when immediate). */
void axn_link_schedule_dial(axn_link *l, int immediate);
/* Dead-letter every queued frame with `reason`; returns how many. */
uint64_t axn_link_drop_queue(axn_link *l, int reason);
/* Add a link's counters to the net's retired totals (node.c), before the
 * link goes. */
void axn_link_retire_stats(axn_link *l);
/* Remove: final flush, dead letters, DOWN, free (deferred). */
void axn_link_remove(axn_link *l);
void axn_link_free(axn_link *l);
/* Decode and deliver the whole frames in c's input buffer, at most
 * `budget`: 0 done (a partial frame may wait), 1 budget used up (more
 * frames buffered), -1 the connection closed. */
int axn_link_input(axn_link *l, axn_conn *c, uint32_t budget);

/* ---- listeners -------------------------------------------------------- */

struct axn_listener {
    axn_net *net;
    uint32_t id;
    int fd;
    ax_io *io;
    axn_cfg *cfg;
    axn_addr addr;
    char bound[300];
    int unlink_path;         /* remove the socket file when stopped */
    axn_listener *next;
};

/* ---- remote names and monitors (names_remote.c, monitor_remote.c) ---- */

typedef struct axn_names axn_names;
typedef struct axn_mons axn_mons;

void axn_names_on_query(axn_link *l, const char *payload, size_t len);
void axn_names_on_answer(axn_link *l, const char *payload, size_t len);
void axn_names_link_lost(axn_net *n, axn_link *l);
void axn_names_target_down(axn_net *n, ax_id target);
void axn_names_free(axn_net *n);

int axn_mon_monitor(void *arg, ax_id watcher, ax_id target);
int axn_mon_demonitor(void *arg, ax_id watcher, ax_id target);
/* A MONITOR/DEMON frame from the peer. */
void axn_mon_on_frame(axn_link *l, uint32_t type, const char *payload, size_t len);
/* A DOWN frame from the peer for `to`: 1 if it answers one of our
 * monitors (deliver it), 0 if stale (drop). */
int axn_mon_on_down(axn_link *l, ax_id to, ax_id who);
/* A DOWN is going out to `watcher` on l for our `who`: forget the record. */
void axn_mon_down_sent(axn_link *l, ax_id watcher, ax_id who);
/* The link lost its connection: DOWN for our monitors, drop the peer's. */
void axn_mon_link_lost(axn_link *l);
void axn_mon_free(axn_net *n);
/* An internal monitor for the name cache (no actor watcher). */
int axn_mon_cache_watch(axn_net *n, ax_id target);

/* ---- the system's links layer (node.c) ------------------------------- */

struct axn_net {
    ax_system *sys;
    ax_loop *loop;
    const ax_allocator *alloc;
    uint32_t node;           /* our node id */
    uint64_t inc;            /* our incarnation */
    uint64_t rng;
    axn_link **buckets;
    uint32_t mask, nlinks;
    axn_link *links;         /* every link */
    uint32_t cache_node;
    axn_link *cache_link;
    uint32_t plain_type;     /* last type sent that travels as its bytes */
    /* The last plain (no deserialize hook), fixed-size, pooled type
     * received: the input loop's fast path (deliver.c).  rx_size starts
     * at UINT32_MAX, which no frame's size equals. */
    uint32_t rx_type, rx_size;
    uint32_t rx_amask;       /* its alignment - 1: a payload in the input
                                buffer with these bits clear is handed to
                                a handler in place (0 for empty types) */
    uint8_t rx_cls;
    uint32_t early_flush;    /* AXN_EARLY_FLUSH */
    uint32_t flush_in;       /* direct messages left until the next early
                                flush (reset by every flush); UINT32_MAX
                                while paused */
    uint32_t early_pause;    /* turns left without early flushes */
    uint32_t early_backoff;  /* the last pause (doubles while preempted) */
    uint64_t nivcsw;         /* involuntary switches seen at the last one */
    axn_link *dirty;         /* links with output to write */
    axn_conn *conns;         /* every connection */
    axn_conn *ready;         /* connections with buffered input */
    axn_conn *zombies;       /* closed connections to free */
    axn_link *dead_links;    /* removed links to free */
    axn_listener *listeners;
    uint32_t next_listener;
    uint32_t pending;        /* accepted connections in their handshake */
    axn_block *free_blocks;
    uint32_t nfree_blocks;
    axn_resolver *resolver;
    axi_runner runner;
    axi_net_hooks hooks;
    int closed;
    ax_log_fn log;
    void *log_arg;
    int log_level;
    ax_link_stats orphan;    /* connections that never got a node id */
    ax_link_stats retired;   /* the counters of removed links */
    axn_names *names;
    axn_mons *mons;
};

/* node.c / net.c internals shared with each other. */
int axn_route(void *arg, ax_id to, axi_msg *m);
int axn_route_bytes(void *arg, ax_id from, ax_id to, uint32_t type, const void *data,
                    size_t size);
int axn_runner_pending(void *arg);
void axn_runner_run(void *arg);
/* Flush every link with output queued (the runner's last step); rearms
 * the early flush unless it is paused. */
void axn_flush_dirty(axn_net *n);
/* The early flush (deliver.c): axn_flush_dirty, then a pause if this
 * process was preempted since the last one. */
void axn_flush_early(axn_net *n);
void axn_reap(axn_net *n);
void axn_flush_link(axn_link *l);
void axn_listener_stop(axn_net *n, axn_listener *l);

/* The system's links layer, created on first use.  Errors: AX_EINVAL (no
 * node id), AX_ECLOSED, AX_ENOMEM. */
int axn_net_get(ax_system *sys, axn_net **out);
void axn_log(axn_net *n, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
uint64_t axn_rand(axn_net *n);
axn_block *axn_block_get(axn_net *n, size_t min);
void axn_block_put(axn_net *n, axn_block *b);
/* Statistics a connection counts before it belongs to a link. */
ax_link_stats *axn_conn_stats(axn_conn *c);
void axn_ready_add(axn_conn *c);

/* ---- transports ------------------------------------------------------- */

int axn_tls_ctx_new(const ax_link_options *o, int server, void **ctx, char *err, size_t cap);
void axn_tls_ctx_free(void *ctx);
/* Attach TLS to c (c->fd set): c->ops becomes axn_tls_ops. */
int axn_tls_attach(axn_conn *c);

/* Resolver (resolve.c): host names off the loop thread. */
typedef void (*axn_resolve_fn)(void *arg, int err, const struct sockaddr_storage *addrs,
                               const socklen_t *lens, int n);
int axn_resolver_new(axn_net *n, axn_resolver **out);
void axn_resolver_free(axn_resolver *r);
int axn_resolve(axn_resolver *r, const char *host, const char *port, axn_resolve_fn cb, void *arg,
                axn_resolve_req **out);
void axn_resolve_cancel(axn_resolve_req *q);

#endif /* AXN_NET_INT_H */
