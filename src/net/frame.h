/* frame.h - the frame codec: the preamble, framing checks on a byte
 * stream, and the payloads of control frames.  Pure functions over
 * buffers (no system, no I/O), so they are unit-tested and fuzzed alone. */
#ifndef AXN_FRAME_H
#define AXN_FRAME_H

#include "net/wire.h"

/* Why a connection was closed by the protocol (not by the OS).  Each has
 * a message (axn_why_str) and a counter in ax_node_stats. */
typedef enum axn_why {
    AXN_WHY_NONE = 0,
    AXN_WHY_MAGIC,     /* the peer does not speak axon (garbage) */
    AXN_WHY_VERSION,   /* another protocol version */
    AXN_WHY_OVERSIZE,  /* a frame above the maximum frame size */
    AXN_WHY_MALFORMED, /* a frame that breaks the format */
    AXN_WHY_TRUNCATED, /* the stream ended inside a frame */
    AXN_WHY_AUTH,      /* wrong shared secret or missing authentication */
    AXN_WHY_CONFLICT,  /* node id conflict (ours, already connected, not the one dialed) */
    AXN_WHY_SCHEMA,    /* a message type both sides use has different layouts */
    AXN_WHY_TIMEOUT,   /* handshake or heartbeat timeout */
    AXN_WHY_REFUSED,   /* the peer refused us (its reason is logged) */
    AXN_WHY_CLOSED,    /* the peer closed the connection */
    AXN_WHY_IO,        /* a socket error */
    AXN_WHY_TLS,       /* TLS handshake or record error (certificate, protocol) */
    AXN_WHY_LOCAL,     /* closed on purpose here (remove, shutdown, disconnect) */
    AXN_WHY_DUPLICATE, /* both sides dialed at once: the other connection is kept */
    AXN_WHY_COUNT
} axn_why;

const char *axn_why_str(axn_why why);

/* ---- preamble --------------------------------------------------------- */

void axn_preamble_put(void *p);
/* Check 8 bytes: 0, AXN_WHY_MAGIC or AXN_WHY_VERSION (*version = theirs). */
axn_why axn_preamble_check(const void *p, uint32_t *version);

/* ---- framing ---------------------------------------------------------- */

/* Look at the frame starting at p with `avail` bytes buffered.
 * Returns the whole frame's length (header + size) when it is complete,
 * 0 when more bytes are needed, or -(axn_why) for a frame that can never
 * be valid: a payload above max_payload (OVERSIZE); type 0, a reserved
 * flag, a sender's node of 0 or nonzero padding after it (MALFORMED).  *h receives size, type and
 * len whenever AXN_HDR bytes are there, the whole header once it is
 * complete. */
long axn_frame_scan(const void *p, size_t avail, uint32_t max_payload, axn_hdr *h);

/* ---- control payloads -------------------------------------------------- */

#define AXN_ACK_LEN 8u
#define AXN_NAMEA_LEN 24u
#define AXN_MON_LEN 24u
#define AXN_DOWN_LEN 16u
#define AXN_NAMEQ_MIN 9u /* req id + at least one name byte */

typedef struct axn_namea {
    uint64_t req;
    int32_t status; /* 0 found, AX_ENOENT */
    ax_id id;
} axn_namea;

/* Each decoder returns 0 or AXN_WHY_MALFORMED (wrong length, bad field). */
void axn_ack_put(void *p, uint64_t rx);
axn_why axn_ack_get(const void *p, size_t len, uint64_t *rx);

/* Name query: u64 request id | name bytes (1..AX_NAME_MAX, no NUL). */
axn_why axn_nameq_get(const void *p, size_t len, uint64_t *req, const char **name,
                      size_t *name_len);
void axn_namea_put(void *p, const axn_namea *a);
axn_why axn_namea_get(const void *p, size_t len, axn_namea *a);

/* Monitor / demonitor: watcher id | target id. */
void axn_mon_put(void *p, ax_id watcher, ax_id target);
axn_why axn_mon_get(const void *p, size_t len, ax_id *watcher, ax_id *target);

/* DOWN (AX_MSG_DOWN on the wire): who | i32 reason. */
void axn_down_put(void *p, ax_id who, int32_t reason);
axn_why axn_down_get(const void *p, size_t len, ax_id *who, int32_t *reason);

/* Refuse: u32 reason (axn_why) | text (0..200 bytes). */
#define AXN_REFUSE_MAX 208u
size_t axn_refuse_put(void *p, axn_why why, const char *text);
axn_why axn_refuse_get(const void *p, size_t len, uint32_t *why, char *text, size_t cap);

#endif /* AXN_FRAME_H */
