/* outq_test.c - the output queue: frames across blocks, partial writes,
 * confirmations in bytes, rewind after a reconnect, the drops that
 * decide which frames are lost, and the append window of the hot path. */
#include "util/testutil.h"

#include "net/net_int.h"

static axn_net net;

static void setup_net(void)
{
    memset(&net, 0, sizeof net);
    net.alloc = &axi_default_allocator;
}

static void teardown_net(void)
{
    while (net.free_blocks) {
        axn_block *b = net.free_blocks;
        net.free_blocks = b->next;
        axi_free(net.alloc, b, sizeof *b + b->cap);
    }
    net.nfree_blocks = 0;
}

/* Append a frame with `size` payload bytes from `from`; type = seq. */
static void put_from(axn_outq *q, uint32_t seq, uint32_t size, ax_id from)
{
    size_t len = axn_hdr_len(from) + size;
    char *p = axn_outq_reserve(&net, q, len);
    assert_non_null(p);
    ax_id z = {0, 0, 1};
    size_t hl = axn_hdr_put(p, size, seq, from, z);
    memset(p + hl, (int)seq, size);
    axn_outq_commit(q, len);
}

/* ... from a local sender (a 24-byte header). */
static void put(axn_outq *q, uint32_t seq, uint32_t size)
{
    ax_id z = {0, 0, 1};
    put_from(q, seq, size, z);
}

static size_t unsent_bytes(axn_outq *q, struct iovec *iov, int *k)
{
    *k = axn_outq_iov(q, iov, 64);
    size_t t = 0;
    for (int i = 0; i < *k; i++)
        t += iov[i].iov_len;
    return t;
}

static uint32_t seen[64], seen_node[64];
static int nseen, nwritten;

static void collect(void *arg, const axn_hdr *h, int written)
{
    (void)arg;
    seen_node[nseen] = h->from.node;
    seen[nseen++] = h->type;
    nwritten += written;
}

static void test_blocks_and_writes(void **state)
{
    (void)state;
    setup_net();
    axn_outq q;
    memset(&q, 0, sizeof q);
    /* Frames of 10000 bytes: several per block, some spanning a boundary
     * would be impossible - each starts a block when it does not fit. */
    for (uint32_t i = 1; i <= 10; i++)
        put(&q, i, 10000 - AXN_HDR);
    assert_int_equal(q.bytes, 100000);
    assert_int_equal(q.unsent, 100000);
    struct iovec iov[64];
    int k;
    assert_int_equal(unsent_bytes(&q, iov, &k), 100000);
    assert_true(k >= (int)(100000 / AXN_BLOCK_SIZE));
    /* A partial write in the middle of frame 3. */
    axn_outq_sent(&q, 25000);
    assert_int_equal(q.written, 25000);
    assert_int_equal(unsent_bytes(&q, iov, &k), 75000);
    assert_int_equal(axn_get32((char *)iov[0].iov_base - 5000), 10000 - AXN_HDR);
    /* The peer confirms frames 1-2. */
    axn_outq_confirm(&net, &q, 20000);
    assert_int_equal(q.bytes, 80000);
    /* It cannot confirm what was not written. */
    axn_outq_confirm(&net, &q, 999999);
    assert_int_equal(q.confirmed, 25000);
    assert_int_equal(q.bytes, 75000);
    /* Reconnect, same session: everything unconfirmed goes again, from
     * the confirmed position (inside frame 3 here, a test-only state). */
    axn_outq_rewind(&q);
    assert_int_equal(q.unsent, 75000);
    nseen = nwritten = 0;
    axn_outq_drop_all(&net, &q, NULL, NULL);
    assert_int_equal(q.bytes, 0);
    teardown_net();
}

static void test_lost_frames(void **state)
{
    (void)state;
    setup_net();
    axn_outq q;
    memset(&q, 0, sizeof q);
    /* 100-byte frames; 3 and 5 from a sender on node 7 (longer header). */
    ax_id far = {7, 1, 1};
    for (uint32_t i = 1; i <= 6; i++) {
        if (i == 3 || i == 5)
            put_from(&q, i, 100 - AXN_HDR_MAX, far);
        else
            put(&q, i, 100 - AXN_HDR);
    }
    axn_outq_sent(&q, 450);           /* frames 1-4 written, 5 half */
    axn_outq_confirm(&net, &q, 200);  /* 1-2 confirmed */
    nseen = nwritten = 0;
    /* A new peer process: 3 and 4 are lost; 5 (partly written) stays. */
    assert_int_equal(axn_outq_drop_written(&net, &q, collect, NULL), 2);
    assert_int_equal(nseen, 2);
    assert_int_equal(seen[0], 3);
    assert_int_equal(seen_node[0], 7);
    assert_int_equal(seen[1], 4);
    assert_int_equal(seen_node[1], 0);
    assert_int_equal(q.bytes, 200);
    q.confirmed = q.written = 0;
    axn_outq_rewind(&q);
    struct iovec iov[4];
    int k;
    assert_int_equal(unsent_bytes(&q, iov, &k), 200);
    assert_int_equal(axn_get32((char *)iov[0].iov_base + 4), 5);
    /* Node removed: 5 and 6 never written. */
    axn_outq_sent(&q, 100);
    nseen = nwritten = 0;
    axn_outq_drop_all(&net, &q, collect, NULL);
    assert_int_equal(nseen, 2);
    assert_int_equal(nwritten, 1); /* frame 5 went out in full this time */
    assert_int_equal(q.bytes, 0);
    assert_null(q.head);
    teardown_net();
}

