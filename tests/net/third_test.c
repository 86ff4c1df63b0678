/* third_test.c - three nodes on three loops in one thread, over every
 * transport (argv[1]: tcp, unix, tls, tls-unix).  A message that node 2
 * sends to a forwarder on node 1 keeps its sender when it is forwarded to
 * node 3: that frame names the sender's node (wire.h: the long header),
 * node 3 sees node 2's actor as the sender and its replies go straight to
 * node 2 over their own link.  Node 3 handles those frames in place in its
 * input buffer (the long header keeps 8-byte payloads aligned). */
#include "direct_util.h"

#include <signal.h>
#include <time.h>

typedef struct trio {
    nt_pair p; /* node 1 (a) serves, node 2 (b) links to it */
    ax_loop *lc;
    ax_system *c; /* node 3: links to node 1 and node 2 */
    char baddr[512];
} trio;

static int all_up(const trio *t)
{
    return nt_node_up(t->p.a, 2) && nt_node_up(t->p.b, 1) && nt_node_up(t->c, 1) &&
           nt_node_up(t->c, 2) && nt_node_up(t->p.a, 3) && nt_node_up(t->p.b, 3);
}

/* Step the three loops (no waiting) until *v reaches want (v NULL: until
 * all six link ends are up); 1 if it did within 10 s. */
static int run3(trio *t, const uint64_t *v, uint64_t want)
{
    const int64_t end = nt_now_ms() + 10000;
    while (!(v ? *v >= want : all_up(t))) {
        if (nt_now_ms() > end)
            return 0;
        ax_loop_step(t->p.la, 0);
        ax_loop_step(t->p.lb, 0);
        ax_loop_step(t->lc, 0);
    }
    return 1;
}

static void trio_open(trio *t)
{
    memset(t, 0, sizeof *t);
    ax_link_options o;
    nt_options(&o);
    nt_pair_open(&t->p, 1, &o, &o);
    register_extra(t->p.a);
    register_extra(t->p.b);
    char addr[512];
    uint32_t lid;
    nt_serve_addr(addr, sizeof addr);
    tu_ok(ax_serve(t->p.b, addr, &o, &lid));
    tu_ok(ax_serve_address(t->p.b, lid, t->baddr, sizeof t->baddr));
    ax_loop_options lo = {.backend = tu_backend, .allocator = NULL};
    tu_ok(ax_loop_new(&lo, &t->lc));
    ax_system_options so;
    memset(&so, 0, sizeof so);
    so.node_id = 3;
    tu_ok(ax_system_new(t->lc, &so, &t->c));
    ax_node_set_log(t->c, NULL, NULL, -1);
    nt_register_types(t->c);
    register_extra(t->c);
    tu_ok(ax_node_add(t->c, 1, t->p.addr, &o));
    tu_ok(ax_node_add(t->c, 2, t->baddr, &o));
    assert_true(run3(t, NULL, 0));
}

static void trio_close(trio *t)
{
    tu_ok(ax_system_free(t->c));
    tu_ok(ax_loop_free(t->lc));
    nt_pair_close(&t->p);
}

/* Node 1's forwarder: every message goes on to `to`, sender kept. */
static void fwd_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    const ax_id *to = state;
    tu_ok(ax_forward(ctx, *to));
}

static void test_third_node_sender(void **state)
{
    (void)state;
    trio t;
    trio_open(&t);
    nt_sink src, dst;
    ax_id src_id = nt_spawn_sink(t.p.b, &src); /* node 2: the sender */
    ax_id dst_id = nt_spawn_sink(t.c, &dst);   /* node 3: a sink */
    ax_id echo_id = nt_spawn_echo(t.c);        /* node 3: replies PONG */
    ax_id to_dst = nt_remote(dst_id, 3), to_echo = nt_remote(echo_id, 3);
    ax_id f1, f2;
    tu_ok(ax_spawn(t.p.a, fwd_recv, &to_dst, NULL, &f1));
    tu_ok(ax_spawn(t.p.a, fwd_recv, &to_echo, NULL, &f2));
    const uint64_t N = 3000;
    /* Sequence numbers through node 1 to node 3's sink: all, in order,
     * from node 2's actor.  The first alone, so that the rest find the
     * sink idle and the type known (the in-place path). */
    send_range(t.p.b, src_id, nt_remote(f1, 1), NT_MSG_SEQ, 1, 1);
    assert_true(run3(&t, &dst.n, 1));
    send_range(t.p.b, src_id, nt_remote(f1, 1), NT_MSG_SEQ, 2, N);
    assert_true(run3(&t, &dst.n, N));
    assert_int_equal(dst.n, N);
    assert_true(dst.in_order);
    assert_int_equal(dst.seqs[0], 1);
    assert_true(ax_id_eq(dst.last_sender, nt_remote(src_id, 2)));
    /* Pings through node 1 to node 3's echo: the pongs come back to the
     * sender on node 2 straight from node 3. */
    ax_link_stats c2_before = nt_link_stats(t.c, 2);
    send_range(t.p.b, src_id, nt_remote(f2, 1), NT_MSG_PING, 1, N);
    assert_true(run3(&t, &src.pongs, N));
    assert_int_equal(src.pongs, N);
    assert_true(ax_id_eq(src.last_sender, nt_remote(echo_id, 3)));
    assert_true(nt_link_stats(t.c, 2).frames_out - c2_before.frames_out >= N);
    /* Node 3 received every forwarded frame from node 1, and ran some
     * of them in place (aligned payloads behind the long header). */
    ax_link_stats c1 = nt_link_stats(t.c, 1);
    assert_true(c1.frames_in >= 2 * N);
    assert_true(c1.frames_direct > 0);
    assert_int_equal(c1.undeliverable_in, 0);
    assert_int_equal(nt_link_stats(t.p.b, 3).undeliverable_in, 0);
    nt_sink_free(&src);
    nt_sink_free(&dst);
    trio_close(&t);
}

int main(int argc, char **argv)
{
    nt_parse_transport(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_third_node_sender),
    };
    char name[64];
    snprintf(name, sizeof name, "third_%s", nt_transport_name());
    int rc = cmocka_run_group_tests_name(name, tests, NULL, NULL);
    nt_cleanup();
    return rc;
}
