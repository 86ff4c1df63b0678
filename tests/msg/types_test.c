/* types_test.c - the type registry table (src/msg/types.c) and how the
 * send path uses it: validation, rehash with thousands of types, the
 * send path's type cache, allocation failure while registering, and the
 * free hook of non-POD payloads over a message's life (handled, failed
 * send, dead letter, shutdown, forward, ownership taken). */
#include <stdalign.h>
#include <stdio.h>

#include "actor/actor_int.h"
#include "msg/msg_int.h"
#include "msgt.h"

static uint64_t alloc_calls(const tu_alloc *ta)
{
    return ta->allocs + ta->reallocs;
}

static ax_msg_type pod_type(uint32_t id, uint32_t size, uint32_t align)
{
    ax_msg_type t;
    memset(&t, 0, sizeof t);
    t.id = id;
    t.name = "t";
    t.size = size;
    t.align = align;
    return t;
}

static long dummy_ser(const void *m, void *b, size_t c)
{
    (void)m, (void)b, (void)c;
    return 0;
}

static int dummy_des(const void *b, size_t l, void *o)
{
    (void)b, (void)l, (void)o;
    return 0;
}

static void dummy_free(void *m)
{
    (void)m;
}

/* Destroy the table: it must have given back every block and byte. */
static void types_destroy_clean(axi_types *t, const tu_alloc *ta)
{
    axi_types_destroy(t);
    assert_int_equal(ta->live_blocks, 0);
    assert_int_equal(ta->live_bytes, 0);
}

/* ---- the table --------------------------------------------------------- */

static void table_validates_and_fills_slots(void **state)
{
    (void)state;
    tu_alloc ta;
    tu_alloc_init(&ta);
    axi_types t;
    ta.fail_at = 1;
    tu_assert_err(axi_types_init(&t, &ta.a), AX_ENOMEM);
    assert_int_equal(ta.live_blocks, 0);
    ta.fail_at = 0;
    tu_ok(axi_types_init(&t, &ta.a));

    ax_msg_type ty = pod_type(5, 24, 8);
    tu_assert_err(axi_types_add(&t, NULL), AX_EINVAL);
    ty.id = 0;
    tu_assert_err(axi_types_add(&t, &ty), AX_EINVAL);
    ty = pod_type(5, 24, 3);
    tu_assert_err(axi_types_add(&t, &ty), AX_EINVAL);
    ty.align = 32;
    tu_assert_err(axi_types_add(&t, &ty), AX_EINVAL);
    ty = pod_type(5, 24, 8);
    ty.serialize = dummy_ser;
    tu_assert_err(axi_types_add(&t, &ty), AX_EINVAL);
    ty.serialize = NULL;
    ty.deserialize = dummy_des;
    tu_assert_err(axi_types_add(&t, &ty), AX_EINVAL);
    ty = pod_type(5, 24, 8);
    ty.flags = 2; /* no such flag */
    tu_assert_err(axi_types_add(&t, &ty), AX_EINVAL);
    ty = pod_type(5, AX_MSG_MAX_SIZE + 1, 8);
    tu_assert_err(axi_types_add(&t, &ty), AX_ERANGE);
    assert_int_equal(t.count, 0);

    /* A pooled fixed type with a free hook. */
    ty = pod_type(5, 24, 8);
    ty.free = dummy_free;
    tu_ok(axi_types_add(&t, &ty));
    const axi_type_slot *s = axi_types_find(&t, 5);
    assert_non_null(s);
    assert_int_equal(s->size, 24);
    /* The fast path carries no node flags: a free hook takes the general one. */
    assert_int_equal(s->fast_size, AXI_SIZE_VAR);
    assert_int_equal(s->fast_cls, AXI_CLS_NONE);
    assert_int_equal(s->cls, axi_size_class(24));
    assert_int_equal(s->varsize, 0);
    assert_int_equal(s->has_free, 1);
    assert_int_equal(s->mflags, AXI_MF_HAS_FREE);
    assert_int_equal(t.recs[s->rec].id, 5);
    tu_assert_err(axi_types_add(&t, &ty), AX_EEXIST);

    /* Alignment 0 means 1. */
    ty = pod_type(6, 4, 0);
    tu_ok(axi_types_add(&t, &ty));
    assert_int_equal(t.recs[axi_types_find(&t, 6)->rec].align, 1);

    /* The largest fixed size: allocated directly, never on the fast path. */
    ty = pod_type(7, AX_MSG_MAX_SIZE, 16);
    tu_ok(axi_types_add(&t, &ty));
    s = axi_types_find(&t, 7);
    assert_int_equal(s->cls, AXI_CLS_DIRECT);
    assert_int_equal(s->fast_size, AXI_SIZE_VAR);

    /* Varsize: the record's size is ignored (stored as 0). */
    ty = pod_type(8, 123, 1);
    ty.flags = AX_MSG_F_VARSIZE;
    tu_ok(axi_types_add(&t, &ty));
    s = axi_types_find(&t, 8);
    assert_int_equal(s->varsize, 1);
    assert_int_equal(s->fast_size, AXI_SIZE_VAR);
    assert_int_equal(t.recs[s->rec].size, 0);
    /* ... and may not have a free hook (nothing fixed to release). */
    ty.id = 9;
    ty.free = dummy_free;
    tu_assert_err(axi_types_add(&t, &ty), AX_EINVAL);

    /* The internal add takes axon's own ids; POISON is flagged. */
    ty = pod_type(AX_MSG_POISON, 0, 1);
    tu_ok(axi_types_add(&t, &ty));
    assert_true(axi_types_find(&t, AX_MSG_POISON)->mflags & AXI_MF_POISON);
    assert_null(axi_types_find(&t, 0));
    assert_null(axi_types_find(&t, 9));

    types_destroy_clean(&t, &ta);
}

