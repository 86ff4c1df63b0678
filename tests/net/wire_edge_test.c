/* wire_edge_test.c - edges of the links layer, on every transport (argv[1]:
 * tcp, unix, tls, tls-unix): frames that arrive but cannot be delivered
 * (a fixed-size type of another size, a deserialize hook's error, a full
 * mailbox, an ended actor) are dead letters and leave the link up;
 * heartbeats keep an idle link up and a frozen peer is timed out; a
 * client that never starts its handshake is closed after `timeout`.
 * Address forms and option defaults: options_test.c. */
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

/* ---- helpers -------------------------------------------------------------- */

#define T_WIDE   200u   /* 8 bytes on node 1, 16 on node 2 */
#define T_NARROW 201u   /* 16 bytes on node 1, 8 on node 2 */
#define T_HOOKED 202u   /* u64 with serialize/deserialize hooks */
#define HOOK_BAD 0xBADu /* the value node 1's deserialize hook refuses */

/* The dead letters of node 1, as its hook saw them. */
typedef struct dl_log {
    int n;
    ax_dead_letter d[64];
} dl_log;

static void on_dl(void *arg, const ax_dead_letter *dl)
{
    dl_log *l = arg;
    if (l->n < 64)
        l->d[l->n] = *dl;
    l->n++;
}

/* Node 1's log lines containing `needle`. */
typedef struct log_watch {
    const char *needle;
    int hits;
    int level; /* of the last hit */
    char line[512];
} log_watch;

static void watch_log(void *arg, int level, const char *line)
{
    log_watch *w = arg;
    if (getenv("NT_VERBOSE"))
        fprintf(stderr, "[%d] %s\n", level, line);
    if (w->needle && strstr(line, w->needle)) {
        w->hits++;
        w->level = level;
        snprintf(w->line, sizeof w->line, "%s", line);
    }
}

/* A recorder actor: counts every message, and keeps the sequence numbers
 * (NT_MSG_SEQ) and T_HOOKED values it is given. */
typedef struct rec {
    uint64_t msgs;
    uint64_t seqs, last_seq;
    int seq_order; /* every seq one more than the previous */
    uint64_t blobs;
    uint64_t hooked, hooked_vals[8];
} rec;

static void rec_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)ctx;
    rec *r = state;
    r->msgs++;
    if (msg->type == NT_MSG_SEQ) {
        uint64_t v;
        memcpy(&v, msg->data, 8);
        if (r->seqs == 0)
            r->seq_order = 1;
        else if (v != r->last_seq + 1)
            r->seq_order = 0;
        r->last_seq = v;
        r->seqs++;
    } else if (msg->type == NT_MSG_BLOB) {
        r->blobs++;
    } else if (msg->type == T_HOOKED) {
        if (r->hooked < 8)
            memcpy(&r->hooked_vals[r->hooked], msg->data, 8);
        r->hooked++;
    }
}

static ax_id spawn_rec(ax_system *sys, rec *r, uint32_t mailbox_limit)
{
    memset(r, 0, sizeof *r);
    ax_spawn_options so;
    memset(&so, 0, sizeof so);
    so.mailbox_limit = mailbox_limit;
    ax_id id;
    tu_ok(ax_spawn(sys, rec_recv, r, &so, &id));
    return id;
}

typedef struct rec_want {
    const rec *r;
    uint64_t msgs;
} rec_want;

static int rec_has(void *arg)
{
    const rec_want *w = arg;
    return w->r->msgs >= w->msgs;
}

/* Step until r has received `msgs` messages in all (fails after 5 s). */
static void wait_rec(nt_pair *p, const rec *r, uint64_t msgs)
{
    rec_want w = {r, msgs};
    assert_true(nt_run(p, rec_has, &w, 5000));
}

