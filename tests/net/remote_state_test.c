/* remote_state_test.c - what a link keeps about the other node, and what
 * happens to it when the link is lost (docs/nodes.md, sections 6 and 7),
 * on every transport (argv[1]: tcp, unix, tls, tls-unix): the monitors a
 * peer holds on our actors, monitors of a node that is not connected, the
 * name cache, name queries nobody answers, a peer's orderly shutdown and
 * its return, asks while the link is down, and a poison pill sent across. */
#include "nettest.h"

#include <signal.h>
#include <time.h>

#include "actor/actor_int.h" /* axi_actor_lookup, the monitor list */
#include "axon/coro.h"       /* ax_ask_cb */

/* ---- helpers ------------------------------------------------------------ */

static int count_watchers(ax_system *sys, ax_id id)
{
    int k = 0;
    for (const axi_monitor *m = nt_watchers(sys, id); m; m = m->next)
        k++;
    return k;
}

static uint32_t link_state(ax_system *sys, uint32_t node)
{
    ax_link_stats st;
    tu_ok(ax_node_stats(sys, node, &st));
    return st.state;
}

/* A count to wait for: the sink's counter reaches want. */
typedef struct cnt {
    nt_sink *s;
    size_t want;
} cnt;

static int got_downs(void *arg)
{
    cnt *c = arg;
    return c->s->downs >= c->want;
}

static int got_pongs(void *arg)
{
    cnt *c = arg;
    return c->s->pongs >= c->want;
}

/* Log lines of a system made outside nt_pair_open: dropped. */
static void no_log(void *arg, int level, const char *line)
{
    (void)arg;
    (void)level;
    (void)line;
}

static int a_sees_2_down(void *arg)
{
    nt_pair *p = arg;
    return !nt_node_up(p->a, 2);
}

static int b_sees_1_down(void *arg)
{
    nt_pair *p = arg;
    return !nt_node_up(p->b, 1);
}

static int b_sees_1_up(void *arg)
{
    nt_pair *p = arg;
    return nt_node_up(p->b, 1);
}

/* sys's actor `id` has exactly `want` monitors (arg: a watch_of). */
typedef struct watch_of {
    ax_system *sys;
    ax_id id;
    int want;
} watch_of;

static int has_watchers(void *arg)
{
    watch_of *w = arg;
    return count_watchers(w->sys, w->id) == w->want;
}

/* Resolve `name` on node 2 and wait for the answer, node 1's loop frozen
 * or not. */
static nt_resolved resolve_on_b(nt_pair *p, const char *name, int freeze_a, ax_duration timeout,
                                int wait_ms)
{
    nt_resolved r = {0, 0, {0, 0, 0}};
    tu_ok(ax_name_resolve(p->b, name, timeout, nt_on_resolved, &r));
    assert_int_equal(r.calls, 0); /* never inside the call */
    assert_true(nt_run_frozen(p, freeze_a, 0, nt_got_answer, &r, wait_ms));
    return r;
}

static int same_actor(ax_id remote, ax_id local, uint32_t node)
{
    return remote.node == node && remote.index == local.index && remote.cookie == local.cookie;
}

/* ---- 1. inbound monitors go with the link ----------------------------- */

/* Monitors node 2 holds on node 1's actors are removed on node 1 when the
 * link is lost: at once when node 1 drops the connection itself, and when
 * node 2 removes the link (node 1 sees the close); a target that ends
 * afterwards sends no DOWN anywhere. */
