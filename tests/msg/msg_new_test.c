/* msg_new_test.c - messages built in place (src/msg/registry.c and
 * src/actor/send.c): ax_msg_new, ax_send_msg / ax_system_send_msg and
 * ax_msg_discard - delivery without a copy, from a handler, a failed send
 * that leaves the message with its caller, errors and shutdown. */
#include <stdio.h>

#include "registry_fx.h"

/* ---- construct in place ---------------------------------------------------- */

static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

static void msg_new_delivers_in_place(void **state)
{
    (void)state;
    static reg_env r; /* static: reachable from the teardown after a failure */
    re_open(&r);
    ax_system *sys = r.e.sys;
    r.sink.align = 16;
    ax_id from = {0, 4242, 7}; /* any sender id is passed through */

    /* Dirty a pooled node first: ax_msg_new must hand it out zeroed. */
    pod p;
    msgt_fill(&p, T_POD, sizeof p);
    tu_ok(ax_system_send(sys, ax_id_nil(), r.to, T_POD, &p, sizeof p));
    tu_drain(r.e.loop, 5000);

    static const struct {
        uint32_t type;
        size_t size;
    } cases[] = {{T_POD, sizeof(pod)}, {T_EMPTY, 0},     {T_BLOB, 0},
                 {T_BLOB, 5000},       {T_BLOB, 200000}, {T_BIG, 100000}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t blocks = r.ta.live_blocks;
        int direct = axi_size_class(cases[i].size) == AXI_CLS_DIRECT;
        ax_outmsg *m = NULL;
        void *data = NULL;
        tu_ok(ax_msg_new(sys, cases[i].type, cases[i].size, &m, &data));
        assert_non_null(m);
        assert_non_null(data);
        assert_int_equal((uintptr_t)data % 16, 0);
        if (!all_zero(data, cases[i].size))
            fail_msg("case %zu: ax_msg_new payload not zeroed", i);
        msgt_fill(data, cases[i].type, cases[i].size);
        tu_ok(ax_system_send_msg(sys, from, r.to, m));
        tu_drain(r.e.loop, 5000);
        assert_int_equal(r.sink.got, i + 2);
        assert_int_equal(r.sink.last_type, cases[i].type);
        assert_int_equal(r.sink.last_size, cases[i].size);
        assert_ptr_equal(r.sink.last_data, data); /* no copy: the handler sees that memory */
        assert_true(ax_id_eq(r.sink.last_sender, from));
        if (direct) /* its own block, released after the handler */
            assert_int_equal(r.ta.live_blocks, blocks);
    }
    assert_int_equal(r.sink.bad, 0);
    assert_int_equal(r.sink.misaligned, 0);
    re_close(&r);
}

/* An actor that builds its messages in place and sends them with ax_send_msg. */
typedef struct builder {
    ax_id to;
    void *data;
    int rc_new, rc_send;
} builder;

static void builder_fn(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    builder *b = state;
    ax_outmsg *m;
    (void)msg;
    b->rc_new = ax_msg_new(ax_ctx_system(ctx), T_BLOB, 70000, &m, &b->data);
    if (b->rc_new)
        return;
    msgt_fill(b->data, T_BLOB, 70000);
    b->rc_send = ax_send_msg(ctx, b->to, m);
    if (b->rc_send)
        ax_msg_discard(ax_ctx_system(ctx), m);
}

static void msg_new_from_handler(void **state)
{
    (void)state;
    static reg_env r; /* static: reachable from the teardown after a failure */
    re_open(&r);
    builder b = {r.to, NULL, 1, 1};
    ax_id bid;
    tu_ok(ax_spawn(r.e.sys, builder_fn, &b, NULL, &bid));
    tu_ok(ax_system_send(r.e.sys, ax_id_nil(), bid, T_EMPTY, NULL, 0));
    tu_drain(r.e.loop, 5000);
    tu_ok(b.rc_new);
    tu_ok(b.rc_send);
    assert_int_equal(r.sink.got, 1);
    assert_int_equal(r.sink.bad, 0);
    assert_int_equal(r.sink.last_size, 70000);
    assert_ptr_equal(r.sink.last_data, b.data);
    assert_true(ax_id_eq(r.sink.last_sender, bid)); /* the handler's actor */
    tu_assert_err(ax_send_msg(NULL, r.to, NULL), AX_EINVAL);
    re_close(&r);
}

static ax_id stale_id(reg_env *r)
{
    ax_id id;
    msgt_sink *k = &r->sink;
    tu_ok(ax_spawn(r->e.sys, msgt_sink_fn, k, NULL, &id));
    tu_ok(ax_system_send(r->e.sys, ax_id_nil(), id, AX_MSG_POISON, NULL, 0));
    tu_drain(r->e.loop, 5000);
    return id;
}

