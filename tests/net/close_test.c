/* close_test.c - a peer that closes its link on purpose (shutdown, node
 * removal) is told apart from one that failed, on every transport
 * (argv[1]: tcp, unix, tls, tls-unix): the survivor logs that the peer
 * closed the link, at info level, not that it was lost - also when the
 * closing side had input it never read, so that its kernel answers with a
 * reset instead of an orderly end of stream.  And links and listeners
 * keep a loop running until the system shuts down. */
#include "nettest.h"

#include <signal.h>

static int a_sees_2_down(void *arg)
{
    nt_pair *p = arg;
    return !nt_node_up(p->a, 2);
}

static void reset_log_counts(void)
{
    nt_warn_lines = nt_bye_lines = nt_lost_lines = 0;
}

/* Node 2 shuts down; node 1 (which accepted the link) sees it.  unread:
 * node 1 first sends node 2 frames it never reads. */
static void peer_shuts_down(int unread)
{
    nt_pair p;
    nt_pair_open_linked(&p);
    nt_sink sink;
    ax_id sid = nt_remote(nt_spawn_sink(p.b, &sink), 2);
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    if (unread) {
        /* b is frozen from here on: what a sends stays in b's socket. */
        for (uint64_t i = 0; i < 200; i++)
            tu_ok(ax_system_send(p.a, ax_id_nil(), sid, NT_MSG_SEQ, &i, sizeof i));
        nt_run_frozen(&p, 0, 1, NULL, NULL, 50);
    }
    reset_log_counts();
    ax_system_shutdown(p.b); /* BYE, flush, close: b never steps */
    int b_warnings = nt_warn_lines;
    assert_true(nt_run_frozen(&p, 0, 1, a_sees_2_down, &p, 5000));
    nt_spin(&p, 50);
    assert_int_equal(b_warnings, 0);
    assert_int_equal(nt_bye_lines, 1);
    assert_int_equal(nt_lost_lines, 0);
    assert_int_equal(nt_warn_lines, 0);
    nt_pair_close(&p);
    nt_sink_free(&sink);
}

static void test_shutdown(void **state)
{
    (void)state;
    peer_shuts_down(0);
}

static void test_shutdown_with_unread_input(void **state)
{
    (void)state;
    peer_shuts_down(1);
}

/* Node 2 removes node 1 (the node it dialed); node 1 sees node 2 go. */
static void test_remove(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_up(&p);
    reset_log_counts();
    tu_ok(ax_node_remove(p.b, 1));
    assert_true(nt_run(&p, a_sees_2_down, &p, 5000));
    nt_spin(&p, 50);
    assert_int_equal(nt_bye_lines, 1);
    assert_int_equal(nt_lost_lines, 0);
    assert_int_equal(nt_warn_lines, 0);
    nt_pair_close(&p);
}

/* Step a loop until it says it is idle (ax_loop_step returns 0): returns
 * 1 if it did within `turns`. */
static int goes_idle(ax_loop *loop, int turns)
{
    for (int i = 0; i < turns; i++)
        if (ax_loop_step(loop, AX_MSEC(1)) == 0)
            return 1;
    return 0;
}

/* Links, listeners and their timers keep a loop running; shutting the
 * system down closes them all and lets the loop go idle (ax_loop_run
 * would return). */
static void test_loop_lifetime(void **state)
{
    (void)state;
    ax_loop *loop;
    ax_loop_options lo = {.backend = tu_backend, .allocator = NULL};
    tu_ok(ax_loop_new(&lo, &loop));
    ax_system_options so;
    memset(&so, 0, sizeof so);
    so.node_id = 5;
    ax_system *sys;
    tu_ok(ax_system_new(loop, &so, &sys));
    assert_true(goes_idle(loop, 10)); /* a system alone keeps nothing alive */
    ax_link_options o;
    nt_options(&o);
    char addr[512];
    nt_serve_addr(addr, sizeof addr);
    uint32_t lid;
    tu_ok(ax_serve(sys, addr, &o, &lid));
    assert_false(goes_idle(loop, 10)); /* a listener does */
    tu_ok(ax_serve_stop(sys, lid));
    assert_true(goes_idle(loop, 10));
    tu_ok(ax_system_free(sys));
    tu_ok(ax_loop_free(loop));
    /* A linked pair: both loops busy until both systems shut down. */
    nt_pair p;
    nt_pair_open_up(&p);
    assert_false(goes_idle(p.la, 10));
    assert_false(goes_idle(p.lb, 10));
    ax_system_shutdown(p.b);
    ax_system_shutdown(p.a);
    assert_true(goes_idle(p.la, 100));
    assert_true(goes_idle(p.lb, 100));
    nt_pair_close(&p);
}

int main(int argc, char **argv)
{
    nt_parse_transport(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shutdown),
        cmocka_unit_test(test_shutdown_with_unread_input),
        cmocka_unit_test(test_remove),
        cmocka_unit_test(test_loop_lifetime),
    };
    char name[64];
    snprintf(name, sizeof name, "close_%s", nt_transport_name());
    int rc = cmocka_run_group_tests_name(name, tests, NULL, NULL);
    nt_cleanup();
    return rc;
}