static void test_inbound_monitors_removed(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_up(&p);
    nt_sink w;
    ax_id wid = nt_spawn_sink(p.b, &w);
    ax_id t1 = nt_spawn_echo(p.a), t2 = nt_spawn_echo(p.a);
    tu_ok(ax_system_monitor(p.b, wid, nt_remote(t1, 1)));
    tu_ok(ax_system_monitor(p.b, wid, nt_remote(t1, 1)));
    tu_ok(ax_system_monitor(p.b, wid, nt_remote(t2, 1)));
    watch_of w1 = {p.a, t1, 2}, w2 = {p.a, t2, 1};
    assert_true(nt_run(&p, has_watchers, &w1, 5000));
    assert_true(nt_run(&p, has_watchers, &w2, 5000));

    /* Node 1 drops the connection: its link is lost there and then. */
    tu_ok(ax_node_disconnect(p.a, 2));
    assert_false(nt_node_up(p.a, 2));
    assert_null(nt_watchers(p.a, t1));
    assert_null(nt_watchers(p.a, t2));
    /* Node 2's watcher hears NODE_DOWN for each of its three monitors. */
    cnt c = {&w, 3};
    assert_true(nt_run(&p, got_downs, &c, 5000));
    assert_int_equal(w.last_down.reason, AX_REASON_NODE_DOWN);

    /* Linked again (node 2 redials): monitor again, then node 2 removes
     * the link - node 1 sees the close and drops the monitor. */
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    tu_ok(ax_system_monitor(p.b, wid, nt_remote(t1, 1)));
    w1.want = 1;
    assert_true(nt_run(&p, has_watchers, &w1, 5000));
    tu_ok(ax_node_remove(p.b, 1));
    assert_true(nt_run(&p, a_sees_2_down, &p, 5000));
    assert_null(nt_watchers(p.a, t1));
    assert_null(nt_watchers(p.a, t2));
    c.want = 4;
    assert_true(nt_run(&p, got_downs, &c, 5000));
    /* The targets end: nobody is told (no monitors left, no link). */
    ax_link_stats before, after;
    tu_ok(ax_node_stats(p.a, 0, &before));
    tu_ok(ax_system_send(p.a, ax_id_nil(), t1, AX_MSG_POISON, NULL, 0));
    tu_ok(ax_system_send(p.a, ax_id_nil(), t2, AX_MSG_POISON, NULL, 0));
    nt_spin(&p, 100);
    tu_ok(ax_node_stats(p.a, 0, &after));
    assert_int_equal(after.frames_out, before.frames_out);
    assert_int_equal(w.downs, 4);
    nt_sink_free(&w);
    nt_pair_close(&p);
}

/* ---- 2. monitoring a node that is not connected ---------------------- */

/* An address where nothing listens: a listener's, stopped. */
static void dead_addr(nt_pair *p, char *buf, size_t cap)
{
    ax_link_options o;
    nt_options(&o);
    char addr[512];
    nt_serve_addr(addr, sizeof addr);
    uint32_t lid;
    tu_ok(ax_serve(p->a, addr, &o, &lid));
    tu_ok(ax_serve_address(p->a, lid, buf, cap));
    tu_ok(ax_serve_stop(p->a, lid));
}

/* Monitoring an actor on a node that is added but not connected gives
 * DOWN with AX_REASON_NODE_DOWN at once (Erlang's noconnection): a node
 * nobody listens for, and a node whose handshake has not completed (node
 * 1's loop frozen).  The monitor is not installed later when the link
 * comes up: the target's end sends no second DOWN. */
static void test_monitor_not_connected(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_pair_open_plain(&p, &o);
    nt_sink w;
    ax_id wid = nt_spawn_sink(p.b, &w);

    /* Node 3: nothing listens at its address. */
    char addr[512];
    dead_addr(&p, addr, sizeof addr);
    tu_ok(ax_node_add(p.b, 3, addr, &o));
    ax_id ghost = {3, 5, 1};
    tu_ok(ax_system_monitor(p.b, wid, ghost));
    cnt c = {&w, 1};
    assert_true(nt_run_frozen(&p, 1, 0, got_downs, &c, 200));
    assert_int_equal(w.last_down.reason, AX_REASON_NODE_DOWN);
    assert_true(ax_id_eq(w.last_down.who, ghost));
    assert_int_not_equal(link_state(p.b, 3), AX_NODE_UP);

    /* Node 1: added, its loop frozen, so the link cannot come up. */
    ax_id t = nt_spawn_echo(p.a);
    tu_ok(ax_node_add(p.b, 1, p.addr, &o));
    nt_run_frozen(&p, 1, 0, NULL, NULL, 30);
    assert_int_not_equal(link_state(p.b, 1), AX_NODE_UP);
    tu_ok(ax_system_monitor(p.b, wid, nt_remote(t, 1)));
    c.want = 2;
    assert_true(nt_run_frozen(&p, 1, 0, got_downs, &c, 200));
    assert_int_equal(w.last_down.reason, AX_REASON_NODE_DOWN);
    assert_true(same_actor(w.last_down.who, t, 1));
    /* The link comes up: node 1 holds no monitor for node 2, and the
     * target's end tells nobody. */
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    nt_spin(&p, 50);
    assert_null(nt_watchers(p.a, t));
    tu_ok(ax_system_send(p.a, ax_id_nil(), t, AX_MSG_POISON, NULL, 0));
    nt_spin(&p, 100);
    assert_int_equal(w.downs, 2);
    /* Once up, a monitor is installed as usual. */
    ax_id t2 = nt_spawn_echo(p.a);
    tu_ok(ax_system_monitor(p.b, wid, nt_remote(t2, 1)));
    watch_of w2 = {p.a, t2, 1};
    assert_true(nt_run(&p, has_watchers, &w2, 5000));
    assert_int_equal(w.downs, 2);
    nt_sink_free(&w);
    nt_pair_close(&p);
}

