/* wire.h - the links layer's wire format: explicit little-endian fields,
 * the connection preamble, the frame header and the control frame ids.
 *
 * A connection starts with an 8-byte preamble from each side:
 *     "AXON" | u16 protocol version | u16 zero
 * then carries frames, each a 24-byte header (32 with the sender's node)
 * and `size` payload bytes:
 *     u32 size|flags | u32 type | u32 to.index | u32 to.cookie
 *                    | u32 from.index | u32 from.cookie
 *                    [| u32 from.node | u32 zero]
 * The recipient lives on the receiving node (frames are never routed
 * through a node), so its node is not sent.  The sender's node is sent
 * only when it is not the sending node (AXN_F_NODE: a forward keeps the
 * original sender, who may live on a third node or on the receiver);
 * without it, a sender with a nonzero cookie lives on the sending node.
 * Both header lengths are multiples of 8: payloads whose sizes are too
 * stay 8-aligned in a receive buffer (handlers run on them in place).
 * All integers are little-endian on every host.  Payloads of user types are
 * the type's encoding (its serialize hook, or its bytes).  Control frames
 * use ids in axon's reserved range; their payloads are encoded below
 * (frame.c).  See docs/nodes.md for the whole protocol. */
#ifndef AXN_WIRE_H
#define AXN_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "axon/common.h"
#include "axon/msg.h"

#define AXN_PROTO_VERSION 2u
#define AXN_PREAMBLE_LEN 8u
#define AXN_HDR 24u     /* header without the sender's node */
#define AXN_HDR_MAX 32u /* with it (and 4 zero bytes) */
/* The size word: the payload size in the low 30 bits (the largest frame,
 * AX_MSG_MAX_SIZE, needs 25), flags above. */
#define AXN_SIZE_MASK 0x3FFFFFFFu
#define AXN_F_NODE 0x80000000u     /* the sender's node follows the header */
#define AXN_F_RESERVED 0x40000000u /* must be 0 */
/* Longest name in a name query (AX_NAME_MAX of system.h). */
#define AXN_NAME_MAX 255u

/* Control frame ids (reserved range; AX_MSG_POISON/DOWN are 1 and 2). */
#define AXN_T_HELLO 0xFFFF0100u   /* handshake: ids, incarnations, nonce, schema */
#define AXN_T_AUTH 0xFFFF0101u    /* handshake: HMAC proof of the shared secret */
#define AXN_T_REFUSE 0xFFFF0102u  /* handshake: why the peer closes */
#define AXN_T_ACK 0xFFFF0110u     /* frames received so far; also the heartbeat */
#define AXN_T_NAMEQ 0xFFFF0111u   /* name query */
#define AXN_T_NAMEA 0xFFFF0112u   /* name answer */
#define AXN_T_MONITOR 0xFFFF0113u /* watcher (sender node) monitors a local target */
#define AXN_T_DEMON 0xFFFF0114u   /* remove one such monitor */
#define AXN_T_BYE 0xFFFF0115u     /* the sender closes on purpose (shutdown, removal) */

static inline int axn_is_control(uint32_t type)
{
    return type >= AXN_T_HELLO && type <= AXN_T_BYE;
}

/* ---- little-endian helpers: byte-exact on every host.  On a
 * little-endian host each is one unaligned load or store (memcpy): the
 * byte-by-byte form is not always merged by the compiler (a value
 * computed under a condition was stored a byte at a time). ---------- */

static inline void axn_put32(void *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 4);
#else
    unsigned char *b = p;
    b[0] = (unsigned char)v;
    b[1] = (unsigned char)(v >> 8);
    b[2] = (unsigned char)(v >> 16);
    b[3] = (unsigned char)(v >> 24);
#endif
}

static inline uint32_t axn_get32(const void *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
#else
    const unsigned char *b = p;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
#endif
}

