/* send_test.c - sending into a mailbox (src/actor/send.c): the context
 * (self, sender), payload alignment on every path a node is made, mailbox
 * limits and the high-water mark, refused sends (type errors),
 * construct-in-place, and per-sender ordering (direct and scheduled streams
 * interleaved).  Forward, reply and scheduled sends with their cancellation
 * are in send_schedule_test.c. */
#include "actor/actor_fixture.h"

/* ---- self and sender --------------------------------------------------- */

typedef struct relay {
    ax_id to;
    int rc;
} relay;

/* Sends one T_U64 (the value it got + 1000) to `to`. */
static void relay_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    relay *r = state;
    uint64_t v = 0;
    if (msg->size == 8)
        memcpy(&v, msg->data, 8);
    v += 1000;
    r->rc = ax_send(ctx, r->to, T_U64, &v, sizeof v);
}

static void test_self_and_sender(void **state)
{
    (void)state;
    fx f;
    fx_rec x;
    ax_id xid = fx_open_rec(&f, &x);
    relay rl = {xid, 1};
    ax_id rid;
    tu_ok(ax_spawn(f.sys, relay_receive, &rl, NULL, &rid));
    ax_id someone = {0, 12345, 7};

    tu_ok(fx_u64_send(f.sys, ax_id_nil(), xid, 1)); /* no sender */
    tu_ok(fx_u64_send(f.sys, someone, xid, 2));     /* explicit sender, need not exist */
    tu_ok(fx_u64_send(f.sys, ax_id_nil(), rid, 3)); /* relay -> x, sender = relay */
    fx_drain(&f);
    tu_ok(rl.rc);
    assert_int_equal(x.n, 3);
    assert_true(ax_id_is_nil(x.m[0].sender));
    fx_assert_id_eq(x.m[1].sender, someone);
    fx_assert_id_eq(x.m[2].sender, rid);
    assert_int_equal(x.m[2].u64, 1003);
    for (int i = 0; i < 3; i++)
        fx_assert_id_eq(x.m[i].self, xid);
    fx_close(&f);
}

/* ---- payload alignment -------------------------------------------------- */

/* Payloads are aligned for their type however the node was made. */
typedef struct aligned16 {
    _Alignas(16) unsigned char b[32];
} aligned16;

typedef struct align_probe {
    int n, misaligned;
    ax_id fwd_to;
} align_probe;

static void align_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    align_probe *p = state;
    p->n++;
    if (((uintptr_t)msg->data % 16) != 0)
        p->misaligned++;
    if (!ax_id_is_nil(p->fwd_to)) {
        tu_ok(ax_forward(ctx, p->fwd_to));
        tu_ok(ax_forward(ctx, p->fwd_to)); /* the copy */
    }
}

static int align_done(void *arg)
{
    return ((align_probe *)arg)->n >= 7;
}

static void test_payload_alignment(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    tu_ok(ax_msg_register_pod(f.sys, 300, "a16", sizeof(aligned16), 16));
    ax_msg_type big = {.id = 301, .name = "a16big", .size = 100000, .align = 16, .flags = 0};
    tu_ok(ax_msg_register(f.sys, &big));
    align_probe sink = {0, 0, {0, 0, 0}}, mid = {0, 0, {0, 0, 0}};
    ax_id sid, mid_id;
    tu_ok(ax_spawn(f.sys, align_receive, &sink, NULL, &sid));
    mid.fwd_to = sid;
    tu_ok(ax_spawn(f.sys, align_receive, &mid, NULL, &mid_id));
    aligned16 x;
    memset(&x, 1, sizeof x);
    unsigned char *b = calloc(1, 100000);
    assert_non_null(b);
    tu_ok(ax_system_send(f.sys, ax_id_nil(), sid, 300, &x, sizeof x));              /* pooled */
    tu_ok(ax_system_send(f.sys, ax_id_nil(), sid, 301, b, 100000));                 /* direct */
    tu_ok(ax_system_post(f.sys, ax_id_nil(), sid, 300, &x, sizeof x));              /* posted */
    tu_ok(ax_system_schedule(f.sys, 0, ax_id_nil(), sid, 300, &x, sizeof x, NULL)); /* timer */
    tu_ok(ax_system_send(f.sys, ax_id_nil(), mid_id, 300, &x, sizeof x));           /* 2 fwd */
    tu_ok(ax_system_send(f.sys, ax_id_nil(), sid, T_BLOB, b, 3));                   /* varsize */
    tu_run_until(f.loop, align_done, &sink, 5000);
    fx_drain(&f);
    assert_int_equal(sink.n, 7);
    assert_int_equal(sink.misaligned, 0);
    assert_int_equal(mid.misaligned, 0);
    free(b);
    fx_close(&f);
}

