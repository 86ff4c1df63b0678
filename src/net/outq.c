/* outq.c - a link's output queue: a chain of blocks holding whole frames,
 * from the oldest frame the peer has not confirmed to the newest.
 *
 *   head/head_off     the oldest retained frame
 *   send_blk/send_off the first byte not yet handed to the transport
 *   tail              where new frames are appended
 *
 * Progress is counted in bytes of the session's stream: `written` bytes
 * were handed to the transport, `confirmed` bytes the peer acknowledged
 * (it counts only complete frames, so a confirmed position is always a
 * frame boundary).  Writing and confirming therefore move pointers a block
 * at a time and never look at individual frames; only the rare paths
 * (losses, removal) walk frames.  Frames never span blocks (a frame larger
 * than a block gets a block of its own), and blocks are recycled through
 * the net's free list: steady traffic does not allocate. */
#include "net/net_int.h"

axn_block *axn_block_get(axn_net *n, size_t min)
{
    axn_block *b;
    if (min <= AXN_BLOCK_SIZE && n->free_blocks) {
        b = n->free_blocks;
        n->free_blocks = b->next;
        n->nfree_blocks--;
    } else {
        size_t cap = min <= AXN_BLOCK_SIZE ? AXN_BLOCK_SIZE : min;
        b = axi_alloc(n->alloc, sizeof *b + cap);
        if (!b)
            return NULL;
        b->cap = (uint32_t)cap;
    }
    b->next = NULL;
    b->len = 0;
    return b;
}

void axn_block_put(axn_net *n, axn_block *b)
{
    if (b->cap == AXN_BLOCK_SIZE && n->nfree_blocks < AXN_FREE_BLOCKS) {
        b->next = n->free_blocks;
        n->free_blocks = b;
        n->nfree_blocks++;
        return;
    }
    axi_free(n->alloc, b, sizeof *b + b->cap);
}

void axn_outq_settle_window(axn_outq *q)
{
    axn_block *t = q->tail;
    size_t len = (size_t)(q->wp - (t->data + t->len));
    q->wp = q->wend = NULL;
    if (len)
        axn_outq_commit(q, len);
}

void axn_outq_window(axn_outq *q, uint64_t limit)
{
    axn_block *t = q->tail;
    if (!t || q->wp)
        return;
    size_t room = t->cap - t->len;
    if (room > limit)
        room = (size_t)limit;
    if (room == 0)
        return;
    q->wp = t->data + t->len;
    q->wend = q->wp + room;
}

char *axn_outq_grow(axn_net *n, axn_outq *q, size_t len)
{
    axn_outq_settle(q);
    axn_block *t = q->tail;
    if (t && t->cap - t->len >= len)
        return t->data + t->len;
    axn_block *b = axn_block_get(n, len);
    if (!b)
        return NULL;
    if (t) {
        t->next = b;
    } else {
        q->head = b;
        q->head_off = 0;
    }
    q->tail = b;
    return b->data;
}

int axn_outq_iov(axn_outq *q, struct iovec *iov, int max)
{
    axn_outq_settle(q);
    int k = 0;
    if (!q->unsent)
        return 0;
    axn_block *b = q->send_blk;
    uint32_t off = q->send_off;
    while (b && k < max) {
        if (b->len > off) {
            iov[k].iov_base = b->data + off;
            iov[k].iov_len = b->len - off;
            k++;
        }
        b = b->next;
        off = 0;
    }
    return k;
}

void axn_outq_sent(axn_outq *q, size_t n)
{
    axn_outq_settle(q);
    axn_block *b = q->send_blk;
    uint32_t off = q->send_off;
    q->unsent -= n;
    q->written += n;
    if (q->unsent == 0) {
        q->send_blk = NULL;
        q->send_off = 0;
        return;
    }
    while (n > 0) {
        size_t in_blk = b->len - off;
        if (n < in_blk) {
            off += (uint32_t)n;
            break;
        }
        n -= in_blk;
        b = b->next;
        off = 0;
    }
    /* unsent > 0: a later block has the next byte if this one is done. */
    while (off == b->len) {
        b = b->next;
        off = 0;
    }
    q->send_blk = b;
    q->send_off = off;
}

/* The queue is about to shrink: keep its high-water mark. */
static inline void note_hwm(axn_outq *q)
{
    if (q->bytes > q->hwm)
        q->hwm = q->bytes;
}

/* Release head blocks that hold nothing retained any more. */
static void release_head(axn_net *n, axn_outq *q)
{
    for (;;) {
        axn_block *b = q->head;
        if (!b || q->head_off < b->len)
            return;
        if (b->next) {
            q->head = b->next;
            q->head_off = 0;
            axn_block_put(n, b);
            continue;
        }
        if (q->unsent == 0) {
            /* The only block, empty now: start it over. */
            b->len = 0;
            q->head_off = 0;
        }
        return;
    }
}

