/* outq.c - a link's output queue: a chain of blocks holding whole frames,
 * from the oldest frame the peer has not confirmed to the newest.
 *
 *   head/head_off     the oldest retained frame
 *   send_blk/send_off the first byte not yet handed to the transport
 *   tail              where new frames are appended
 *
 * Frames never span blocks (a frame larger than a block gets a block of
 * its own), so every walk reads a header and skips a contiguous frame.
 * Blocks are recycled through the net's free list: steady traffic does
 * not allocate.  Writes gather the unsent bytes of several blocks into
 * one writev. */
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

char *axn_outq_reserve(axn_net *n, axn_outq *q, size_t len)
{
    axn_block *t = q->tail;
    if (AXI_LIKELY(t && t->cap - t->len >= len))
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

void axn_outq_commit(axn_outq *q, size_t len)
{
    axn_block *t = q->tail;
    if (q->unsent == 0) {
        q->send_blk = t;
        q->send_off = t->len;
        q->cur_left = 0;
    }
    t->len += (uint32_t)len;
    q->bytes += len;
    q->unsent += len;
    q->frames++;
}

int axn_outq_iov(const axn_outq *q, struct iovec *iov, int max)
{
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
    axn_block *b = q->send_blk;
    uint32_t off = q->send_off;
    uint64_t left = q->cur_left;
    q->unsent -= n;
    while (n > 0) {
        if (left == 0) {
            /* At a frame boundary: the header says how long this one is. */
            left = AXN_HDR + (uint64_t)axn_get32(b->data + off);
        }
        size_t take = left < n ? (size_t)left : n;
        off += (uint32_t)take;
        left -= take;
        n -= take;
        if (left == 0)
            q->written++;
        if (off == b->len && b->next) {
            b = b->next;
            off = 0;
        }
    }
    q->cur_left = left;
    if (q->unsent == 0) {
        q->send_blk = NULL;
        q->send_off = 0;
    } else {
        q->send_blk = b;
        q->send_off = off;
    }
}

/* Drop the (written) frame at the head, showing it to fn first. */
static void drop_head(axn_net *n, axn_outq *q, axn_frame_fn fn, void *arg)
{
    axn_block *b = q->head;
    const char *p = b->data + q->head_off;
    uint32_t len = AXN_HDR + axn_get32(p);
    if (fn) {
        axn_hdr h;
        axn_hdr_get(p, &h);
        fn(arg, &h);
    }
    q->head_off += len;
    q->bytes -= len;
    q->frames--;
    if (q->head_off == b->len) {
        if (b->next) {
            q->head = b->next;
            q->head_off = 0;
            axn_block_put(n, b);
        } else if (q->unsent == 0) {
            /* The only block, and empty now: start it over. */
            b->len = 0;
            q->head_off = 0;
        }
    }
}

void axn_outq_confirm(axn_net *n, axn_outq *q, uint64_t total)
{
    /* A peer cannot confirm what was never written to it. */
    if (total > q->written)
        total = q->written;
    while (q->confirmed < total) {
        drop_head(n, q, NULL, NULL);
        q->confirmed++;
    }
}

void axn_outq_rewind(axn_outq *q)
{
    q->written = q->confirmed;
    q->cur_left = 0;
    q->unsent = q->bytes;
    if (q->bytes == 0) {
        q->send_blk = NULL;
        q->send_off = 0;
        return;
    }
    q->send_blk = q->head;
    q->send_off = q->head_off;
    if (q->send_off == q->head->len && q->head->next) {
        q->send_blk = q->head->next;
        q->send_off = 0;
    }
}

void axn_outq_drop(axn_net *n, axn_outq *q, uint64_t count, axn_frame_fn fn, void *arg)
{
    if (count >= q->frames) {
        /* Everything: walk, then release all blocks. */
        while (q->frames > 0) {
            axn_block *b = q->head;
            const char *p = b->data + q->head_off;
            uint32_t len = AXN_HDR + axn_get32(p);
            if (fn) {
                axn_hdr h;
                axn_hdr_get(p, &h);
                fn(arg, &h);
            }
            q->head_off += len;
            q->frames--;
            if (q->head_off == b->len && b->next) {
                q->head = b->next;
                q->head_off = 0;
                axn_block_put(n, b);
            }
        }
        axn_block *b = q->head;
        while (b) {
            axn_block *next = b->next;
            axn_block_put(n, b);
            b = next;
        }
        q->head = q->tail = q->send_blk = NULL;
        q->head_off = q->send_off = 0;
        q->bytes = q->unsent = 0;
        q->cur_left = 0;
        q->written = q->confirmed;
        return;
    }
    /* Only written frames are dropped this way: the send position is
     * after them and stays valid. */
    while (count-- > 0)
        drop_head(n, q, fn, arg);
}

void axn_outq_free(axn_net *n, axn_outq *q)
{
    axn_outq_drop(n, q, UINT64_MAX, NULL, NULL);
}