/* A pair whose node 1 records its dead letters in dl; linked if `link`. */
static void open_pair_dl(nt_pair *p, const ax_link_options *o, dl_log *dl, int link)
{
    ax_system_options so;
    memset(&so, 0, sizeof so);
    so.on_dead_letter = on_dl;
    so.dead_letter_arg = dl;
    memset(dl, 0, sizeof *dl);
    nt_pair_open_with(p, link, o, o, &so);
}

/* The dead letter i of node 1 is one of `type` for `to` (a local id of
 * node 1), with `reason` (0: any error). */
static void assert_dl(const dl_log *dl, int i, uint32_t type, ax_id to, int reason)
{
    assert_true(i < dl->n);
    const ax_dead_letter *d = &dl->d[i];
    assert_int_equal(d->type, type);
    assert_int_equal(d->to.index, to.index);
    assert_int_equal(d->to.cookie, to.cookie);
    if (reason)
        tu_assert_err(d->reason, reason);
    else
        assert_true(d->reason < 0);
}

/* ---- 1. frames that cannot be delivered ----------------------------------- */

/* A registered fixed-size type that arrives with another size (node 2
 * registered it larger or smaller, without layout hashes, so the
 * handshake does not check it): a dead letter on node 1 (AX_EMSGSIZE,
 * undeliverable_in), never handed to the actor; the link stays on its
 * first connection and the messages sent after it arrive. */
static void test_wrong_size(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_options(&o);
    dl_log dl;
    open_pair_dl(&p, &o, &dl, 0);
    tu_ok(ax_msg_register_pod(p.a, T_WIDE, "wide", 8, 8));
    tu_ok(ax_msg_register_pod(p.b, T_WIDE, "wide", 16, 8));
    tu_ok(ax_msg_register_pod(p.a, T_NARROW, "narrow", 16, 8));
    tu_ok(ax_msg_register_pod(p.b, T_NARROW, "narrow", 8, 8));
    tu_ok(ax_node_add(p.b, 1, p.addr, &o));
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    rec r;
    ax_id rid = spawn_rec(p.a, &r, 0);
    ax_id to = nt_remote(rid, 1);
    uint64_t dl0 = nt_dead_letters(p.a);
    uint64_t wide[2] = {7, 8}, narrow = 9;
    nt_send_seq(p.b, to, 1);
    tu_ok(ax_system_send(p.b, ax_id_nil(), to, T_WIDE, wide, sizeof wide));
    tu_ok(ax_system_send(p.b, ax_id_nil(), to, T_NARROW, &narrow, sizeof narrow));
    tu_ok(ax_system_send(p.b, ax_id_nil(), to, T_WIDE, wide, sizeof wide)); /* again */
    nt_send_seq(p.b, to, 2);
    wait_rec(&p, &r, 2);
    nt_spin(&p, 100);
    assert_int_equal(r.msgs, 2); /* only the two seqs */
    assert_int_equal(r.last_seq, 2);
    assert_int_equal(nt_link_stats(p.a, 2).undeliverable_in, 3);
    assert_int_equal(nt_link_stats(p.b, 1).undeliverable_in, 0);
    assert_int_equal(nt_dead_letters(p.a) - dl0, 3);
    assert_int_equal(dl.n, 3);
    assert_dl(&dl, 0, T_WIDE, rid, AX_EMSGSIZE);
    assert_dl(&dl, 1, T_NARROW, rid, AX_EMSGSIZE);
    assert_dl(&dl, 2, T_WIDE, rid, AX_EMSGSIZE);
    nt_assert_link_intact(&p);
    /* Later messages still arrive, in order. */
    for (uint64_t v = 3; v <= 10; v++)
        nt_send_seq(p.b, to, v);
    wait_rec(&p, &r, 10);
    assert_int_equal(r.seqs, 10);
    assert_true(r.seq_order);
    nt_assert_link_intact(&p);
    nt_pair_close(&p);
}

static long hooked_ser(const void *msg, void *buf, size_t cap)
{
    if (cap >= 8)
        memcpy(buf, msg, 8);
    return 8;
}