static void test_reuse(void **state)
{
    (void)state;
    setup_net();
    axn_outq q;
    memset(&q, 0, sizeof q);
    /* Steady traffic: blocks come back from the free list. */
    for (int round = 0; round < 100; round++) {
        for (uint32_t i = 0; i < 300; i++)
            put(&q, i + 1, 24);
        axn_outq_sent(&q, q.unsent);
        axn_outq_confirm(&net, &q, q.written);
        assert_int_equal(q.bytes, 0);
    }
    assert_true(net.nfree_blocks <= 2);
    axn_outq_drop_all(&net, &q, NULL, NULL);
    teardown_net();
}

/* The high-water mark is noted when the queue shrinks, not on every
 * append: at any time the mark is max(hwm, bytes). */
static void test_hwm(void **state)
{
    (void)state;
    setup_net();
    axn_outq q;
    memset(&q, 0, sizeof q);
    const uint64_t f = AXN_HDR + 100;
    put(&q, 1, 100);
    put(&q, 2, 100);
    put(&q, 3, 100);
    assert_int_equal(q.hwm, 0);
    axn_outq_sent(&q, q.unsent);
    axn_outq_confirm(&net, &q, f); /* 3 frames -> 2 */
    assert_int_equal(q.hwm, 3 * f);
    assert_int_equal(q.bytes, 2 * f);
    put(&q, 4, 100);
    put(&q, 5, 100);
    assert_int_equal(q.hwm, 3 * f); /* 4 frames held: the mark is bytes now */
    assert_int_equal(q.bytes, 4 * f);
    nseen = nwritten = 0;
    assert_int_equal(axn_outq_drop_written(&net, &q, collect, NULL), 2);
    assert_int_equal(q.hwm, 4 * f);
    axn_outq_drop_all(&net, &q, NULL, NULL);
    assert_int_equal(q.hwm, 4 * f);
    assert_int_equal(q.bytes, 0);
    teardown_net();
}

/* Append a frame through the open window (axn_route's way); 0 when it
 * has no room. */
static int put_window(axn_outq *q, uint32_t seq, uint32_t size)
{
    size_t len = AXN_HDR + size;
    if (!q->wp || len > (size_t)(q->wend - q->wp))
        return 0;
    ax_id z = {0, 0, 1}, from = {0, 0, 0};
    size_t hl = axn_hdr_put(q->wp, size, seq, from, z);
    memset(q->wp + hl, (int)seq, size);
    q->wp += len;
    return 1;
}

/* The append window: frames written at its cursor count once it is
 * settled, which every other use of the queue does first; it never
 * reaches past its limit or the tail block. */
static void test_window(void **state)
{
    (void)state;
    setup_net();
    axn_outq q;
    memset(&q, 0, sizeof q);
    const uint64_t f = AXN_HDR + 8;
    axn_outq_window(&q, 1000); /* no tail block yet: stays closed */
    assert_null(q.wp);
    assert_int_equal(put_window(&q, 1, 8), 0);
    put(&q, 1, 8);
    axn_outq_window(&q, 3 * f); /* the bound leaves room for three */
    assert_non_null(q.wp);
    assert_int_equal(put_window(&q, 2, 8), 1);
    assert_int_equal(put_window(&q, 3, 8), 1);
    assert_int_equal(put_window(&q, 4, 8), 1);
    assert_int_equal(put_window(&q, 5, 8), 0); /* the limit */
    assert_int_equal(q.bytes, f);              /* not yet counted ... */
    assert_int_equal(axn_outq_bytes(&q), 4 * f); /* ... but held */
    /* Writing settles it: all four frames go out, in order. */
    struct iovec iov[8];
    int k;
    assert_int_equal(unsent_bytes(&q, iov, &k), 4 * f);
    assert_null(q.wp);
    assert_int_equal(q.bytes, 4 * f);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(axn_get32((char *)iov[0].iov_base + i * f + 4), i + 1);
    /* A reserve settles it too: a window frame, then a reserved one. */
    axn_outq_window(&q, 1000);
    assert_int_equal(put_window(&q, 5, 8), 1);
    put(&q, 6, 8);
    assert_null(q.wp);
    assert_int_equal(q.bytes, 6 * f);
    /* So do confirmations and drops (a window frame is a retained frame
     * like any other). */
    axn_outq_sent(&q, q.unsent);
    axn_outq_window(&q, 1000);
    assert_int_equal(put_window(&q, 7, 8), 1);
    axn_outq_confirm(&net, &q, 6 * f);
    assert_null(q.wp);
    assert_int_equal(q.bytes, f);
    axn_outq_window(&q, 1000);
    assert_int_equal(put_window(&q, 8, 8), 1);
    nseen = nwritten = 0;
    axn_outq_drop_all(&net, &q, collect, NULL);
    assert_int_equal(nseen, 2);
    assert_int_equal(seen[0], 7);
    assert_int_equal(seen[1], 8);
    assert_null(q.wp);
    assert_int_equal(q.bytes, 0);
    /* The window ends with the tail block. */
    put(&q, 9, 8);
    axn_outq_window(&q, UINT64_MAX);
    assert_true(q.wend == q.tail->data + q.tail->cap);
    axn_outq_drop_all(&net, &q, NULL, NULL);
    teardown_net();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocks_and_writes),
        cmocka_unit_test(test_lost_frames),
        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_hwm),
        cmocka_unit_test(test_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
