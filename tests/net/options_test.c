/* options_test.c - what ax_serve and ax_node_add accept and what zeroed
 * link options mean, on every transport (argv[1]: tcp, unix, tls,
 * tls-unix): the address forms of docs/nodes.md section 2 (host names,
 * wildcards, IPv6, unix: and relative paths, abstract sockets) each link
 * and carry messages; the defaults of section 8 (max_frame, max_buffer,
 * reconnect, heartbeat) hold. */
#include "nettest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ---- 4. address forms ------------------------------------------------------ */

/* A pair whose node 1 listens only at `serve`; bound receives what
 * ax_serve_address says. */
static void open_at(nt_pair *p, const char *serve, char *bound, size_t cap)
{
    ax_link_options o;
    nt_options(&o);
    nt_pair_open(p, 0, &o, &o);
    tu_ok(ax_serve_stop(p->a, p->listener));
    uint32_t lid;
    tu_ok(ax_serve(p->a, serve, &o, &lid));
    tu_ok(ax_serve_address(p->a, lid, bound, cap));
}

/* Node 2 dials node 1 at `dial`: the link comes up and carries a message
 * each way. */
static void dial_and_ping(nt_pair *p, const char *dial)
{
    ax_link_options o;
    nt_options(&o);
    tu_ok(ax_node_add(p->b, 1, dial, &o));
    if (!nt_run(p, nt_pair_up, p, 5000))
        fail_msg("no link at %s", dial);
    nt_sink sa, sb;
    ax_id ida = nt_remote(nt_spawn_sink(p->a, &sa), 1);
    ax_id idb = nt_remote(nt_spawn_sink(p->b, &sb), 2);
    nt_send_seq(p->b, ida, 1);
    nt_send_seq(p->a, idb, 2);
    nt_spin(p, 100);
    assert_int_equal(sa.n, 1);
    assert_int_equal(sb.n, 1);
    assert_int_equal(sa.seqs[0], 1);
    assert_int_equal(sb.seqs[0], 2);
    nt_sink_free(&sa);
    nt_sink_free(&sb);
}

static const char *port_of(const char *bound)
{
    const char *c = strrchr(bound, ':');
    assert_non_null(c);
    return c + 1;
}

/* TCP forms (tcp and tls transports only): serving at "localhost:0",
 * "127.0.0.1:0", "*:0" and ":0" (both bound to any address), dialing
 * "localhost:PORT" (a host name: looked up on a thread, the link
 * connecting meanwhile) and "127.0.0.1:PORT". */
static void test_address_tcp(void **state)
{
    (void)state;
    if (nt_is_unix())
        return; /* TCP addresses only */
    nt_pair p;
    char bound[512], dial[600];
    ax_link_options o;
    nt_options(&o);

    open_at(&p, "localhost:0", bound, sizeof bound);
    snprintf(dial, sizeof dial, "localhost:%s", port_of(bound));
    dial_and_ping(&p, dial);
    nt_pair_close(&p);

    /* A host name to dial: the link is connecting (not up) when
     * ax_node_add returns, then comes up. */
    open_at(&p, "127.0.0.1:0", bound, sizeof bound);
    assert_true(strncmp(bound, "127.0.0.1:", 10) == 0);
    assert_string_not_equal(port_of(bound), "0"); /* port 0 picked one */
    snprintf(dial, sizeof dial, "localhost:%s", port_of(bound));
    tu_ok(ax_node_add(p.b, 1, dial, &o));
    assert_int_equal(nt_link_stats(p.b, 1).state, AX_NODE_CONNECTING);
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    nt_pair_close(&p);

    /* Any address: the wildcard of IPv4 or IPv6. */
    open_at(&p, "*:0", bound, sizeof bound);
    assert_true(strncmp(bound, "0.0.0.0:", 8) == 0 || strncmp(bound, "[::]:", 5) == 0);
    snprintf(dial, sizeof dial, "127.0.0.1:%s", port_of(bound));
    dial_and_ping(&p, dial);
    nt_pair_close(&p);

    open_at(&p, ":0", bound, sizeof bound);
    assert_true(strncmp(bound, "0.0.0.0:", 8) == 0 || strncmp(bound, "[::]:", 5) == 0);
    snprintf(dial, sizeof dial, "127.0.0.1:%s", port_of(bound));
    dial_and_ping(&p, dial);
    nt_pair_close(&p);
}