static uint32_t many_id(uint32_t i)
{
    return 1000u + i * 977u;
}

static uint32_t many_size(uint32_t id)
{
    return id % 97u;
}

static void table_rehash_keeps_every_type(void **state)
{
    (void)state;
    tu_alloc ta;
    tu_alloc_init(&ta);
    axi_types t;
    tu_ok(axi_types_init(&t, &ta.a));
    char name[32];
    for (uint32_t i = 0; i < 5000; i++) {
        ax_msg_type ty = pod_type(many_id(i), many_size(many_id(i)), 1);
        snprintf(name, sizeof name, "m%u", many_id(i));
        ty.name = name;
        tu_ok(axi_types_add(&t, &ty));
    }
    assert_int_equal(t.count, 5000);
    assert_true((uint64_t)t.mask + 1 >= 2u * t.count); /* load factor kept */
    for (uint32_t i = 0; i < 5000; i++) {
        uint32_t id = many_id(i);
        const axi_type_slot *s = axi_types_find(&t, id);
        if (!s)
            fail_msg("type %u lost after rehash", id);
        snprintf(name, sizeof name, "m%u", id);
        assert_int_equal(s->id, id);
        assert_int_equal(s->size, many_size(id));
        assert_int_equal(t.recs[s->rec].id, id);
        assert_string_equal(t.recs[s->rec].name, name);
        assert_null(axi_types_find(&t, id + 1)); /* 977 apart: never registered */
    }
    types_destroy_clean(&t, &ta);
}

/* Fail allocation 1, 2, ... of each registration until it succeeds: over
 * 200 types this hits the slot rehash, the record array growth and the
 * name copy.  A failed registration leaves nothing behind. */
static void register_enomem_at_every_step(void **state)
{
    (void)state;
    tu_alloc ta;
    tu_alloc_init(&ta);
    tu_env e;
    tu_env_open(&e, &ta.a, NULL);
    msgt_sink sink = {.full_check = 1};
    ax_id to = msgt_spawn_sink(e.sys, &sink);
    uint64_t failures = 0;
    unsigned char buf[128];
    for (uint32_t i = 0; i < 200; i++) {
        uint32_t id = 500 + i;
        for (uint64_t n = 1;; n++) {
            int64_t blocks = ta.live_blocks;
            ta.fail_at = alloc_calls(&ta) + n;
            int rc = ax_msg_register_pod(e.sys, id, "named", many_size(id), 1);
            ta.fail_at = 0;
            if (rc == 0)
                break;
            tu_assert_err(rc, AX_ENOMEM);
            assert_null(ax_msg_type_find(e.sys, id));
            assert_int_equal(ta.live_blocks, blocks);
            failures++;
            if (n > 10)
                fail_msg("registration of %u still failing at allocation %lu", id,
                         (unsigned long)n);
        }
        assert_string_equal(ax_msg_type_find(e.sys, id)->name, "named");
        msgt_fill(buf, id, many_size(id));
        tu_ok(ax_system_send(e.sys, ax_id_nil(), to, id, buf, many_size(id)));
    }
    assert_true(failures >= 200); /* at least the name copy, every time */
    tu_drain(e.loop, 5000);
    assert_int_equal(sink.got, 200);
    assert_int_equal(sink.bad, 0);
    tu_env_close(&e);
    assert_int_equal(ta.live_blocks, 0);
}

