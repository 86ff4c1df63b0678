/* direct_end_test.c - ends and other kinds on the direct path (deliver.c,
 * axi_run_now: a frame of the remembered plain fixed-size type for an idle
 * plain actor is handled in place from a link's input buffer).  Two
 * systems on two loops in one thread, linked over loopback TCP
 * (nettest.h).
 *
 * This file covers a direct handler that ends its actor (ax_stop) or its
 * system (ax_system_shutdown, with and without mail queued, against the
 * same handler run from a mailbox); behaviour actors (a synchronous
 * handler runs in place, an asynchronous one through the mailbox) and
 * coroutine actors (always the mailbox); and a direct handler that removes the
 * link it is being fed from.  Delivery semantics are in
 * direct_test.c; the helpers both share are in direct_util.h.
 *
 * The first frame of a type always takes the general path (it makes the
 * type the remembered one), so every test sends one message first and
 * waits for it: what follows finds the type remembered and the actor idle.
 * Handlers tell a direct run from a mailbox one by is_direct (white-box:
 * the borrowed flag of the current message). */
#include "direct_util.h"

/* What an actor's on_stop saw; the first member of each test's state, so
 * one on_stop serves them all. */
typedef struct stop_note {
    uint64_t stops;
    int stop_reason;
} stop_note;

static void note_stop(void *state, ax_ctx *ctx, int reason)
{
    (void)ctx;
    stop_note *s = state;
    s->stops++;
    s->stop_reason = reason;
}

/* ---- 1. ax_stop in a direct handler ----------------------------------- */

typedef struct stopper {
    stop_note end; /* first: note_stop */
    uint64_t n, direct, last, stop_at, after_stop, stop_direct;
    int rc, stopped;
} stopper;

static void stop_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    stopper *s = state;
    if (s->stopped)
        s->after_stop++;
    s->n++;
    s->direct += (uint64_t)is_direct(ctx);
    s->last = get_u64(msg);
    if (s->last == s->stop_at) {
        s->stop_direct = (uint64_t)is_direct(ctx);
        /* Mail in its own mailbox when it stops: a dead letter. */
        int rc = ax_send(ctx, ax_self(ctx), MSG_SELF, &s->last, 8);
        if (rc)
            s->rc = rc;
        ax_stop(ctx);
        s->stopped = 1;
    }
}

static void test_direct_stop(void **state)
{
    (void)state;
    nt_pair p;
    dl_log dl;
    open_with_dl(&p, &dl);
    stopper s;
    memset(&s, 0, sizeof s);
    s.stop_at = 5;
    ax_spawn_options so;
    memset(&so, 0, sizeof so);
    so.on_stop = note_stop;
    ax_id sid;
    tu_ok(ax_spawn(p.a, stop_recv, &s, &so, &sid));
    nt_sink w;
    ax_id wid = nt_spawn_sink(p.a, &w);
    tu_ok(ax_system_monitor(p.a, wid, sid));
    nt_sink from;
    ax_id from_id = nt_spawn_sink(p.b, &from);
    const uint64_t N = 10;
    send_range(p.b, from_id, nt_remote(sid, 1), NT_MSG_SEQ, 1, 1);
    assert_true(wait_for(&p, &s.n, 1));
    send_range(p.b, from_id, nt_remote(sid, 1), NT_MSG_SEQ, 2, N);
    /* 6..N reach an ended actor: one dead letter each, plus its own mail. */
    const uint64_t want_dl = N - s.stop_at + 1;
    assert_true(wait_for(&p, &dl.n, want_dl));
    assert_true(wait_for(&p, &w.downs, 1));
    nt_spin(&p, 20);
    /* It handled 1..5 and nothing after the stop. */
    assert_int_equal(s.n, s.stop_at);
    assert_int_equal(s.last, s.stop_at);
    assert_int_equal(s.after_stop, 0);
    tu_ok(s.rc);
    assert_int_equal(s.stop_direct, 1); /* the stop came from a direct run */
    assert_int_equal(s.direct, s.stop_at - 1);
    /* Ended once, normally; the local watcher heard of it. */
    assert_int_equal(s.end.stops, 1);
    assert_int_equal(s.end.stop_reason, AX_REASON_NORMAL);
    assert_int_equal(w.downs, 1);
    assert_int_equal(w.last_down.reason, AX_REASON_NORMAL);
    assert_int_equal(w.last_down.who.index, sid.index);
    assert_int_equal(w.last_down.who.cookie, sid.cookie);
    /* The queued self-message and every later frame: stale dead letters. */
    assert_int_equal(dl.n, want_dl);
    assert_int_equal(dl.estale, want_dl);
    assert_int_equal(dl.last.type, NT_MSG_SEQ);
    assert_int_equal(dl.last.to.index, sid.index);
    assert_int_equal(dl.last.to.cookie, sid.cookie);
    assert_int_equal(dl.last.from.node, 2);
    assert_int_equal(dl.last.from.index, from_id.index);
    ax_link_stats st = nt_link_stats(p.a, 2);
    assert_int_equal(st.undeliverable_in, N - s.stop_at);
    assert_int_equal(st.frames_direct, s.direct);
    assert_int_equal(ax_actor_count(p.a), 1); /* the watcher */
    /* The link stays up and carries on: a ping to a fresh echo actor. */
    assert_true(nt_pair_up(&p));
    ax_id echo = nt_spawn_echo(p.a);
    uint64_t v = 99;
    tu_ok(ax_system_send(p.b, from_id, nt_remote(echo, 1), NT_MSG_PING, &v, 8));
    assert_true(wait_for(&p, &from.pongs, 1));
    assert_true(nt_pair_up(&p));
    assert_int_equal(dl.n, want_dl);
    nt_sink_free(&w);
    nt_sink_free(&from);
    nt_pair_close(&p);
}