static int hooked_de(const void *buf, size_t len, void *out)
{
    uint64_t v;
    if (len != 8)
        return AX_EMSGSIZE;
    memcpy(&v, buf, 8);
    if (v == HOOK_BAD)
        return AX_ERANGE;
    memcpy(out, &v, 8);
    return 0;
}

static void register_hooked(ax_system *sys)
{
    ax_msg_type t;
    memset(&t, 0, sizeof t);
    t.id = T_HOOKED;
    t.name = "hooked";
    t.size = 8;
    t.align = 8;
    t.serialize = hooked_ser;
    t.deserialize = hooked_de;
    tu_ok(ax_msg_register(sys, &t));
}

/* A frame whose type's deserialize hook fails on node 1: a dead letter
 * there (undeliverable_in), never delivered; the frames of the same type
 * before and after it that decode are delivered, in order, and the link
 * stays up. */
static void test_decode_error(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_options(&o);
    dl_log dl;
    open_pair_dl(&p, &o, &dl, 0);
    register_hooked(p.a);
    register_hooked(p.b);
    tu_ok(ax_node_add(p.b, 1, p.addr, &o));
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    rec r;
    ax_id rid = spawn_rec(p.a, &r, 0);
    ax_id to = nt_remote(rid, 1);
    uint64_t dl0 = nt_dead_letters(p.a);
    const uint64_t vals[] = {5, HOOK_BAD, 6, HOOK_BAD, 7};
    for (size_t i = 0; i < 5; i++)
        tu_ok(ax_system_send(p.b, ax_id_nil(), to, T_HOOKED, &vals[i], 8));
    nt_send_seq(p.b, to, 1);
    wait_rec(&p, &r, 4);
    nt_spin(&p, 100);
    assert_int_equal(r.msgs, 4);
    assert_int_equal(r.hooked, 3);
    assert_int_equal(r.hooked_vals[0], 5);
    assert_int_equal(r.hooked_vals[1], 6);
    assert_int_equal(r.hooked_vals[2], 7);
    assert_int_equal(r.seqs, 1);
    assert_int_equal(nt_link_stats(p.a, 2).undeliverable_in, 2);
    assert_int_equal(nt_dead_letters(p.a) - dl0, 2);
    assert_int_equal(dl.n, 2);
    assert_dl(&dl, 0, T_HOOKED, rid, 0);
    assert_dl(&dl, 1, T_HOOKED, rid, 0);
    nt_assert_link_intact(&p);
    for (uint64_t v = 2; v <= 5; v++)
        nt_send_seq(p.b, to, v);
    wait_rec(&p, &r, 7);
    assert_true(r.seq_order);
    nt_assert_link_intact(&p);
    nt_pair_close(&p);
}

/* Frames for an actor whose mailbox is at its limit: dead letters on
 * node 1 (AX_EFULL, undeliverable_in) - plain fixed-size messages and
 * varsize ones alike - and once the actor has caught up, later frames
 * reach it; the link stays up.  Node 1's loop is frozen while node 2
 * writes, so every frame is read in one turn, before the dispatch pass
 * empties the mailbox (filled to its limit locally first). */