/* ---- many types, rehash, and the send path's type cache ----------------- */

enum { T_EMPTY = 21, T_CACHED = 24 };

typedef struct env_sink {
    tu_alloc ta;
    tu_env e;
    msgt_sink sink;
    ax_id to;
} env_sink;

static void es_open(env_sink *s)
{
    memset(s, 0, sizeof *s);
    tu_alloc_init(&s->ta);
    tu_env_open(&s->e, &s->ta.a, NULL);
    tu_ok(ax_msg_register_pod(s->e.sys, T_EMPTY, "empty", 0, 0));
    s->sink.full_check = 1;
    s->to = msgt_spawn_sink(s->e.sys, &s->sink);
}

static void es_close(env_sink *s)
{
    tu_env_close(&s->e);
    assert_int_equal(s->ta.live_blocks, 0);
}

static void send_many_types_across_rehash(void **state)
{
    (void)state;
    env_sink s;
    es_open(&s);
    ax_system *sys = s.e.sys;
    unsigned char buf[128];
    tu_ok(ax_msg_register_pod(sys, T_CACHED, "cached", 8, 8));
    msgt_fill(buf, T_CACHED, 8);
    tu_ok(ax_system_send(sys, ax_id_nil(), s.to, T_CACHED, buf, 8));
    const axi_type_hot *cached = &sys->types.dcache[T_CACHED & 7u];
    assert_int_equal(cached->id, T_CACHED);
    uint32_t mask = sys->types.mask;
    uint64_t want = 1;
    char name[32];
    for (uint32_t i = 0; i < 5000; i++) {
        uint32_t id = many_id(i);
        snprintf(name, sizeof name, "m%u", id);
        tu_ok(ax_msg_register_pod(sys, id, name, many_size(id), 1));
        if (i % 100 == 0) {
            /* The cached type keeps working whether or not that
             * registration moved the slots (ASan flags a stale cache). */
            msgt_fill(buf, T_CACHED, 8);
            tu_ok(ax_system_send(sys, ax_id_nil(), s.to, T_CACHED, buf, 8));
            want++;
        }
    }
    assert_true(sys->types.mask > mask); /* it did rehash */
    for (uint32_t i = 0; i < 5000; i++) {
        uint32_t id = many_id(i);
        const ax_msg_type *t = ax_msg_type_find(sys, id);
        if (!t)
            fail_msg("type %u not found after 5000 registrations", id);
        snprintf(name, sizeof name, "m%u", id);
        assert_int_equal(t->size, many_size(id));
        assert_string_equal(t->name, name);
        msgt_fill(buf, id, many_size(id));
        tu_ok(ax_system_send(sys, ax_id_nil(), s.to, id, buf, many_size(id)));
        want++;
        if (i % 500 == 499)
            tu_drain(s.e.loop, 5000);
    }
    tu_drain(s.e.loop, 5000);
    assert_int_equal(s.sink.got, want);
    assert_int_equal(s.sink.bad, 0);
    es_close(&s);
}

/* A handler sends (caching its type), registers enough types to rehash
 * the table, and sends the same type again through ax_send. */
typedef struct reg_sender {
    ax_id to;
    int rc1, rc2, rc_reg;
} reg_sender;

