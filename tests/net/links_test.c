/* links_test.c - link management, on every transport (argv[1]: tcp, unix,
 * tls, tls-unix): a maximum frame learnt at the handshake applied to what
 * was queued before it; the counters of a removed link kept in the
 * totals; both sides dialing each other at once. */
#include "nettest.h"

#include <signal.h>

static int got_seqs(void *arg)
{
    const nt_sink *s = arg;
    return s->n >= 3 && s->blobs >= 1;
}

static int got_one(void *arg)
{
    return ((const nt_sink *)arg)->n >= 1;
}

/* Node 2 queues messages for node 1 before the link is up, checked
 * against its own maximum frame (16 MiB); node 1 takes at most 1000
 * bytes.  At the handshake the one above that becomes a dead letter
 * (AX_EMSGSIZE, dropped_oversize); the others go out in order, and the
 * link comes up once and stays up (node 1 would close it on an
 * oversized frame, again at every reconnect). */
static void test_max_frame_learnt(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options oa, ob;
    nt_options(&oa);
    nt_options(&ob);
    oa.max_frame = 1000;
    nt_pair_open(&p, 0, &oa, &ob);
    nt_sink sink;
    ax_id sid = nt_remote(nt_spawn_sink(p.a, &sink), 1);
    tu_ok(ax_node_add(p.b, 1, p.addr, &ob));
    uint64_t dl0 = nt_dead_letters(p.b);
    unsigned char blob[4000];
    for (uint64_t i = 1; i <= 3; i++) {
        tu_ok(ax_system_send(p.b, ax_id_nil(), sid, NT_MSG_SEQ, &i, sizeof i));
        size_t n = i == 1 ? 4000 : i == 2 ? 1000 : 0;
        if (n) {
            nt_blob_fill(blob, n);
            tu_ok(ax_system_send(p.b, ax_id_nil(), sid, NT_MSG_BLOB, blob, n));
        }
    }
    assert_false(nt_node_up(p.b, 1)); /* all of it queued before the link */
    assert_true(nt_run(&p, got_seqs, &sink, 5000));
    nt_spin(&p, 300);
    assert_int_equal(sink.n, 3);
    assert_true(sink.in_order);
    assert_int_equal(sink.blobs, 1);
    assert_int_equal(sink.blob_bad, 0);
    ax_link_stats st = nt_link_stats(p.b, 1);
    assert_int_equal(st.dropped_oversize, 1);
    assert_int_equal(st.connects, 1);
    assert_int_equal(nt_link_stats(p.a, 2).bad_frames, 0);
    assert_int_equal(nt_dead_letters(p.b) - dl0, 1);
    assert_true(nt_node_up(p.b, 1));
    /* Sends after the handshake are checked against the peer's limit. */
    tu_assert_err(ax_system_send(p.b, ax_id_nil(), sid, NT_MSG_BLOB, blob, 2000), AX_EMSGSIZE);
    nt_sink_free(&sink);
    nt_pair_close(&p);
}

/* Messages queued for a node that never answers, then the node removed:
 * each a dead letter (AX_ENOROUTE) and counted in dropped_closed, which
 * the totals keep after the link is gone. */
static void test_removed_counts(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_up(&p);
    nt_sink sink;
    ax_id sid = nt_remote(nt_spawn_sink(p.a, &sink), 1);
    uint64_t v = 1;
    tu_ok(ax_system_send(p.b, ax_id_nil(), sid, NT_MSG_SEQ, &v, sizeof v));
    assert_true(nt_run(&p, got_one, &sink, 5000));
    /* Node 1 stops listening and the link goes down: node 2 queues. */
    tu_ok(ax_serve_stop(p.a, p.listener));
    tu_ok(ax_node_remove(p.a, 2));
    nt_spin(&p, 100);
    assert_false(nt_node_up(p.b, 1));
    ax_link_stats before = nt_link_stats(p.b, 0);
    uint64_t dl0 = nt_dead_letters(p.b);
    for (v = 2; v <= 11; v++)
        tu_ok(ax_system_send(p.b, ax_id_nil(), sid, NT_MSG_SEQ, &v, sizeof v));
    tu_ok(ax_node_remove(p.b, 1));
    tu_assert_err(ax_node_stats(p.b, 1, &before), AX_ENOENT);
    ax_link_stats after = nt_link_stats(p.b, 0);
    assert_int_equal(after.dropped_closed, 10);
    assert_int_equal(nt_dead_letters(p.b) - dl0, 10);
    /* The removed link's other counters stay in the totals too. */
    assert_true(after.frames_out >= 11);
    assert_true(after.connects >= 1);
    assert_int_equal(after.state, 0);
    nt_sink_free(&sink);
    nt_pair_close(&p);
}

