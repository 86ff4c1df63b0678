/* table_test.c - the actor table (src/actor/table.c): ids as values, slot
 * reuse with a new cookie, stale and forged ids, the live-actor limit. */
#include "actor/actor_fixture.h"

static void test_id_is_small_value(void **state)
{
    (void)state;
    assert_true(sizeof(ax_id) <= 16);
    ax_id nil = ax_id_nil();
    assert_true(ax_id_is_nil(nil));
    assert_int_equal(nil.node, 0);
    assert_int_equal(nil.index, 0);

    fx f;
    fx_open(&f, NULL);
    fx_rec r1, r2;
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    ax_id a = fx_spawn_rec(f.sys, &r1);
    ax_id b = fx_spawn_rec(f.sys, &r2);
    assert_int_equal(a.node, 0);
    assert_false(ax_id_is_nil(a));
    assert_int_equal(a.cookie & 1u, 1u); /* live ids carry odd cookies */
    assert_int_not_equal(a.cookie, 0);
    assert_false(ax_id_eq(a, b));
    ax_id copy = a; /* a plain value: copies compare equal */
    assert_true(ax_id_eq(copy, a));
    /* the id the handler sees for itself is the one spawn returned */
    tu_ok(fx_u64_send(f.sys, ax_id_nil(), a, 1));
    fx_drain(&f);
    assert_int_equal(r1.n, 1);
    fx_assert_id_eq(r1.m[0].self, a);
    fx_close(&f);
}

/* An actor ends, its slot is reused by a new actor with a new cookie: the
 * old id's messages are dropped and reported, the new actor sees nothing. */
static void test_stale_id_never_reaches_new_actor(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    fx_rec old_r, new_r, sender_r;
    memset(&old_r, 0, sizeof old_r);
    memset(&new_r, 0, sizeof new_r);
    memset(&sender_r, 0, sizeof sender_r);
    ax_id sender = fx_spawn_rec(f.sys, &sender_r);
    old_r.stop_after = 1;
    ax_id old_id = fx_spawn_rec(f.sys, &old_r);
    tu_ok(fx_u64_send(f.sys, sender, old_id, 7));
    fx_drain(&f);
    assert_int_equal(old_r.stops, 1);
    assert_int_equal(old_r.stop_reason, AX_REASON_NORMAL);

    ax_id new_id = fx_spawn_rec(f.sys, &new_r);
    assert_int_equal(new_id.index, old_id.index); /* the slot was recycled */
    assert_int_not_equal(new_id.cookie, old_id.cookie);
    assert_int_equal(new_id.cookie & 1u, 1u);

    uint64_t dl0 = fx_stats(f.sys).dead_letters;
    uint64_t hook0 = f.dl.n;
    uint64_t v = 42;
    tu_assert_err(ax_system_send(f.sys, sender, old_id, T_U64, &v, sizeof v), AX_ESTALE);
    /* again, now that the type is cached for the fast path */
    tu_assert_err(ax_system_send(f.sys, sender, old_id, T_U64, &v, sizeof v), AX_ESTALE);
    tu_assert_err(ax_system_send(f.sys, sender, old_id, T_EMPTY, NULL, 0), AX_ESTALE);
    assert_int_equal(fx_stats(f.sys).dead_letters, dl0 + 3);
    assert_int_equal(f.dl.n, hook0 + 3);
    const ax_dead_letter *dl = &f.dl.v[hook0];
    fx_assert_id_eq(dl->from, sender);
    fx_assert_id_eq(dl->to, old_id);
    assert_int_equal(dl->type, T_U64);
    assert_int_equal(dl->reason, AX_ESTALE);
    assert_int_equal(f.dl.v[hook0 + 2].type, T_EMPTY);

    fx_drain(&f);
    assert_int_equal(new_r.n, 0);
    /* the new id itself works */
    tu_ok(fx_u64_send(f.sys, sender, new_id, 9));
    fx_drain(&f);
    assert_int_equal(new_r.n, 1);
    assert_int_equal(new_r.m[0].u64, 9);
    fx_close(&f);
}

/* The same from inside a handler: ax_send to a stale id. */
typedef struct stale_sender {
    ax_id target;
    int rc;
} stale_sender;

static void stale_sender_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    stale_sender *s = state;
    uint64_t v = 5;
    s->rc = ax_send(ctx, s->target, T_U64, &v, sizeof v);
}

static void test_stale_id_from_handler(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    fx_rec victim, newcomer;
    memset(&victim, 0, sizeof victim);
    memset(&newcomer, 0, sizeof newcomer);
    ax_id vid = fx_spawn_rec(f.sys, &victim);
    tu_ok(ax_system_send(f.sys, ax_id_nil(), vid, AX_MSG_POISON, NULL, 0));
    fx_drain(&f);
    ax_id nid = fx_spawn_rec(f.sys, &newcomer);
    assert_int_equal(nid.index, vid.index);

    stale_sender s = {vid, 1};
    ax_id sid;
    tu_ok(ax_spawn(f.sys, stale_sender_receive, &s, NULL, &sid));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), sid, T_EMPTY, NULL, 0));
    uint64_t hook0 = f.dl.n;
    fx_drain(&f);
    tu_assert_err(s.rc, AX_ESTALE);
    assert_int_equal(f.dl.n, hook0 + 1);
    fx_assert_id_eq(f.dl.v[hook0].from, sid);
    fx_assert_id_eq(f.dl.v[hook0].to, vid);
    assert_int_equal(f.dl.v[hook0].reason, AX_ESTALE);
    assert_int_equal(newcomer.n, 0);
    fx_close(&f);
}