static void reg_sender_fn(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    reg_sender *r = state;
    unsigned char buf[8];
    (void)msg;
    msgt_fill(buf, T_CACHED, 8);
    r->rc1 = ax_send(ctx, r->to, T_CACHED, buf, 8);
    for (uint32_t i = 0; i < 300 && r->rc_reg == 0; i++)
        r->rc_reg = ax_msg_register_pod(ax_ctx_system(ctx), 20000 + i, NULL, 4, 4);
    r->rc2 = ax_send(ctx, r->to, T_CACHED, buf, 8);
}

static void handler_send_after_rehash(void **state)
{
    (void)state;
    env_sink s;
    es_open(&s);
    tu_ok(ax_msg_register_pod(s.e.sys, T_CACHED, "cached", 8, 8));
    reg_sender r = {s.to, 1, 1, 0};
    ax_id id;
    tu_ok(ax_spawn(s.e.sys, reg_sender_fn, &r, NULL, &id));
    uint32_t mask = s.e.sys->types.mask;
    tu_ok(ax_system_send(s.e.sys, ax_id_nil(), id, T_EMPTY, NULL, 0));
    tu_drain(s.e.loop, 5000);
    tu_ok(r.rc1);
    tu_ok(r.rc_reg);
    tu_ok(r.rc2);
    assert_true(s.e.sys->types.mask > mask);
    assert_int_equal(s.sink.got, 2);
    assert_int_equal(s.sink.bad, 0);
    es_close(&s);
}

/* ---- non-POD payloads: the free hook over a message's life ------------- */

enum { T_NOTE = 40 };
#define NOTE_TEXT "a note that owns memory"
#define NOTE_N    3u
#define NOTE_SEED 7u

enum { RX_CHECK = 0, RX_STEAL = 1, RX_STOP = 2 };

typedef struct note_rx {
    int mode;
    uint64_t got, bad;
    int frees_at_entry; /* msgt_note_frees when the last message arrived */
    char *stolen;
    ax_id sender;
} note_rx;

static void note_rx_fn(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    note_rx *r = state;
    msgt_note *v = msg->data;
    r->got++;
    r->frees_at_entry = msgt_note_frees;
    r->sender = ax_sender(ctx);
    if (msg->type != T_NOTE || msg->size != sizeof *v ||
        !msgt_note_is(v, NOTE_TEXT, NOTE_N, NOTE_SEED))
        r->bad++;
    if (r->mode == RX_STEAL) {
        r->stolen = v->text; /* take it: the free hook sees NULL */
        v->text = NULL;
    }
    if (r->mode == RX_STOP)
        ax_stop(ctx);
}

typedef struct note_env {
    tu_alloc ta;
    tu_env e;
    note_rx rx;
    ax_id rx_id;
    uint64_t dl;       /* dead letters reported */
    int dl_reason;     /* the last one's reason */
    int check_order;   /* count dead letters reported before their release */
    int dl_base;       /* payloads released before the first of them */
    uint64_t dl_early; /* reported while its payload was still unreleased */
} note_env;

static void note_dead_letter(void *arg, const ax_dead_letter *dl)
{
    note_env *n = arg;
    n->dl++;
    n->dl_reason = dl->reason;
    if (n->check_order && msgt_note_frees < n->dl_base + (int)n->dl)
        n->dl_early++;
}

/* The env of the test that runs: static, and `open_ne` set while it is
 * open, so that after a failure (cmocka jumps out of the test) the
 * teardown frees it and the sanitizer's leak report shows only real
 * leaks. */
static note_env the_ne;
static note_env *open_ne;

static int ne_teardown(void **state)
{
    (void)state;
    if (open_ne) {
        ax_system_free(open_ne->e.sys);
        ax_loop_free(open_ne->e.loop);
        open_ne = NULL;
    }
    return 0;
}

static note_env *ne_open(int mode)
{
    note_env *n = &the_ne;
    memset(n, 0, sizeof *n);
    tu_alloc_init(&n->ta);
    tu_env_open_dl(&n->e, &n->ta.a, NULL, note_dead_letter, n);
    ax_msg_type t = {T_NOTE, "note", sizeof(msgt_note), alignof(msgt_note), 0, 0,
                     NULL,   NULL,   msgt_note_free};
    tu_ok(ax_msg_register(n->e.sys, &t));
    tu_ok(ax_msg_register_pod(n->e.sys, T_EMPTY, "empty", 0, 0));
    n->rx.mode = mode;
    tu_ok(ax_spawn(n->e.sys, note_rx_fn, &n->rx, NULL, &n->rx_id));
    msgt_note_frees = 0;
    msgt_user_live = 0;
    open_ne = n;
    return n;
}

