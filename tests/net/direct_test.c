/* direct_test.c - handlers run straight from a link's input buffer
 * (deliver.c, axi_run_now): a frame of the remembered plain fixed-size
 * type for an idle plain actor is handled in place, with a borrowed
 * header, instead of being copied into a node and queued.  Two systems on
 * two loops in one thread, linked over loopback TCP (nettest.h).
 *
 * This file covers delivery semantics: payload, sender and reply; order
 * across the direct and the mailbox path; forwarding a borrowed message;
 * payloads whose frames are not multiples of 8; runs of frames for one
 * actor among frames for another.  Ends of actors and
 * systems in a direct handler, and actors of other kinds, are in
 * direct_end_test.c; the helpers both share are in direct_util.h.
 *
 * The first frame of a type always takes the general path (it makes the
 * type the remembered one), so every test sends one message first and
 * waits for it: what follows finds the type remembered and the actor idle.
 *
 * Handlers tell a direct run from a mailbox one by the borrowed flag of
 * the current message (is_direct, white-box: actor_int.h, msg_int.h), so
 * the tests can check both that the direct path ran and that the stat
 * counts it. */
#include "direct_util.h"

/* ---- 1. payload, sender and reply ------------------------------------ */

typedef struct replier {
    uint64_t n, next, bad, bad_sender, direct;
    ax_id want_sender;
    int rc;
} replier;

static void reply_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    replier *r = state;
    if (msg->type != NT_MSG_PING || msg->size != 8) {
        r->bad++;
        return;
    }
    r->direct += (uint64_t)is_direct(ctx);
    uint64_t v = get_u64(msg);
    if (v != r->next)
        r->bad++;
    r->next = v + 1;
    r->n++;
    if (!ax_id_eq(ax_sender(ctx), r->want_sender))
        r->bad_sender++;
    int rc = ax_reply(ctx, NT_MSG_SEQ, &v, 8); /* the sink on b checks the order */
    if (rc)
        r->rc = rc;
}

/* Messages from node 2 to an idle plain actor on node 1: handled with the
 * right payload and sender, and its replies reach that sender. */
static void test_direct_reply(void **state)
{
    (void)state;
    nt_pair p;
    open_default(&p);
    nt_sink sink;
    ax_id sid = nt_spawn_sink(p.b, &sink);
    replier r;
    memset(&r, 0, sizeof r);
    r.next = 1;
    r.want_sender = nt_remote(sid, 2);
    ax_id rid;
    tu_ok(ax_spawn(p.a, reply_recv, &r, NULL, &rid));
    const uint64_t N = 1000;
    send_range(p.b, sid, nt_remote(rid, 1), NT_MSG_PING, 1, 1);
    assert_true(wait_for(&p, &r.n, 1));
    assert_int_equal(r.direct, 0); /* the first of its type: the general path */
    send_range(p.b, sid, nt_remote(rid, 1), NT_MSG_PING, 2, N);
    assert_true(wait_for(&p, &sink.n, N));
    nt_spin(&p, 20);
    assert_int_equal(r.n, N);
    assert_int_equal(r.bad, 0);
    assert_int_equal(r.bad_sender, 0);
    tu_ok(r.rc);
    assert_int_equal(sink.n, N);
    assert_true(sink.in_order);
    assert_int_equal(sink.seqs[0], 1);
    assert_int_equal(sink.last_sender.node, 1);
    assert_int_equal(sink.last_sender.index, rid.index);
    assert_int_equal(sink.last_sender.cookie, rid.cookie);
    ax_link_stats st = nt_link_stats(p.a, 2);
    assert_true(r.direct > 0);
    assert_int_equal(st.frames_direct, r.direct); /* the stat counts exactly those */
    assert_true(st.frames_direct <= st.frames_in);
    assert_true(st.frames_direct < N);
    assert_int_equal(st.undeliverable_in, 0);
    /* The totals add it up too. */
    ax_link_stats tot = nt_link_stats(p.a, 0);
    assert_int_equal(tot.frames_direct, st.frames_direct);
    nt_sink_free(&sink);
    nt_pair_close(&p);
}

/* ---- 2. order across the two paths ------------------------------------ */

typedef struct ordered {
    uint64_t n, next, selfs, next_self, bad, direct, queued, direct_selfs;
    uint64_t self_next; /* a direct run queued SELF(v): it must come next; 0: none */
    uint64_t k;
    int rc;
} ordered;

/* Every SEQ in order; every SELF in order; and a SELF queued by a direct
 * run (the mailbox was empty then) comes before any later frame.  A SELF
 * queued by a run from the mailbox goes behind the frames queued already,
 * so for those only the order among SELFs is fixed. */