static inline void axn_put64(void *p, uint64_t v)
{
    axn_put32(p, (uint32_t)v);
    axn_put32((char *)p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t axn_get64(const void *p)
{
    return (uint64_t)axn_get32(p) | (uint64_t)axn_get32((const char *)p + 4) << 32;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define AXN_LE_HOST 1
_Static_assert(sizeof(ax_id) == 12, "an id is three packed u32s on the wire");
#else
#define AXN_LE_HOST 0
#endif

static inline void axn_put_id(void *p, ax_id id)
{
#if AXN_LE_HOST
    memcpy(p, &id, sizeof id); /* the wire order is the struct's */
#else
    axn_put32(p, id.node);
    axn_put32((char *)p + 4, id.index);
    axn_put32((char *)p + 8, id.cookie);
#endif
}

static inline ax_id axn_get_id(const void *p)
{
    ax_id id = {axn_get32(p), axn_get32((const char *)p + 4), axn_get32((const char *)p + 8)};
    return id;
}

/* A decoded frame header.  to.node is 0 (the receiving node); from.node
 * is 0 unless the frame carries it (AXN_F_NODE): the link layer puts the
 * sending node there for a sender with a cookie. */
typedef struct axn_hdr {
    uint32_t size;
    uint32_t type;
    uint32_t len; /* of the header: AXN_HDR or AXN_HDR_MAX */
    ax_id from;
    ax_id to;
} axn_hdr;

/* An id's index and cookie as one header word (index in the low half,
 * the wire's order). */
static inline uint64_t axn_id_word(ax_id id)
{
#if AXN_LE_HOST
    uint64_t w;
    memcpy(&w, (const char *)&id + offsetof(ax_id, index), 8);
    return w;
#else
    return (uint64_t)id.cookie << 32 | id.index;
#endif
}

/* Write a frame header at p; returns its length (AXN_HDR, or AXN_HDR_MAX
 * when from.node is not 0).  The caller passes from.node = 0 for a sender
 * on this (the sending) node, or no sender; the recipient as its word
 * (axn_id_word: its node is not written).  size <= AXN_SIZE_MASK. */
static inline size_t axn_hdr_put_w(void *p, uint32_t size, uint32_t type, ax_id from,
                                   uint64_t to_word)
{
    char *b = p;
    const uint32_t w = from.node ? size | AXN_F_NODE : size;
#if AXN_LE_HOST
    /* Word pairs as single stores: built field by field, GCC packs the
     * words with vector shuffles (twenty instructions a frame). */
    const uint64_t st = (uint64_t)type << 32 | w;
    memcpy(b, &st, 8);
    memcpy(b + 8, &to_word, 8);
    memcpy(b + 16, (const char *)&from + offsetof(ax_id, index), 8);
#else
    axn_put32(b, w);
    axn_put32(b + 4, type);
    axn_put64(b + 8, to_word);
    axn_put32(b + 16, from.index);
    axn_put32(b + 20, from.cookie);
#endif
    if (!from.node)
        return AXN_HDR;
    axn_put32(b + 24, from.node);
    axn_put32(b + 28, 0);
    return AXN_HDR_MAX;
}

/* The same with the recipient as an id. */
static inline size_t axn_hdr_put(void *p, uint32_t size, uint32_t type, ax_id from, ax_id to)
{
    return axn_hdr_put_w(p, size, type, from, axn_id_word(to));
}

/* A sender as the wire names it from node `self`: node 0 for `self`. */
static inline ax_id axn_wire_from(ax_id from, uint32_t self)
{
    if (from.node == self)
        from.node = 0;
    return from;
}

/* The header length a sender needs (see axn_hdr_put). */
static inline size_t axn_hdr_len(ax_id from)
{
    return from.node ? AXN_HDR_MAX : AXN_HDR;
}

/* The whole length of a well-formed frame (one this process wrote) from
 * its size word. */
static inline size_t axn_frame_len(const void *p)
{
    const uint32_t w = axn_get32(p);
    return (w & AXN_F_NODE ? AXN_HDR_MAX : AXN_HDR) + (w & AXN_SIZE_MASK);
}

/* Decode a header whose AXN_HDR bytes, and all AXN_HDR_MAX if AXN_F_NODE
 * is set, are readable.  No checks: see axn_frame_scan. */
static inline void axn_hdr_get(const void *p, axn_hdr *h)
{
    const char *b = p;
    const uint32_t w = axn_get32(b);
    h->size = w & AXN_SIZE_MASK;
    h->type = axn_get32(b + 4);
    h->to.node = 0;
    h->to.index = axn_get32(b + 8);
    h->to.cookie = axn_get32(b + 12);
    h->from.index = axn_get32(b + 16);
    h->from.cookie = axn_get32(b + 20);
    h->from.node = w & AXN_F_NODE ? axn_get32(b + 24) : 0;
    h->len = w & AXN_F_NODE ? AXN_HDR_MAX : AXN_HDR;
}

#endif /* AXN_WIRE_H */
