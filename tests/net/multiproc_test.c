/* multiproc_test.c - links between real processes (argv[1]: tcp, unix,
 * tls).  This process is node 1; node_proc.c children are node 2 (and 3).
 * Every child is reaped; children die with us (PR_SET_PDEATHSIG).
 *
 *   ping, names and ask across nodes; remote monitors
 *   kill -9 a peer mid-stream and restart it: later messages arrive in
 *     order, and the losses match the counters
 *   link flaps from both sides under load: nothing lost or duplicated
 *   a peer that stops reading (SIGSTOP): bounded memory, then recovery
 * Bad input to a node's port is in badinput_test.c. */
#include <signal.h>
#include <unistd.h>

#include "axon/coro.h"
#include "mp_util.h"

static void test_ping_names(void **state)
{
    (void)state;
    child c2;
    spawn_node(&c2, 2, NULL, NULL);
    link_to(&c2);
    ax_id echo = resolve("echo", 0);
    assert_int_equal(echo.node, 2);
    resolve("nobody", AX_ENOENT);
    coll col;
    memset(&col, 0, sizeof col);
    ax_id cid;
    tu_ok(ax_spawn(E.sys, coll_recv, &col, NULL, &cid));
    uint64_t v = 1;
    tu_ok(ax_system_send(E.sys, cid, echo, MP_PING, &v, 8));
    assert_true(run_until(has_pongs, &col, 5000));
    reap(&c2, SIGTERM);
}

/* ---- ask across nodes (a coroutine actor asks node 2) ------------------ */

typedef struct asker {
    ax_id echo, silent, victim;
    int done;
    int rc_ok, rc_timeout, rc_stale;
    uint64_t answer;
} asker;

static void asker_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    asker *a = state;
    if (msg->type != MP_SEQ)
        return;
    const ax_msg *reply;
    uint64_t v = 41;
    a->rc_ok = ax_ask(ctx, a->echo, MP_PING, &v, 8, &reply, AX_SEC(5));
    if (a->rc_ok == 0 && reply->type == MP_PONG)
        memcpy(&a->answer, reply->data, 8);
    a->rc_timeout = ax_ask(ctx, a->silent, MP_PING, &v, 8, &reply, AX_MSEC(300));
    a->rc_stale = ax_ask(ctx, a->victim, MP_PING, &v, 8, &reply, AX_SEC(5));
    a->done = 1;
}

static int ask_done(void *arg)
{
    return ((asker *)arg)->done;
}

static void test_ask(void **state)
{
    (void)state;
    child c2;
    spawn_node(&c2, 2, NULL, NULL);
    link_to(&c2);
    asker a;
    memset(&a, 0, sizeof a);
    a.echo = resolve("echo", 0);
    a.silent = resolve("silent", 0);
    a.victim = resolve("victim", 0);
    /* The victim ends first: asking it fails at once (remote monitor). */
    tu_ok(ax_system_send(E.sys, ax_id_nil(), a.victim, MP_STOP, NULL, 0));
    run_until(NULL, NULL, 200);
    ax_id aid;
    tu_ok(ax_spawn_coro(E.sys, asker_recv, &a, NULL, &aid));
    uint64_t go = 0;
    tu_ok(ax_system_send(E.sys, ax_id_nil(), aid, MP_SEQ, &go, 8));
    int64_t t0 = now_ms();
    assert_true(run_until(ask_done, &a, 10000));
    tu_ok(a.rc_ok);
    assert_int_equal(a.answer, 41);
    tu_assert_err(a.rc_timeout, AX_ETIMEDOUT);
    tu_assert_err(a.rc_stale, AX_ESTALE);
    assert_true(now_ms() - t0 < 4000); /* the stale ask did not wait 5 s */
    reap(&c2, SIGTERM);
}

/* ---- remote monitors ----------------------------------------------------- */

static void test_monitors(void **state)
{
    (void)state;
    child c2;
    spawn_node(&c2, 2, NULL, NULL);
    link_to(&c2);
    coll col;
    memset(&col, 0, sizeof col);
    ax_id cid;
    tu_ok(ax_spawn(E.sys, coll_recv, &col, NULL, &cid));
    ax_id victim = resolve("victim", 0), echo = resolve("echo", 0);
    tu_ok(ax_system_monitor(E.sys, cid, victim));
    tu_ok(ax_system_monitor(E.sys, cid, echo));
    run_until(NULL, NULL, 100);
    tu_ok(ax_system_send(E.sys, ax_id_nil(), victim, MP_STOP, NULL, 0));
    assert_true(run_until(has_downs, &col, 5000));
    assert_int_equal(col.down.reason, AX_REASON_NORMAL);
    assert_true(ax_id_eq(col.down.who, victim));
    /* The node dies: its remaining monitored actor is DOWN (NODE_DOWN). */
    col.downs = 0;
    reap(&c2, SIGKILL);
    assert_true(run_until(has_downs, &col, 5000));
    assert_int_equal(col.down.reason, AX_REASON_NODE_DOWN);
    assert_true(ax_id_eq(col.down.who, echo));
    run_until(NULL, NULL, 300);
    assert_int_equal(col.downs, 1);
    tu_ok(ax_node_remove(E.sys, 2));
}