static void order_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    ordered *o = state;
    uint64_t v = get_u64(msg);
    if (msg->type == MSG_SELF) {
        if (is_direct(ctx) || v != o->next_self || (o->self_next && v != o->self_next))
            o->bad++;
        o->self_next = 0;
        o->next_self = v + o->k;
        o->selfs++;
        return;
    }
    if (msg->type != NT_MSG_SEQ || o->self_next != 0 || v != o->next)
        o->bad++; /* wrong type, or a frame overtook the mail queued before it */
    int direct = is_direct(ctx);
    if (direct)
        o->direct++;
    else
        o->queued++;
    o->next = v + 1;
    o->n++;
    if (v % o->k == 0) {
        /* Mail for itself: the frames after this one find it queued and
         * must queue behind it. */
        int rc = ax_send(ctx, ax_self(ctx), MSG_SELF, &v, 8);
        if (rc)
            o->rc = rc;
        if (direct) {
            o->self_next = v;
            o->direct_selfs++;
        }
    }
}

static void test_direct_order(void **state)
{
    (void)state;
    nt_pair p;
    open_default(&p);
    ordered o;
    memset(&o, 0, sizeof o);
    o.next = 1;
    o.k = 7;
    o.next_self = o.k;
    ax_id rid;
    tu_ok(ax_spawn(p.a, order_recv, &o, NULL, &rid));
    const uint64_t N = 10000;
    send_range(p.b, ax_id_nil(), nt_remote(rid, 1), NT_MSG_SEQ, 1, 1);
    assert_true(wait_for(&p, &o.n, 1));
    send_range(p.b, ax_id_nil(), nt_remote(rid, 1), NT_MSG_SEQ, 2, N);
    assert_true(wait_for(&p, &o.n, N));
    assert_true(wait_for(&p, &o.selfs, N / o.k));
    nt_spin(&p, 20);
    assert_int_equal(o.n, N);
    assert_int_equal(o.next, N + 1);
    assert_int_equal(o.selfs, N / o.k);
    assert_int_equal(o.bad, 0);
    tu_ok(o.rc);
    /* Both paths ran: in place, and behind the mail the handler queued. */
    assert_true(o.direct > 0);
    assert_true(o.queued > 1);
    assert_true(o.direct_selfs > 0); /* the must-come-next check ran */
    assert_int_equal(o.direct + o.queued, N);
    ax_link_stats st = nt_link_stats(p.a, 2);
    assert_int_equal(st.frames_direct, o.direct);
    assert_true(st.frames_in >= N);
    nt_pair_close(&p);
}

/* ---- 3. forwarding a borrowed message --------------------------------- */

typedef struct fwd {
    ax_id l1, l2, far;
    uint64_t n, bad, direct;
    int rc;
} fwd;

static void fwd_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    fwd *f = state;
    unsigned char before[8];
    memcpy(before, msg->data, 8);
    f->direct += (uint64_t)is_direct(ctx);
    int rc = ax_forward(ctx, f->l1);
    if (rc)
        f->rc = rc;
    rc = ax_forward(ctx, f->l2); /* the same message again, to another actor */
    if (rc)
        f->rc = rc;
    rc = ax_forward(ctx, f->far);
    if (rc)
        f->rc = rc;
    /* Still readable, and still this message's bytes. */
    if (memcmp(before, msg->data, 8) != 0 || msg->type != NT_MSG_SEQ || msg->size != 8)
        f->bad++;
    f->n++;
}

static void check_sink(const nt_sink *s, uint64_t n, ax_id sender)
{
    assert_int_equal(s->n, n);
    assert_true(s->in_order);
    assert_int_equal(s->seqs[0], 1);
    assert_int_equal(s->seqs[n - 1], n);
    assert_int_equal(s->last_sender.node, sender.node);
    assert_int_equal(s->last_sender.index, sender.index);
    assert_int_equal(s->last_sender.cookie, sender.cookie);
}