/* ---- 2. ax_system_shutdown in a direct handler ------------------------ */

typedef struct shutter {
    stop_note end; /* first: note_stop */
    uint64_t n, after, shut_at, shut_direct;
    ax_id other; /* if set, the handler mails it (and itself) before the shutdown */
    int requested, rc;
} shutter;

static void shut_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    shutter *s = state;
    if (s->requested)
        s->after++; /* handled after the shutdown was asked for */
    s->n++;
    if (msg->type == NT_MSG_SEQ && get_u64(msg) == s->shut_at) {
        s->shut_direct = (uint64_t)is_direct(ctx);
        if (!ax_id_is_nil(s->other)) {
            uint64_t v = 0;
            int rc = ax_send(ctx, ax_self(ctx), MSG_SELF, &v, 8);
            if (rc == 0)
                rc = ax_send(ctx, s->other, NT_MSG_SEQ, &v, 8);
            if (rc)
                s->rc = rc;
        }
        ax_system_shutdown(ax_ctx_system(ctx));
        s->requested = 1;
    }
}

static int a_down_seen_by_b(void *arg)
{
    return !nt_node_up(((nt_pair *)arg)->b, 1);
}

/* Run the shutting-down handler on node 1 from frames of node 2 (with_mail:
 * it first queues mail for itself and for another local actor). */
static void shutdown_case(int with_mail)
{
    nt_pair p;
    dl_log dl;
    open_with_dl(&p, &dl);
    shutter s;
    memset(&s, 0, sizeof s);
    s.shut_at = 3;
    nt_sink other;
    if (with_mail)
        s.other = nt_spawn_sink(p.a, &other);
    ax_spawn_options so;
    memset(&so, 0, sizeof so);
    so.on_stop = note_stop;
    ax_id rid;
    tu_ok(ax_spawn(p.a, shut_recv, &s, &so, &rid));
    const uint64_t N = 200;
    send_range(p.b, ax_id_nil(), nt_remote(rid, 1), NT_MSG_SEQ, 1, 1);
    assert_true(wait_for(&p, &s.n, 1));
    send_range(p.b, ax_id_nil(), nt_remote(rid, 1), NT_MSG_SEQ, 2, N);
    assert_true(wait_for(&p, &s.end.stops, 1));
    assert_int_equal(s.shut_direct, 1);
    tu_ok(s.rc);
    assert_int_equal(s.end.stops, 1);
    assert_int_equal(s.end.stop_reason, AX_REASON_SHUTDOWN);
    assert_int_equal(ax_actor_count(p.a), 0);
    assert_int_equal(dl.estale, 0);
    /* The system has ended: sends and spawns are refused. */
    uint64_t v = 1;
    tu_assert_err(ax_system_send(p.a, ax_id_nil(), rid, NT_MSG_SEQ, &v, 8), AX_ECLOSED);
    ax_id x;
    tu_assert_err(ax_spawn(p.a, shut_recv, &s, NULL, &x), AX_ECLOSED);
    /* The peer sees the link go down; both loops keep turning. */
    assert_true(nt_run(&p, a_down_seen_by_b, &p, 5000));
    nt_spin(&p, 20);
    /* As from a dispatch (shutdown_local_control below): the shutdown
     * happens when the handler returns, and no handler - of the
     * frames behind it, of its own mail, of another actor - runs first;
     * the mail it queued is dead-lettered as closed. */
    assert_int_equal(s.n, s.shut_at);
    if (s.after != 0)
        fail_msg("the actor handled %llu message(s) after its direct handler called "
                 "ax_system_shutdown",
                 (unsigned long long)s.after);
    if (with_mail) {
        if (other.n != 0)
            fail_msg("another actor handled %llu message(s) after a direct handler called "
                     "ax_system_shutdown",
                     (unsigned long long)other.n);
        assert_int_equal(dl.eclosed, 2);
        nt_sink_free(&other);
    }
    nt_pair_close(&p); /* the ASan build checks nothing leaked */
}

