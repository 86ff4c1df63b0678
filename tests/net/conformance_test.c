/* conformance_test.c - one suite, run against every transport (argv[1]:
 * tcp, unix, tls, tls-unix): two systems on two loops in one thread, so a
 * test can freeze one side (a peer that stops reading).  This file holds
 * delivery (order, payloads, outages, flaps, bounds, credentials) and the
 * suite's main; conformance_api.c names, monitors, message hooks and
 * schemas.  Multi-process behaviour (kill -9, restarts) is in
 * multiproc_test.c. */
#include "conformance.h"

#include <time.h>

int got_n(void *arg)
{
    cnt *c = arg;
    return c->s->n >= c->want;
}

int got_pongs(void *arg)
{
    cnt *c = arg;
    return c->s->pongs >= c->want;
}

int got_blobs(void *arg)
{
    cnt *c = arg;
    return c->s->blobs >= c->want;
}

/* A sink on node 1, once the link is up both ways: its id as node 2
 * names it. */
static ax_id sink_on_a(nt_pair *p, nt_sink *sink)
{
    ax_id sid = nt_remote(nt_spawn_sink(p->a, sink), 1);
    assert_true(nt_run(p, nt_pair_up, p, 5000));
    return sid;
}

/* A ping from node 2 to an echo actor on node 1 comes back to its sender. */
static void test_ping(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_linked(&p);
    ax_id echo = nt_spawn_echo(p.a);
    nt_sink sink;
    ax_id sid = nt_spawn_sink(p.b, &sink);
    uint64_t v = 42;
    tu_ok(ax_system_send(p.b, sid, nt_remote(echo, 1), NT_MSG_PING, &v, 8));
    cnt c = {&sink, 1};
    assert_true(nt_run(&p, got_pongs, &c, 5000));
    assert_int_equal(sink.last_sender.node, 1);
    assert_int_equal(sink.last_sender.index, echo.index);
    assert_true(nt_pair_up(&p));
    nt_sink_free(&sink);
    nt_pair_close(&p);
}

/* ax_forward to a remote id: frames keep the original sender and their
 * order, and the forwarded message stays readable until the handler
 * returns, even when the handler sends more in between (the node must not
 * have gone back to the pool).  Both a fixed-size and a varsize type. */
typedef struct fwd_state {
    ax_id to;   /* the sink on the other node */
    ax_id side; /* a local sink the handler also sends to */
    uint64_t bad;
    int rc;
} fwd_state;

static void fwd_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    fwd_state *f = state;
    unsigned char before[64];
    size_t n = msg->size < sizeof before ? msg->size : sizeof before;
    memcpy(before, msg->data, n);
    int rc = ax_forward(ctx, f->to);
    if (rc)
        f->rc = rc;
    uint64_t junk = UINT64_MAX;
    rc = ax_send(ctx, f->side, NT_MSG_SEQ, &junk, 8); /* reuses a free node */
    if (rc)
        f->rc = rc;
    if (memcmp(before, msg->data, n) != 0)
        f->bad++;
}

static void test_forward(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_linked(&p);
    nt_sink sink, side;
    fwd_state f = {nt_remote(nt_spawn_sink(p.a, &sink), 1), nt_spawn_sink(p.b, &side), 0, 0};
    ax_id fid;
    tu_ok(ax_spawn(p.b, fwd_receive, &f, NULL, &fid));
    const uint64_t N = 2000;
    for (uint64_t i = 1; i <= N; i++) {
        tu_ok(ax_system_send(p.b, f.side, fid, NT_MSG_SEQ, &i, 8));
        if (i % 100 == 0) {
            unsigned char blob[40];
            nt_blob_fill(blob, sizeof blob);
            tu_ok(ax_system_send(p.b, f.side, fid, NT_MSG_BLOB, blob, sizeof blob));
        }
    }
    cnt c = {&sink, N};
    assert_true(nt_run(&p, got_n, &c, 20000));
    cnt cb = {&sink, N / 100};
    assert_true(nt_run(&p, got_blobs, &cb, 20000));
    assert_int_equal(f.rc, 0);
    assert_int_equal(f.bad, 0);
    assert_int_equal(sink.n, N);
    assert_true(sink.in_order);
    assert_int_equal(sink.blob_bad, 0);
    /* The original sender, as a global id: the forwarder is not it. */
    assert_int_equal(sink.last_sender.node, 2);
    assert_int_equal(sink.last_sender.index, f.side.index);
    assert_int_equal(sink.last_sender.cookie, f.side.cookie);
    nt_sink_free(&sink);
    nt_sink_free(&side);
    nt_pair_close(&p);
}

