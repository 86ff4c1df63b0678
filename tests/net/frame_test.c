/* frame_test.c - the wire format byte by byte: little-endian fields, the
 * preamble, framing checks, control payloads, HELLO, the AUTH MAC. */
#include "util/testutil.h"

#include "net/handshake.h"

static void test_le_bytes(void **state)
{
    (void)state;
    unsigned char b[12];
    axn_put32(b, 0x11223344u);
    assert_int_equal(b[0], 0x44);
    assert_int_equal(b[3], 0x11);
    axn_put64(b, 0x0102030405060708ull);
    assert_int_equal(b[0], 0x08);
    assert_int_equal(b[7], 0x01);
    assert_int_equal(axn_get64(b), 0x0102030405060708ull);
    ax_id id = {7, 0xABCDEF01u, 3};
    axn_put_id(b, id);
    assert_int_equal(b[0], 7);
    assert_int_equal(b[4], 0x01);
    assert_int_equal(b[7], 0xAB);
    assert_true(ax_id_eq(axn_get_id(b), id));
}

static void test_header(void **state)
{
    (void)state;
    unsigned char b[AXN_HDR_MAX];
    /* A sender on the sending node: 24 bytes, no node words. */
    ax_id from = {0, 2, 3}, to = {4, 5, 6};
    assert_int_equal(axn_hdr_put(b, 1000, 0x42, from, to), AXN_HDR);
    /* The documented layout. */
    assert_int_equal(axn_get32(b), 1000);
    assert_int_equal(axn_get32(b + 4), 0x42);
    assert_int_equal(axn_get32(b + 8), 5);
    assert_int_equal(axn_get32(b + 12), 6);
    assert_int_equal(axn_get32(b + 16), 2);
    assert_int_equal(axn_get32(b + 20), 3);
    assert_int_equal(axn_frame_len(b), AXN_HDR + 1000);
    axn_hdr h;
    axn_hdr_get(b, &h);
    assert_int_equal(h.size, 1000);
    assert_int_equal(h.type, 0x42);
    assert_int_equal(h.len, AXN_HDR);
    ax_id to_here = {0, 5, 6};
    assert_true(ax_id_eq(h.from, from));
    assert_true(ax_id_eq(h.to, to_here)); /* the recipient's node is not sent */
    /* A sender on another node: flagged, its node after the header. */
    ax_id far = {7, 8, 9};
    assert_int_equal(axn_hdr_len(far), AXN_HDR_MAX);
    assert_int_equal(axn_hdr_put(b, 1000, 0x42, far, to), AXN_HDR_MAX);
    assert_int_equal(axn_get32(b), 1000 | AXN_F_NODE);
    assert_int_equal(axn_get32(b + 16), 8);
    assert_int_equal(axn_get32(b + 20), 9);
    assert_int_equal(axn_get32(b + 24), 7);
    assert_int_equal(axn_get32(b + 28), 0); /* padding: headers stay multiples of 8 */
    assert_int_equal(AXN_HDR_MAX % 8, 0);
    assert_int_equal(axn_frame_len(b), AXN_HDR_MAX + 1000);
    axn_hdr_get(b, &h);
    assert_int_equal(h.size, 1000);
    assert_int_equal(h.len, AXN_HDR_MAX);
    assert_true(ax_id_eq(h.from, far));
}

static void test_preamble(void **state)
{
    (void)state;
    unsigned char p[AXN_PREAMBLE_LEN];
    axn_preamble_put(p);
    assert_memory_equal(p, "AXON", 4);
    uint32_t v = 0;
    assert_int_equal(axn_preamble_check(p, &v), AXN_WHY_NONE);
    assert_int_equal(v, AXN_PROTO_VERSION);
    p[4] = 9;
    assert_int_equal(axn_preamble_check(p, &v), AXN_WHY_VERSION);
    assert_int_equal(v, 9);
    p[0] = 'G';
    assert_int_equal(axn_preamble_check(p, &v), AXN_WHY_MAGIC);
    assert_string_equal(axn_why_str(AXN_WHY_MAGIC), "not an axon peer (bad magic)");
    assert_string_equal(axn_why_str((axn_why)99), "unknown reason");
}