static void test_full_mailbox(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_options(&o);
    dl_log dl;
    open_pair_dl(&p, &o, &dl, 1);
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    rec r;
    ax_id rid = spawn_rec(p.a, &r, 2);
    ax_id to = nt_remote(rid, 1);
    nt_spin(&p, 50);
    uint64_t dl0 = nt_dead_letters(p.a);
    /* The mailbox at its limit (node 1 does not run meanwhile). */
    nt_send_seq(p.a, rid, 100);
    nt_send_seq(p.a, rid, 101);
    tu_assert_err(ax_system_send(p.a, ax_id_nil(), rid, NT_MSG_SEQ, &(uint64_t){0}, 8), AX_EFULL);
    assert_int_equal(dl.n, 1);
    unsigned char blob[40];
    nt_blob_fill(blob, sizeof blob);
    for (uint64_t v = 1; v <= 3; v++) {
        nt_send_seq(p.b, to, v);
        tu_ok(ax_system_send(p.b, ax_id_nil(), to, NT_MSG_BLOB, blob, sizeof blob));
    }
    nt_run_frozen(&p, 1, 0, NULL, NULL, 100); /* node 2 writes; node 1 is frozen */
    wait_rec(&p, &r, 2);
    nt_spin(&p, 100);
    assert_int_equal(r.msgs, 2); /* the two local ones */
    assert_int_equal(r.seqs, 2);
    assert_int_equal(r.last_seq, 101);
    assert_int_equal(r.blobs, 0);
    assert_int_equal(nt_link_stats(p.a, 2).undeliverable_in, 6);
    assert_int_equal(nt_dead_letters(p.a) - dl0, 7);
    assert_int_equal(dl.n, 7);
    for (int i = 1; i < 7; i++)
        assert_dl(&dl, i, i % 2 ? NT_MSG_SEQ : NT_MSG_BLOB, rid, AX_EFULL);
    nt_assert_link_intact(&p);
    /* The actor has caught up: the next frames reach it. */
    nt_send_seq(p.b, to, 102);
    tu_ok(ax_system_send(p.b, ax_id_nil(), to, NT_MSG_BLOB, blob, sizeof blob));
    wait_rec(&p, &r, 4);
    assert_int_equal(r.last_seq, 102);
    assert_int_equal(r.blobs, 1);
    assert_int_equal(nt_link_stats(p.a, 2).undeliverable_in, 6);
    nt_assert_link_intact(&p);
    nt_pair_close(&p);
}

/* A DOWN from the peer that its watcher cannot take (its mailbox is at
 * its limit) is a dead letter counted in undeliverable_in, like any
 * message that arrives and cannot be delivered; the link stays up. */
static void test_down_full_watcher(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_options(&o);
    dl_log dl;
    open_pair_dl(&p, &o, &dl, 1);
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    rec r;
    ax_id wid = spawn_rec(p.a, &r, 2);
    ax_id target = nt_spawn_echo(p.b);
    tu_ok(ax_system_monitor(p.a, wid, nt_remote(target, 2)));
    nt_spin(&p, 100);
    /* The watcher's mailbox at its limit (node 1 does not run meanwhile). */
    nt_send_seq(p.a, wid, 1);
    nt_send_seq(p.a, wid, 2);
    uint64_t in0 = nt_link_stats(p.a, 2).undeliverable_in;
    tu_ok(ax_system_send(p.b, ax_id_nil(), target, AX_MSG_POISON, NULL, 0));
    nt_run_frozen(&p, 1, 0, NULL, NULL, 100); /* node 2 sends the DOWN */
    wait_rec(&p, &r, 2);
    nt_spin(&p, 100);
    assert_int_equal(r.msgs, 2); /* the two local ones, no DOWN */
    assert_int_equal(nt_link_stats(p.a, 2).undeliverable_in - in0, 1);
    assert_int_equal(dl.n, 1);
    assert_dl(&dl, 0, AX_MSG_DOWN, wid, AX_EFULL);
    nt_assert_link_intact(&p);
    nt_pair_close(&p);
}

/* Frames for an actor that has ended (a stale id): dead letters on node 1
 * (AX_ESTALE, undeliverable_in) - a plain fixed-size type that node 1
 * had just delivered to a live actor (its fast path) and a varsize one -
 * while frames for a live actor in between and after arrive; the link
 * stays up. */