/* ---- 3. the name cache and the link ---------------------------------- */

/* A name resolved from a linked node is cached (answered again with that
 * node's loop frozen, even after the name moved to another actor there);
 * when the link is lost the entry is dropped: a lookup then asks the node
 * again (with the node frozen it times out rather than answering the
 * stale id), and once the link is back it gets the new actor. */
static void test_name_cache_link_lost(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_up(&p);
    ax_id e1 = nt_spawn_echo(p.a), e2 = nt_spawn_echo(p.a);
    tu_ok(ax_name_register(p.a, "svc", e1));
    nt_resolved r = resolve_on_b(&p, "svc", 0, AX_SEC(2), 2000);
    tu_ok(r.err);
    assert_true(same_actor(r.id, e1, 1));
    /* Cached: node 1 cannot answer (frozen), yet the answer comes. */
    r = resolve_on_b(&p, "svc", 1, AX_MSEC(150), 1000);
    tu_ok(r.err);
    assert_true(same_actor(r.id, e1, 1));
    /* The name moves to e2 on node 1; e1 lives on, so only the link's
     * loss can drop the cached entry. */
    tu_ok(ax_name_unregister(p.a, "svc"));
    tu_ok(ax_name_register(p.a, "svc", e2));
    r = resolve_on_b(&p, "svc", 1, AX_MSEC(150), 1000);
    tu_ok(r.err);
    assert_true(same_actor(r.id, e1, 1)); /* stale, as documented, while linked */

    /* Node 1 drops the connection; node 2 sees the link lost. */
    tu_ok(ax_node_disconnect(p.a, 2));
    assert_true(nt_run(&p, b_sees_1_down, &p, 5000));
    /* No cache entry: node 1 is asked, and frozen it never answers. */
    r = resolve_on_b(&p, "svc", 1, AX_MSEC(150), 1000);
    tu_assert_err(r.err, AX_ETIMEDOUT);
    /* Linked again: the new actor. */
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    r = resolve_on_b(&p, "svc", 0, AX_SEC(2), 2000);
    tu_ok(r.err);
    assert_true(same_actor(r.id, e2, 1));
    nt_pair_close(&p);
}

/* ---- 4. a node that never answers ------------------------------------ */

/* ax_name_resolve answers AX_ETIMEDOUT, once, when the linked node never
 * answers within the timeout (its loop frozen), not before the timeout;
 * the node's answer, arriving later, is dropped. */
static void test_resolve_timeout(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_up(&p);
    ax_id e = nt_spawn_echo(p.a);
    tu_ok(ax_name_register(p.a, "late", e));
    nt_resolved r = {0, 0, {0, 0, 0}};
    int64_t t0 = nt_now_ms();
    tu_ok(ax_name_resolve(p.b, "late", AX_MSEC(200), nt_on_resolved, &r));
    assert_true(nt_run_frozen(&p, 1, 0, nt_got_answer, &r, 2000));
    int64_t took = nt_now_ms() - t0;
    tu_assert_err(r.err, AX_ETIMEDOUT);
    assert_true(ax_id_is_nil(r.id));
    assert_true(took >= 190);
    assert_true(took < 1500);
    /* Node 1 wakes up and answers (positively): too late, not called
     * again. */
    nt_spin(&p, 200);
    assert_int_equal(r.calls, 1);
    tu_assert_err(r.err, AX_ETIMEDOUT);
    /* Node 1 answers now that it runs. */
    r = resolve_on_b(&p, "late", 0, AX_SEC(2), 2000);
    tu_ok(r.err);
    assert_true(same_actor(r.id, e, 1));
    nt_pair_close(&p);
}

/* ---- 5. a peer shuts down, and comes back ------------------------------ */

