/* axon/node.h - links between systems: the same ax_send reaches actors in
 * other processes, over TCP, Unix-domain sockets or TLS.
 *
 * Every system that links needs a non-zero node id
 * (ax_system_options.node_id).  An id whose node is another system's
 * node id is remote: sends, forwards, replies and monitors to it travel
 * over the link to that node.  A link is made by one side dialing
 * (ax_node_add) and the other accepting (ax_serve); either side may then
 * send.  Links reconnect by themselves; frames sent while a link is down
 * wait in a bounded buffer and go out, in order, when it is back.
 *
 * Delivery is at-most-once; docs/nodes.md says exactly when a message can
 * be lost, and every loss the system can see is counted (ax_node_stats())
 * and reported to the dead-letter hook.  All functions here run on the
 * system's loop thread.
 */
#ifndef AXON_NODE_H
#define AXON_NODE_H

#include "common.h"
#include "loop.h"
#include "msg.h"
#include "system.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- options --------------------------------------------------------- */

enum {
    /* Wrap the connection in TLS (OpenSSL): mutual authentication with the
     * tls_* files below; the peer's certificate must chain to tls_ca_file. */
    AX_LINK_TLS = 1u,
    /* Allow a link with neither TLS nor a shared secret.  Without this
     * flag such a configuration is refused (AX_EINVAL). */
    AX_LINK_INSECURE = 2u
};

/* How a link (ax_node_add) or the links a listener accepts (ax_serve)
 * behave.  Zeroed fields take the defaults shown.  Strings are copied. */
typedef struct ax_link_options {
    uint32_t flags;            /* AX_LINK_* */
    /* Shared secret for the challenge-response (HMAC-SHA256) every
     * connection must pass; both sides need the same one.  With TLS it
     * is optional (checked too when set).  NUL-terminated. */
    const char *secret;
    const char *tls_ca_file;   /* PEM: the CA that signs every node's certificate */
    const char *tls_cert_file; /* PEM: this node's certificate (chain) */
    const char *tls_key_file;  /* PEM: its private key */
    uint32_t max_frame;        /* largest payload accepted; 0 = AX_MSG_MAX_SIZE */
    uint64_t max_buffer;       /* bytes queued per link (unsent plus sent but
                                  not yet confirmed by the peer); 0 = 64 MiB */
    ax_duration reconnect_min; /* first reconnect delay; 0 = 1 s */
    ax_duration reconnect_max; /* back-off cap; 0 = 30 s */
    ax_duration heartbeat;     /* heartbeat interval when idle; 0 = 1 s */
    ax_duration timeout;       /* silence (or handshake) limit; 0 = 5 s */
} ax_link_options;

/* ---- nodes and listeners ---------------------------------------------- */

/* Link this system to node `node_id` at `address`, dialing it now and
 * again whenever the connection is lost (back-off from reconnect_min,
 * doubling up to reconnect_max, +-20% jitter).  Addresses:
 *   "host:port"  "[v6addr]:port"  TCP; host names are resolved off the loop
 *   "/path", "./path", "unix:path"    a Unix-domain socket
 *   "@name"                           a Linux abstract Unix socket
 * `opt` gives the authentication (a secret, TLS, or AX_LINK_INSECURE) and
 * limits; NULL is refused (AX_EINVAL) since it has none.  Sends to the
 * node are accepted at once and wait in the buffer until the link is up.
 * Errors: AX_EINVAL (bad address, node_id 0 or our own, the system has no
 * node id, no secret/TLS without AX_LINK_INSECURE, unreadable TLS files),
 * AX_EEXIST (node already added), AX_ECLOSED, AX_ENOMEM, AX_ESYS. */
AX_EXTERN int ax_node_add(ax_system *sys, uint32_t node_id, const char *address,
                          const ax_link_options *opt);

/* Drop the link to `node_id` (added or accepted): a final non-blocking
 * flush, then the connection closes; frames never written become dead
 * letters (AX_ENOROUTE); monitors of its actors get DOWN
 * (AX_REASON_NODE_DOWN); later sends fail with AX_ENOROUTE.  If the node
 * dials in again, a new link is made.  Errors: AX_EINVAL, AX_ENOENT. */
AX_EXTERN int ax_node_remove(ax_system *sys, uint32_t node_id);

/* Close the current connection to `node_id` as if it had failed; the link
 * reconnects (an added node redials, an accepted one waits for the peer).
 * Frames the peer had not confirmed are sent again to the same peer
 * process, so nothing is lost or duplicated.  For tests and operations.
 * Errors: AX_EINVAL, AX_ENOENT (no such node), AX_ENOROUTE (not connected). */
AX_EXTERN int ax_node_disconnect(ax_system *sys, uint32_t node_id);

/* Accept links at `address` (as for ax_node_add; the host must be a
 * numeric address, "localhost", or "*"/empty for any; port 0 picks a free
 * port).  A Unix socket file left by a dead process is replaced; a live
 * one is AX_EADDRINUSE.  *listener (may be NULL) receives an id for
 * ax_serve_address() and ax_serve_stop().
 * Errors: AX_EINVAL, AX_EADDRINUSE (another listener has the address),
 * AX_ECLOSED, AX_ENOMEM, AX_ESYS. */
AX_EXTERN int ax_serve(ax_system *sys, const char *address, const ax_link_options *opt,
                       uint32_t *listener);