static void test_scan(void **state)
{
    (void)state;
    unsigned char b[AXN_HDR_MAX + 10];
    ax_id z = {0, 0, 0};
    axn_hdr_put(b, 10, 5, z, z);
    axn_hdr h;
    assert_int_equal(axn_frame_scan(b, 10, 100, &h), 0);          /* no header yet */
    assert_int_equal(axn_frame_scan(b, AXN_HDR + 9, 100, &h), 0); /* truncated */
    assert_int_equal(axn_frame_scan(b, AXN_HDR + 10, 100, &h), AXN_HDR + 10);
    assert_int_equal(axn_frame_scan(b, AXN_HDR + 10, 9, &h), -(long)AXN_WHY_OVERSIZE);
    axn_hdr_put(b, 10, 0, z, z);
    assert_int_equal(axn_frame_scan(b, sizeof b, 100, &h), -(long)AXN_WHY_MALFORMED);
    /* A huge size is refused from the header alone. */
    axn_hdr_put(b, AXN_SIZE_MASK, 5, z, z);
    assert_int_equal(axn_frame_scan(b, AXN_HDR, 1u << 24, &h), -(long)AXN_WHY_OVERSIZE);
    /* With the sender's node: 4 more header bytes before the payload. */
    ax_id far = {7, 1, 1};
    axn_hdr_put(b, 10, 5, far, z);
    assert_int_equal(axn_frame_scan(b, AXN_HDR + 2, 100, &h), 0); /* node word not there */
    assert_int_equal(h.size, 10);
    assert_int_equal(h.len, AXN_HDR_MAX);
    assert_int_equal(axn_frame_scan(b, AXN_HDR + 10, 100, &h), 0);
    assert_int_equal(axn_frame_scan(b, AXN_HDR_MAX + 10, 100, &h), AXN_HDR_MAX + 10);
    assert_int_equal(h.from.node, 7);
    /* Flagged with node 0 or with data in the padding, or a reserved
     * flag: malformed. */
    axn_put32(b + 28, 1);
    assert_int_equal(axn_frame_scan(b, sizeof b, 100, &h), -(long)AXN_WHY_MALFORMED);
    axn_put32(b + 28, 0);
    axn_put32(b + 24, 0);
    assert_int_equal(axn_frame_scan(b, sizeof b, 100, &h), -(long)AXN_WHY_MALFORMED);
    axn_hdr_put(b, 10, 5, z, z);
    axn_put32(b, 10 | AXN_F_RESERVED);
    assert_int_equal(axn_frame_scan(b, sizeof b, 100, &h), -(long)AXN_WHY_MALFORMED);
}

