/* coro_behavior_test.c - behaviours with coroutine handlers
 * (src/actor/coro_actor.c): async and sync handlers in one table, one
 * handler at a time, ax_become from an async handler (and refused in a
 * coroutine actor), and an async handler poisoned while it sleeps. */
#include "cafx.h"

/* ---- behaviours: async and sync handlers in one table, ax_become ------------------ */

typedef struct bhv_state {
    char log[64][16];
    int n;
    int busy, reentered;
    int sync_sleep, unknown_sleep, unknown_ask;
    int async_in_coro, sync_in_coro;
    int become_rc;
    ax_behavior *next;
    int become_before_sleep;
    int stops, reason, rc;
} bhv_state;

static void bhv_log(bhv_state *b, const char *what, uint64_t v)
{
    if (b->n < 64)
        snprintf(b->log[b->n], sizeof b->log[0], "%s%llu", what, (unsigned long long)v);
    b->n++;
}

static void bhv_async_u64(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    bhv_state *b = state;
    if (b->busy)
        b->reentered++;
    b->busy = 1;
    b->async_in_coro += axi_coro_current() != NULL;
    if (b->next && b->become_before_sleep)
        b->become_rc = ax_become(ctx, b->next);
    b->rc = ax_sleep(ctx, AX_MSEC(5));
    if (b->next && !b->become_before_sleep)
        b->become_rc = ax_become(ctx, b->next);
    bhv_log(b, "a", ca_u64(msg));
    b->busy = 0;
}

static void bhv_sync_empty(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    bhv_state *b = state;
    if (b->busy)
        b->reentered++;
    b->sync_in_coro += axi_coro_current() != NULL;
    b->sync_sleep = ax_sleep(ctx, AX_MSEC(1));
    bhv_log(b, "s", 0);
}

static void bhv_unknown(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    bhv_state *b = state;
    if (b->busy)
        b->reentered++;
    const ax_msg *reply = NULL;
    uint64_t v = 1;
    b->unknown_sleep = ax_sleep(ctx, AX_MSEC(1));
    b->unknown_ask = ax_ask(ctx, ax_self(ctx), T_U64, &v, sizeof v, &reply, AX_MSEC(1));
    bhv_log(b, "u", msg->type);
}

static void bhv_second_u64(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)ctx;
    bhv_state *b = state;
    if (b->busy)
        b->reentered++;
    b->sync_in_coro += axi_coro_current() != NULL;
    bhv_log(b, "b", ca_u64(msg));
}

static void bhv_stop(void *state, ax_ctx *ctx, int reason)
{
    (void)ctx;
    bhv_state *b = state;
    b->stops++;
    b->reason = reason;
}

static void test_behavior_async_and_sync_mix(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    ax_handler hs[] = {{T_U64, bhv_async_u64, AX_HANDLER_ASYNC},
                       {T_EMPTY, bhv_sync_empty, AX_HANDLER_SYNC}};
    ax_behavior *b;
    tu_ok(ax_behavior_new(f.sys, hs, 2, bhv_unknown, &b));
    ax_handler bad[] = {{T_U64, bhv_async_u64, 2}};
    ax_behavior *nb;
    tu_assert_err(ax_behavior_new(f.sys, bad, 1, bhv_unknown, &nb), AX_EINVAL);
    bhv_state st;
    memset(&st, 0, sizeof st);
    st.unknown_ask = 12345;
    ax_spawn_options so;
    memset(&so, 0, sizeof so);
    so.on_stop = bhv_stop;
    ax_id a;
    tu_ok(ax_spawn_behavior(f.sys, b, &st, &so, &a));
    ca_seq sq = {1, 1};
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 1));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_EMPTY, NULL, 0));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 2));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_SEQ, &sq, sizeof sq));
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, T_EMPTY, NULL, 0));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 3));
    ca_drain(&f);
    assert_int_equal(st.n, 6);
    const char *want[] = {"a1", "s0", "a2", "u102", "s0", "a3"};
    for (int i = 0; i < 6; i++)
        assert_string_equal(st.log[i], want[i]);
    assert_int_equal(st.reentered, 0);
    assert_int_equal(st.async_in_coro, 3);
    assert_int_equal(st.sync_in_coro, 0);
    tu_ok(st.rc);
    tu_assert_err(st.sync_sleep, AX_ENOTCORO);
    tu_assert_err(st.unknown_sleep, AX_ENOTCORO);
    tu_assert_err(st.unknown_ask, AX_ENOTCORO);
    assert_int_equal(ca_stacks(f.sys).live, 0);
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, AX_MSG_POISON, NULL, 0));
    ca_drain(&f);
    assert_int_equal(st.stops, 1);
    assert_int_equal(st.reason, AX_REASON_POISON);
    assert_int_equal(f.dl.n, 0);
    ca_close(&f);
}