/* ---- mailbox limit ------------------------------------------------------ */

/* Send the values lo..hi-1 as T_U64 from `from` to `to`, in order.  Each
 * send must succeed or, if `full_ok`, may be refused with AX_EFULL;
 * returns how many were refused. */
static int send_u64s(fx *f, ax_id from, ax_id to, uint64_t lo, uint64_t hi, int full_ok)
{
    int full = 0;
    for (uint64_t i = lo; i < hi; i++) {
        int rc = fx_u64_send(f->sys, from, to, i);
        if (full_ok && rc == AX_EFULL)
            full++;
        else
            tu_ok(rc);
    }
    return full;
}

/* Zero `r` and spawn a recording actor on it with `so` (a mailbox limit). */
static ax_id spawn_limited_rec(fx *f, fx_rec *r, const ax_spawn_options *so)
{
    memset(r, 0, sizeof *r);
    ax_id id;
    tu_ok(ax_spawn(f->sys, fx_rec_receive, r, so, &id));
    return id;
}

/* The send fast path stops at each actor's mark (the lower of its limit
 * and the system's high-water mark): the limit still holds after another
 * actor raised the high-water mark far above it, and a mailbox growing
 * past the mark keeps the high-water mark exact, sent in batches through
 * both the context and the system entry points. */
static void test_mailbox_mark_limit_and_hwm(void **state)
{
    (void)state;
    fx f;
    fx_rec big, small, late;
    ax_id bid = fx_open_rec(&f, &big);
    send_u64s(&f, ax_id_nil(), bid, 0, 40, 0);
    assert_int_equal(fx_stats(f.sys).mailbox_hwm, 40);
    ax_spawn_options so = {.mailbox_limit = 4};
    ax_id sid = spawn_limited_rec(&f, &small, &so);
    assert_int_equal(send_u64s(&f, ax_id_nil(), sid, 0, 10, 1), 6);
    /* A third actor: below the mark on the fast path, then past it. */
    ax_id lid = fx_spawn_new_rec(&f, &late);
    send_u64s(&f, ax_id_nil(), lid, 0, 39, 0);
    assert_int_equal(fx_stats(f.sys).mailbox_hwm, 40);
    for (uint64_t i = 39; i < 45; i++) {
        tu_ok(fx_u64_send(f.sys, ax_id_nil(), lid, i));
        assert_int_equal(fx_stats(f.sys).mailbox_hwm, i + 1 > 40 ? i + 1 : 40);
    }
    fx_drain(&f);
    assert_int_equal(big.n, 40);
    assert_int_equal(small.n, 4);
    assert_int_equal(late.n, 45);
    for (uint64_t i = 0; i < 45; i++)
        assert_int_equal(late.m[i].u64, i); /* in order across both paths */
    /* Drained: the same actor may fill to its old length again without
     * moving the mark. */
    send_u64s(&f, ax_id_nil(), lid, 0, 45, 0);
    assert_int_equal(fx_stats(f.sys).mailbox_hwm, 45);
    tu_ok(fx_u64_send(f.sys, ax_id_nil(), lid, 45));
    assert_int_equal(fx_stats(f.sys).mailbox_hwm, 46);
    fx_drain(&f);
    fx_close(&f);
}