static void test_direct_shutdown(void **state)
{
    (void)state;
    shutdown_case(0);
}

static void test_direct_shutdown_mail(void **state)
{
    (void)state;
    shutdown_case(1);
}

/* The reference: the same handler run from a mailbox (a local send, one
 * system).  What test_direct_shutdown_mail expects of the direct path. */
static void test_shutdown_local_control(void **state)
{
    (void)state;
    dl_log dl;
    memset(&dl, 0, sizeof dl);
    tu_env e;
    tu_env_open_dl(&e, NULL, NULL, record_dl, &dl);
    nt_register_types(e.sys);
    register_extra(e.sys);
    shutter s;
    memset(&s, 0, sizeof s);
    s.shut_at = 3;
    nt_sink other;
    s.other = nt_spawn_sink(e.sys, &other);
    ax_spawn_options so;
    memset(&so, 0, sizeof so);
    so.on_stop = note_stop;
    ax_id rid;
    tu_ok(ax_spawn(e.sys, shut_recv, &s, &so, &rid));
    send_range(e.sys, ax_id_nil(), rid, NT_MSG_SEQ, 1, 10);
    tu_drain(e.loop, 1000);
    assert_int_equal(s.n, s.shut_at);
    assert_int_equal(s.after, 0);
    assert_int_equal(s.end.stops, 1);
    assert_int_equal(other.n, 0);
    assert_int_equal(ax_actor_count(e.sys), 0);
    nt_sink_free(&other);
    tu_env_close(&e);
}

/* ---- 3. behaviour and coroutine actors ------------------------------- */

typedef struct kind_rcv {
    uint64_t n, next, bad, direct, sleeps;
    ax_id want_sender;
} kind_rcv;

static void kind_note(kind_rcv *k, ax_ctx *ctx, const ax_msg *msg)
{
    if (msg->type != NT_MSG_SEQ || get_u64(msg) != k->next ||
        !ax_id_eq(ax_sender(ctx), k->want_sender))
        k->bad++;
    k->direct += (uint64_t)is_direct(ctx);
    k->next = get_u64(msg) + 1;
    k->n++;
}

static void bhv_seq(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    kind_note(state, ctx, msg);
}

static void bhv_unknown(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)ctx;
    (void)msg;
    ((kind_rcv *)state)->bad++;
}

static void coro_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    kind_rcv *k = state;
    kind_note(k, ctx, msg);
    if (k->n % 16 == 0) {
        /* Wait a loop turn: frames arrive while it is suspended. */
        if (ax_sleep(ctx, 0) == 0)
            k->sleeps++;
        else
            k->bad++;
    }
}

static void test_other_kinds(void **state)
{
    (void)state;
    nt_pair p;
    open_default(&p);
    nt_sink from;
    ax_id from_id = nt_spawn_sink(p.b, &from);
    kind_rcv kb, ka, kc;
    memset(&kb, 0, sizeof kb);
    memset(&ka, 0, sizeof ka);
    memset(&kc, 0, sizeof kc);
    kb.next = ka.next = kc.next = 1;
    kb.want_sender = ka.want_sender = kc.want_sender = nt_remote(from_id, 2);
    ax_handler hs = {NT_MSG_SEQ, bhv_seq, AX_HANDLER_SYNC};
    ax_handler ha = {NT_MSG_SEQ, bhv_seq, AX_HANDLER_ASYNC};
    ax_behavior *bs, *ba;
    tu_ok(ax_behavior_new(p.a, &hs, 1, bhv_unknown, &bs));
    tu_ok(ax_behavior_new(p.a, &ha, 1, bhv_unknown, &ba));
    ax_id bid, aid, cid;
    tu_ok(ax_spawn_behavior(p.a, bs, &kb, NULL, &bid));
    tu_ok(ax_spawn_behavior(p.a, ba, &ka, NULL, &aid));
    tu_ok(ax_spawn_coro(p.a, coro_recv, &kc, NULL, &cid));
    const uint64_t N = 3000;
    /* Warm up each (the type becomes the remembered one), then the rest,
     * interleaved. */
    send_range(p.b, from_id, nt_remote(bid, 1), NT_MSG_SEQ, 1, 1);
    send_range(p.b, from_id, nt_remote(aid, 1), NT_MSG_SEQ, 1, 1);
    send_range(p.b, from_id, nt_remote(cid, 1), NT_MSG_SEQ, 1, 1);
    assert_true(wait_for(&p, &kb.n, 1));
    assert_true(wait_for(&p, &ka.n, 1));
    assert_true(wait_for(&p, &kc.n, 1));
    for (uint64_t v = 2; v <= N; v++) {
        tu_ok(ax_system_send(p.b, from_id, nt_remote(bid, 1), NT_MSG_SEQ, &v, 8));
        tu_ok(ax_system_send(p.b, from_id, nt_remote(aid, 1), NT_MSG_SEQ, &v, 8));
        tu_ok(ax_system_send(p.b, from_id, nt_remote(cid, 1), NT_MSG_SEQ, &v, 8));
    }
    assert_true(wait_for(&p, &kb.n, N));
    assert_true(wait_for(&p, &ka.n, N));
    assert_true(wait_for(&p, &kc.n, N));
    nt_spin(&p, 20);
    const kind_rcv *all[] = {&kb, &ka, &kc};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(all[i]->n, N);
        assert_int_equal(all[i]->next, N + 1);
        assert_int_equal(all[i]->bad, 0);
    }
    /* The synchronous behaviour handler ran in place (not always: a frame
     * that finds the actor's mail queued waits its turn); the others never. */
    assert_true(kb.direct > 0);
    assert_int_equal(ka.direct, 0);
    assert_int_equal(kc.direct, 0);
    assert_int_equal(kc.sleeps, N / 16);
    ax_link_stats st = nt_link_stats(p.a, 2);
    assert_true(st.frames_in >= 3 * N);
    assert_int_equal(st.frames_direct, kb.direct);
    assert_int_equal(st.undeliverable_in, 0);
    nt_sink_free(&from);
    nt_pair_close(&p);
}