/* Node 1 (the one node 2 dials) shuts down: it sends BYE, node 2 logs the
 * close as orderly, and node 2's monitors of node 1's actors get DOWN
 * with AX_REASON_NODE_DOWN.  Node 2 keeps dialing: a new system with node
 * id 1 at the same address is linked again (a new process of the node),
 * and messages and monitors work with it. */
static void test_peer_shutdown_redial(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_up(&p);
    nt_sink w;
    ax_id wid = nt_spawn_sink(p.b, &w);
    ax_id t1 = nt_spawn_echo(p.a), t2 = nt_spawn_echo(p.a);
    tu_ok(ax_system_monitor(p.b, wid, nt_remote(t1, 1)));
    tu_ok(ax_system_monitor(p.b, wid, nt_remote(t2, 1)));
    watch_of w1 = {p.a, t1, 1}, w2 = {p.a, t2, 1};
    assert_true(nt_run(&p, has_watchers, &w1, 5000));
    assert_true(nt_run(&p, has_watchers, &w2, 5000));
    nt_warn_lines = nt_bye_lines = nt_lost_lines = 0;

    ax_system_shutdown(p.a); /* BYE, flush, close */
    cnt c = {&w, 2};
    assert_true(nt_run(&p, got_downs, &c, 5000));
    assert_int_equal(w.last_down.reason, AX_REASON_NODE_DOWN);
    assert_false(nt_node_up(p.b, 1));
    assert_int_equal(nt_bye_lines, 1);
    assert_int_equal(nt_lost_lines, 0);
    assert_int_equal(nt_warn_lines, 0);

    /* Node 2 keeps dialing the empty address. */
    ax_link_stats st0, st1;
    tu_ok(ax_node_stats(p.b, 1, &st0));
    nt_spin(&p, 300);
    tu_ok(ax_node_stats(p.b, 1, &st1));
    assert_true(st1.connect_failures >= st0.connect_failures + 2);
    assert_int_not_equal(st1.state, AX_NODE_UP);

    /* A new node 1 at the same address. */
    tu_ok(ax_system_free(p.a));
    ax_system_options so;
    memset(&so, 0, sizeof so);
    so.node_id = 1;
    tu_ok(ax_system_new(p.la, &so, &p.a));
    ax_node_set_log(p.a, no_log, NULL, AX_LOG_INFO);
    nt_register_types(p.a);
    ax_link_options o;
    nt_options(&o);
    tu_ok(ax_serve(p.a, p.addr, &o, NULL));
    assert_true(nt_run(&p, nt_pair_up, &p, 5000));
    tu_ok(ax_node_stats(p.b, 1, &st1));
    assert_int_equal(st1.peer_restarts, 1);
    ax_id e = nt_spawn_echo(p.a);
    uint64_t v = 9;
    tu_ok(ax_system_send(p.b, wid, nt_remote(e, 1), NT_MSG_PING, &v, sizeof v));
    cnt pc = {&w, 1};
    assert_true(nt_run(&p, got_pongs, &pc, 5000));
    tu_ok(ax_system_monitor(p.b, wid, nt_remote(e, 1)));
    watch_of we = {p.a, e, 1};
    assert_true(nt_run(&p, has_watchers, &we, 5000));
    tu_ok(ax_system_send(p.a, ax_id_nil(), e, AX_MSG_POISON, NULL, 0));
    c.want = 3;
    assert_true(nt_run(&p, got_downs, &c, 5000));
    assert_int_equal(w.last_down.reason, AX_REASON_POISON);
    assert_true(same_actor(w.last_down.who, e, 1));
    nt_sink_free(&w);
    nt_pair_close(&p);
}

/* ---- 6. asks while the link is down; a poison pill across ------------- */

/* An actor on node 2 that asks (ax_ask_cb) `target` a ping when told to
 * (NT_MSG_SEQ), and records the outcome. */
typedef struct asker {
    ax_id target;
    ax_duration timeout;
    int rc, calls, status;
    uint64_t value;
} asker;

static void asker_done(void *state, ax_ctx *ctx, int status, const ax_msg *reply, void *arg)
{
    (void)ctx;
    (void)arg;
    asker *k = state;
    k->calls++;
    k->status = status;
    k->value = 0;
    if (reply && reply->type == NT_MSG_PONG)
        memcpy(&k->value, reply->data, sizeof k->value);
}

static void asker_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    asker *k = state;
    if (msg->type != NT_MSG_SEQ)
        return;
    uint64_t v;
    memcpy(&v, msg->data, sizeof v);
    k->rc = ax_ask_cb(ctx, k->target, NT_MSG_PING, &v, sizeof v, k->timeout, asker_done, NULL);
}

