/* alloc_test.c - allocation failure across the coroutine-actor paths.
 *
 * One scenario: a plain driver ax_ask_cb()s a coroutine actor, which waits
 * in ax_read for a byte a loop timer writes, sleeps, ax_ask()s a plain
 * actor, and replies; meanwhile 40 more coroutine actors sleep at once.  It is run with the Nth
 * allocation failing, for every N the scenario makes (and again with every allocation from the Nth
 * on failing).  Each run must either succeed or report AX_ENOMEM somewhere a user can see it (a
 * call's result, a dead letter), never crash or hang, and leave nothing allocated once the system
 * and loop are freed. */
#include "cafx.h"

typedef struct scen {
    ax_id a, b;
    int sv[2];
    int enomem;     /* AX_ENOMEM seen in a result or a dead letter */
    char first[64]; /* where the first one was seen */
    int unexpected; /* an error that is not a consequence of one */
    char what[160];
    uint64_t result;
    int cb_calls, cb_status;
    int done;
    int stop; /* a message was lost for want of memory */
    int a_runs, b_runs;
    int sleepers, slept; /* spawned, finished */
} scen;

/* Enough sleepers at once that the loop's timer heap grows inside
 * ax_sleep. */
#define SLEEPERS 40

static void note(scen *s, long rc, const char *what)
{
    if (rc >= 0)
        return;
    if (rc == AX_ENOMEM) {
        if (!s->enomem++)
            snprintf(s->first, sizeof s->first, "%s", what);
        return;
    }
    /* Waits that time out, targets that died, and waits cancelled by the
     * teardown of a run stopped early are what an earlier AX_ENOMEM leads
     * to (checked at the end); anything else is wrong. */
    if (rc == AX_ETIMEDOUT || rc == AX_ESTALE || rc == AX_ECANCELED)
        return;
    if (!s->unexpected) {
        s->unexpected = (int)rc;
        snprintf(s->what, sizeof s->what, "%s: %s", what, ax_errname((int)rc));
    }
}

static void dl_hook(void *arg, const ax_dead_letter *dl)
{
    scen *s = arg;
    if (dl->reason == AX_ENOMEM) {
        /* A message lost for want of memory: what waits for it would
         * only end at its timeout.  The outcome is known; stop here (the
         * teardown then unwinds whatever is still waiting). */
        note(s, AX_ENOMEM, "dead letter");
        s->stop = 1;
    } else if (dl->reason != AX_ESTALE && dl->reason != AX_ETIMEDOUT && dl->reason != AX_ECLOSED)
        note(s, dl->reason, "dead letter");
}

/* The coroutine actor. */
static void a_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    scen *s = state;
    s->a_runs++;
    char c;
    long n = ax_read(ctx, s->sv[0], &c, 1, AX_MSEC(ca_ms(1000)));
    note(s, n, "ax_read");
    if (n != 1)
        goto stop;
    int rc = ax_sleep(ctx, AX_MSEC(1));
    note(s, rc, "ax_sleep");
    if (rc)
        goto stop;
    const ax_msg *reply = NULL;
    uint64_t v = ca_u64(msg);
    rc = ax_ask(ctx, s->b, T_U64, &v, sizeof v, &reply, AX_MSEC(ca_ms(100)));
    note(s, rc, "ax_ask");
    if (rc)
        goto stop;
    v = ca_u64(reply);
    rc = ax_reply(ctx, T_U64, &v, sizeof v);
    note(s, rc, "ax_reply (coroutine)");
    if (rc == 0)
        return;
stop:
    ax_stop(ctx); /* the driver's ask then ends with AX_ESTALE */
}

static void b_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    scen *s = state;
    s->b_runs++;
    uint64_t v = ca_u64(msg) * 2;
    note(s, ax_reply(ctx, T_U64, &v, sizeof v), "ax_reply (plain)");
}

static void d_cb(void *state, ax_ctx *ctx, int status, const ax_msg *reply, void *arg)
{
    (void)ctx;
    (void)arg;
    scen *s = state;
    s->cb_calls++;
    s->cb_status = status;
    if (status == 0)
        s->result = ca_u64(reply);
    note(s, status, "ask callback");
    s->done = 1;
}

static void d_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    scen *s = state;
    uint64_t v = 21;
    /* A generous bound: a's script takes a few ms, and every way it can
     * fail ends this ask at once (a stops: AX_ESTALE) or stops the run (a
     * dead letter for want of memory). */
    int rc = ax_ask_cb(ctx, s->a, T_U64, &v, sizeof v, AX_MSEC(ca_ms(3000)), d_cb, NULL);
    note(s, rc, "ax_ask_cb");
    if (rc)
        s->done = 1;
}

static void sleeper_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    scen *s = state;
    note(s, ax_sleep(ctx, AX_MSEC(2)), "ax_sleep (crowd)");
    s->slept++;
    ax_stop(ctx);
}

static void write_byte(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    scen *s = arg;
    if (write(s->sv[1], "x", 1) != 1)
        note(s, AX_ESYS, "write");
}

/* Run the scenario on allocator `ta`.  Returns 1 if it got all the way
 * through (the driver received 42). */