static void test_control(void **state)
{
    (void)state;
    unsigned char b[64];
    uint64_t rx;
    axn_ack_put(b, 123456789012ull);
    assert_int_equal(axn_ack_get(b, AXN_ACK_LEN, &rx), AXN_WHY_NONE);
    assert_int_equal(rx, 123456789012ull);
    assert_int_equal(axn_ack_get(b, 7, &rx), AXN_WHY_MALFORMED);

    axn_namea a = {99, 0, {3, 4, 5}}, a2;
    axn_namea_put(b, &a);
    assert_int_equal(axn_namea_get(b, AXN_NAMEA_LEN, &a2), AXN_WHY_NONE);
    assert_int_equal(a2.req, 99);
    assert_true(ax_id_eq(a2.id, a.id));
    a.status = AX_ENOENT;
    axn_namea_put(b, &a);
    assert_int_equal(axn_namea_get(b, AXN_NAMEA_LEN, &a2), AXN_WHY_NONE);
    a.status = -3;
    axn_namea_put(b, &a);
    assert_int_equal(axn_namea_get(b, AXN_NAMEA_LEN, &a2), AXN_WHY_MALFORMED);
    a.status = 0;
    a.id = ax_id_nil();
    axn_namea_put(b, &a);
    assert_int_equal(axn_namea_get(b, AXN_NAMEA_LEN, &a2), AXN_WHY_MALFORMED);

    uint64_t req;
    const char *name;
    size_t nlen;
    axn_put64(b, 5);
    memcpy(b + 8, "abc", 3);
    assert_int_equal(axn_nameq_get(b, 11, &req, &name, &nlen), AXN_WHY_NONE);
    assert_int_equal(nlen, 3);
    assert_memory_equal(name, "abc", 3);
    assert_int_equal(axn_nameq_get(b, 8, &req, &name, &nlen), AXN_WHY_MALFORMED);
    b[9] = 0;
    assert_int_equal(axn_nameq_get(b, 11, &req, &name, &nlen), AXN_WHY_MALFORMED);

    ax_id w = {1, 2, 3}, t = {4, 5, 7}, w2, t2;
    axn_mon_put(b, w, t);
    assert_int_equal(axn_mon_get(b, AXN_MON_LEN, &w2, &t2), AXN_WHY_NONE);
    assert_true(ax_id_eq(w, w2) && ax_id_eq(t, t2));
    axn_mon_put(b, ax_id_nil(), t);
    assert_int_equal(axn_mon_get(b, AXN_MON_LEN, &w2, &t2), AXN_WHY_MALFORMED);

    int32_t reason;
    axn_down_put(b, t, AX_REASON_POISON);
    assert_int_equal(axn_down_get(b, AXN_DOWN_LEN, &w2, &reason), AXN_WHY_NONE);
    assert_int_equal(reason, AX_REASON_POISON);
    assert_int_equal(axn_down_get(b, AXN_DOWN_LEN + 1, &w2, &reason), AXN_WHY_MALFORMED);

    unsigned char r[AXN_REFUSE_MAX];
    size_t n = axn_refuse_put(r, AXN_WHY_AUTH, "bad\x01secret");
    char text[64];
    uint32_t why;
    assert_int_equal(axn_refuse_get(r, n, &why, text, sizeof text), AXN_WHY_NONE);
    assert_int_equal(why, AXN_WHY_AUTH);
    assert_string_equal(text, "bad?secret"); /* made printable for logs */
    assert_int_equal(axn_refuse_get(r, n - 1, &why, text, sizeof text), AXN_WHY_MALFORMED);
}

static uint64_t lookup(void *arg, uint32_t id)
{
    (void)arg;
    return id == 10 ? 0xAAAA : id == 11 ? 0xBBBB : 0;
}

static uint32_t reported;
static void report(void *arg, uint32_t id, uint64_t ours, uint64_t theirs)
{
    (void)arg;
    assert_int_equal(id, 11);
    assert_int_equal(ours, 0xBBBB);
    assert_int_equal(theirs, 0xCCCC);
    reported++;
}