static uint32_t xorshift32(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* Forged ids: never a crash, always AX_ESTALE and one dead letter. */
static void test_forged_ids(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    enum { N = 8 };
    fx_rec r[N];
    ax_id ids[N];
    memset(r, 0, sizeof r);
    for (int i = 0; i < N; i++)
        ids[i] = fx_spawn_rec(f.sys, &r[i]);
    /* one ended actor, so a free slot exists too */
    tu_ok(ax_system_send(f.sys, ax_id_nil(), ids[3], AX_MSG_POISON, NULL, 0));
    fx_drain(&f);

    ax_id forged[] = {
        {0, 1000, 1},                         /* index past every slot */
        {0, 4096, 1},                         /* next page */
        {0, UINT32_MAX, 1},                   /* index at the limit */
        {0, ids[0].index, ids[0].cookie + 1}, /* even cookie on a live slot */
        {0, ids[0].index, ids[0].cookie - 1}, /* cookie 0 on a live slot */
        {0, ids[1].index, 0},                 /* cookie 0 */
        {0, ids[3].index, ids[3].cookie + 1}, /* the free slot's own (even) cookie */
        {0, ids[3].index, ids[3].cookie},     /* the ended actor's old id */
        {0, ids[2].index, ids[2].cookie + 2}, /* a future cookie */
        {0, ids[2].index, UINT32_MAX},        /* odd, far future */
    };
    size_t nf = sizeof forged / sizeof forged[0];
    uint64_t v = 1;
    uint64_t expect = f.dl.n;
    for (size_t i = 0; i < nf; i++) {
        /* twice: the first call warms the type cache for the fast path */
        for (int k = 0; k < 2; k++) {
            int rc = ax_system_send(f.sys, ax_id_nil(), forged[i], T_U64, &v, sizeof v);
            if (rc != AX_ESTALE)
                fail_msg("forged id #%zu {%u,%u,%u}: %s", i, forged[i].node, forged[i].index,
                         forged[i].cookie, ax_errname(rc));
            expect++;
        }
        tu_assert_err(ax_system_send(f.sys, ax_id_nil(), forged[i], T_EMPTY, NULL, 0), AX_ESTALE);
        expect++;
        tu_assert_err(ax_name_register(f.sys, "forged", forged[i]),
                      ax_id_is_nil(forged[i]) ? AX_EINVAL : AX_ESTALE);
    }
    /* random local ids that match no live actor */
    uint32_t seed = 0x2545F491u;
    for (int i = 0; i < 20000; i++) {
        ax_id id = {0, xorshift32(&seed) % 16u, xorshift32(&seed)};
        if (i & 1)
            id.index = xorshift32(&seed);
        int live = 0;
        for (int k = 0; k < N; k++)
            if (k != 3 && ax_id_eq(id, ids[k]))
                live = 1;
        if (live)
            continue;
        int rc = ax_system_send(f.sys, ax_id_nil(), id, T_U64, &v, sizeof v);
        if (rc != AX_ESTALE)
            fail_msg("random id {%u,%u,%u}: %s", id.node, id.index, id.cookie, ax_errname(rc));
        expect++;
    }
    assert_int_equal(f.dl.n, expect);
    assert_int_equal(fx_stats(f.sys).dead_letters, expect);
    /* An id of an unknown node is no route (documented), not a crash. */
    ax_id remote = {77, ids[0].index, ids[0].cookie};
    tu_assert_err(ax_system_send(f.sys, ax_id_nil(), remote, T_U64, &v, sizeof v), AX_ENOROUTE);
    fx_drain(&f);
    for (int i = 0; i < N; i++)
        assert_int_equal(r[i].n, 0); /* nobody got a forged message */
    fx_close(&f);
}

/* The window between an actor's end and its slot's release (its on_stop
 * hook): a forged id carrying the slot's new even cookie must still be
 * refused, and must not put the dying slot back on the run queue. */
typedef struct forger {
    int rc;
    int stops;
} forger;

static void forger_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    (void)msg;
    ax_stop(ctx);
}

static void forger_stop(void *state, ax_ctx *ctx, int reason)
{
    (void)reason;
    forger *fg = state;
    fg->stops++;
    ax_id me = ax_self(ctx);
    ax_id even = {0, me.index, me.cookie + 1};
    uint64_t v = 3;
    fg->rc = ax_send(ctx, even, T_U64, &v, sizeof v);
}