static int run_scenario(tu_alloc *ta, scen *s)
{
    memset(s, 0, sizeof *s);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s->sv), 0);
    ax_loop *loop = NULL;
    ax_system *sys = NULL;
    ax_loop_options lo = {.backend = tu_backend, .allocator = &ta->a};
    int rc = ax_loop_new(&lo, &loop);
    note(s, rc, "ax_loop_new");
    if (rc)
        goto out;
    ax_system_options so;
    memset(&so, 0, sizeof so);
    so.on_dead_letter = dl_hook;
    so.dead_letter_arg = s;
    rc = ax_system_new(loop, &so, &sys);
    note(s, rc, "ax_system_new");
    if (rc)
        goto free_loop;
    rc = ax_msg_register_pod(sys, T_U64, "u64", sizeof(uint64_t), _Alignof(uint64_t));
    note(s, rc, "ax_msg_register_pod");
    if (rc == 0)
        rc = ax_msg_register_pod(sys, T_GO, "go", 0, 1);
    note(s, rc, "ax_msg_register_pod");
    ax_id d;
    if (rc == 0)
        note(s, rc = ax_spawn(sys, b_receive, s, NULL, &s->b), "ax_spawn");
    if (rc == 0)
        note(s, rc = ax_spawn_coro(sys, a_receive, s, NULL, &s->a), "ax_spawn_coro");
    if (rc == 0)
        note(s, rc = ax_spawn(sys, d_receive, s, NULL, &d), "ax_spawn");
    if (rc == 0)
        note(s, rc = ax_system_send(sys, ax_id_nil(), d, T_GO, NULL, 0), "ax_system_send");
    if (rc == 0)
        note(s, rc = ax_timer_start(loop, AX_MSEC(3), 0, write_byte, s, NULL), "ax_timer_start");
    for (int i = 0; rc == 0 && i < SLEEPERS; i++) {
        ax_id id;
        note(s, rc = ax_spawn_coro(sys, sleeper_receive, s, NULL, &id), "ax_spawn_coro");
        if (rc == 0)
            note(s, rc = ax_system_send(sys, ax_id_nil(), id, T_GO, NULL, 0), "ax_system_send");
        if (rc == 0)
            s->sleepers++;
    }
    if (rc == 0) {
        int64_t end = ca_now_ns() + AX_MSEC(ca_ms(5000));
        while (!s->stop && (!s->done || s->slept < s->sleepers)) {
            int r = ax_loop_step(loop, AX_MSEC(10));
            if (r < 0)
                fail_msg("ax_loop_step: %s", ax_errname(r));
            if (r == 0)
                break; /* idle: nothing more can happen */
            if (ca_now_ns() > end)
                fail_msg("the scenario hung (a_runs %d, b_runs %d, cb_calls %d)", s->a_runs,
                         s->b_runs, s->cb_calls);
        }
    }
    tu_ok(ax_system_free(sys));
free_loop:
    tu_ok(ax_loop_free(loop));
out:
    close(s->sv[0]);
    close(s->sv[1]);
    if (ta->live_blocks != 0 || ta->live_bytes != 0)
        fail_msg("leak: %lld blocks, %lld bytes (fail_at %llu%s)", (long long)ta->live_blocks,
                 (long long)ta->live_bytes, (unsigned long long)ta->fail_at,
                 ta->fail_after ? " and after" : "");
    if (s->unexpected)
        fail_msg("fail_at %llu%s: %s", (unsigned long long)ta->fail_at,
                 ta->fail_after ? " and after" : "", s->what);
    if (s->cb_calls > 1)
        fail_msg("the ask callback ran %d times", s->cb_calls);
    return s->result == 42 && s->slept == SLEEPERS;
}

static void check_each_failure(int fail_after)
{
    tu_alloc ta;
    scen s;
    tu_alloc_init(&ta);
    assert_int_equal(run_scenario(&ta, &s), 1);
    assert_int_equal(s.enomem, 0);
    uint64_t total = ta.allocs + ta.reallocs;
    int succeeded = 0, failed = 0;
    for (uint64_t n = 1; n <= total + 1; n++) {
        tu_alloc_init(&ta);
        ta.fail_at = n;
        ta.fail_after = fail_after;
        int64_t t0 = ca_now_ns();
        int ok = run_scenario(&ta, &s);
        double ms = (double)(ca_now_ns() - t0) / 1e6;
        uint64_t made = ta.allocs + ta.reallocs;
        if (getenv("CA_VERBOSE"))
            print_message("fail_at %llu%s: %s in %.1f ms, first AX_ENOMEM from %s\n",
                          (unsigned long long)n, fail_after ? "+" : "", ok ? "ok" : "failed", ms,
                          s.enomem ? s.first : "-");
        if (ok) {
            succeeded++;
        } else {
            failed++;
            if (made >= n && s.enomem == 0)
                fail_msg("fail_at %llu%s: the scenario did not finish and no AX_ENOMEM was "
                         "reported (a_runs %d, b_runs %d, callback %d: %s)",
                         (unsigned long long)n, fail_after ? " and after" : "", s.a_runs, s.b_runs,
                         s.cb_calls, ax_errname(s.cb_status));
            if (made < n)
                fail_msg("fail_at %llu: no allocation failed, yet the scenario did not finish",
                         (unsigned long long)n);
        }
    }
    print_message("%llu allocations; %d runs succeeded, %d reported AX_ENOMEM\n",
                  (unsigned long long)total, succeeded, failed);
}

static void test_each_allocation_fails_once(void **state)
{
    (void)state;
    check_each_failure(0);
}

static void test_allocations_fail_from_n_on(void **state)
{
    (void)state;
    check_each_failure(1);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_allocation_fails_once),
        cmocka_unit_test(test_allocations_fail_from_n_on),
    };
    return ca_main(argc, argv, tests, sizeof tests / sizeof tests[0], NULL, 0, 100);
}