static void test_hello(void **state)
{
    (void)state;
    axn_type_hash types[3] = {{10, 0xAAAA}, {11, 0xCCCC}, {12, 0xDDDD}};
    axn_hello h, g;
    memset(&h, 0, sizeof h);
    h.node = 7;
    h.expect = 3;
    h.inc = 0x1234;
    h.peer_inc = 0x5678;
    h.rx = 999;
    h.max_frame = 4096;
    h.flags = AXN_HF_AUTH | AXN_HF_DIALER;
    memset(h.nonce, 0x5A, sizeof h.nonce);
    h.ntypes = 3;
    h.schema = axn_schema_hash(types, 3);
    h.ack_window = 65536;
    unsigned char buf[AXN_HELLO_FIXED + 48];
    assert_int_equal(axn_hello_size(3), sizeof buf);
    axn_hello_put(buf, &h, types);
    assert_int_equal(axn_hello_get(buf, sizeof buf, &g), AXN_WHY_NONE);
    assert_int_equal(g.node, 7);
    assert_int_equal(g.expect, 3);
    assert_int_equal(g.inc, 0x1234);
    assert_int_equal(g.peer_inc, 0x5678);
    assert_int_equal(g.rx, 999);
    assert_int_equal(g.max_frame, 4096);
    assert_int_equal(g.flags, AXN_HF_AUTH | AXN_HF_DIALER);
    assert_int_equal(g.ack_window, 65536);
    assert_memory_equal(g.nonce, h.nonce, AXN_NONCE_LEN);
    assert_int_equal(g.ntypes, 3);
    assert_int_equal(axn_hello_type(&g, 2).id, 12);
    reported = 0;
    assert_int_equal(axn_schema_compare(&g, lookup, NULL, report, NULL), 1);
    assert_int_equal(reported, 1);
    /* Order does not change the combined hash. */
    axn_type_hash rev[3] = {types[2], types[0], types[1]};
    assert_int_equal(axn_schema_hash(rev, 3), h.schema);
    /* Malformed: wrong length, zero node, unknown flags. */
    assert_int_equal(axn_hello_get(buf, sizeof buf - 1, &g), AXN_WHY_MALFORMED);
    assert_int_equal(axn_hello_get(buf, 10, &g), AXN_WHY_MALFORMED);
    h.node = 0;
    axn_hello_put(buf, &h, types);
    assert_int_equal(axn_hello_get(buf, sizeof buf, &g), AXN_WHY_MALFORMED);
    h.node = 7;
    h.flags = 0x80;
    axn_hello_put(buf, &h, types);
    assert_int_equal(axn_hello_get(buf, sizeof buf, &g), AXN_WHY_MALFORMED);
    /* A type count beyond the limit. */
    h.flags = 0;
    axn_hello_put(buf, &h, types);
    axn_put32(buf + 80, AXN_HELLO_MAX_TYPES + 1);
    assert_int_equal(axn_hello_get(buf, sizeof buf, &g), AXN_WHY_MALFORMED);
}

static void test_auth(void **state)
{
    (void)state;
    unsigned char na[AXN_NONCE_LEN], nb[AXN_NONCE_LEN];
    tu_ok(axn_random(na, sizeof na));
    tu_ok(axn_random(nb, sizeof nb));
    assert_memory_not_equal(na, nb, sizeof na);
    unsigned char m1[AXN_MAC_LEN], m2[AXN_MAC_LEN], m3[AXN_MAC_LEN], m4[AXN_MAC_LEN];
    tu_ok(axn_auth_mac("s3cret", 6, na, nb, 1, 2, 77, m1));
    tu_ok(axn_auth_mac("s3cret", 6, na, nb, 1, 2, 77, m2));
    assert_memory_equal(m1, m2, AXN_MAC_LEN);
    assert_int_equal(axn_auth_verify(m1, AXN_MAC_LEN, m2), AXN_WHY_NONE);
    /* Another secret, the other direction, or another incarnation: no. */
    tu_ok(axn_auth_mac("s3creT", 6, na, nb, 1, 2, 77, m3));
    assert_int_equal(axn_auth_verify(m3, AXN_MAC_LEN, m1), AXN_WHY_AUTH);
    tu_ok(axn_auth_mac("s3cret", 6, nb, na, 2, 1, 77, m4));
    assert_int_equal(axn_auth_verify(m4, AXN_MAC_LEN, m1), AXN_WHY_AUTH);
    tu_ok(axn_auth_mac("s3cret", 6, na, nb, 1, 2, 78, m4));
    assert_int_equal(axn_auth_verify(m4, AXN_MAC_LEN, m1), AXN_WHY_AUTH);
    assert_int_equal(axn_auth_verify(m1, AXN_MAC_LEN - 1, m1), AXN_WHY_AUTH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_le_bytes), cmocka_unit_test(test_header),
        cmocka_unit_test(test_preamble), cmocka_unit_test(test_scan),
        cmocka_unit_test(test_control),  cmocka_unit_test(test_hello),
        cmocka_unit_test(test_auth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