static void ne_close(note_env *n)
{
    open_ne = NULL;
    tu_env_close(&n->e);
    assert_int_equal(n->ta.live_blocks, 0);
    assert_int_equal(msgt_user_live, 0);
}

/* Send a fresh note from outside; *v keeps the caller's copy of the struct. */
static int note_send(note_env *n, ax_id from, ax_id to, msgt_note *v)
{
    *v = msgt_note_make(NOTE_TEXT, NOTE_N, NOTE_SEED);
    return ax_system_send(n->e.sys, from, to, T_NOTE, v, sizeof *v);
}

/* Send `k` fresh notes from outside to `to`: the system owns them now. */
static void send_notes(note_env *n, ax_id to, int k)
{
    msgt_note v;
    for (int i = 0; i < k; i++)
        tu_ok(note_send(n, ax_id_nil(), to, &v));
}

/* `k` notes in the mailbox of `to` and one more on a timer an hour away:
 * all k + 1 are still undelivered when the system shuts down. */
static void queue_for_shutdown(note_env *n, ax_id to, int k)
{
    send_notes(n, to, k);
    msgt_note v = msgt_note_make(NOTE_TEXT, NOTE_N, NOTE_SEED);
    tu_ok(ax_system_schedule(n->e.sys, AX_SEC(3600), ax_id_nil(), to, T_NOTE, &v, sizeof v, NULL));
}

/* Three notes to the receiver in RX_STOP mode: it handles one (then
 * ax_stop), the two left in its mailbox become dead letters. */
static void stop_after_first(note_env *n)
{
    send_notes(n, n->rx_id, 3);
    tu_drain(n->e.loop, 5000);
}

/* `got` handled, `dl` dead letters (the last one for `reason`), `frees`
 * payloads released and nothing they owned left. */
static void expect_dead(const note_env *n, uint64_t got, uint64_t dl, int reason, int frees)
{
    assert_int_equal(n->rx.got, got);
    assert_int_equal(n->dl, dl);
    assert_int_equal(n->dl_reason, reason);
    assert_int_equal(msgt_note_frees, frees);
    assert_int_equal(msgt_user_live, 0);
}

/* A send to `to` that fails with `err` is one dead letter, and the payload
 * (and what it owns) stays with the caller: *v intact, its hook not run. */
static void expect_send_refused(note_env *n, ax_id to, int err, msgt_note *v)
{
    tu_assert_err(note_send(n, ax_id_nil(), to, v), err);
    assert_int_equal(n->dl, 1);
    if (msgt_note_frees != 0)
        fail_msg("ax_system_send failed with %s but ran the free hook %d time(s) on the "
                 "caller's payload (the caller still owns it: a double free)",
                 ax_errname(err), msgt_note_frees);
    assert_true(msgt_note_is(v, NOTE_TEXT, NOTE_N, NOTE_SEED));
}

static ax_id stale_id(note_env *n)
{
    ax_id id;
    tu_ok(ax_spawn(n->e.sys, note_rx_fn, &n->rx, NULL, &id));
    tu_ok(ax_system_send(n->e.sys, ax_id_nil(), id, AX_MSG_POISON, NULL, 0));
    tu_drain(n->e.loop, 5000);
    return id;
}

static void nonpod_free_hook_runs_once_after_handler(void **state)
{
    (void)state;
    note_env *n = ne_open(RX_CHECK);
    send_notes(n, n->rx_id, 10);
    assert_int_equal(msgt_note_frees, 0);
    tu_drain(n->e.loop, 5000);
    assert_int_equal(n->rx.got, 10);
    assert_int_equal(n->rx.bad, 0);
    assert_int_equal(n->rx.frees_at_entry, 9); /* each hook ran after its own handler */
    assert_int_equal(msgt_note_frees, 10);
    assert_int_equal(msgt_user_live, 0);
    ne_close(n);
}