/* ---- faults -------------------------------------------------------------- */

/* The sink's log: numbers in file order. */
static uint64_t *read_log(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t cap = 1024;
    uint64_t *v = malloc(cap * sizeof *v);
    *n = 0;
    unsigned long long x;
    while (fscanf(f, "%llu", &x) == 1) {
        if (*n == cap)
            v = realloc(v, (cap *= 2) * sizeof *v);
        v[(*n)++] = x;
    }
    fclose(f);
    return v;
}

static int acked(void *arg)
{
    coll *c = arg;
    return c->acks > 0;
}

/* Send MP_SYNC through the same link and wait for the sink's answer:
 * everything sent before has been logged. */
static void sync_sink(coll *col, ax_id cid, ax_id sink)
{
    col->acks = 0;
    uint64_t v = 0;
    tu_ok(ax_system_send(E.sys, cid, sink, MP_SYNC, &v, 8));
    assert_true(run_until(acked, col, 20000));
}

static void send_seqs(ax_id sink, uint64_t from, uint64_t to, int step_every)
{
    for (uint64_t i = from; i <= to; i++) {
        int rc = ax_system_send(E.sys, ax_id_nil(), sink, MP_SEQ, &i, 8);
        if (rc)
            fail_msg("send %llu: %s", (unsigned long long)i, ax_errname(rc));
        if (step_every && i % (uint64_t)step_every == 0)
            ax_loop_step(E.loop, 0);
    }
}

static int confirmed_all(void *arg)
{
    (void)arg;
    ax_link_stats st;
    return ax_node_stats(E.sys, 2, &st) == 0 && st.unconfirmed == 0 && st.buffered_bytes == 0;
}

/* kill -9 mid-stream and restart.  To make "lost" exact, the first
 * process is stopped first (SIGSTOP): what it had handled it had also
 * confirmed, and what we write after that sits unread in its socket when
 * it dies.  The survivor must then count exactly those as lost (and report
 * each as a dead letter), and deliver everything sent afterwards to the
 * restarted process, in order. */
static void test_kill_restart(void **state)
{
    (void)state;
    char log[512];
    snprintf(log, sizeof log, "%s/kill.log", nt_tmpdir());
    unlink(log);
    child c2;
    spawn_node(&c2, 2, NULL, log);
    char addr[300];
    snprintf(addr, sizeof addr, "%s", c2.addr);
    link_to(&c2);
    ax_id sink = resolve("sink", 0);
    coll col;
    memset(&col, 0, sizeof col);
    ax_id cid;
    tu_ok(ax_spawn(E.sys, coll_recv, &col, NULL, &cid));
    E.dl_lost = 0;
    /* Phase 1: handled and confirmed. */
    for (uint64_t base = 1; base < 10000; base += 1000) {
        send_seqs(sink, base, base + 999, 250);
        run_until(NULL, NULL, 2);
    }
    sync_sink(&col, cid, sink);
    assert_true(run_until(confirmed_all, NULL, 5000));
    /* Phase 2: the peer stops reading; 20000 more go out, then it dies. */
    kill(c2.pid, SIGSTOP);
    send_seqs(sink, 10001, 30000, 250);
    run_until(NULL, NULL, 100);
    reap(&c2, SIGKILL);
    /* Phase 3: the survivor keeps going: these wait in the link buffer. */
    send_seqs(sink, 30001, 40000, 500);
    run_until(NULL, NULL, 200);
    ax_link_stats mid;
    tu_ok(ax_node_stats(E.sys, 2, &mid));
    assert_true(mid.state != AX_NODE_UP);
    /* Phase 4: a new process; later messages arrive in order. */
    spawn_node(&c2, 2, addr, log);
    assert_true(run_until(up2, &c2.node, 10000));
    send_seqs(sink, 40001, 50000, 200);
    sync_sink(&col, cid, sink);
    size_t n;
    uint64_t *v = read_log(log, &n);
    /* The log: 1..h from the first process, then k+1..50000 from the
     * second, in order, with no duplicate. */
    size_t i = 0;
    while (i < n && v[i] == i + 1)
        i++;
    uint64_t h = i;
    uint64_t k = i < n ? v[i] - 1 : h;
    for (size_t j = i; j < n; j++)
        assert_int_equal(v[j], k + 1 + (j - i));
    assert_int_equal(v[n - 1], 50000);
    ax_link_stats st;
    tu_ok(ax_node_stats(E.sys, 2, &st));
    fprintf(stderr, "kill -9: the first process handled 1..%llu, the second got %llu..50000, "
                    "lost_unconfirmed %llu, dead letters %llu\n",
            (unsigned long long)h, (unsigned long long)(k + 1),
            (unsigned long long)st.lost_unconfirmed, (unsigned long long)E.dl_lost);
    assert_int_equal(h, 10000);        /* phase 1, all handled */
    assert_true(k > h);                /* something was really in flight */
    assert_int_equal(st.lost_unconfirmed, k - h); /* exactly what was lost */
    assert_int_equal(E.dl_lost, k - h);        /* each one a dead letter */
    assert_int_equal(st.peer_restarts, 1);
    free(v);
    reap(&c2, SIGTERM);
    tu_ok(ax_node_remove(E.sys, 2));
}