/* 50k messages arrive once each, in order. */
static void test_order(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_linked(&p);
    nt_sink sink;
    ax_id sid = nt_remote(nt_spawn_sink(p.a, &sink), 1);
    const uint64_t N = 50000;
    for (uint64_t i = 1; i <= N; i++)
        tu_ok(ax_system_send(p.b, ax_id_nil(), sid, NT_MSG_SEQ, &i, 8));
    cnt c = {&sink, N};
    assert_true(nt_run(&p, got_n, &c, 20000));
    assert_int_equal(sink.n, N);
    assert_true(sink.in_order);
    assert_int_equal(sink.seqs[0], 1);
    ax_link_stats st;
    tu_ok(ax_node_stats(p.b, 1, &st));
    assert_true(st.frames_out >= N);
    assert_int_equal(st.dropped_full, 0);
    /* The receiver confirms within its ack delay: nothing stays
     * unconfirmed but maybe our own last ACK (24 + 8 bytes), which is only
     * confirmed by the peer's next one. */
    nt_spin(&p, 150); /* a few ack delays (20 ms) */
    tu_ok(ax_node_stats(p.b, 1, &st));
    assert_true(st.unconfirmed <= 32);
    assert_true(st.buffered_bytes <= 32);
    nt_sink_free(&sink);
    nt_pair_close(&p);
}

/* Payloads from empty to 1 MiB cross intact. */
static void test_blobs(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_linked(&p);
    nt_sink sink;
    ax_id sid = nt_remote(nt_spawn_sink(p.a, &sink), 1);
    static const size_t sizes[] = {0, 1, 7, 100, 4096, 65000, 70000, 300000, 1u << 20};
    size_t n = sizeof sizes / sizeof sizes[0];
    unsigned char *buf = malloc(1u << 20);
    for (size_t i = 0; i < n; i++) {
        nt_blob_fill(buf, sizes[i]);
        tu_ok(ax_system_send(p.b, ax_id_nil(), sid, NT_MSG_BLOB, buf, sizes[i]));
    }
    free(buf);
    cnt c = {&sink, n};
    assert_true(nt_run(&p, got_blobs, &c, 10000));
    assert_int_equal(sink.blob_bad, 0);
    nt_sink_free(&sink);
    nt_pair_close(&p);
}

/* Sends before the peer exists wait in the buffer and go out, in order,
 * as soon as the link is up - without any later send. */
static void test_outage_flush(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_pair_open_plain(&p, &o);
    /* Stop a's listener: b dials a dead address for a while. */
    tu_ok(ax_serve_stop(p.a, p.listener));
    tu_ok(ax_node_add(p.b, 1, p.addr, &o));
    nt_sink sink;
    ax_id sid = {1, 0, 0};
    const uint64_t N = 1000;
    nt_spin(&p, 100);
    sid = nt_remote(nt_spawn_sink(p.a, &sink), 1);
    for (uint64_t i = 1; i <= N; i++)
        tu_ok(ax_system_send(p.b, ax_id_nil(), sid, NT_MSG_SEQ, &i, 8));
    nt_spin(&p, 100);
    assert_int_equal(sink.n, 0);
    ax_link_stats st;
    tu_ok(ax_node_stats(p.b, 1, &st));
    assert_true(st.connect_failures >= 1);
    assert_true(st.buffered_bytes > 0);
    tu_ok(ax_serve(p.a, p.addr, &o, &p.listener));
    cnt c = {&sink, N};
    assert_true(nt_run(&p, got_n, &c, 10000));
    assert_true(sink.in_order);
    assert_int_equal(sink.seqs[0], 1);
    nt_sink_free(&sink);
    nt_pair_close(&p);
}

static uint64_t dead_letters;
static int last_dl_reason;

static void count_dl(void *arg, const ax_dead_letter *dl)
{
    (void)arg;
    dead_letters++;
    last_dl_reason = dl->reason;
}

/* Past max_buffer, sends fail with AX_ELINKFULL (not AX_EFULL, which is
 * a full mailbox) and are dead letters with that reason. */
