/* badinput_test.c - bad input to a node process's port (argv[1]: tcp,
 * unix, tls): garbage, a wrong protocol version, a wrong secret, an id
 * conflict, and - after a handshake done by hand - truncated, oversized
 * and malformed frames, an unknown type and a forged axon-internal type;
 * with TLS, an untrusted certificate.  The node must close each such
 * connection (or dead-letter the frame), keep running, keep its other
 * links, and count each in its statistics. */
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "actor/actor_int.h" /* AXI_MSG_ASKDONE, axi_askdone */
#include "mp_util.h"
#include "net/handshake.h"

/* ---- bad input ----------------------------------------------------------- */

static int raw_connect(const char *addr)
{
    int fd;
    if (addr[0] == '/') {
        struct sockaddr_un un;
        memset(&un, 0, sizeof un);
        un.sun_family = AF_UNIX;
        snprintf(un.sun_path, sizeof un.sun_path, "%s", addr);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        assert_int_equal(connect(fd, (struct sockaddr *)&un, sizeof un), 0);
    } else {
        const char *colon = strrchr(addr, ':');
        struct sockaddr_in in;
        memset(&in, 0, sizeof in);
        in.sin_family = AF_INET;
        in.sin_port = htons((uint16_t)atoi(colon + 1));
        in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_int_equal(connect(fd, (struct sockaddr *)&in, sizeof in), 0);
    }
    return fd;
}

static void put_all(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w <= 0)
            return; /* the node may have closed already */
        b += w;
        n -= (size_t)w;
    }
}

/* Read until EOF or error: the node must close on us.  Returns bytes. */
static size_t drain_until_closed(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    struct pollfd pf = {fd, POLLIN, 0};
    for (;;) {
        if (poll(&pf, 1, 5000) <= 0)
            fail_msg("the node did not close the connection");
        char tmp[4096];
        ssize_t r = recv(fd, tmp, sizeof tmp, 0);
        if (r <= 0)
            return got;
        size_t k = (size_t)r < cap - got ? (size_t)r : cap - got;
        memcpy(buf + got, tmp, k);
        got += k;
    }
}

static size_t read_exact(int fd, char *buf, size_t n)
{
    size_t got = 0;
    struct pollfd pf = {fd, POLLIN, 0};
    while (got < n) {
        if (poll(&pf, 1, 5000) <= 0)
            return got;
        ssize_t r = recv(fd, buf + got, n - got, 0);
        if (r <= 0)
            return got;
        got += (size_t)r;
    }
    return got;
}

/* Handshake by hand as node `me` with `secret`; returns the socket (the
 * node has us up when the secret is right). */
static int raw_handshake(const char *addr, uint32_t me, const char *secret, int version)
{
    int fd = raw_connect(addr);
    char pre[AXN_PREAMBLE_LEN];
    axn_preamble_put(pre);
    pre[4] = (char)version;
    axn_hello h;
    memset(&h, 0, sizeof h);
    h.node = me;
    h.expect = 2;
    h.inc = 0x1234567;
    h.max_frame = 1u << 20;
    h.flags = AXN_HF_AUTH | AXN_HF_DIALER;
    tu_ok(axn_random(h.nonce, sizeof h.nonce));
    char out[AXN_PREAMBLE_LEN + AXN_HDR + AXN_HELLO_FIXED];
    memcpy(out, pre, sizeof pre);
    ax_id from = {0, 0, 0}, to = {0, 0, 0};
    axn_hdr_put(out + AXN_PREAMBLE_LEN, AXN_HELLO_FIXED, AXN_T_HELLO, from, to);
    axn_hello_put(out + AXN_PREAMBLE_LEN + AXN_HDR, &h, NULL);
    put_all(fd, out, sizeof out);
    if (version != AXN_PROTO_VERSION)
        return fd;
    char in[AXN_PREAMBLE_LEN + AXN_HDR_MAX] = {0};
    if (read_exact(fd, in, AXN_PREAMBLE_LEN + AXN_HDR) != AXN_PREAMBLE_LEN + AXN_HDR)
        return fd; /* handshake frames never carry a node */
    axn_hdr hh;
    axn_hdr_get(in + AXN_PREAMBLE_LEN, &hh);
    if (hh.type != AXN_T_HELLO || hh.size > 1u << 20)
        return fd;
    char *body = malloc(hh.size);
    read_exact(fd, body, hh.size);
    axn_hello peer;
    assert_int_equal(axn_hello_get(body, hh.size, &peer), AXN_WHY_NONE);
    unsigned char mac[AXN_MAC_LEN];
    tu_ok(axn_auth_mac(secret, strlen(secret), peer.nonce, h.nonce, me, 2, h.inc, mac));
    free(body);
    char auth[AXN_HDR + AXN_MAC_LEN];
    axn_hdr_put(auth, AXN_MAC_LEN, AXN_T_AUTH, from, to);
    memcpy(auth + AXN_HDR, mac, AXN_MAC_LEN);
    put_all(fd, auth, sizeof auth);
    return fd;
}

static void expect_closed(int fd)
{
    char buf[8192];
    drain_until_closed(fd, buf, sizeof buf);
    close(fd);
}