static void test_flap(void **state)
{
    (void)state;
    char log[512];
    snprintf(log, sizeof log, "%s/flap.log", nt_tmpdir());
    unlink(log);
    child c2;
    spawn_node(&c2, 2, NULL, log);
    link_to(&c2);
    ax_id sink = resolve("sink", 0);
    coll col;
    memset(&col, 0, sizeof col);
    ax_id cid;
    tu_ok(ax_spawn(E.sys, coll_recv, &col, NULL, &cid));
    const uint64_t N = 100000;
    int flaps = 0;
    for (uint64_t base = 1; base <= N; base += 5000) {
        send_seqs(sink, base, base + 4999, 500);
        if (nt_node_up(E.sys, 2)) {
            if (flaps % 2)
                kill(c2.pid, SIGUSR1); /* the peer closes */
            else
                tu_ok(ax_node_disconnect(E.sys, 2));
            flaps++;
        }
        run_until(NULL, NULL, 20);
    }
    sync_sink(&col, cid, sink);
    size_t n;
    uint64_t *v = read_log(log, &n);
    assert_int_equal(n, N);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(v[i], i + 1);
    free(v);
    ax_link_stats st;
    tu_ok(ax_node_stats(E.sys, 2, &st));
    assert_true(flaps >= 4);
    assert_true(st.resumed >= 2);
    assert_int_equal(st.lost_unconfirmed, 0);
    assert_int_equal(st.peer_restarts, 0);
    reap(&c2, SIGTERM);
    tu_ok(ax_node_remove(E.sys, 2));
}

static int drained(void *arg)
{
    (void)arg;
    ax_link_stats st;
    return ax_node_stats(E.sys, 2, &st) == 0 && st.buffered_bytes < 4096;
}

static void test_stopped_reader(void **state)
{
    (void)state;
    char log[512];
    snprintf(log, sizeof log, "%s/stop.log", nt_tmpdir());
    unlink(log);
    child c2;
    spawn_node(&c2, 2, NULL, log);
    ax_link_options lo = E.lo;
    lo.max_buffer = 512 * 1024;
    tu_ok(ax_node_add(E.sys, 2, c2.addr, &lo));
    assert_true(run_until(up2, &c2.node, 10000));
    ax_id sink = resolve("sink", 0);
    coll col;
    memset(&col, 0, sizeof col);
    ax_id cid;
    tu_ok(ax_spawn(E.sys, coll_recv, &col, NULL, &cid));
    kill(c2.pid, SIGSTOP);
    uint64_t accepted = 0, refused = 0, hwm = 0;
    int64_t end = now_ms() + 3000; /* past the 2 s heartbeat timeout */
    uint64_t next = 1;
    while (now_ms() < end) {
        for (int k = 0; k < 1000; k++) {
            int rc = ax_system_send(E.sys, ax_id_nil(), sink, MP_SEQ, &next, 8);
            if (rc == 0) {
                accepted++;
                next++;
            } else {
                assert_int_equal(rc, AX_ELINKFULL);
                refused++;
            }
        }
        ax_loop_step(E.loop, AX_MSEC(1));
        ax_link_stats st;
        tu_ok(ax_node_stats(E.sys, 2, &st));
        if (st.buffered_bytes > hwm)
            hwm = st.buffered_bytes;
    }
    assert_true(refused > 0);
    assert_true(hwm <= lo.max_buffer);
    ax_link_stats st;
    tu_ok(ax_node_stats(E.sys, 2, &st));
    assert_int_equal(st.dropped_full, refused);
    assert_true(st.heartbeat_timeouts >= 1); /* a silent peer was noticed */
    kill(c2.pid, SIGCONT);
    assert_true(run_until(up2, &c2.node, 10000));
    assert_true(run_until(drained, NULL, 20000));
    sync_sink(&col, cid, sink);
    size_t n;
    uint64_t *v = read_log(log, &n);
    assert_int_equal(n, accepted);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(v[i], i + 1);
    free(v);
    reap(&c2, SIGTERM);
    tu_ok(ax_node_remove(E.sys, 2));
}

int main(int argc, char **argv)
{
    nt_parse_transport(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ping_names, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_ask, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_monitors, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_kill_restart, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_flap, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_stopped_reader, env_setup, env_teardown),
    };
    char name[64];
    snprintf(name, sizeof name, "multiproc_%s", nt_transport_name());
    int rc = cmocka_run_group_tests_name(name, tests, NULL, NULL);
    nt_cleanup();
    return rc;
}