void axn_outq_confirm(axn_net *n, axn_outq *q, uint64_t total)
{
    axn_outq_settle(q);
    /* A peer cannot confirm what was never written to it. */
    if (total > q->written)
        total = q->written;
    if (total <= q->confirmed)
        return;
    note_hwm(q);
    uint64_t k = total - q->confirmed;
    q->confirmed = total;
    q->bytes -= k;
    while (k > 0) {
        axn_block *b = q->head;
        uint64_t in_blk = b->len - q->head_off;
        if (k < in_blk) {
            q->head_off += (uint32_t)k;
            break;
        }
        k -= in_blk;
        q->head_off = b->len;
        release_head(n, q);
    }
    release_head(n, q);
}

void axn_outq_rewind(axn_outq *q)
{
    axn_outq_settle(q);
    q->written = q->confirmed;
    q->unsent = q->bytes;
    if (q->bytes == 0) {
        q->send_blk = NULL;
        q->send_off = 0;
        return;
    }
    axn_block *b = q->head;
    uint32_t off = q->head_off;
    while (off == b->len) {
        b = b->next;
        off = 0;
    }
    q->send_blk = b;
    q->send_off = off;
}

/* The frame at the head: header shown to fn, then dropped. */
static void drop_head(axn_net *n, axn_outq *q, axn_frame_fn fn, void *arg, int written)
{
    axn_block *b = q->head;
    const char *p = b->data + q->head_off;
    uint32_t len = (uint32_t)axn_frame_len(p);
    if (fn) {
        axn_hdr h;
        axn_hdr_get(p, &h);
        fn(arg, &h, written);
    }
    note_hwm(q);
    q->head_off += len;
    q->bytes -= len;
    release_head(n, q);
}

uint64_t axn_outq_drop_written(axn_net *n, axn_outq *q, axn_frame_fn fn, void *arg)
{
    axn_outq_settle(q);
    /* Whole frames in [confirmed, written): the send position is after
     * them (or inside the frame that follows), so it stays valid. */
    uint64_t dropped = 0;
    while (q->bytes > 0 && q->written > q->confirmed) {
        const char *p = q->head->data + q->head_off;
        uint32_t len = (uint32_t)axn_frame_len(p);
        if (q->confirmed + len > q->written)
            break; /* partly written: it will be sent again whole */
        drop_head(n, q, fn, arg, 1);
        q->confirmed += len;
        dropped++;
    }
    return dropped;
}

void axn_outq_drop_all(axn_net *n, axn_outq *q, axn_frame_fn fn, void *arg)
{
    axn_outq_settle(q);
    note_hwm(q);
    uint64_t pos = q->confirmed;
    axn_block *b = q->head;
    uint32_t off = q->head_off;
    while (b) {
        while (off < b->len) {
            const char *p = b->data + off;
            uint32_t len = (uint32_t)axn_frame_len(p);
            pos += len;
            if (fn) {
                axn_hdr h;
                axn_hdr_get(p, &h);
                fn(arg, &h, pos <= q->written);
            }
            off += len;
        }
        axn_block *next = b->next;
        axn_block_put(n, b);
        b = next;
        off = 0;
    }
    q->head = q->tail = q->send_blk = NULL;
    q->head_off = q->send_off = 0;
    q->bytes = q->unsent = 0;
    q->written = q->confirmed;
}

uint64_t axn_outq_drop_over(axn_net *n, axn_outq *q, uint32_t max_payload, axn_frame_fn fn,
                            void *arg)
{
    axn_outq_settle(q);
    if (q->written != q->confirmed || q->bytes == 0)
        return 0;
    note_hwm(q);
    uint64_t dropped = 0;
    axn_block *prev = NULL, *b = q->head;
    uint32_t off = q->head_off;
    while (b) {
        /* Compact the block: kept frames move down over dropped ones. */
        uint32_t w = off;
        for (uint32_t r = off; r < b->len;) {
            const char *p = b->data + r;
            uint32_t len = (uint32_t)axn_frame_len(p);
            axn_hdr h;
            axn_hdr_get(p, &h);
            if (h.size > max_payload) {
                if (fn)
                    fn(arg, &h, 0);
                q->bytes -= len;
                q->unsent -= len;
                dropped++;
            } else {
                if (w != r)
                    memmove(b->data + w, p, len);
                w += len;
            }
            r += len;
        }
        b->len = w;
        axn_block *next = b->next;
        if (w == off && (prev || next)) { /* nothing left in it: unlink it */
            if (prev) {
                prev->next = next;
            } else {
                q->head = next;
                q->head_off = 0;
            }
            if (q->tail == b)
                q->tail = prev;
            axn_block_put(n, b);
        } else {
            prev = b;
        }
        b = next;
        off = 0;
    }
    axn_outq_rewind(q); /* the send position, from the head */
    return dropped;
}