static int ipv6_loopback_works(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* "[::1]:0" to serve and "[::1]:PORT" to dial (tcp and tls transports;
 * skipped where this machine has no IPv6 loopback). */
static void test_address_ipv6(void **state)
{
    (void)state;
    if (nt_is_unix())
        return; /* TCP addresses only */
    if (!ipv6_loopback_works())
        skip();
    nt_pair p;
    char bound[512], dial[600];
    open_at(&p, "[::1]:0", bound, sizeof bound);
    assert_true(strncmp(bound, "[::1]:", 6) == 0);
    snprintf(dial, sizeof dial, "[::1]:%s", port_of(bound));
    dial_and_ping(&p, dial);
    nt_pair_close(&p);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static int is_socket_file(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* Unix forms (unix and tls-unix transports only): "unix:PATH" and "/PATH"
 * for the same socket, either way round; relative paths ("./PATH",
 * "unix:PATH" without a slash) taken from the working directory; each
 * socket file removed when its listener stops. */
static void test_address_unix(void **state)
{
    (void)state;
    if (!nt_is_unix())
        return; /* Unix addresses only */
    const char *tmp = nt_tmpdir();
    nt_pair p;
    char path[400], serve[500], bound[512];

    snprintf(path, sizeof path, "%s/we-u1.sock", tmp);
    snprintf(serve, sizeof serve, "unix:%s", path);
    open_at(&p, serve, bound, sizeof bound);
    assert_true(is_socket_file(path));
    dial_and_ping(&p, path);
    nt_pair_close(&p);
    assert_false(exists(path));

    snprintf(path, sizeof path, "%s/we-u2.sock", tmp);
    snprintf(serve, sizeof serve, "unix:%s", path);
    open_at(&p, path, bound, sizeof bound);
    assert_true(is_socket_file(path));
    dial_and_ping(&p, serve);
    nt_pair_close(&p);
    assert_false(exists(path));

    /* Relative to the working directory. */
    char cwd[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(tmp), 0);
    open_at(&p, "./we-rel1.sock", bound, sizeof bound);
    snprintf(path, sizeof path, "%s/we-rel1.sock", tmp);
    assert_true(is_socket_file(path));
    dial_and_ping(&p, "./we-rel1.sock");
    nt_pair_close(&p);
    assert_false(exists(path));

    open_at(&p, "unix:we-rel2.sock", bound, sizeof bound);
    snprintf(path, sizeof path, "%s/we-rel2.sock", tmp);
    assert_true(is_socket_file(path));
    dial_and_ping(&p, "./we-rel2.sock");
    nt_pair_close(&p);
    assert_false(exists(path));
    assert_int_equal(chdir(cwd), 0);
}

/* "@name" (unix and tls-unix transports only): a Linux abstract socket -
 * it links and carries messages, and no file of that name appears. */
static void test_address_abstract(void **state)
{
    (void)state;
    if (!nt_is_unix())
        return; /* Unix addresses only */
    char name[128], bound[512];
    snprintf(name, sizeof name, "@axon-wire-edge-%ld", (long)getpid());
    nt_pair p;
    open_at(&p, name, bound, sizeof bound);
    assert_false(exists(name));
    dial_and_ping(&p, name);
    nt_pair_close(&p);
    assert_false(exists(name));
}

/* ---- 5. option defaults ----------------------------------------------------- */

typedef struct blob_rx {
    uint64_t n, bad;
    uint32_t sizes[8];
} blob_rx;

static void blob_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)ctx;
    blob_rx *b = state;
    if (msg->type != NT_MSG_BLOB)
        return;
    if (b->n < 8)
        b->sizes[b->n] = msg->size;
    if (!nt_blob_ok(msg->data, msg->size))
        b->bad++;
    b->n++;
}

typedef struct blob_want {
    const blob_rx *b;
    uint64_t n;
} blob_want;

static int blobs_in(void *arg)
{
    const blob_want *w = arg;
    return w->b->n >= w->n;
}

/* With max_frame 0 on both sides the limit is 16 MiB (AX_MSG_MAX_SIZE): a
 * payload of exactly 16 MiB goes each way intact, and the link stays up
 * (an oversized frame would close it). */
static void test_default_max_frame(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_auth_only(&o);
    nt_pair_open(&p, 1, &o, &o);
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    blob_rx ra, rb;
    memset(&ra, 0, sizeof ra);
    memset(&rb, 0, sizeof rb);
    ax_id ida, idb;
    tu_ok(ax_spawn(p.a, blob_recv, &ra, NULL, &ida));
    tu_ok(ax_spawn(p.b, blob_recv, &rb, NULL, &idb));
    const size_t big = AX_MSG_MAX_SIZE;
    unsigned char *blob = malloc(big);
    assert_non_null(blob);
    nt_blob_fill(blob, big);
    tu_ok(ax_system_send(p.b, ax_id_nil(), nt_remote(ida, 1), NT_MSG_BLOB, blob, big));
    tu_ok(ax_system_send(p.a, ax_id_nil(), nt_remote(idb, 2), NT_MSG_BLOB, blob, big));
    free(blob);
    blob_want wa = {&ra, 1}, wb = {&rb, 1};
    assert_true(nt_run(&p, blobs_in, &wa, 10000));
    assert_true(nt_run(&p, blobs_in, &wb, 10000));
    assert_int_equal(ra.sizes[0], big);
    assert_int_equal(rb.sizes[0], big);
    assert_int_equal(ra.bad + rb.bad, 0);
    nt_assert_link_intact(&p);
    nt_pair_close(&p);
}

/* With max_buffer 0 the link's queue holds 64 MiB: while the link is not
 * up yet, sends of exactly 64 MiB of frames (24-byte headers included)
 * are accepted and one byte more is refused (AX_ELINKFULL, dropped_full);
 * once the link is up everything accepted arrives intact, in order. */
static void test_default_max_buffer(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_auth_only(&o);
    nt_pair_open(&p, 0, &o, &o);
    blob_rx ra;
    memset(&ra, 0, sizeof ra);
    ax_id ida;
    tu_ok(ax_spawn(p.a, blob_recv, &ra, NULL, &ida));
    ax_id to = nt_remote(ida, 1);
    tu_ok(ax_node_add(p.b, 1, p.addr, &o)); /* no loop runs until all is queued */
    const uint64_t limit = (uint64_t)64 << 20, hdr = 24;
    const size_t big = AX_MSG_MAX_SIZE;
    unsigned char *blob = malloc(big);
    assert_non_null(blob);
    uint64_t queued = 0;
    for (int i = 0; i < 3; i++) {
        nt_blob_fill(blob, big);
        tu_ok(ax_system_send(p.b, ax_id_nil(), to, NT_MSG_BLOB, blob, big));
        queued += hdr + big;
    }
    size_t last = (size_t)(limit - queued - hdr); /* fills the queue exactly */
    nt_blob_fill(blob, last + 1);
    tu_assert_err(ax_system_send(p.b, ax_id_nil(), to, NT_MSG_BLOB, blob, last + 1), AX_ELINKFULL);
    nt_blob_fill(blob, last);
    tu_ok(ax_system_send(p.b, ax_id_nil(), to, NT_MSG_BLOB, blob, last));
    free(blob);
    ax_link_stats sb = nt_link_stats(p.b, 1);
    assert_int_not_equal(sb.state, AX_NODE_UP);
    assert_int_equal(sb.buffered_bytes, limit);
    assert_int_equal(sb.dropped_full, 1);
    tu_assert_err(ax_system_send(p.b, ax_id_nil(), to, NT_MSG_SEQ, &(uint64_t){1}, 8),
                  AX_ELINKFULL);
    assert_int_equal(nt_link_stats(p.b, 1).dropped_full, 2);
    blob_want w = {&ra, 4};
    assert_true(nt_run(&p, blobs_in, &w, 15000));
    assert_int_equal(ra.n, 4);
    assert_int_equal(ra.bad, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ra.sizes[i], big);
    assert_int_equal(ra.sizes[3], last);
    nt_assert_link_intact(&p);
    nt_pair_close(&p);
}

/* With reconnect_min 0 the first redial after a lost connection waits
 * 1 s +-20 %: after ax_node_disconnect the link is still down at 750 ms
 * and up again by 1.5 s. */
static void test_default_reconnect(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_auth_only(&o);
    nt_pair_open(&p, 1, &o, &o);
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    nt_spin(&p, 50);
    int64_t t0 = nt_now_ms();
    tu_ok(ax_node_disconnect(p.b, 1));
    assert_false(nt_run(&p, nt_pair_up, &p, 750));
    assert_true(nt_run(&p, nt_pair_up, &p, 2000));
    int64_t took = nt_now_ms() - t0;
    assert_true(took >= 780);
    assert_true(took <= 1500);
    ax_link_stats sb = nt_link_stats(p.b, 1);
    assert_int_equal(sb.connects, 2);
    assert_int_equal(sb.connect_failures, 0);
    nt_pair_close(&p);
}

/* With heartbeat and timeout 0 an idle link sends a heartbeat about every
 * second (1 s) and stays up: over 2.3 s each side receives one to three
 * ACK frames (not the ~20 of a 100 ms heartbeat, not none). */
static void test_default_heartbeat(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_auth_only(&o);
    nt_pair_open(&p, 1, &o, &o);
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    nt_spin(&p, 50);
    uint64_t a0 = nt_link_stats(p.a, 2).frames_in, b0 = nt_link_stats(p.b, 1).frames_in;
    nt_spin(&p, 2300);
    uint64_t da = nt_link_stats(p.a, 2).frames_in - a0, db = nt_link_stats(p.b, 1).frames_in - b0;
    if (getenv("NT_VERBOSE"))
        fprintf(stderr, "default heartbeats in 2.3 s: a %llu, b %llu\n", (unsigned long long)da,
                (unsigned long long)db);
    assert_true(da >= 1 && da <= 3);
    assert_true(db >= 1 && db <= 3);
    nt_assert_link_intact(&p);
    nt_pair_close(&p);
}

/* Failed dials of node 2 to node 9, with the time each was counted. */
typedef struct dials {
    nt_pair *p;
    int n;
    int64_t at[8];
} dials;

static int eight_dials(void *arg)
{
    dials *d = arg;
    uint64_t f = nt_link_stats(d->p->b, 9).connect_failures;
    while ((uint64_t)d->n < f && d->n < 8)
        d->at[d->n++] = nt_now_ms();
    return d->n == 8;
}

/* Back-off (docs/nodes.md section 7): after a failed dial the next waits
 * reconnect_min, and each further failure doubles the wait up to
 * reconnect_max, each wait +-20%.  With 50 and 400 ms, dials to an
 * address nobody serves are about 50, 100, 200, 400, 400, 400 ms apart. */
static void test_backoff(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_options(&o);
    o.reconnect_min = AX_MSEC(50);
    o.reconnect_max = AX_MSEC(400);
    nt_pair_open(&p, 0, &o, &o);
    char nowhere[512];
    nt_serve_addr(nowhere, sizeof nowhere);
    uint32_t lid;
    tu_ok(ax_serve(p.a, nowhere, &o, &lid));
    tu_ok(ax_serve_address(p.a, lid, nowhere, sizeof nowhere));
    tu_ok(ax_serve_stop(p.a, lid)); /* nobody listens there now */
    dials d = {&p, 0, {0}};
    tu_ok(ax_node_add(p.b, 9, nowhere, &o));
    assert_true(nt_run(&p, eight_dials, &d, 5000));
    static const int64_t want[7] = {50, 100, 200, 400, 400, 400, 400};
    for (int i = 0; i < 7; i++) {
        int64_t gap = d.at[i + 1] - d.at[i];
        if (getenv("NT_VERBOSE"))
            fprintf(stderr, "wait %d: %lld ms (want %lld +-20%%)\n", i + 1, (long long)gap,
                    (long long)want[i]);
        assert_true(gap >= want[i] * 8 / 10 - 5);
        assert_true(gap <= want[i] * 12 / 10 + 40);
    }
    /* The first wait is reconnect_min, not twice it (60 ms at most, and
     * 20 ms for the loop). */
    assert_true(d.at[1] - d.at[0] <= 80);
    assert_false(nt_node_up(p.b, 9));
    nt_pair_close(&p);
}

int main(int argc, char **argv)
{
    nt_parse_transport(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_address_tcp),       cmocka_unit_test(test_address_ipv6),
        cmocka_unit_test(test_address_unix),      cmocka_unit_test(test_address_abstract),
        cmocka_unit_test(test_default_max_frame), cmocka_unit_test(test_default_max_buffer),
        cmocka_unit_test(test_default_reconnect), cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_default_heartbeat),
    };
    char name[64];
    snprintf(name, sizeof name, "options_%s", nt_transport_name());
    int rc = cmocka_run_group_tests_name(name, tests, NULL, NULL);
    nt_cleanup();
    return rc;
}