static void test_direct_forward(void **state)
{
    (void)state;
    nt_pair p;
    open_default(&p);
    nt_sink l1, l2, far, src;
    ax_id src_id = nt_spawn_sink(p.b, &src);
    fwd f;
    memset(&f, 0, sizeof f);
    f.l1 = nt_spawn_sink(p.a, &l1);
    f.l2 = nt_spawn_sink(p.a, &l2);
    f.far = nt_remote(nt_spawn_sink(p.b, &far), 2);
    ax_id fid;
    tu_ok(ax_spawn(p.a, fwd_recv, &f, NULL, &fid));
    const uint64_t N = 2000;
    send_range(p.b, src_id, nt_remote(fid, 1), NT_MSG_SEQ, 1, 1);
    assert_true(wait_for(&p, &f.n, 1));
    send_range(p.b, src_id, nt_remote(fid, 1), NT_MSG_SEQ, 2, N);
    assert_true(wait_for(&p, &far.n, N));
    assert_true(wait_for(&p, &l2.n, N));
    nt_spin(&p, 20);
    assert_int_equal(f.n, N);
    assert_int_equal(f.bad, 0);
    tu_ok(f.rc);
    /* Every copy keeps the original sender (node 2's actor). */
    ax_id orig = nt_remote(src_id, 2);
    check_sink(&l1, N, orig);
    check_sink(&l2, N, orig);
    check_sink(&far, N, orig);
    assert_int_equal(src.n, 0);
    /* The forwards ran from direct handlers (a borrowed header must be
     * copied, never moved into a mailbox: ASan would see a stack header
     * queued or freed). */
    assert_true(f.direct > 0);
    ax_link_stats st = nt_link_stats(p.a, 2);
    assert_int_equal(st.frames_direct, f.direct);
    nt_sink_free(&l1);
    nt_sink_free(&l2);
    nt_sink_free(&far);
    nt_sink_free(&src);
    nt_pair_close(&p);
}

/* ---- 4. payloads whose frames are not multiples of 8 ------------------ */

static void odd_fill(unsigned char *p, size_t size, uint64_t v)
{
    memcpy(p, &v, 8);
    for (size_t i = 8; i < size; i++)
        p[i] = (unsigned char)((v * 7u + i) & 0xFF);
}

static int odd_ok(const unsigned char *p, size_t size, uint64_t v)
{
    for (size_t i = 8; i < size; i++)
        if (p[i] != (unsigned char)((v * 7u + i) & 0xFF))
            return 0;
    return 1;
}

typedef struct odd_rcv {
    uint64_t n, next, misaligned, bad, direct, queued;
    uint32_t type, size, align;
    ax_id want_from; /* the sender, as a global id */
} odd_rcv;

static void odd_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    odd_rcv *o = state;
    if (((uintptr_t)msg->data % o->align) != 0)
        o->misaligned++;
    uint64_t v;
    memcpy(&v, msg->data, 8);
    if (msg->type != o->type || msg->size != o->size || v != o->next ||
        !odd_ok(msg->data, msg->size, v) || !ax_id_eq(ax_sender(ctx), o->want_from))
        o->bad++;
    if (is_direct(ctx))
        o->direct++;
    else
        o->queued++;
    o->next = v + 1;
    o->n++;
}

typedef struct actors_left {
    ax_system *sys;
    uint64_t want;
} actors_left;

static int actors_at(void *arg)
{
    actors_left *a = arg;
    return ax_actor_count(a->sys) == a->want;
}

/* Send 5000 messages of `type` from `from` to a new actor on node 1 and
 * check them all; returns how many ran in place (*queued: copied). */
static uint64_t odd_run(nt_pair *p, ax_id from, uint32_t type, uint32_t size, uint32_t align,
                        uint64_t *direct_total, uint64_t *queued)
{
    odd_rcv o;
    memset(&o, 0, sizeof o);
    o.next = 1;
    o.type = type;
    o.size = size;
    o.align = align;
    o.want_from = from.node ? from : nt_remote(from, 2);
    ax_id rid;
    tu_ok(ax_spawn(p->a, odd_recv, &o, NULL, &rid));
    const uint64_t N = 5000;
    unsigned char buf[32];
    for (uint64_t v = 1; v <= N; v++) {
        odd_fill(buf, size, v);
        tu_ok(ax_system_send(p->b, from, nt_remote(rid, 1), type, buf, size));
        if (v == 1)
            assert_true(wait_for(p, &o.n, 1));
    }
    assert_true(wait_for(p, &o.n, N));
    nt_spin(p, 20);
    assert_int_equal(o.n, N);
    assert_int_equal(o.next, N + 1);
    assert_int_equal(o.bad, 0);
    assert_int_equal(o.misaligned, 0);
    *direct_total += o.direct;
    *queued = o.queued;
    ax_link_stats st = nt_link_stats(p->a, 2);
    assert_int_equal(st.frames_direct, *direct_total);
    /* o lives on this stack frame: the actor ends before it goes. */
    uint64_t live = ax_actor_count(p->a);
    tu_ok(ax_system_send(p->a, ax_id_nil(), rid, AX_MSG_POISON, NULL, 0));
    actors_left al = {p->a, live - 1};
    assert_true(nt_run(p, actors_at, &al, 5000));
    return o.direct;
}