static void test_buffer_bound(void **state)
{
    (void)state;
    ax_loop *loop;
    ax_system *sys;
    tu_ok(ax_loop_new(NULL, &loop));
    ax_system_options so;
    memset(&so, 0, sizeof so);
    so.node_id = 2;
    so.on_dead_letter = count_dl;
    tu_ok(ax_system_new(loop, &so, &sys));
    ax_node_set_log(sys, NULL, NULL, -1);
    nt_register_types(sys);
    ax_link_options o;
    nt_options(&o);
    o.max_buffer = 64 * 1024;
    char addr[512];
    nt_serve_addr(addr, sizeof addr);
    if (strcmp(addr, "127.0.0.1:0") == 0)
        snprintf(addr, sizeof addr, "127.0.0.1:1"); /* nothing listens there */
    tu_ok(ax_node_add(sys, 1, addr, &o));
    dead_letters = 0;
    ax_id to = {1, 0, 1};
    uint64_t ok = 0, full = 0;
    for (uint64_t i = 0; i < 10000; i++) {
        int rc = ax_system_send(sys, ax_id_nil(), to, NT_MSG_SEQ, &i, 8);
        if (rc == 0)
            ok++;
        else if (rc == AX_ELINKFULL)
            full++;
        else
            fail_msg("send: %s", ax_errname(rc));
    }
    assert_int_equal(ok, 64 * 1024 / (24 + 8)); /* 24-byte header + 8 bytes */
    assert_int_equal(full, 10000 - ok);
    assert_int_equal(dead_letters, full);
    assert_int_equal(last_dl_reason, AX_ELINKFULL);
    ax_link_stats st;
    tu_ok(ax_node_stats(sys, 1, &st));
    assert_int_equal(st.dropped_full, full);
    assert_true(st.buffered_bytes <= 64 * 1024);
    /* Removing the node dead-letters what waited. */
    tu_ok(ax_node_remove(sys, 1));
    assert_int_equal(dead_letters, 10000);
    assert_int_equal(last_dl_reason, AX_ENOROUTE); /* never written */
    tu_assert_err(ax_system_send(sys, ax_id_nil(), to, NT_MSG_SEQ, &ok, 8), AX_ENOROUTE);
    tu_ok(ax_system_free(sys));
    tu_ok(ax_loop_free(loop));
}

/* A few turns of both loops, as a busy pair of processes would take. */
static void step_both(nt_pair *p)
{
    for (int k = 0; k < 3; k++) {
        ax_loop_step(p->la, 0);
        ax_loop_step(p->lb, 0);
    }
}

/* How a flap test ends: all `total` messages arrived at the sink, in
 * order; node 2's link to node 1 resumed its session and lost nothing. */
static void flaps_survived(nt_pair *p, nt_sink *sink, uint64_t total)
{
    cnt c = {sink, total};
    assert_true(nt_run(p, got_n, &c, 30000));
    nt_spin(p, 50);
    assert_int_equal(sink->n, total);
    assert_true(sink->in_order);
    ax_link_stats st;
    tu_ok(ax_node_stats(p->b, 1, &st));
    assert_true(st.resumed >= 1);
    assert_int_equal(st.lost_unconfirmed, 0);
    assert_int_equal(st.peer_restarts, 0);
}

/* Connections closed under load: the session resumes, nothing is lost or
 * duplicated, order holds. */
static void test_flap(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_linked(&p);
    nt_sink sink;
    ax_id sid = sink_on_a(&p, &sink);
    const uint64_t N = 200000;
    uint64_t next = 1;
    int flaps = 0, up_rounds = 0;
    while (next <= N || flaps < 6) {
        for (int k = 0; k < 1000 && next <= N; k++, next++)
            tu_ok(ax_system_send(p.b, ax_id_nil(), sid, NT_MSG_SEQ, &next, 8));
        step_both(&p);
        up_rounds = nt_pair_up(&p) ? up_rounds + 1 : 0;
        if (up_rounds >= 5 && flaps < 12) {
            up_rounds = 0;
            /* Alternate sides, so both directions of the session resume. */
            tu_ok(ax_node_disconnect(flaps % 2 ? p.a : p.b, flaps % 2 ? 2 : 1));
            flaps++;
        }
    }
    assert_true(flaps >= 5);
    flaps_survived(&p, &sink, N);
    nt_sink_free(&sink);
    nt_pair_close(&p);
}

/* Forwards every message to `to`, counting failed forwards. */
typedef struct fwd_all {
    ax_id to;
    ax_system *sys;
    uint64_t n, failed, cuts;
    int cut_next;
} fwd_all;