static void msg_new_failed_send_stays_with_caller(void **state)
{
    (void)state;
    static reg_env r; /* static: reachable from the teardown after a failure */
    re_open(&r);
    ax_system *sys = r.e.sys;
    r.sink.no_check = 1;
    ax_id gone = stale_id(&r);
    ax_outmsg *m;
    void *data;
    tu_ok(ax_msg_new(sys, T_NOTE, sizeof(msgt_note), &m, &data));
    msgt_note *v = data;
    *v = msgt_note_make("in place", 2, 5);

    /* Stale target: a dead letter, but the message is still ours. */
    tu_assert_err(ax_system_send_msg(sys, ax_id_nil(), gone, m), AX_ESTALE);
    assert_int_equal(r.dl, 1);
    assert_int_equal(msgt_note_frees, 0);
    assert_true(msgt_note_is(v, "in place", 2, 5));
    /* Unknown node: the same. */
    ax_id far = {99, 0, 1};
    tu_assert_err(ax_system_send_msg(sys, ax_id_nil(), far, m), AX_ENOROUTE);
    assert_int_equal(msgt_note_frees, 0);
    assert_true(msgt_note_is(v, "in place", 2, 5));
    /* Still ours, so it can be sent again... */
    tu_ok(ax_system_send_msg(sys, ax_id_nil(), r.to, m));
    assert_int_equal(msgt_note_frees, 0);
    tu_drain(r.e.loop, 5000);
    assert_int_equal(r.sink.got, 1);
    assert_int_equal(msgt_note_frees, 1); /* once, after the handler */

    /* ...or discarded: the free hook runs once. */
    tu_ok(ax_msg_new(sys, T_NOTE, sizeof(msgt_note), &m, &data));
    *(msgt_note *)data = msgt_note_make("discarded", 1, 1);
    tu_assert_err(ax_system_send_msg(sys, ax_id_nil(), gone, m), AX_ESTALE);
    ax_msg_discard(sys, m);
    assert_int_equal(msgt_note_frees, 2);
    /* Never sent, direct-sized: discard frees it. */
    int64_t blocks = r.ta.live_blocks;
    tu_ok(ax_msg_new(sys, T_BIG, 100000, &m, &data));
    assert_int_equal(r.ta.live_blocks, blocks + 1);
    ax_msg_discard(sys, m);
    ax_msg_discard(sys, NULL);
    ax_msg_discard(NULL, NULL);
    assert_int_equal(msgt_user_live, 0);
    assert_int_equal(r.ta.live_blocks, blocks);
    re_close(&r);
}

static void msg_new_errors_and_shutdown(void **state)
{
    (void)state;
    static reg_env r; /* static: reachable from the teardown after a failure */
    re_open(&r);
    ax_system *sys = r.e.sys;
    r.sink.no_check = 1;
    ax_outmsg *m;
    void *data;
    tu_assert_err(ax_msg_new(NULL, T_POD, sizeof(pod), &m, &data), AX_EINVAL);
    tu_assert_err(ax_msg_new(sys, T_POD, sizeof(pod), NULL, &data), AX_EINVAL);
    tu_assert_err(ax_msg_new(sys, T_POD, sizeof(pod), &m, NULL), AX_EINVAL);
    tu_assert_err(ax_msg_new(sys, 999, 8, &m, &data), AX_EUNKNOWNTYPE);
    tu_assert_err(ax_msg_new(sys, 0, 0, &m, &data), AX_EUNKNOWNTYPE);
    tu_assert_err(ax_msg_new(sys, T_POD, sizeof(pod) - 1, &m, &data), AX_EMSGSIZE);
    tu_assert_err(ax_msg_new(sys, T_EMPTY, 1, &m, &data), AX_EMSGSIZE);
    tu_assert_err(ax_msg_new(sys, T_BLOB, AX_MSG_MAX_SIZE + 1u, &m, &data), AX_EMSGSIZE);
    tu_assert_err(ax_system_send_msg(NULL, ax_id_nil(), r.to, NULL), AX_EINVAL);
    tu_assert_err(ax_system_send_msg(sys, ax_id_nil(), r.to, NULL), AX_EINVAL);

    /* One queued and one still held when the system shuts down. */
    ax_outmsg *queued, *held;
    tu_ok(ax_msg_new(sys, T_NOTE, sizeof(msgt_note), &queued, &data));
    *(msgt_note *)data = msgt_note_make("queued", 1, 1);
    tu_ok(ax_system_send_msg(sys, ax_id_nil(), r.to, queued));
    void *held_data;
    tu_ok(ax_msg_new(sys, T_NOTE, sizeof(msgt_note), &held, &held_data));
    *(msgt_note *)held_data = msgt_note_make("held", 1, 1);
    ax_system_shutdown(sys);
    assert_int_equal(msgt_note_frees, 1); /* the queued one: a dead letter */
    assert_int_equal(r.dl, 1);
    tu_assert_err(ax_msg_new(sys, T_POD, sizeof(pod), &m, &data), AX_ECLOSED);
    tu_assert_err(ax_system_send_msg(sys, ax_id_nil(), r.to, held), AX_ECLOSED);
    assert_int_equal(msgt_note_frees, 1); /* the held one is still ours */
    assert_true(msgt_note_is(held_data, "held", 1, 1));
    ax_msg_discard(sys, held);
    assert_int_equal(msgt_note_frees, 2);
    assert_int_equal(r.sink.got, 0);
    re_close(&r);
}

int main(int argc, char **argv)
{
    tu_parse_backend(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(msg_new_delivers_in_place, re_teardown),
        cmocka_unit_test_teardown(msg_new_from_handler, re_teardown),
        cmocka_unit_test_teardown(msg_new_failed_send_stays_with_caller, re_teardown),
        cmocka_unit_test_teardown(msg_new_errors_and_shutdown, re_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