static void test_stale_target(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_options(&o);
    dl_log dl;
    open_pair_dl(&p, &o, &dl, 1);
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    rec live, dead;
    ax_id lid = spawn_rec(p.a, &live, 0);
    ax_id did = spawn_rec(p.a, &dead, 0);
    tu_ok(ax_system_send(p.a, ax_id_nil(), did, AX_MSG_POISON, NULL, 0));
    nt_spin(&p, 50);
    /* It has ended: a local send to it fails as stale. */
    tu_assert_err(ax_system_send(p.a, ax_id_nil(), did, NT_MSG_SEQ, &(uint64_t){0}, 8), AX_ESTALE);
    int dl_before = dl.n;
    uint64_t dl0 = nt_dead_letters(p.a);
    ax_id lto = nt_remote(lid, 1), dto = nt_remote(did, 1);
    unsigned char blob[16];
    nt_blob_fill(blob, sizeof blob);
    nt_send_seq(p.b, lto, 1);
    nt_send_seq(p.b, dto, 50);
    nt_send_seq(p.b, dto, 51);
    tu_ok(ax_system_send(p.b, ax_id_nil(), dto, NT_MSG_BLOB, blob, sizeof blob));
    nt_send_seq(p.b, lto, 2);
    wait_rec(&p, &live, 2);
    nt_spin(&p, 100);
    assert_int_equal(live.msgs, 2);
    assert_true(live.seq_order);
    assert_int_equal(dead.msgs, 0);
    assert_int_equal(nt_link_stats(p.a, 2).undeliverable_in, 3);
    assert_int_equal(nt_dead_letters(p.a) - dl0, 3);
    assert_int_equal(dl.n - dl_before, 3);
    assert_dl(&dl, dl_before, NT_MSG_SEQ, did, AX_ESTALE);
    assert_dl(&dl, dl_before + 1, NT_MSG_SEQ, did, AX_ESTALE);
    assert_dl(&dl, dl_before + 2, NT_MSG_BLOB, did, AX_ESTALE);
    nt_assert_link_intact(&p);
    for (uint64_t v = 3; v <= 6; v++)
        nt_send_seq(p.b, lto, v);
    wait_rec(&p, &live, 6);
    assert_true(live.seq_order);
    nt_assert_link_intact(&p);
    nt_pair_close(&p);
}

/* ---- 2. heartbeats --------------------------------------------------------- */

/* Frames received per side over time: the longest stretch without one. */
typedef struct hb_watch {
    nt_pair *p;
    uint64_t in_a, in_b;
    int64_t at_a, at_b;
    int64_t gap_a, gap_b;
} hb_watch;

static int hb_sample(void *arg)
{
    hb_watch *w = arg;
    int64_t t = nt_now_ms();
    uint64_t fa = nt_link_stats(w->p->a, 2).frames_in, fb = nt_link_stats(w->p->b, 1).frames_in;
    if (fa != w->in_a) {
        if (t - w->at_a > w->gap_a)
            w->gap_a = t - w->at_a;
        w->in_a = fa;
        w->at_a = t;
    }
    if (fb != w->in_b) {
        if (t - w->at_b > w->gap_b)
            w->gap_b = t - w->at_b;
        w->in_b = fb;
        w->at_b = t;
    }
    return 0;
}

/* An idle link (both loops running, no messages) with a 100 ms heartbeat
 * and a 500 ms timeout stays up for more than three timeouts: each side
 * receives the other's heartbeat about every 100 ms (ACK frames, counted
 * in frames_in), no heartbeat timeout, no reconnect. */
static void test_heartbeat_idle(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_options(&o);
    o.timeout = AX_MSEC(500);
    nt_pair_open(&p, 1, &o, &o);
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    nt_spin(&p, 100);
    hb_watch w;
    memset(&w, 0, sizeof w);
    w.p = &p;
    w.in_a = nt_link_stats(p.a, 2).frames_in;
    w.in_b = nt_link_stats(p.b, 1).frames_in;
    const uint64_t a0 = w.in_a, b0 = w.in_b;
    w.at_a = w.at_b = nt_now_ms();
    nt_run(&p, hb_sample, &w, 1700);
    hb_sample(&w);
    int64_t t = nt_now_ms();
    if (t - w.at_a > w.gap_a)
        w.gap_a = t - w.at_a;
    if (t - w.at_b > w.gap_b)
        w.gap_b = t - w.at_b;
    if (getenv("NT_VERBOSE"))
        fprintf(stderr, "heartbeats in 1700 ms: a %llu (gap %lld ms), b %llu (gap %lld ms)\n",
                (unsigned long long)(w.in_a - a0), (long long)w.gap_a,
                (unsigned long long)(w.in_b - b0), (long long)w.gap_b);
    nt_assert_link_intact(&p);
    /* About 17 each; at least one every 200 ms. */
    assert_true(w.in_a - a0 >= 8);
    assert_true(w.in_b - b0 >= 8);
    assert_true(w.gap_a <= 250);
    assert_true(w.gap_b <= 250);
    nt_pair_close(&p);
}