/* The bound address of a listener ("127.0.0.1:43211", "/tmp/a.sock"),
 * NUL-terminated into buf[0..cap).  Errors: AX_EINVAL, AX_ENOENT,
 * AX_ERANGE (cap too small). */
AX_EXTERN int ax_serve_address(const ax_system *sys, uint32_t listener, char *buf, size_t cap);

/* Stop accepting on a listener (links already made stay).  A Unix socket
 * file it created is removed.  Errors: AX_EINVAL, AX_ENOENT. */
AX_EXTERN int ax_serve_stop(ax_system *sys, uint32_t listener);

/* ---- ids in payloads -------------------------------------------------- */

/* `id` as other nodes must see it: node 0 ("this system") replaced by this
 * system's node id.  Put ids into payloads through this: the links layer
 * rewrites the sender and recipient of every frame, never payload bytes. */
AX_EXTERN ax_id ax_id_global(const ax_system *sys, ax_id id);

/* ---- names across nodes ----------------------------------------------- */

/* The answer to ax_name_resolve: err 0 and the actor's id (node set for a
 * remote actor), or AX_ENOENT (no linked node has the name),
 * AX_ETIMEDOUT, AX_ECLOSED (the system shut down first). */
typedef void (*ax_name_fn)(void *arg, int err, ax_id id);

/* Resolve `name`: this system's registry first, then a cache of earlier
 * remote answers (an entry is dropped when its actor ends or its node's
 * link is lost), then every linked node, including those not connected
 * yet (their query waits in the link buffer).  The first positive answer
 * wins.  cb runs later on the loop thread, never inside this call, exactly
 * once.  Errors (cb not called): AX_EINVAL (bad name, NULL cb, timeout <
 * 0), AX_ECLOSED, AX_ENOMEM. */
AX_EXTERN int ax_name_resolve(ax_system *sys, const char *name, ax_duration timeout,
                              ax_name_fn cb, void *arg);

/* ---- state and statistics --------------------------------------------- */

enum {
    AX_NODE_DOWN = 0,       /* no connection (waiting to redial, or for the peer) */
    AX_NODE_CONNECTING = 1, /* resolving, connecting or in the handshake */
    AX_NODE_UP = 2          /* authenticated and exchanging frames */
};

typedef struct ax_link_stats {
    uint32_t node_id;       /* 0 in the totals */
    uint32_t state;         /* AX_NODE_*; in the totals, the number of links up */
    uint64_t frames_out;    /* frames queued for the peer: messages and
                               link control (names, monitors), not ACKs */
    uint64_t frames_in;     /* frames received and processed */
    uint64_t frames_direct; /* of those, messages whose handler ran straight
                               from the input buffer (an idle actor's
                               synchronous handler: docs/nodes.md) */
    uint64_t bytes_out;
    uint64_t bytes_in;
    uint64_t connects;      /* handshakes completed */
    uint64_t disconnects;   /* connections lost after being up */
    uint64_t connect_failures;  /* dials or handshakes that failed */
    uint64_t resumed;       /* reconnects to the same peer process: nothing lost */
    uint64_t peer_restarts; /* reconnects to a new process of the node */
    /* losses (every one also a dead letter of this system) */
    uint64_t lost_unconfirmed; /* sent to a peer process that died before confirming them */
    uint64_t dropped_full;  /* refused: the link buffer was at max_buffer (AX_ELINKFULL) */
    uint64_t dropped_closed;/* never sent: node removed or system shut down */
    uint64_t dropped_oversize; /* queued before the peer's max_frame was known,
                                  and above it (AX_EMSGSIZE) */
    uint64_t undeliverable_in; /* received but dead-lettered here (unknown type,
                                  bad size, decode hook error, ended or full
                                  target, a DOWN its watcher cannot take) */
    /* protocol errors (each closed the connection) */
    uint64_t bad_frames;    /* malformed, oversized or truncated frames */
    uint64_t auth_failures; /* wrong secret, untrusted certificate */
    uint64_t proto_refusals;/* wrong magic or version, id conflict, schema mismatch */
    uint64_t heartbeat_timeouts;
    /* buffer */
    uint64_t buffered_bytes;/* bytes held now (unsent + unconfirmed) */
    uint64_t buffered_hwm;  /* most bytes ever held */
    uint64_t unconfirmed;   /* bytes sent and not yet confirmed by the peer */
} ax_link_stats;

/* Statistics of the link to `node_id`, or (node_id 0) the totals of every
 * link - including links since removed - plus the connections that never
 * got a node id (rejected peers).  A removed node's own statistics are
 * gone (AX_ENOENT); a node added again starts from zero.
 * Errors: AX_EINVAL, AX_ENOENT. */
AX_EXTERN int ax_node_stats(const ax_system *sys, uint32_t node_id, ax_link_stats *out);

/* ---- logging ---------------------------------------------------------- */

enum { AX_LOG_ERROR = 0, AX_LOG_WARN = 1, AX_LOG_INFO = 2 };

/* One line (no newline) about a link event: connected, lost, refused
 * peers and why.  Called on the loop thread. */
typedef void (*ax_log_fn)(void *arg, int level, const char *line);

/* Send the links layer's log lines to fn (NULL: stderr, the default, for
 * levels up to `max_level`).  Lines above max_level are not produced. */
AX_EXTERN void ax_node_set_log(ax_system *sys, ax_log_fn fn, void *arg, int max_level);

#ifdef __cplusplus
}
#endif
#endif /* AXON_NODE_H */