static void test_mailbox_limit(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    fx_rec r;
    ax_spawn_options so = {.on_stop = fx_rec_stop, .mailbox_limit = 3};
    ax_id a = spawn_limited_rec(&f, &r, &so);
    ax_id from = {0, 555, 1};
    assert_int_equal(send_u64s(&f, from, a, 0, 5, 1), 2);
    assert_int_equal(fx_stats(f.sys).dead_letters, 2);
    assert_int_equal(f.dl.n, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f.dl.v[i].reason, AX_EFULL);
        fx_assert_id_eq(f.dl.v[i].from, from);
        fx_assert_id_eq(f.dl.v[i].to, a);
    }
    assert_int_equal(f.dl.by_reason[-AX_EFULL], 2);
    fx_drain(&f);
    assert_int_equal(r.n, 3);
    for (uint64_t i = 0; i < 3; i++)
        assert_int_equal(r.m[i].u64, i);
    /* room again once handled */
    send_u64s(&f, from, a, 0, 3, 0);
    tu_assert_err(ax_system_send(f.sys, from, a, T_EMPTY, NULL, 0), AX_EFULL);
    fx_drain(&f);
    assert_int_equal(r.n, 6);
    fx_close(&f);
}

/* ---- type errors -------------------------------------------------------- */

/* Sends that must be refused, each with the error it gets, and the entry
 * points it is tried through: ax_system_send (outside) and ax_send (from a
 * handler).  The payload is a uint64_t, or NULL. */
enum { BAD_OUTSIDE = 1, BAD_HANDLER = 2, BAD_BOTH = 3 };

typedef struct bad_send {
    uint32_t type;
    int with_payload;
    size_t size;
    int want;
    int where;
} bad_send;

static const bad_send bad_sends[] = {
    {T_UNREG, 1, sizeof(uint64_t), AX_EUNKNOWNTYPE, BAD_BOTH},
    {T_U64, 1, 4, AX_EMSGSIZE, BAD_BOTH},
    {T_U64, 0, 8, AX_EINVAL, BAD_BOTH},
    {0, 0, 0, AX_EUNKNOWNTYPE, BAD_BOTH},
    {T_BLOB, 1, (size_t)AX_MSG_MAX_SIZE + 1, AX_EMSGSIZE, BAD_OUTSIDE},
    {T_BLOB, 0, 1, AX_EINVAL, BAD_HANDLER},
    {T_EMPTY, 1, 1, AX_EMSGSIZE, BAD_HANDLER},
};

#define N_BAD_SENDS (sizeof bad_sends / sizeof bad_sends[0])

static void check_refused(const char *how, size_t row, int rc)
{
    const bad_send *b = &bad_sends[row];
    if (rc != b->want)
        fail_msg("%s: bad send %zu (type %u, %s, size %zu) returned %s (%d), want %s (%d)", how,
                 row, b->type, b->with_payload ? "payload" : "NULL", b->size, ax_errname(rc), rc,
                 ax_errname(b->want), b->want);
}

/* On any message: tries every BAD_HANDLER row against `to`. */
typedef struct bad_sender {
    ax_id to;
    int rc[N_BAD_SENDS];
} bad_sender;

static void bad_sender_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    bad_sender *b = state;
    uint64_t v = 1;
    for (size_t i = 0; i < N_BAD_SENDS; i++) {
        const bad_send *s = &bad_sends[i];
        if (s->where & BAD_HANDLER)
            b->rc[i] = ax_send(ctx, b->to, s->type, s->with_payload ? &v : NULL, s->size);
    }
}