static int b_link_down(void *arg)
{
    nt_pair *p = arg;
    return !nt_node_up(p->b, 1);
}

/* With node 1's loop frozen, node 2 receives nothing: it closes the link
 * once `timeout` (500 ms) has passed without a frame - not before -
 * counts heartbeat_timeouts 1, logs it, and the link comes back once
 * node 1 runs again (messages pass both ways). */
static void test_heartbeat_frozen_peer(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_options(&o);
    o.timeout = AX_MSEC(500);
    nt_pair_open(&p, 1, &o, &o);
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    nt_spin(&p, 150);
    log_watch lw = {"nothing received for", 0, 0, ""};
    ax_node_set_log(p.b, watch_log, &lw, AX_LOG_INFO);
    int64_t t0 = nt_now_ms();
    assert_true(nt_run_frozen(&p, 1, 0, b_link_down, &p, 2000));
    int64_t took = nt_now_ms() - t0;
    /* The last frame from node 1 came at most a heartbeat or two before
     * the freeze. */
    assert_true(took >= 500 - 250);
    assert_true(took <= 1000);
    ax_link_stats sb = nt_link_stats(p.b, 1);
    assert_int_equal(sb.heartbeat_timeouts, 1);
    assert_int_equal(sb.disconnects, 1);
    assert_int_equal(lw.hits, 1);
    assert_int_equal(lw.level, AX_LOG_WARN);
    /* Node 1 runs again: the link comes back and carries messages. */
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    nt_sink sa, sbk;
    ax_id ida = nt_remote(nt_spawn_sink(p.a, &sa), 1);
    ax_id idb = nt_remote(nt_spawn_sink(p.b, &sbk), 2);
    nt_send_seq(p.b, ida, 1);
    nt_send_seq(p.a, idb, 1);
    nt_spin(&p, 200);
    assert_int_equal(sa.n, 1);
    assert_int_equal(sbk.n, 1);
    assert_true(nt_pair_up(&p));
    assert_int_equal(nt_link_stats(p.b, 1).heartbeat_timeouts, 1);
    assert_int_equal(nt_link_stats(p.b, 1).connects, 2);
    nt_sink_free(&sa);
    nt_sink_free(&sbk);
    nt_pair_close(&p);
}

/* ---- 3. handshake timeout ----------------------------------------------- */

/* A raw client socket of the transport (TCP or Unix) connected to addr. */
static int raw_connect(const char *addr)
{
    int fd;
    if (nt_is_unix()) {
        struct sockaddr_un un;
        memset(&un, 0, sizeof un);
        un.sun_family = AF_UNIX;
        snprintf(un.sun_path, sizeof un.sun_path, "%s", addr);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        assert_true(fd >= 0);
        assert_int_equal(connect(fd, (struct sockaddr *)&un, sizeof un), 0);
    } else {
        const char *colon = strrchr(addr, ':');
        assert_non_null(colon);
        struct sockaddr_in in;
        memset(&in, 0, sizeof in);
        in.sin_family = AF_INET;
        in.sin_port = htons((uint16_t)atoi(colon + 1));
        in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(fd >= 0);
        assert_int_equal(connect(fd, (struct sockaddr *)&in, sizeof in), 0);
    }
    return fd;
}