static ax_id spawn_asker(ax_system *sys, asker *k, ax_id target, ax_duration timeout)
{
    memset(k, 0, sizeof *k);
    k->target = target;
    k->timeout = timeout;
    k->rc = 12345;
    ax_id id;
    tu_ok(ax_spawn(sys, asker_recv, k, NULL, &id));
    return id;
}

/* Tell the asker to ask, stepping node 2 only (node 1 frozen). */
static void ask_now(nt_pair *p, ax_id asker_id, asker *k, uint64_t v)
{
    tu_ok(ax_system_send(p->b, ax_id_nil(), asker_id, NT_MSG_SEQ, &v, sizeof v));
    for (int i = 0; i < 20 && k->rc == 12345; i++)
        ax_loop_step(p->lb, 0);
    tu_ok(k->rc);
}

static int asked(void *arg)
{
    return ((asker *)arg)->calls > 0;
}

/* Make node 2's link to node 1 go down and stay down: node 1's loop is
 * frozen from here on (node 2's redials cannot finish their handshake). */
static void link_down_frozen(nt_pair *p)
{
    tu_ok(ax_node_disconnect(p->b, 1));
    nt_run_frozen(p, 1, 0, NULL, NULL, 50);
    assert_int_not_equal(link_state(p->b, 1), AX_NODE_UP);
}

/* An ask to an actor on a node whose link is down waits (the request is
 * buffered like any send): no AX_ESTALE or other early failure; when the
 * link is back, the reply completes it. */
static void test_ask_link_down_reply(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_up(&p);
    ax_id e = nt_spawn_echo(p.a);
    asker k;
    ax_id kid = spawn_asker(p.b, &k, nt_remote(e, 1), AX_SEC(3));
    link_down_frozen(&p);
    ask_now(&p, kid, &k, 42);
    /* Still down, still waiting. */
    assert_false(nt_run_frozen(&p, 1, 0, asked, &k, 300));
    assert_int_not_equal(link_state(p.b, 1), AX_NODE_UP);
    /* Node 1 runs again: the link comes back and the reply arrives. */
    assert_true(nt_run(&p, asked, &k, 5000));
    tu_ok(k.status);
    assert_int_equal(k.value, 42);
    assert_true(nt_node_up(p.b, 1));
    nt_spin(&p, 100);
    assert_int_equal(k.calls, 1);
    nt_pair_close(&p);
}

/* An ask to an actor on a node whose link stays down ends with
 * AX_ETIMEDOUT at its timeout, not before; the reply that comes once the
 * link is back does not call it again. */
static void test_ask_link_down_timeout(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_up(&p);
    ax_id e = nt_spawn_echo(p.a);
    asker k;
    ax_id kid = spawn_asker(p.b, &k, nt_remote(e, 1), AX_MSEC(250));
    link_down_frozen(&p);
    int64_t t0 = nt_now_ms();
    ask_now(&p, kid, &k, 7);
    assert_true(nt_run_frozen(&p, 1, 0, asked, &k, 3000));
    int64_t took = nt_now_ms() - t0;
    tu_assert_err(k.status, AX_ETIMEDOUT);
    assert_true(took >= 240);
    assert_true(took < 2000);
    /* The link comes back; the buffered request is answered, too late. */
    assert_true(nt_run(&p, b_sees_1_up, &p, 5000));
    nt_spin(&p, 200);
    assert_int_equal(k.calls, 1);
    tu_assert_err(k.status, AX_ETIMEDOUT);
    nt_pair_close(&p);
}

/* An ask in flight when the link flaps (ax_node_disconnect: "the link
 * reconnects and nothing is lost") waits for the reply, which comes after
 * the reconnect: docs/nodes.md section 6, "An ask to a node that is
 * momentarily disconnected waits ... until the reply or the timeout".
 * The target never ended, so AX_ESTALE would be wrong. */
