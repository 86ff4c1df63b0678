/* handshake.h - the link handshake: HELLO (ids, incarnations, resume
 * counters, nonce, message schema) and AUTH (HMAC-SHA256 proof of the
 * shared secret).  Pure encode/decode/verify functions; conn.c drives them.
 *
 * Both sides send the preamble and HELLO at once, then (when a secret is
 * configured) AUTH over both nonces, then frames.  A side delivers nothing
 * the other sent before its AUTH was verified. */
#ifndef AXN_HANDSHAKE_H
#define AXN_HANDSHAKE_H

#include "net/frame.h"

#define AXN_NONCE_LEN 32u
#define AXN_MAC_LEN 32u
#define AXN_HELLO_FIXED 88u
#define AXN_HELLO_MAX_TYPES 16384u
/* The largest handshake frame accepted before the peer is authenticated. */
#define AXN_HS_MAX_PAYLOAD (AXN_HELLO_FIXED + 16u * AXN_HELLO_MAX_TYPES)

enum {
    AXN_HF_AUTH = 1u,      /* this side proves and requires the shared secret */
    AXN_HF_BIGENDIAN = 2u, /* this host is big-endian (POD payloads are raw bytes) */
    AXN_HF_DIALER = 4u     /* this side opened the connection */
};

typedef struct axn_type_hash {
    uint32_t id;
    uint64_t hash;
} axn_type_hash;

typedef struct axn_hello {
    uint32_t node;        /* the sender's node id */
    uint32_t expect;      /* the node it wants to reach (0: any) */
    uint64_t inc;         /* the sender's incarnation (random per system) */
    uint64_t peer_inc;    /* the incarnation of ours it last talked to (0: none) */
    uint64_t rx;          /* frames it received from that incarnation */
    uint32_t max_frame;   /* largest payload it accepts */
    uint32_t flags;       /* AXN_HF_* */
    unsigned char nonce[AXN_NONCE_LEN];
    uint64_t schema;      /* combined hash of the types below */
    uint32_t ack_window;  /* acknowledge at least every this many bytes */
    uint32_t ntypes;
    const unsigned char *types; /* ntypes * 16 bytes, in the frame buffer */
} axn_hello;

/* Bytes of a HELLO payload carrying n types. */
static inline size_t axn_hello_size(uint32_t ntypes)
{
    return AXN_HELLO_FIXED + 16u * (size_t)ntypes;
}

/* Encode h with types[0..h->ntypes) (h->types is ignored) into p. */
void axn_hello_put(void *p, const axn_hello *h, const axn_type_hash *types);
/* Decode; h->types points into p.  0 or AXN_WHY_MALFORMED. */
axn_why axn_hello_get(const void *p, size_t len, axn_hello *h);
/* Type i of a decoded HELLO. */
axn_type_hash axn_hello_type(const axn_hello *h, uint32_t i);

/* The combined schema hash of n (id, hash) pairs, order-independent. */
uint64_t axn_schema_hash(const axn_type_hash *types, uint32_t n);

/* Compare the peer's types with ours: lookup(arg, id) returns our hash
 * for id (0: we do not know the type, or it has no hash).  Calls
 * report(rarg, id, ours, theirs) for each type both sides use with
 * different non-zero hashes (may be NULL) and returns how many. */
uint32_t axn_schema_compare(const axn_hello *peer, uint64_t (*lookup)(void *arg, uint32_t id),
                            void *arg,
                            void (*report)(void *rarg, uint32_t id, uint64_t ours, uint64_t theirs),
                            void *rarg);

/* MAC proving the secret: HMAC-SHA256(secret, label | verifier nonce |
 * prover nonce | prover node | verifier node | prover incarnation).
 * Binding both nonces and the direction defeats replay and reflection.
 * Returns 0 or AX_ESYS. */
int axn_auth_mac(const void *secret, size_t secret_len, const unsigned char *verifier_nonce,
                 const unsigned char *prover_nonce, uint32_t prover_node, uint32_t verifier_node,
                 uint64_t prover_inc, unsigned char mac[AXN_MAC_LEN]);

/* Constant-time check of a received AUTH payload.  0 or AXN_WHY_AUTH. */
axn_why axn_auth_verify(const void *payload, size_t len, const unsigned char expect[AXN_MAC_LEN]);

/* Fill p with n cryptographically random bytes.  0 or AX_ESYS. */
int axn_random(void *p, size_t n);

#endif /* AXN_HANDSHAKE_H */