typedef struct raw_peer {
    int fd;
    char got[64];
    size_t n;
} raw_peer;

/* Has the node closed the raw connection (EOF or reset)?  Keeps what it
 * sent before. */
static int raw_closed(void *arg)
{
    raw_peer *r = arg;
    for (;;) {
        char buf[256];
        ssize_t k = recv(r->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (k > 0) {
            size_t take = (size_t)k < sizeof r->got - r->n ? (size_t)k : sizeof r->got - r->n;
            memcpy(r->got + r->n, buf, take);
            r->n += take;
            continue;
        }
        if (k == 0)
            return 1;
        return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    }
}

/* A client that connects to node 1's listener and sends nothing is closed
 * after node 1's `timeout` (300 ms), not before; the failure is counted in
 * the totals' connect_failures (it never had a node id) and logged as a
 * warning.  Over plain sockets node 1 has sent its preamble meanwhile.
 * The established link is unaffected. */
static void test_handshake_timeout(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_options(&o);
    o.timeout = AX_MSEC(300);
    nt_pair_open(&p, 1, &o, &o);
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    log_watch lw = {"handshake not completed in 300 ms", 0, 0, ""};
    ax_node_set_log(p.a, watch_log, &lw, AX_LOG_INFO);
    ax_link_stats before = nt_link_stats(p.a, 0);
    raw_peer r;
    memset(&r, 0, sizeof r);
    int64_t t0 = nt_now_ms();
    r.fd = raw_connect(p.addr);
    assert_true(nt_run(&p, raw_closed, &r, 3000));
    int64_t took = nt_now_ms() - t0;
    close(r.fd);
    assert_true(took >= 290);
    assert_true(took <= 1500);
    if (nt_transport == NT_TCP || nt_transport == NT_UNIX) {
        assert_true(r.n >= 4);
        assert_memory_equal(r.got, "AXON", 4);
    }
    ax_link_stats after = nt_link_stats(p.a, 0);
    assert_int_equal(after.connect_failures - before.connect_failures, 1);
    assert_int_equal(after.auth_failures, before.auth_failures);
    assert_int_equal(after.proto_refusals, before.proto_refusals);
    assert_int_equal(lw.hits, 1);
    assert_int_equal(lw.level, AX_LOG_WARN);
    /* The link of node 2 never noticed. */
    assert_int_equal(nt_link_stats(p.a, 2).connect_failures, 0);
    nt_assert_link_intact(&p);
    nt_pair_close(&p);
}

/* At most AXN_MAX_PENDING (256) accepted connections may be in their
 * handshake at once: more are closed at accept, counted and logged; the
 * established link is untouched, and once the idle ones time out a new
 * peer is accepted again. */
static void test_pending_cap(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_options(&o);
    o.timeout = AX_MSEC(500);
    nt_pair_open(&p, 1, &o, &o);
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    log_watch lw = {"handshakes already pending", 0, 0, ""};
    ax_node_set_log(p.a, watch_log, &lw, AX_LOG_INFO);
    ax_link_stats before = nt_link_stats(p.a, 0);
    enum { N = 300 };
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = raw_connect(p.addr);
        if (i % 32 == 31)
            nt_spin(&p, 5); /* accept as we go (the listen backlog is 128) */
    }
    nt_spin(&p, 100);
    ax_link_stats mid = nt_link_stats(p.a, 0);
    assert_int_equal(mid.connect_failures - before.connect_failures, N - 256);
    assert_int_equal(lw.hits, N - 256);
    assert_int_equal(lw.level, AX_LOG_WARN);
    nt_assert_link_intact(&p);
    /* The idle ones time out; then a real peer is accepted again. */
    nt_spin(&p, 800);
    ax_link_stats after = nt_link_stats(p.a, 0);
    assert_int_equal(after.connect_failures - before.connect_failures, N);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    tu_ok(ax_node_disconnect(p.b, 1));
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    nt_pair_close(&p);
}