static void nonpod_failed_send_leaves_payload_with_caller(void **state)
{
    (void)state;
    note_env *n = ne_open(RX_CHECK);
    msgt_note v;
    expect_send_refused(n, stale_id(n), AX_ESTALE, &v);
    assert_int_equal(n->dl_reason, AX_ESTALE);
    tu_assert_err(ax_system_send(n->e.sys, ax_id_nil(), n->rx_id, T_NOTE, &v, sizeof v - 1),
                  AX_EMSGSIZE);
    assert_int_equal(msgt_note_frees, 0);
    ax_system_shutdown(n->e.sys);
    tu_assert_err(ax_system_send(n->e.sys, ax_id_nil(), n->rx_id, T_NOTE, &v, sizeof v),
                  AX_ECLOSED);
    assert_int_equal(msgt_note_frees, 0);
    msgt_note_release(&v);
    ne_close(n);
}

/* Same rule for a target on an unknown node: AX_ENOROUTE is a failed send,
 * so the payload (and what it owns) stays with the caller. */
static void nonpod_noroute_send_leaves_payload_with_caller(void **state)
{
    (void)state;
    note_env *n = ne_open(RX_CHECK);
    msgt_note v;
    ax_id far = {99, 0, 1};
    expect_send_refused(n, far, AX_ENOROUTE, &v);
    msgt_note_release(&v);
    ne_close(n);
}

/* Every AX_ENOMEM from ax_system_schedule leaves the payload with the
 * caller: fail allocation 1, 2, ... until the schedule succeeds. */
static void nonpod_schedule_enomem_leaves_payload_with_caller(void **state)
{
    (void)state;
    note_env *n = ne_open(RX_CHECK);
    msgt_note v;
    for (uint64_t k = 1;; k++) {
        v = msgt_note_make(NOTE_TEXT, NOTE_N, NOTE_SEED);
        n->ta.fail_at = alloc_calls(&n->ta) + k;
        int rc = ax_system_schedule(n->e.sys, 0, ax_id_nil(), n->rx_id, T_NOTE, &v, sizeof v, NULL);
        n->ta.fail_at = 0;
        if (rc == 0)
            break;
        tu_assert_err(rc, AX_ENOMEM);
        if (msgt_note_frees != 0)
            fail_msg("ax_system_schedule returned AX_ENOMEM (allocation %lu failed) but ran "
                     "the free hook on the caller's payload",
                     (unsigned long)k);
        msgt_note_release(&v);
        if (k > 10)
            fail_msg("schedule still failing at allocation %lu", (unsigned long)k);
    }
    tu_drain(n->e.loop, 5000);
    assert_int_equal(n->rx.got, 1);
    assert_int_equal(msgt_note_frees, 1);
    ne_close(n);
}

static void nonpod_dead_letters_run_hook(void **state)
{
    (void)state;
    note_env *n = ne_open(RX_STOP);
    stop_after_first(n);
    expect_dead(n, 1, 2, AX_ESTALE, 3);
    ne_close(n);
}

static void nonpod_dropped_at_shutdown(void **state)
{
    (void)state;
    note_env *n = ne_open(RX_CHECK);
    queue_for_shutdown(n, n->rx_id, 4);
    ax_system_shutdown(n->e.sys);
    expect_dead(n, 0, 5, AX_ECLOSED, 5);
    ne_close(n);
}

/* system.h: the dead-letter hook is called "after it was counted.  The
 * payload is not available (it has already been released)". */
static void dead_letter_hook_runs_after_release(void **state)
{
    (void)state;
    note_env *n = ne_open(RX_STOP);
    /* Handled one (released: 1), then ax_stop: two dead letters, the k-th
     * of which must find 1 + k payloads released. */
    n->check_order = 1;
    n->dl_base = 1;
    stop_after_first(n);
    assert_int_equal(n->dl, 2);
    assert_int_equal(msgt_note_frees, 3);

    /* Dropped at shutdown: the same order. */
    note_rx rx2 = {RX_CHECK, 0, 0, 0, NULL, {0, 0, 0}};
    ax_id id2;
    tu_ok(ax_spawn(n->e.sys, note_rx_fn, &rx2, NULL, &id2));
    queue_for_shutdown(n, id2, 2);
    n->dl = 0;
    n->dl_base = 3;
    ax_system_shutdown(n->e.sys);
    assert_int_equal(n->dl, 3);
    assert_int_equal(msgt_note_frees, 6);
    if (n->dl_early)
        fail_msg("%lu of 5 dead letters were reported before their payload was released",
                 (unsigned long)n->dl_early);
    ne_close(n);
}