static void test_ask_across_flap(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_up(&p);
    ax_id e = nt_spawn_echo(p.a);
    asker k;
    ax_id kid = spawn_asker(p.b, &k, nt_remote(e, 1), AX_SEC(3));
    /* The request goes out while the link is up; node 1 has not handled
     * it (frozen) when the connection drops. */
    ask_now(&p, kid, &k, 5);
    assert_true(nt_node_up(p.b, 1));
    nt_run_frozen(&p, 1, 0, NULL, NULL, 20);
    assert_int_equal(k.calls, 0);
    ax_stats s0, s1;
    ax_system_stats(p.b, &s0);
    link_down_frozen(&p);
    /* Node 1 runs again: the link resumes, the echo (alive) answers. */
    int done = nt_run(&p, asked, &k, 5000);
    int up = nt_run(&p, b_sees_1_up, &p, 5000);
    nt_spin(&p, 100);
    ax_system_stats(p.b, &s1);
    int echo_alive = axi_actor_lookup(p.a, e) != NULL;
    asker got = k;
    nt_pair_close(&p); /* before the checks: a failure leaks nothing */
    assert_true(done);
    assert_true(up);
    assert_true(echo_alive);
    assert_int_equal(got.calls, 1);
    tu_ok(got.status); /* not AX_ESTALE: the target never ended */
    assert_int_equal(got.value, 5);
    /* The reply reached the ask, not the dead letters. */
    assert_int_equal(s1.dead_letters - s0.dead_letters, 0);
}

/* AX_MSG_POISON sent to an actor on the other node stops it after the
 * messages sent to it before; later ones are not handled.  Its watchers
 * on both nodes get DOWN with AX_REASON_POISON. */
static void test_remote_poison(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_up(&p);
    nt_sink target, wa, wb;
    ax_id tid = nt_spawn_sink(p.a, &target);
    ax_id waid = nt_spawn_sink(p.a, &wa), wbid = nt_spawn_sink(p.b, &wb);
    tu_ok(ax_system_monitor(p.a, waid, tid));
    tu_ok(ax_system_monitor(p.b, wbid, nt_remote(tid, 1)));
    watch_of wt = {p.a, tid, 2};
    assert_true(nt_run(&p, has_watchers, &wt, 5000));
    size_t live = ax_actor_count(p.a);
    ax_id rt = nt_remote(tid, 1);
    for (uint64_t i = 1; i <= 3; i++)
        tu_ok(ax_system_send(p.b, wbid, rt, NT_MSG_SEQ, &i, sizeof i));
    tu_ok(ax_system_send(p.b, wbid, rt, AX_MSG_POISON, NULL, 0));
    uint64_t late = 4;
    tu_ok(ax_system_send(p.b, wbid, rt, NT_MSG_SEQ, &late, sizeof late));
    cnt ca = {&wa, 1}, cb = {&wb, 1};
    assert_true(nt_run(&p, got_downs, &ca, 5000));
    assert_true(nt_run(&p, got_downs, &cb, 5000));
    nt_spin(&p, 50);
    assert_int_equal(target.n, 3);
    assert_true(target.in_order);
    assert_int_equal(target.seqs[2], 3);
    assert_int_equal(wa.last_down.reason, AX_REASON_POISON);
    assert_true(ax_id_eq(wa.last_down.who, tid));
    assert_int_equal(wb.last_down.reason, AX_REASON_POISON);
    assert_true(same_actor(wb.last_down.who, tid, 1));
    assert_null(axi_actor_lookup(p.a, tid));
    assert_int_equal(ax_actor_count(p.a), live - 1);
    /* Its id is stale from node 2 too: a monitor now gets NOPROC. */
    tu_ok(ax_system_monitor(p.b, wbid, rt));
    cb.want = 2;
    assert_true(nt_run(&p, got_downs, &cb, 5000));
    assert_int_equal(wb.last_down.reason, AX_REASON_NOPROC);
    nt_sink_free(&target);
    nt_sink_free(&wa);
    nt_sink_free(&wb);
    nt_pair_close(&p);
}

int main(int argc, char **argv)
{
    nt_parse_transport(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inbound_monitors_removed),
        cmocka_unit_test(test_monitor_not_connected),
        cmocka_unit_test(test_name_cache_link_lost),
        cmocka_unit_test(test_resolve_timeout),
        cmocka_unit_test(test_peer_shutdown_redial),
        cmocka_unit_test(test_ask_link_down_reply),
        cmocka_unit_test(test_ask_link_down_timeout),
        cmocka_unit_test(test_ask_across_flap),
        cmocka_unit_test(test_remote_poison),
    };
    char name[64];
    snprintf(name, sizeof name, "remote_state_%s", nt_transport_name());
    int rc = cmocka_run_group_tests_name(name, tests, NULL, NULL);
    nt_cleanup();
    return rc;
}