/* Two nodes that dial each other at once end with one connection, used
 * both ways; the refused one is not counted as a failure. */
static void test_both_dial(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_pair_open_plain(&p, &o);
    char addr_b[512];
    nt_serve_addr(addr_b, sizeof addr_b);
    uint32_t lb;
    tu_ok(ax_serve(p.b, addr_b, &o, &lb));
    char bound_b[512];
    tu_ok(ax_serve_address(p.b, lb, bound_b, sizeof bound_b));
    tu_ok(ax_node_add(p.a, 2, bound_b, &o));
    tu_ok(ax_node_add(p.b, 1, p.addr, &o));
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    nt_spin(&p, 300);
    nt_sink sa, sb;
    ax_id ida = nt_remote(nt_spawn_sink(p.a, &sa), 1), idb = nt_remote(nt_spawn_sink(p.b, &sb), 2);
    for (uint64_t i = 1; i <= 100; i++) {
        tu_ok(ax_system_send(p.b, ax_id_nil(), ida, NT_MSG_SEQ, &i, sizeof i));
        tu_ok(ax_system_send(p.a, ax_id_nil(), idb, NT_MSG_SEQ, &i, sizeof i));
    }
    nt_spin(&p, 300);
    assert_int_equal(sa.n, 100);
    assert_int_equal(sb.n, 100);
    assert_true(sa.in_order && sb.in_order);
    ax_link_stats ta = nt_link_stats(p.a, 0), tb = nt_link_stats(p.b, 0);
    assert_int_equal(ta.state, 1);
    assert_int_equal(tb.state, 1);
    assert_int_equal(ta.connect_failures, 0);
    assert_int_equal(tb.connect_failures, 0);
    assert_int_equal(ta.disconnects + tb.disconnects, 0);
    nt_sink_free(&sa);
    nt_sink_free(&sb);
    nt_pair_close(&p);
}

typedef struct want_n {
    const nt_sink *s;
    size_t n;
} want_n;

static int got_n(void *arg)
{
    const want_n *w = arg;
    return w->s->n >= w->n;
}

/* ax_node_remove flushes first: messages sent in the same turn, before
 * any flush, still reach the peer - in order - ahead of its BYE, and
 * none is counted as dropped. */
static void test_final_flush_on_remove(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_up(&p);
    nt_sink sink;
    ax_id sid = nt_remote(nt_spawn_sink(p.a, &sink), 1);
    nt_spin(&p, 50);
    for (uint64_t v = 1; v <= 1000; v++)
        nt_send_seq(p.b, sid, v);
    tu_ok(ax_node_remove(p.b, 1));
    want_n w = {&sink, 1000};
    assert_true(nt_run(&p, got_n, &w, 5000));
    assert_true(sink.in_order);
    assert_int_equal(nt_link_stats(p.b, 0).dropped_closed, 0);
    nt_sink_free(&sink);
    nt_pair_close(&p);
}

/* A peer that is not the node we dialed (node 2 adds node 3 at node 1's
 * address) is refused: no link, counted in proto_refusals. */
static void test_not_the_node_dialed(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_pair_open_plain(&p, &o);
    tu_ok(ax_node_add(p.b, 3, p.addr, &o));
    nt_spin(&p, 300);
    assert_false(nt_node_up(p.b, 3));
    assert_true(nt_link_stats(p.b, 3).proto_refusals + nt_link_stats(p.a, 0).proto_refusals >= 1);
    assert_int_equal(nt_link_stats(p.b, 3).connects, 0);
    tu_assert_err(ax_node_stats(p.a, 3, &(ax_link_stats){0}), AX_ENOENT);
    nt_pair_close(&p);
}