static void test_direct_alignment(void **state)
{
    (void)state;
    nt_pair p;
    open_default(&p);
    nt_sink from;
    ax_id from_id = nt_spawn_sink(p.b, &from);
    uint64_t direct = 0, queued;
    /* Both ways run: in place when the payload lies aligned, copied when
     * it does not. */
    assert_true(odd_run(&p, from_id, MSG_ODD12, 12, 8, &direct, &queued) > 0);
    assert_true(queued > 1);
    assert_true(odd_run(&p, from_id, MSG_ODD20, 20, 8, &direct, &queued) > 0);
    assert_true(queued > 1);
    /* A sender on a third node is named in the header (32 bytes, a
     * multiple of 8 like the short one): an 8-aligned type's payloads stay
     * aligned in the stream and run in place. */
    ax_id third = {7, 1, 1};
    assert_true(odd_run(&p, third, NT_MSG_SEQ, 8, 8, &direct, &queued) > 0);
    nt_sink_free(&from);
    nt_pair_close(&p);
}

/* ---- 5. runs: consecutive frames for one actor ----------------------- */

/* Frames for the same actor that follow each other in the buffer run as
 * one run (deliver.c, direct_run): the actor stays in its handler context
 * from one to the next.  Each call must still see its own payload, its own
 * sender (which changes within a run) and its own self; a run must end
 * where the recipient changes. */
typedef struct runner {
    ax_id self;
    const ax_id *senders; /* expected sender of value v: senders[v % 3] */
    uint64_t n, next_min, direct, bad, bad_sender, bad_self;
} runner;

/* Which of the two actors value v goes to: runs of 1, 2, 3 .. 6 frames. */
static int run_target(uint64_t v)
{
    uint64_t block = 0, len = 1, start = 1;
    while (start + len <= v) {
        start += len;
        block++;
        len = len % 6 + 1;
    }
    return (int)(block & 1);
}

static void run_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    runner *r = state;
    uint64_t v = get_u64(msg);
    r->direct += (uint64_t)is_direct(ctx);
    if (v < r->next_min)
        r->bad++; /* out of order */
    r->next_min = v + 1;
    r->n++;
    if (!ax_id_eq(ax_sender(ctx), r->senders[v % 3]))
        r->bad_sender++;
    if (!ax_id_eq(ax_self(ctx), r->self))
        r->bad_self++;
}

static void test_direct_runs(void **state)
{
    (void)state;
    nt_pair p;
    open_default(&p);
    nt_sink s1, s2;
    ax_id from1 = nt_spawn_sink(p.b, &s1), from2 = nt_spawn_sink(p.b, &s2);
    /* As node 1 sees them: two actors of node 2, and no sender. */
    const ax_id senders[3] = {nt_remote(from1, 2), nt_remote(from2, 2), ax_id_nil()};
    const ax_id from_b[3] = {from1, from2, ax_id_nil()};
    runner r[2];
    memset(r, 0, sizeof r);
    ax_id rid[2];
    for (int i = 0; i < 2; i++) {
        r[i].senders = senders;
        tu_ok(ax_spawn(p.a, run_recv, &r[i], NULL, &rid[i]));
        r[i].self = rid[i];
    }
    /* The first frame makes the type the remembered one. */
    uint64_t v = 0;
    tu_ok(ax_system_send(p.b, from_b[0], nt_remote(rid[0], 1), NT_MSG_SEQ, &v, 8));
    assert_true(wait_for(&p, &r[0].n, 1));
    r[0].n = 0;
    r[0].direct = 0;
    const uint64_t N = 20000;
    uint64_t want[2] = {0, 0};
    for (v = 1; v <= N; v++) {
        int t = run_target(v);
        want[t]++;
        tu_ok(ax_system_send(p.b, from_b[v % 3], nt_remote(rid[t], 1), NT_MSG_SEQ, &v, 8));
    }
    assert_true(wait_for(&p, &r[0].n, want[0]));
    assert_true(wait_for(&p, &r[1].n, want[1]));
    nt_spin(&p, 20);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(r[i].n, want[i]);
        assert_int_equal(r[i].bad, 0);
        assert_int_equal(r[i].bad_sender, 0);
        assert_int_equal(r[i].bad_self, 0);
        assert_true(r[i].direct > want[i] / 2); /* the runs ran in place */
    }
    ax_link_stats st = nt_link_stats(p.a, 2);
    assert_true(st.frames_direct >= r[0].direct + r[1].direct);
    nt_sink_free(&s1);
    nt_sink_free(&s2);
    nt_pair_close(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_direct_reply),   cmocka_unit_test(test_direct_order),
        cmocka_unit_test(test_direct_forward), cmocka_unit_test(test_direct_alignment),
        cmocka_unit_test(test_direct_runs),
    };
    int rc = cmocka_run_group_tests_name("direct", tests, NULL, NULL);
    nt_cleanup();
    return rc;
}