static void test_bad_input(void **state)
{
    (void)state;
    child c2;
    spawn_node(&c2, 2, NULL, NULL);
    link_to(&c2);
    coll col;
    memset(&col, 0, sizeof col);
    ax_id cid;
    tu_ok(ax_spawn(E.sys, coll_recv, &col, NULL, &cid));
    ax_link_stats before = remote_stats(&col, cid);
    int plain = !tls_mode();
    /* 1. Garbage bytes to the listening port. */
    int fd = raw_connect(c2.addr);
    put_all(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
    expect_closed(fd);
    if (plain) {
        /* 2. A wrong protocol version. */
        expect_closed(raw_handshake(c2.addr, 9, SECRET, AXN_PROTO_VERSION + 1));
        /* 3. A wrong shared secret. */
        expect_closed(raw_handshake(c2.addr, 9, "wrong secret", AXN_PROTO_VERSION));
        /* 4. Someone claiming the node's own id. */
        expect_closed(raw_handshake(c2.addr, 2, SECRET, AXN_PROTO_VERSION));
        /* 5. Authenticated, then a truncated frame (then EOF). */
        fd = raw_handshake(c2.addr, 9, SECRET, AXN_PROTO_VERSION);
        char fr[AXN_HDR_MAX + 10];
        ax_id from = {0, 0, 0}, to = {0, 0, 1};
        axn_hdr_put(fr, 100, MP_SEQ, from, to);
        put_all(fd, fr, sizeof fr);
        shutdown(fd, SHUT_WR);
        expect_closed(fd);
        /* 6. An oversized frame. */
        fd = raw_handshake(c2.addr, 9, SECRET, AXN_PROTO_VERSION);
        axn_hdr_put(fr, AXN_SIZE_MASK, MP_SEQ, from, to);
        put_all(fd, fr, AXN_HDR);
        expect_closed(fd);
        /* 7. A malformed frame (type 0). */
        fd = raw_handshake(c2.addr, 9, SECRET, AXN_PROTO_VERSION);
        axn_hdr_put(fr, 0, 0, from, to);
        put_all(fd, fr, AXN_HDR);
        expect_closed(fd);
        /* 7b. A reserved flag in the size word. */
        fd = raw_handshake(c2.addr, 9, SECRET, AXN_PROTO_VERSION);
        axn_hdr_put(fr, 0, MP_SEQ, from, to);
        axn_put32(fr, AXN_F_RESERVED);
        put_all(fd, fr, AXN_HDR);
        expect_closed(fd);
        /* 7c. A sender's node of 0 where a node is flagged. */
        fd = raw_handshake(c2.addr, 9, SECRET, AXN_PROTO_VERSION);
        ax_id far = {5, 1, 1};
        axn_hdr_put(fr, 0, MP_SEQ, far, to);
        axn_put32(fr + AXN_HDR, 0);
        put_all(fd, fr, AXN_HDR_MAX);
        expect_closed(fd);
        /* 8. An unknown message type: a dead letter, not a closed link. */
        fd = raw_handshake(c2.addr, 9, SECRET, AXN_PROTO_VERSION);
        axn_hdr_put(fr, 0, 12345, from, to);
        put_all(fd, fr, AXN_HDR);
        usleep(200 * 1000); /* let it arrive before our close resets the stream */
        close(fd);
        /* 9. A forged ask completion (axon's own type, whose payload holds
         * pointers of the node's process) to a live actor: a dead letter,
         * never run - the node must not follow our pointers. */
        fd = raw_handshake(c2.addr, 9, SECRET, AXN_PROTO_VERSION);
        char ad[AXN_HDR + sizeof(axi_askdone)];
        ax_id echo = resolve("echo", 0);
        ax_id echo_there = {2, echo.index, echo.cookie};
        axn_hdr_put(ad, sizeof(axi_askdone), AXI_MSG_ASKDONE, from, echo_there);
        memset(ad + AXN_HDR, 0x41, sizeof(axi_askdone));
        put_all(fd, ad, sizeof ad);
        usleep(200 * 1000);
        close(fd);
    } else {
        /* An untrusted certificate: this process tries with a rogue one. */
        ax_link_options lo = E.lo;
        lo.tls_cert_file = nt_get_certs()->rogue_cert;
        lo.tls_key_file = nt_get_certs()->rogue_key;
        tu_ok(ax_node_add(E.sys, 3, c2.addr, &lo)); /* dials node 2's port as node 3 */
        run_until(NULL, NULL, 500);
        assert_false(nt_node_up(E.sys, 3));
        tu_ok(ax_node_remove(E.sys, 3));
    }
    run_until(NULL, NULL, 300);
    /* The node is alive, its link to us untouched, and it counted it all. */
    assert_true(nt_node_up(E.sys, 2));
    ax_link_stats after = remote_stats(&col, cid);
    uint64_t refusals = after.proto_refusals - before.proto_refusals;
    uint64_t auth = after.auth_failures - before.auth_failures;
    uint64_t bad = after.bad_frames - before.bad_frames;
    if (plain) {
        assert_int_equal(refusals, 3); /* garbage, version, conflict */
        assert_int_equal(auth, 1);
        assert_int_equal(bad, 5);      /* truncated, oversized, 3 malformed */
        /* the unknown type and the forged completion */
        assert_true(after.undeliverable_in - before.undeliverable_in >= 2);
    } else {
        assert_true(auth >= 1);        /* the rogue certificate */
    }
    uint64_t v = 5;
    col.pongs = 0;
    tu_ok(ax_system_send(E.sys, cid, resolve("echo", 0), MP_PING, &v, 8));
    assert_true(run_until(has_pongs, &col, 5000));
    reap(&c2, SIGTERM);
    tu_ok(ax_node_remove(E.sys, 2));
}

int main(int argc, char **argv)
{
    nt_parse_transport(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_input, env_setup, env_teardown),
    };
    char name[64];
    snprintf(name, sizeof name, "badinput_%s", nt_transport_name());
    int rc = cmocka_run_group_tests_name(name, tests, NULL, NULL);
    nt_cleanup();
    return rc;
}