/* ---- 4. a direct handler removes the link it is fed from ------------- */

typedef struct remover {
    ax_system *sys;
    uint64_t n, last, bad, remove_at, removed_direct, stale;
    int rc, removed;
} remover;

static void remove_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    remover *r = state;
    uint64_t v = get_u64(msg);
    if (v <= r->last)
        r->bad++; /* never again, never out of order */
    r->last = v;
    r->n++;
    /* Until node 2 dials again (a later turn) there is no link to it: a
     * message now came from the removed link's buffer. */
    ax_link_stats st;
    if (r->removed && ax_node_stats(r->sys, 2, &st) == AX_ENOENT)
        r->stale++;
    if (v == r->remove_at) {
        r->removed_direct = (uint64_t)is_direct(ctx);
        r->rc = ax_node_remove(r->sys, 2);
        r->removed = 1;
    }
}

/* The link is closed while its input loop is running this handler, with
 * more frames behind it in the buffer: the loop stops (no frame of the
 * removed link's buffer runs after it), nothing is read from freed memory
 * (the ASan run), the process goes on. */
static void test_direct_node_remove(void **state)
{
    (void)state;
    nt_pair p;
    open_default(&p);
    nt_sink from;
    ax_id from_id = nt_spawn_sink(p.b, &from);
    remover r;
    memset(&r, 0, sizeof r);
    r.sys = p.a;
    r.remove_at = 10;
    ax_id rid;
    tu_ok(ax_spawn(p.a, remove_recv, &r, NULL, &rid));
    send_range(p.b, from_id, nt_remote(rid, 1), NT_MSG_PING, 1, 1);
    assert_true(wait_for(&p, &r.n, 1));
    send_range(p.b, from_id, nt_remote(rid, 1), NT_MSG_PING, 2, 2000);
    uint64_t ten = 10;
    assert_true(wait_for(&p, &r.last, ten));
    nt_spin(&p, 100);
    tu_ok(r.rc);
    assert_int_equal(r.removed_direct, 1);
    assert_int_equal(r.bad, 0);
    assert_int_equal(r.stale, 0); /* the run stopped with the link */
    assert_true(r.n >= 10 && r.n <= 2000);
    /* (Node 2 still has node 1's address and dials it again: a new link,
     * which may carry the rest.)  Node 1 still works: a local send is
     * handled. */
    uint64_t v = 5000;
    tu_ok(ax_system_send(p.a, ax_id_nil(), rid, NT_MSG_PING, &v, 8));
    assert_true(wait_for(&p, &r.last, 5000));
    nt_sink_free(&from);
    nt_pair_close(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_direct_stop),          cmocka_unit_test(test_direct_shutdown),
        cmocka_unit_test(test_direct_shutdown_mail), cmocka_unit_test(test_shutdown_local_control),
        cmocka_unit_test(test_other_kinds),          cmocka_unit_test(test_direct_node_remove),
    };
    int rc = cmocka_run_group_tests_name("direct_end", tests, NULL, NULL);
    nt_cleanup();
    return rc;
}