static void test_send_type_errors(void **state)
{
    (void)state;
    fx f;
    fx_rec r;
    ax_id a = fx_open_rec(&f, &r);
    uint64_t v = 1;
    for (size_t i = 0; i < N_BAD_SENDS; i++) {
        const bad_send *s = &bad_sends[i];
        if (s->where & BAD_OUTSIDE)
            check_refused("ax_system_send", i,
                          ax_system_send(f.sys, ax_id_nil(), a, s->type,
                                         s->with_payload ? &v : NULL, s->size));
    }
    /* and from a handler */
    bad_sender b = {a, {0}};
    ax_id bid;
    tu_ok(ax_spawn(f.sys, bad_sender_receive, &b, NULL, &bid));
    fx_send_empty(&f, bid);
    fx_drain(&f);
    for (size_t i = 0; i < N_BAD_SENDS; i++)
        if (bad_sends[i].where & BAD_HANDLER)
            check_refused("ax_send", i, b.rc[i]);
    assert_int_equal(r.n, 0);
    assert_int_equal(f.dl.n, 0); /* refused sends are errors, not drops */
    /* Type 0 once pooled nodes of the smallest class exist: an empty entry
     * of the send cache (id 0) must not let it through. */
    tu_ok(fx_u64_send(f.sys, ax_id_nil(), a, 7));
    fx_drain(&f);
    assert_int_equal(r.n, 1);
    tu_assert_err(ax_system_send(f.sys, ax_id_nil(), a, 0, NULL, 0), AX_EUNKNOWNTYPE);
    tu_assert_err(ax_system_send(f.sys, ax_id_nil(), a, 0, &v, sizeof v), AX_EUNKNOWNTYPE);
    fx_drain(&f);
    assert_int_equal(r.n, 1);
    fx_close(&f);
}

/* ---- construct in place ------------------------------------------------- */

static void test_send_msg_in_place(void **state)
{
    (void)state;
    fx f;
    fx_rec r, gone;
    ax_id a = fx_open_rec(&f, &r);
    ax_id g = fx_spawn_new_rec(&f, &gone);
    fx_poison(&f, g);
    fx_drain(&f);
    ax_outmsg *m;
    void *data;
    tu_ok(ax_msg_new(f.sys, T_BIG, sizeof(fx_big), &m, &data));
    ((fx_big *)data)->v[0] = 4711;
    ax_id from = {0, 1, 1};
    tu_ok(ax_system_send_msg(f.sys, from, a, m));
    /* a failed send leaves the message with the caller */
    tu_ok(ax_msg_new(f.sys, T_U64, 8, &m, &data));
    tu_assert_err(ax_system_send_msg(f.sys, from, g, m), AX_ESTALE);
    ax_msg_discard(f.sys, m);
    fx_drain(&f);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.m[0].u64, 4711);
    fx_assert_id_eq(r.m[0].sender, from);
    fx_close(&f);
}

/* ---- ordering ------------------------------------------------------------ */

#define MAX_STREAMS 8

typedef struct checker {
    uint32_t next[MAX_STREAMS];
    uint64_t total;
    uint64_t bad;
    uint64_t switches;
    uint32_t last_stream;
} checker;

static void checker_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)ctx;
    checker *c = state;
    fx_seq s;
    memcpy(&s, msg->data, sizeof s);
    if (s.stream >= MAX_STREAMS || s.seq != c->next[s.stream]) {
        if (c->bad++ == 0)
            print_error("out of order: stream %u got %u, want %u\n", s.stream, s.seq,
                        s.stream < MAX_STREAMS ? c->next[s.stream] : 0);
    } else {
        c->next[s.stream]++;
    }
    if (c->total++ > 0 && s.stream != c->last_stream)
        c->switches++;
    c->last_stream = s.stream;
}

/* Open the fixture with a fresh checker; returns the checker's id. */
static ax_id open_checker(fx *f, checker *c)
{
    fx_open(f, NULL);
    memset(c, 0, sizeof *c);
    ax_id id;
    tu_ok(ax_spawn(f->sys, checker_receive, c, NULL, &id));
    return id;
}

/* Streams 0..nstreams-1 each arrived whole (`per` messages) and in order. */
static void assert_streams_whole(const checker *c, int nstreams, uint32_t per)
{
    assert_int_equal(c->bad, 0);
    assert_int_equal(c->total, (uint64_t)per * (uint64_t)nstreams);
    for (int i = 0; i < nstreams; i++)
        assert_int_equal(c->next[i], per);
}