/* An accepted link has no address: when its connection goes, it waits
 * for the peer, and what is sent to the peer meanwhile waits in its
 * buffer and goes out, in order, once the peer dials again. */
static void test_accepted_link_waits(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_up(&p);
    nt_sink sink;
    ax_id sid = nt_remote(nt_spawn_sink(p.b, &sink), 2);
    /* Node 2 drops its link to node 1 (BYE): node 1's accepted link is
     * down and does not dial (it cannot). */
    tu_ok(ax_node_remove(p.b, 1));
    nt_spin(&p, 200);
    assert_false(nt_node_up(p.a, 2));
    for (uint64_t v = 1; v <= 50; v++)
        nt_send_seq(p.a, sid, v);
    nt_spin(&p, 300);
    assert_int_equal(sink.n, 0);
    ax_link_stats st = nt_link_stats(p.a, 2);
    assert_true(st.buffered_bytes > 0);
    assert_int_equal(st.state, AX_NODE_DOWN);
    /* Node 2 dials again: the buffer goes out. */
    ax_link_options o;
    nt_options(&o);
    tu_ok(ax_node_add(p.b, 1, p.addr, &o));
    want_n w = {&sink, 50};
    assert_true(nt_run(&p, got_n, &w, 5000));
    assert_true(sink.in_order);
    assert_int_equal(sink.seqs[0], 1);
    nt_sink_free(&sink);
    nt_pair_close(&p);
}

/* Authentication variants of docs/nodes.md section 4 (plain transports;
 * with TLS the certificates decide): AX_LINK_INSECURE on both sides links;
 * a side that requires the secret refuses one that offers none, and the
 * other way round (auth_failures, no link). */
static void test_auth_variants(void **state)
{
    (void)state;
    if (nt_transport == NT_TLS || nt_transport == NT_TLS_UNIX)
        return; /* TLS: conformance test_bad_credentials covers certificates */
    ax_link_options insecure, secret;
    memset(&insecure, 0, sizeof insecure);
    insecure.flags = AX_LINK_INSECURE;
    insecure.reconnect_min = AX_MSEC(20);
    insecure.reconnect_max = AX_MSEC(200);
    nt_options(&secret);
    const ax_link_options *cases[3][2] = {
        {&insecure, &insecure}, {&secret, &insecure}, {&insecure, &secret}};
    for (int i = 0; i < 3; i++) {
        nt_pair p;
        nt_pair_open(&p, 1, cases[i][0], cases[i][1]);
        int up = nt_run(&p, nt_pair_up, &p, i == 0 ? 5000 : 300);
        ax_link_stats ta = nt_link_stats(p.a, 0), tb = nt_link_stats(p.b, 0);
        if (i == 0) {
            assert_true(up);
            nt_sink sink;
            nt_send_seq(p.b, nt_remote(nt_spawn_sink(p.a, &sink), 1), 7);
            nt_spin(&p, 100);
            assert_int_equal(sink.n, 1);
            nt_sink_free(&sink);
        } else {
            assert_false(up);
            assert_true(ta.auth_failures + tb.auth_failures >= 1);
            assert_int_equal(ta.connects + tb.connects, 0);
        }
        nt_pair_close(&p);
    }
}

int main(int argc, char **argv)
{
    nt_parse_transport(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_frame_learnt),    cmocka_unit_test(test_removed_counts),
        cmocka_unit_test(test_both_dial),           cmocka_unit_test(test_final_flush_on_remove),
        cmocka_unit_test(test_not_the_node_dialed), cmocka_unit_test(test_accepted_link_waits),
        cmocka_unit_test(test_auth_variants),
    };
    char name[64];
    snprintf(name, sizeof name, "links_%s", nt_transport_name());
    int rc = cmocka_run_group_tests_name(name, tests, NULL, NULL);
    nt_cleanup();
    return rc;
}