typedef struct fwd {
    ax_id to;
    int rc1, rc2;
    int frees_after;
} fwd;

static void fwd_fn(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    fwd *f = state;
    (void)msg;
    f->rc1 = ax_forward(ctx, f->to);
    f->rc2 = ax_forward(ctx, f->to); /* a second forward would copy: refused */
    f->frees_after = msgt_note_frees;
}

static void nonpod_forward_moves_to_final_receiver(void **state)
{
    (void)state;
    note_env *n = ne_open(RX_CHECK);
    msgt_note v;
    fwd f = {n->rx_id, 1, 1, -1};
    ax_id fid;
    tu_ok(ax_spawn(n->e.sys, fwd_fn, &f, NULL, &fid));
    ax_id origin = stale_id(n); /* any id will do as a sender */
    tu_ok(note_send(n, origin, fid, &v));
    tu_drain(n->e.loop, 5000);
    tu_ok(f.rc1);
    tu_assert_err(f.rc2, AX_EINVAL);
    assert_int_equal(f.frees_after, 0); /* moved: not released with the forwarder */
    assert_int_equal(n->rx.got, 1);
    assert_int_equal(n->rx.bad, 0); /* intact when the final receiver runs */
    assert_int_equal(n->rx.frees_at_entry, 0);
    assert_true(ax_id_eq(n->rx.sender, origin)); /* forward keeps the sender */
    assert_int_equal(msgt_note_frees, 1);        /* once, after the final handler */

    /* A forward that fails leaves the message with the forwarder's
     * dispatcher: released once, after the handler. */
    f.to = stale_id(n);
    uint64_t dl = n->dl;
    send_notes(n, fid, 1);
    tu_drain(n->e.loop, 5000);
    tu_assert_err(f.rc1, AX_ESTALE);
    tu_assert_err(f.rc2, AX_ESTALE);
    assert_int_equal(f.frees_after, 1);
    assert_int_equal(n->dl - dl, 2);
    assert_int_equal(msgt_note_frees, 2);
    ne_close(n);
}

static void nonpod_handler_takes_ownership(void **state)
{
    (void)state;
    note_env *n = ne_open(RX_STEAL);
    send_notes(n, n->rx_id, 1);
    tu_drain(n->e.loop, 5000);
    assert_int_equal(n->rx.got, 1);
    assert_int_equal(msgt_note_frees, 1); /* the hook ran, on a NULL text */
    assert_non_null(n->rx.stolen);
    assert_string_equal(n->rx.stolen, NOTE_TEXT);
    assert_int_equal(msgt_user_live, 1); /* only the stolen text is left */
    msgt_user_free(n->rx.stolen);
    ne_close(n);
}

int main(int argc, char **argv)
{
    tu_parse_backend(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_validates_and_fills_slots),
        cmocka_unit_test(table_rehash_keeps_every_type),
        cmocka_unit_test(register_enomem_at_every_step),
        cmocka_unit_test(send_many_types_across_rehash),
        cmocka_unit_test(handler_send_after_rehash),
        cmocka_unit_test_teardown(nonpod_free_hook_runs_once_after_handler, ne_teardown),
        cmocka_unit_test_teardown(nonpod_failed_send_leaves_payload_with_caller, ne_teardown),
        cmocka_unit_test_teardown(nonpod_noroute_send_leaves_payload_with_caller, ne_teardown),
        cmocka_unit_test_teardown(nonpod_schedule_enomem_leaves_payload_with_caller, ne_teardown),
        cmocka_unit_test_teardown(nonpod_dead_letters_run_hook, ne_teardown),
        cmocka_unit_test_teardown(nonpod_dropped_at_shutdown, ne_teardown),
        cmocka_unit_test_teardown(dead_letter_hook_runs_after_release, ne_teardown),
        cmocka_unit_test_teardown(nonpod_forward_moves_to_final_receiver, ne_teardown),
        cmocka_unit_test_teardown(nonpod_handler_takes_ownership, ne_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