static void test_order_one_sender_100k(void **state)
{
    (void)state;
    fx f;
    checker c;
    ax_id rid = open_checker(&f, &c);
    ax_id sender = {0, 77, 1};
    for (uint32_t i = 0; i < 100000; i++) {
        fx_seq s = {0, i};
        tu_ok(ax_system_send(f.sys, sender, rid, T_SEQ, &s, sizeof s));
        if (i % 25000 == 24999)
            ax_loop_step(f.loop, 0); /* part of it handled while sending */
    }
    fx_drain(&f);
    assert_streams_whole(&c, 1, 100000);
    fx_close(&f);
}

/* Senders that send a chunk per message and re-trigger themselves, so
 * their streams interleave in the receiver's mailbox. */
typedef struct streamer {
    uint32_t stream, sent, total, chunk;
    ax_id to;
    int mode; /* 0 direct; 1 scheduled equal delay; 2 scheduled rising delay; 3 direct then
                 scheduled(0) */
} streamer;

static void streamer_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    streamer *s = state;
    for (uint32_t k = 0; k < s->chunk && s->sent < s->total; k++, s->sent++) {
        fx_seq q = {s->stream, s->sent};
        switch (s->mode) {
        case 0:
            tu_ok(ax_send(ctx, s->to, T_SEQ, &q, sizeof q));
            break;
        case 1:
            tu_ok(ax_schedule(ctx, AX_MSEC(2), s->to, T_SEQ, &q, sizeof q, NULL));
            break;
        case 2:
            tu_ok(ax_schedule(ctx, AX_USEC(10) * (s->sent + 1), s->to, T_SEQ, &q, sizeof q, NULL));
            break;
        default:
            if (s->sent < s->total / 2)
                tu_ok(ax_send(ctx, s->to, T_SEQ, &q, sizeof q));
            else
                tu_ok(ax_schedule(ctx, 0, s->to, T_SEQ, &q, sizeof q, NULL));
            break;
        }
    }
    if (s->sent < s->total)
        tu_ok(ax_send(ctx, ax_self(ctx), T_EMPTY, NULL, 0));
}

static void run_streams(const int *modes, int nstreams, uint32_t per, uint32_t chunk)
{
    fx f;
    checker c;
    ax_id rid = open_checker(&f, &c);
    streamer s[MAX_STREAMS];
    ax_id sid[MAX_STREAMS];
    for (int i = 0; i < nstreams; i++) {
        s[i] = (streamer){(uint32_t)i, 0, per, chunk, rid, modes[i]};
        tu_ok(ax_spawn(f.sys, streamer_receive, &s[i], NULL, &sid[i]));
    }
    for (int i = 0; i < nstreams; i++)
        fx_send_empty(&f, sid[i]);
    fx_drain(&f);
    assert_streams_whole(&c, nstreams, per);
    if (nstreams > 1)
        assert_true(c.switches >= (uint64_t)nstreams); /* they did interleave */
    assert_int_equal(f.dl.n, 0);
    fx_close(&f);
}

static void test_order_senders_interleaved(void **state)
{
    (void)state;
    const int modes[4] = {0, 0, 0, 0};
    run_streams(modes, 4, 25000, 100);
}

static void test_order_scheduled_and_direct(void **state)
{
    (void)state;
    const int modes[5] = {0, 1, 2, 3, 0};
    run_streams(modes, 5, 2000, 50);
}

int main(int argc, char **argv)
{
    tu_parse_backend(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_self_and_sender),
        cmocka_unit_test(test_payload_alignment),
        cmocka_unit_test(test_mailbox_mark_limit_and_hwm),
        cmocka_unit_test(test_mailbox_limit),
        cmocka_unit_test(test_send_type_errors),
        cmocka_unit_test(test_send_msg_in_place),
        cmocka_unit_test(test_order_one_sender_100k),
        cmocka_unit_test(test_order_senders_interleaved),
        cmocka_unit_test(test_order_scheduled_and_direct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
