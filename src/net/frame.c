/* frame.c - the frame codec (see frame.h and wire.h). */
#include "net/frame.h"

static const char *const why_text[AXN_WHY_COUNT] = {
    [AXN_WHY_NONE] = "no error",
    [AXN_WHY_MAGIC] = "not an axon peer (bad magic)",
    [AXN_WHY_VERSION] = "unsupported protocol version",
    [AXN_WHY_OVERSIZE] = "frame above the maximum frame size",
    [AXN_WHY_MALFORMED] = "malformed frame",
    [AXN_WHY_TRUNCATED] = "stream ended inside a frame",
    [AXN_WHY_AUTH] = "authentication failed",
    [AXN_WHY_CONFLICT] = "node id conflict",
    [AXN_WHY_SCHEMA] = "message schema mismatch",
    [AXN_WHY_TIMEOUT] = "timed out",
    [AXN_WHY_REFUSED] = "refused by the peer",
    [AXN_WHY_CLOSED] = "connection closed by the peer",
    [AXN_WHY_IO] = "socket error",
    [AXN_WHY_TLS] = "TLS error",
    [AXN_WHY_LOCAL] = "closed locally",
    [AXN_WHY_DUPLICATE] = "simultaneous connection: the other one is kept",
};

const char *axn_why_str(axn_why why)
{
    if ((unsigned)why >= AXN_WHY_COUNT)
        return "unknown reason";
    return why_text[why];
}

void axn_preamble_put(void *p)
{
    unsigned char *b = p;
    memcpy(b, "AXON", 4);
    b[4] = (unsigned char)AXN_PROTO_VERSION;
    b[5] = (unsigned char)(AXN_PROTO_VERSION >> 8);
    b[6] = 0;
    b[7] = 0;
}

axn_why axn_preamble_check(const void *p, uint32_t *version)
{
    const unsigned char *b = p;
    if (memcmp(b, "AXON", 4) != 0)
        return AXN_WHY_MAGIC;
    uint32_t v = (uint32_t)b[4] | (uint32_t)b[5] << 8;
    if (version)
        *version = v;
    if (v != AXN_PROTO_VERSION || b[6] || b[7])
        return AXN_WHY_VERSION;
    return AXN_WHY_NONE;
}

long axn_frame_scan(const void *p, size_t avail, uint32_t max_payload, axn_hdr *h)
{
    if (avail < AXN_HDR)
        return 0;
    const uint32_t w = axn_get32(p);
    const size_t hl = w & AXN_F_NODE ? AXN_HDR_MAX : AXN_HDR;
    if (avail < hl) {
        h->size = w & AXN_SIZE_MASK; /* for the caller's buffer sizing */
        h->type = axn_get32((const char *)p + 4);
        h->len = (uint32_t)hl;
        return (w & AXN_SIZE_MASK) > max_payload ? -(long)AXN_WHY_OVERSIZE : 0;
    }
    axn_hdr_get(p, h);
    if (h->size > max_payload)
        return -(long)AXN_WHY_OVERSIZE;
    if (h->type == 0 || (w & AXN_F_RESERVED) ||
        ((w & AXN_F_NODE) && (h->from.node == 0 || axn_get32((const char *)p + 28) != 0)))
        return -(long)AXN_WHY_MALFORMED;
    size_t need = hl + h->size;
    return avail >= need ? (long)need : 0;
}

void axn_ack_put(void *p, uint64_t rx)
{
    axn_put64(p, rx);
}

axn_why axn_ack_get(const void *p, size_t len, uint64_t *rx)
{
    if (len != AXN_ACK_LEN)
        return AXN_WHY_MALFORMED;
    *rx = axn_get64(p);
    return AXN_WHY_NONE;
}

axn_why axn_nameq_get(const void *p, size_t len, uint64_t *req, const char **name,
                      size_t *name_len)
{
    if (len < AXN_NAMEQ_MIN || len > 8u + AXN_NAME_MAX)
        return AXN_WHY_MALFORMED;
    *req = axn_get64(p);
    *name = (const char *)p + 8;
    *name_len = len - 8;
    if (memchr(*name, 0, *name_len))
        return AXN_WHY_MALFORMED;
    return AXN_WHY_NONE;
}

void axn_namea_put(void *p, const axn_namea *a)
{
    char *b = p;
    axn_put64(b, a->req);
    axn_put32(b + 8, (uint32_t)a->status);
    axn_put_id(b + 12, a->id);
}

axn_why axn_namea_get(const void *p, size_t len, axn_namea *a)
{
    if (len != AXN_NAMEA_LEN)
        return AXN_WHY_MALFORMED;
    const char *b = p;
    a->req = axn_get64(b);
    a->status = (int32_t)axn_get32(b + 8);
    a->id = axn_get_id(b + 12);
    if (a->status != 0 && a->status != AX_ENOENT)
        return AXN_WHY_MALFORMED;
    if (a->status == 0 && ax_id_is_nil(a->id))
        return AXN_WHY_MALFORMED;
    return AXN_WHY_NONE;
}

void axn_mon_put(void *p, ax_id watcher, ax_id target)
{
    axn_put_id(p, watcher);
    axn_put_id((char *)p + 12, target);
}

axn_why axn_mon_get(const void *p, size_t len, ax_id *watcher, ax_id *target)
{
    if (len != AXN_MON_LEN)
        return AXN_WHY_MALFORMED;
    *watcher = axn_get_id(p);
    *target = axn_get_id((const char *)p + 12);
    if (ax_id_is_nil(*watcher) || ax_id_is_nil(*target))
        return AXN_WHY_MALFORMED;
    return AXN_WHY_NONE;
}

void axn_down_put(void *p, ax_id who, int32_t reason)
{
    axn_put_id(p, who);
    axn_put32((char *)p + 12, (uint32_t)reason);
}

axn_why axn_down_get(const void *p, size_t len, ax_id *who, int32_t *reason)
{
    if (len != AXN_DOWN_LEN)
        return AXN_WHY_MALFORMED;
    *who = axn_get_id(p);
    *reason = (int32_t)axn_get32((const char *)p + 12);
    return AXN_WHY_NONE;
}

size_t axn_refuse_put(void *p, axn_why why, const char *text)
{
    size_t n = text ? strnlen(text, AXN_REFUSE_MAX - 8) : 0;
    axn_put32(p, (uint32_t)why);
    axn_put32((char *)p + 4, (uint32_t)n);
    if (n)
        memcpy((char *)p + 8, text, n);
    return 8 + n;
}

axn_why axn_refuse_get(const void *p, size_t len, uint32_t *why, char *text, size_t cap)
{
    if (len < 8 || len > AXN_REFUSE_MAX || cap == 0)
        return AXN_WHY_MALFORMED;
    *why = axn_get32(p);
    uint32_t n = axn_get32((const char *)p + 4);
    if (n != len - 8)
        return AXN_WHY_MALFORMED;
    size_t k = n < cap - 1 ? n : cap - 1;
    /* Shown in logs: keep printable ASCII only. */
    for (size_t i = 0; i < k; i++) {
        unsigned char c = ((const unsigned char *)p)[8 + i];
        text[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    text[k] = '\0';
    return AXN_WHY_NONE;
}