static void check_become(int before_sleep)
{
    ca f;
    ca_open(&f, NULL);
    ax_handler h1[] = {{T_U64, bhv_async_u64, AX_HANDLER_ASYNC}};
    ax_handler h2[] = {{T_U64, bhv_second_u64, AX_HANDLER_SYNC}};
    ax_behavior *b1, *b2;
    tu_ok(ax_behavior_new(f.sys, h1, 1, bhv_unknown, &b1));
    tu_ok(ax_behavior_new(f.sys, h2, 1, bhv_unknown, &b2));
    bhv_state st;
    memset(&st, 0, sizeof st);
    st.next = b2;
    st.become_before_sleep = before_sleep;
    st.become_rc = 12345;
    ax_id a;
    tu_ok(ax_spawn_behavior(f.sys, b1, &st, NULL, &a));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 1));
    ca_until_ge(&f, &st.async_in_coro, 1, 5000);
    /* These arrive while the async handler sleeps. */
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 2));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 3));
    ca_drain(&f);
    tu_ok(st.become_rc);
    assert_int_equal(st.n, 3);
    /* The handler that called ax_become finished as it was; the next
     * message already met the new behaviour. */
    assert_string_equal(st.log[0], "a1");
    assert_string_equal(st.log[1], "b2");
    assert_string_equal(st.log[2], "b3");
    assert_int_equal(st.reentered, 0);
    assert_int_equal(st.async_in_coro, 1);
    ca_close(&f);
}

static void test_behavior_become_from_async_handler(void **state)
{
    (void)state;
    check_become(0);
    check_become(1);
}

typedef struct become_coro {
    int rc;
    ax_behavior *b;
} become_coro;

static void become_coro_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    become_coro *bc = state;
    bc->rc = ax_become(ctx, bc->b);
}

static void test_become_in_coroutine_actor(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    ax_handler h[] = {{T_U64, bhv_second_u64, AX_HANDLER_SYNC}};
    become_coro bc = {12345, NULL};
    tu_ok(ax_behavior_new(f.sys, h, 1, bhv_unknown, &bc.b));
    ax_id a;
    tu_ok(ax_spawn_coro(f.sys, become_coro_receive, &bc, NULL, &a));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 1));
    ca_drain(&f);
    /* A coroutine actor has a receive function, not a behaviour. */
    tu_assert_err(bc.rc, AX_ENOTSUP);
    ca_close(&f);
}

/* Poison while an async behaviour handler sleeps. */
static void test_behavior_async_poisoned_while_sleeping(void **state)
{
    (void)state;
    ca f;
    ca_open(&f, NULL);
    ax_handler h[] = {{T_U64, bhv_async_u64, AX_HANDLER_ASYNC}};
    ax_behavior *b;
    tu_ok(ax_behavior_new(f.sys, h, 1, bhv_unknown, &b));
    bhv_state st;
    memset(&st, 0, sizeof st);
    ax_spawn_options so;
    memset(&so, 0, sizeof so);
    so.on_stop = bhv_stop;
    ax_id a;
    tu_ok(ax_spawn_behavior(f.sys, b, &st, &so, &a));
    tu_ok(ca_send_u64(f.sys, ax_id_nil(), a, 1));
    ca_until_ge(&f, &st.async_in_coro, 1, 5000);
    tu_ok(ax_system_send(f.sys, ax_id_nil(), a, AX_MSG_POISON, NULL, 0));
    ca_until_ge(&f, &st.stops, 1, 5000);
    tu_assert_err(st.rc, AX_ECANCELED);
    assert_int_equal(st.n, 1); /* the handler ran on to its end */
    assert_int_equal(st.reason, AX_REASON_POISON);
    assert_int_equal(ca_stacks(f.sys).live, 0);
    assert_int_equal(ax_timer_count(f.loop), 0);
    ca_close(&f);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_behavior_async_and_sync_mix),
        cmocka_unit_test(test_behavior_become_from_async_handler),
        cmocka_unit_test(test_become_in_coroutine_actor),
        cmocka_unit_test(test_behavior_async_poisoned_while_sleeping),
    };
    return ca_main(argc, argv, tests, sizeof tests / sizeof tests[0], NULL, 0, 60);
}