static void fwd_all_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    fwd_all *f = state;
    f->n++;
    if (ax_forward(ctx, f->to) != 0)
        f->failed++;
    /* When told, the connection drops right after a forward, inside the
     * dispatch pass: with the window still open. */
    if (f->cut_next && ax_node_disconnect(f->sys, f->to.node) == 0) {
        f->cut_next = 0;
        f->cuts++;
    }
}

/* The same under forwards: they take the link queue's append window while
 * the link is up (and the general path while it is down); a window open
 * when the connection drops (every other cut is the relay's, mid-pass) is
 * settled with the rest, and the session resumes with nothing lost or
 * duplicated, in order. */
static void test_flap_forward(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_linked(&p);
    nt_sink sink;
    ax_id sid = sink_on_a(&p, &sink);
    fwd_all f = {sid, p.b, 0, 0, 0, 0};
    ax_id fid;
    tu_ok(ax_spawn(p.b, fwd_all_recv, &f, NULL, &fid));
    /* At least N messages, and on until six cuts of each kind.  While the
     * link is down the relay's forwards queue in the outage buffer, so
     * they come as a trickle there (a fast build would otherwise fill it
     * during a reconnect back-off); the cuts are bounded in time. */
    const uint64_t N = 100000;
    uint64_t next = 1;
    int outer = 0, up_rounds = 0, turn = 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const time_t deadline = ts.tv_sec + 30;
    while (next <= N || outer < 6 || f.cuts < 6) {
        int burst = nt_pair_up(&p) ? 1000 : 10;
        for (int k = 0; k < burst; k++, next++)
            tu_ok(ax_system_send(p.b, ax_id_nil(), fid, NT_MSG_SEQ, &next, 8));
        step_both(&p);
        up_rounds = nt_pair_up(&p) ? up_rounds + 1 : 0;
        if (up_rounds >= 3 && !f.cut_next && (outer < 6 || f.cuts < 6)) {
            up_rounds = 0;
            /* Node 1 cuts from outside a handler, the relay on node 2
             * from inside one, in turn. */
            if (turn++ % 2) {
                tu_ok(ax_node_disconnect(p.a, 2));
                outer++;
            } else {
                f.cut_next = 1;
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &ts);
        assert_true(ts.tv_sec < deadline); /* (the cuts do come) */
    }
    const uint64_t total = next - 1;
    flaps_survived(&p, &sink, total);
    assert_int_equal(f.n, total);
    assert_int_equal(f.failed, 0);
    assert_true(f.cuts >= 6);
    nt_sink_free(&sink);
    nt_pair_close(&p);
}

/* A peer that stops reading: the sender's buffer stays within its bound
 * (sends fail past it), and once the peer reads again everything that was
 * accepted arrives, in order. */
static void test_slow_reader(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_options(&o);
    o.timeout = AX_SEC(30); /* this test is about the buffer, not the heartbeat */
    ax_link_options ob = o;
    ob.max_buffer = 4u << 20;
    nt_pair_open(&p, 1, &o, &ob);
    nt_sink sink;
    ax_id sid = sink_on_a(&p, &sink);
    unsigned char *buf = malloc(16384);
    nt_blob_fill(buf, 16384);
    uint64_t accepted = 0, refused = 0, hwm = 0;
    for (int round = 0; round < 200; round++) {
        for (int k = 0; k < 50; k++) {
            int rc = ax_system_send(p.b, ax_id_nil(), sid, NT_MSG_BLOB, buf, 16384);
            if (rc == 0)
                accepted++;
            else if (rc == AX_ELINKFULL)
                refused++;
            else
                fail_msg("send: %s", ax_errname(rc));
        }
        ax_loop_step(p.lb, 0); /* only b runs: a does not read */
        ax_link_stats st;
        tu_ok(ax_node_stats(p.b, 1, &st));
        if (st.buffered_bytes > hwm)
            hwm = st.buffered_bytes;
    }
    free(buf);
    assert_true(refused > 0);
    assert_true(hwm <= ob.max_buffer);
    cnt c = {&sink, accepted};
    assert_true(nt_run(&p, got_blobs, &c, 20000));
    assert_int_equal(sink.blobs, accepted);
    assert_int_equal(sink.blob_bad, 0);
    nt_sink_free(&sink);
    nt_pair_close(&p);
}

/* Forwards every message to `to`, noting what each forward returned. */
typedef struct relay {
    ax_id to;
    int rcs[8];
    int n;
} relay;

static void relay_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    relay *r = state;
    int rc = ax_forward(ctx, r->to);
    if (r->n < 8)
        r->rcs[r->n] = rc;
    r->n++;
}

