/* handshake.c - HELLO/AUTH codec and checks (see handshake.h). */
#include "net/handshake.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

void axn_hello_put(void *p, const axn_hello *h, const axn_type_hash *types)
{
    unsigned char *b = p;
    axn_put32(b, h->node);
    axn_put32(b + 4, h->expect);
    axn_put64(b + 8, h->inc);
    axn_put64(b + 16, h->peer_inc);
    axn_put64(b + 24, h->rx);
    axn_put32(b + 32, h->max_frame);
    axn_put32(b + 36, h->flags);
    memcpy(b + 40, h->nonce, AXN_NONCE_LEN);
    axn_put64(b + 72, h->schema);
    axn_put32(b + 80, h->ntypes);
    axn_put32(b + 84, h->ack_window);
    unsigned char *t = b + AXN_HELLO_FIXED;
    for (uint32_t i = 0; i < h->ntypes; i++, t += 16) {
        axn_put32(t, types[i].id);
        axn_put32(t + 4, 0);
        axn_put64(t + 8, types[i].hash);
    }
}

axn_why axn_hello_get(const void *p, size_t len, axn_hello *h)
{
    const unsigned char *b = p;
    if (len < AXN_HELLO_FIXED)
        return AXN_WHY_MALFORMED;
    h->node = axn_get32(b);
    h->expect = axn_get32(b + 4);
    h->inc = axn_get64(b + 8);
    h->peer_inc = axn_get64(b + 16);
    h->rx = axn_get64(b + 24);
    h->max_frame = axn_get32(b + 32);
    h->flags = axn_get32(b + 36);
    memcpy(h->nonce, b + 40, AXN_NONCE_LEN);
    h->schema = axn_get64(b + 72);
    h->ntypes = axn_get32(b + 80);
    h->ack_window = axn_get32(b + 84);
    h->types = b + AXN_HELLO_FIXED;
    if (h->ntypes > AXN_HELLO_MAX_TYPES || len != axn_hello_size(h->ntypes))
        return AXN_WHY_MALFORMED;
    if (h->node == 0 || h->inc == 0 || h->max_frame == 0)
        return AXN_WHY_MALFORMED;
    if (h->flags & ~(uint32_t)(AXN_HF_AUTH | AXN_HF_BIGENDIAN | AXN_HF_DIALER))
        return AXN_WHY_MALFORMED;
    return AXN_WHY_NONE;
}

axn_type_hash axn_hello_type(const axn_hello *h, uint32_t i)
{
    axn_type_hash t;
    t.id = axn_get32(h->types + 16u * i);
    t.hash = axn_get64(h->types + 16u * i + 8);
    return t;
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint64_t axn_schema_hash(const axn_type_hash *types, uint32_t n)
{
    uint64_t h = 0;
    for (uint32_t i = 0; i < n; i++)
        h += mix64(mix64(types[i].id) ^ types[i].hash);
    return h;
}

uint32_t axn_schema_compare(const axn_hello *peer, uint64_t (*lookup)(void *arg, uint32_t id),
                            void *arg,
                            void (*report)(void *rarg, uint32_t id, uint64_t ours, uint64_t theirs),
                            void *rarg)
{
    uint32_t bad = 0;
    for (uint32_t i = 0; i < peer->ntypes; i++) {
        axn_type_hash t = axn_hello_type(peer, i);
        if (t.hash == 0)
            continue;
        uint64_t ours = lookup(arg, t.id);
        if (ours != 0 && ours != t.hash) {
            bad++;
            if (report)
                report(rarg, t.id, ours, t.hash);
        }
    }
    return bad;
}

int axn_auth_mac(const void *secret, size_t secret_len, const unsigned char *verifier_nonce,
                 const unsigned char *prover_nonce, uint32_t prover_node, uint32_t verifier_node,
                 uint64_t prover_inc, unsigned char mac[AXN_MAC_LEN])
{
    static const char label[] = "axon-link-auth-v1";
    unsigned char msg[sizeof label - 1 + 2 * AXN_NONCE_LEN + 16];
    unsigned char *p = msg;
    memcpy(p, label, sizeof label - 1);
    p += sizeof label - 1;
    memcpy(p, verifier_nonce, AXN_NONCE_LEN);
    p += AXN_NONCE_LEN;
    memcpy(p, prover_nonce, AXN_NONCE_LEN);
    p += AXN_NONCE_LEN;
    axn_put32(p, prover_node);
    axn_put32(p + 4, verifier_node);
    axn_put64(p + 8, prover_inc);
    unsigned int out_len = 0;
    if (secret_len > (size_t)INT32_MAX)
        return AX_EINVAL;
    if (!HMAC(EVP_sha256(), secret, (int)secret_len, msg, sizeof msg, mac, &out_len) ||
        out_len != AXN_MAC_LEN)
        return AX_ESYS;
    return 0;
}

axn_why axn_auth_verify(const void *payload, size_t len, const unsigned char expect[AXN_MAC_LEN])
{
    if (len != AXN_MAC_LEN)
        return AXN_WHY_AUTH;
    return CRYPTO_memcmp(payload, expect, AXN_MAC_LEN) == 0 ? AXN_WHY_NONE : AXN_WHY_AUTH;
}

int axn_random(void *p, size_t n)
{
    return RAND_bytes(p, (int)n) == 1 ? 0 : AX_ESYS;
}