static void test_forged_even_cookie_during_on_stop(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    fx_watchdog("test_forged_even_cookie_during_on_stop", 5);
    forger fg = {1, 0};
    ax_spawn_options so = {.on_stop = forger_stop};
    ax_id a;
    tu_ok(ax_spawn(f.sys, forger_receive, &fg, &so, &a));
    /* warm the fast path's type cache with the type on_stop sends */
    fx_rec warm;
    memset(&warm, 0, sizeof warm);
    ax_id w = fx_spawn_rec(f.sys, &warm);
    tu_ok(fx_u64_send(f.sys, ax_id_nil(), w, 0));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_EMPTY, NULL, 0));
    fx_drain(&f);
    assert_int_equal(fg.stops, 1);
    tu_assert_err(fg.rc, AX_ESTALE);
    /* the slot is reused and works normally */
    fx_rec nr;
    memset(&nr, 0, sizeof nr);
    ax_id n = fx_spawn_rec(f.sys, &nr);
    assert_int_equal(n.index, a.index);
    tu_ok(fx_u64_send(f.sys, ax_id_nil(), n, 11));
    fx_drain(&f);
    assert_int_equal(nr.n, 1);
    fx_watchdog_off();
    fx_close(&f);
}

/* Recycling a slot many times: same index, a new odd cookie each time,
 * and every earlier id stays stale. */
static void test_slot_reuse_cookies(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    enum { ROUNDS = 200 };
    ax_id seen[ROUNDS];
    fx_rec r;
    for (int i = 0; i < ROUNDS; i++) {
        memset(&r, 0, sizeof r);
        seen[i] = fx_spawn_rec(f.sys, &r);
        assert_int_equal(seen[i].index, seen[0].index);
        assert_int_equal(seen[i].cookie & 1u, 1u);
        if (i > 0)
            assert_true(seen[i].cookie != seen[i - 1].cookie);
        tu_ok(ax_system_send(f.sys, ax_id_nil(), seen[i], AX_MSG_POISON, NULL, 0));
        fx_drain(&f);
        assert_int_equal(r.stops, 1);
        assert_int_equal(r.stop_reason, AX_REASON_POISON);
    }
    for (int i = 0; i < ROUNDS; i++)
        tu_assert_err(fx_u64_send(f.sys, ax_id_nil(), seen[i], 1), AX_ESTALE);
    ax_stats st = fx_stats(f.sys);
    assert_int_equal(st.spawned, ROUNDS);
    assert_int_equal(st.live_actors, 0);
    assert_int_equal(ax_actor_count(f.sys), 0);
    fx_close(&f);
}

/* Many actors: ids stay distinct across table pages. */
static void test_many_actors_distinct(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    enum { N = 10000 };
    static fx_rec r; /* shared state: only counts */
    memset(&r, 0, sizeof r);
    ax_id *ids = calloc(N, sizeof *ids);
    assert_non_null(ids);
    for (int i = 0; i < N; i++) {
        tu_ok(ax_spawn(f.sys, fx_rec_receive, &r, NULL, &ids[i]));
        if (i > 0)
            assert_int_not_equal(ids[i].index, ids[i - 1].index);
    }
    assert_int_equal(ax_actor_count(f.sys), N);
    for (int i = 0; i < N; i++)
        tu_ok(fx_u64_send(f.sys, ax_id_nil(), ids[i], (uint64_t)i));
    fx_drain(&f);
    assert_int_equal(r.n, N);
    free(ids);
    fx_close(&f);
}

static void test_max_actors(void **state)
{
    (void)state;
    fx f;
    ax_system_options o;
    memset(&o, 0, sizeof o);
    o.max_actors = 4;
    fx_open(&f, &o);
    fx_rec r[5];
    memset(r, 0, sizeof r);
    ax_id ids[4];
    for (int i = 0; i < 4; i++)
        ids[i] = fx_spawn_rec(f.sys, &r[i]);
    ax_id extra;
    tu_assert_err(ax_spawn(f.sys, fx_rec_receive, &r[4], NULL, &extra), AX_EFULL);
    assert_int_equal(ax_actor_count(f.sys), 4);
    assert_int_equal(fx_stats(f.sys).spawned, 4);
    tu_ok(ax_system_send(f.sys, ax_id_nil(), ids[2], AX_MSG_POISON, NULL, 0));
    fx_drain(&f);
    tu_ok(ax_spawn(f.sys, fx_rec_receive, &r[4], NULL, &extra));
    assert_int_equal(ax_actor_count(f.sys), 4);
    fx_close(&f);
}

int main(int argc, char **argv)
{
    tu_parse_backend(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_is_small_value),
        cmocka_unit_test(test_stale_id_never_reaches_new_actor),
        cmocka_unit_test(test_stale_id_from_handler),
        cmocka_unit_test(test_forged_ids),
        cmocka_unit_test(test_forged_even_cookie_during_on_stop),
        cmocka_unit_test(test_slot_reuse_cookies),
        cmocka_unit_test(test_many_actors_distinct),
        cmocka_unit_test(test_max_actors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