/* A connection's frames are decoded AXN_READ_BUDGET (4096) at most per
 * loop turn, the rest waiting in its buffer: a fast peer cannot keep the
 * loop from its other work.  Every frame still arrives, in order. */
static void test_read_budget(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_up(&p);
    nt_sink sink;
    ax_id sid = nt_remote(nt_spawn_sink(p.a, &sink), 1);
    nt_send_seq(p.b, sid, 1); /* the first of its type: the general path */
    nt_spin(&p, 50);
    assert_int_equal(sink.n, 1);
    for (uint64_t v = 2; v <= 6001; v++)
        nt_send_seq(p.b, sid, v);
    nt_run_frozen(&p, 1, 0, NULL, NULL, 100); /* node 2 writes 6,000 */
    ax_loop_step(p.la, 0);
    size_t first = sink.n - 1;
    assert_true(first > 0);
    assert_true(first <= 4096);
    nt_spin(&p, 200);
    assert_int_equal(sink.n, 6001);
    assert_true(sink.in_order);
    nt_sink_free(&sink);
    nt_pair_close(&p);
}

/* Log lines go to the function given to ax_node_set_log up to its
 * max_level: at AX_LOG_WARN the info lines of a link coming up are not
 * passed, a warning is. */
static void test_log_level(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_options(&o);
    o.timeout = AX_MSEC(500);
    nt_pair_open(&p, 0, &o, &o);
    log_watch up = {"up (", 0, 0, ""}, warn = {"nothing received for", 0, 0, ""};
    ax_node_set_log(p.b, watch_log, &up, AX_LOG_WARN);
    tu_ok(ax_node_add(p.b, 1, p.addr, &o));
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    assert_int_equal(up.hits, 0); /* "link to node 1 up (...)" is info */
    ax_node_set_log(p.b, watch_log, &warn, AX_LOG_WARN);
    nt_run_frozen(&p, 1, 0, NULL, NULL, 1200); /* timeout 500 ms */
    assert_int_equal(warn.hits, 1);
    assert_int_equal(warn.level, AX_LOG_WARN);
    nt_pair_close(&p);
}

/* Types without a layout hash, and hashed types only one side has, are
 * not checked at the handshake: the link comes up. */
static void test_schema_unchecked(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_pair_open_plain(&p, &o);
    ax_msg_type t;
    memset(&t, 0, sizeof t);
    t.id = 600; /* no hash, different sizes */
    t.name = "nohash";
    t.size = 8;
    tu_ok(ax_msg_register(p.a, &t));
    t.size = 16;
    tu_ok(ax_msg_register(p.b, &t));
    t.id = 601; /* a hash, on node 2 only */
    t.name = "oneside";
    t.layout_hash = 0x1234;
    tu_ok(ax_msg_register(p.b, &t));
    tu_ok(ax_node_add(p.b, 1, p.addr, &o));
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    assert_int_equal(nt_link_stats(p.a, 0).proto_refusals + nt_link_stats(p.b, 0).proto_refusals,
                     0);
    nt_pair_close(&p);
}

int main(int argc, char **argv)
{
    nt_parse_transport(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrong_size),
        cmocka_unit_test(test_decode_error),
        cmocka_unit_test(test_full_mailbox),
        cmocka_unit_test(test_down_full_watcher),
        cmocka_unit_test(test_stale_target),
        cmocka_unit_test(test_heartbeat_idle),
        cmocka_unit_test(test_heartbeat_frozen_peer),
        cmocka_unit_test(test_handshake_timeout),
        cmocka_unit_test(test_pending_cap),
        cmocka_unit_test(test_read_budget),
        cmocka_unit_test(test_log_level),
        cmocka_unit_test(test_schema_unchecked),
    };
    char name[64];
    snprintf(name, sizeof name, "wire_edge_%s", nt_transport_name());
    int rc = cmocka_run_group_tests_name(name, tests, NULL, NULL);
    nt_cleanup();
    return rc;
}