/* A payload above the peer's maximum frame is refused at send time - by
 * a copying send, and by a forward in a turn whose earlier forwards
 * opened the link queue's append window. */
static void test_max_frame(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options oa, ob;
    nt_options(&oa);
    nt_options(&ob);
    oa.max_frame = 1000;
    nt_pair_open(&p, 1, &oa, &ob);
    nt_sink sink;
    ax_id sid = sink_on_a(&p, &sink);
    unsigned char buf[2000];
    nt_blob_fill(buf, 1000);
    tu_ok(ax_system_send(p.b, ax_id_nil(), sid, NT_MSG_BLOB, buf, 1000));
    nt_blob_fill(buf, 2000);
    tu_assert_err(ax_system_send(p.b, ax_id_nil(), sid, NT_MSG_BLOB, buf, 2000), AX_EMSGSIZE);
    cnt c = {&sink, 1};
    assert_true(nt_run(&p, got_blobs, &c, 5000));
    nt_spin(&p, 50);
    assert_int_equal(sink.blobs, 1);
    assert_true(nt_node_up(p.b, 1));
    /* Three forwards in one dispatch pass: 1000 bytes, 2000, 1000. */
    relay r;
    memset(&r, 0, sizeof r);
    r.to = sid;
    ax_id rid;
    tu_ok(ax_spawn(p.b, relay_recv, &r, NULL, &rid));
    const size_t sizes[3] = {1000, 2000, 1000};
    for (int i = 0; i < 3; i++) {
        nt_blob_fill(buf, sizes[i]);
        tu_ok(ax_system_send(p.b, ax_id_nil(), rid, NT_MSG_BLOB, buf, sizes[i]));
    }
    c.want = 3;
    assert_true(nt_run(&p, got_blobs, &c, 5000));
    nt_spin(&p, 50);
    assert_int_equal(r.n, 3);
    tu_ok(r.rcs[0]);
    assert_int_equal(r.rcs[1], AX_EMSGSIZE);
    tu_ok(r.rcs[2]);
    assert_int_equal(sink.blobs, 3);
    assert_int_equal(sink.blob_bad, 0);
    assert_true(nt_node_up(p.b, 1)); /* no oversized frame reached node 1 */
    nt_sink_free(&sink);
    nt_pair_close(&p);
}

/* The wrong secret (or, with TLS, a certificate the CA never signed):
 * no link, nothing delivered, the failure counted on both sides. */
static void test_bad_credentials(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options oa, ob;
    nt_options(&oa);
    nt_options(&ob);
    if (ob.flags & AX_LINK_TLS) {
        ob.tls_cert_file = nt_get_certs()->rogue_cert;
        ob.tls_key_file = nt_get_certs()->rogue_key;
    } else {
        ob.secret = "not-the-secret";
    }
    nt_pair_open(&p, 1, &oa, &ob);
    nt_sink sink;
    ax_id sid = nt_remote(nt_spawn_sink(p.a, &sink), 1);
    uint64_t v = 1;
    tu_ok(ax_system_send(p.b, ax_id_nil(), sid, NT_MSG_SEQ, &v, 8));
    nt_spin(&p, 500);
    assert_int_equal(sink.n, 0);
    assert_false(nt_node_up(p.b, 1));
    ax_link_stats sa, sb;
    tu_ok(ax_node_stats(p.a, 0, &sa));
    tu_ok(ax_node_stats(p.b, 1, &sb));
    assert_true(sa.auth_failures >= 1);
    assert_true(sb.connect_failures >= 1);
    assert_int_equal(sa.connects, 0);
    nt_sink_free(&sink);
    nt_pair_close(&p);
}

int main(int argc, char **argv)
{
    nt_parse_transport(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping),
        cmocka_unit_test(test_forward),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_blobs),
        cmocka_unit_test(test_outage_flush),
        cmocka_unit_test(test_buffer_bound),
        cmocka_unit_test(test_flap),
        cmocka_unit_test(test_flap_forward),
        cmocka_unit_test(test_slow_reader),
        cmocka_unit_test(test_max_frame),
        cmocka_unit_test(test_bad_credentials),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_names_shutdown),
        cmocka_unit_test(test_monitors),
        cmocka_unit_test(test_demonitor),
        cmocka_unit_test(test_schema_mismatch),
        cmocka_unit_test(test_hooks),
    };
    int rc = cmocka_run_group_tests_name(nt_transport_name(), tests, NULL, NULL);
    nt_cleanup();
    return rc;
}
