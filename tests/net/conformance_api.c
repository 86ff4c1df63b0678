/* conformance_api.c - the conformance suite's second half (main and the
 * delivery tests are in conformance_test.c): names, monitors, message
 * types with serialize/deserialize/free hooks, and schema mismatches
 * across a link, on every transport. */
#include "conformance.h"

#include "actor/actor_int.h" /* AXI_MSG_ASKDONE, axi_askdone */

/* Names registered on a linked node resolve; the answer is cached until
 * the actor ends. */
void test_names(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_linked(&p);
    ax_id echo = nt_spawn_echo(p.a);
    tu_ok(ax_name_register(p.a, "echo", echo));
    nt_resolved r = {0, 0, {0, 0, 0}};
    tu_ok(ax_name_resolve(p.b, "echo", AX_SEC(5), nt_on_resolved, &r));
    assert_int_equal(r.calls, 0); /* never inside the call */
    assert_true(nt_run(&p, nt_got_answer, &r, 5000));
    tu_ok(r.err);
    assert_int_equal(r.id.node, 1);
    assert_int_equal(r.id.index, echo.index);
    assert_int_equal(r.id.cookie, echo.cookie);
    /* It works as an address. */
    nt_sink sink;
    ax_id sid = nt_spawn_sink(p.b, &sink);
    uint64_t v = 7;
    tu_ok(ax_system_send(p.b, sid, r.id, NT_MSG_PING, &v, 8));
    cnt c = {&sink, 1};
    assert_true(nt_run(&p, got_pongs, &c, 5000));
    /* Unknown names: ENOENT once every node has answered. */
    nt_resolved r2 = {0, 0, {0, 0, 0}};
    tu_ok(ax_name_resolve(p.b, "nobody", AX_SEC(5), nt_on_resolved, &r2));
    assert_true(nt_run(&p, nt_got_answer, &r2, 5000));
    tu_assert_err(r2.err, AX_ENOENT);
    /* The actor ends: the cache forgets it. */
    tu_ok(ax_system_send(p.a, ax_id_nil(), echo, AX_MSG_POISON, NULL, 0));
    nt_spin(&p, 200);
    nt_resolved r3 = {0, 0, {0, 0, 0}};
    tu_ok(ax_name_resolve(p.b, "echo", AX_SEC(5), nt_on_resolved, &r3));
    assert_true(nt_run(&p, nt_got_answer, &r3, 5000));
    tu_assert_err(r3.err, AX_ENOENT);
    /* A local name wins without asking anyone. */
    tu_ok(ax_name_register(p.b, "local", sid));
    nt_resolved r4 = {0, 0, {0, 0, 0}};
    tu_ok(ax_name_resolve(p.b, "local", AX_SEC(5), nt_on_resolved, &r4));
    assert_true(nt_run(&p, nt_got_answer, &r4, 1000));
    tu_ok(r4.err);
    assert_true(ax_id_eq(r4.id, sid));
    nt_sink_free(&sink);
    nt_pair_close(&p);
}

/* A query outstanding at shutdown is answered AX_ECLOSED, once. */
void test_names_shutdown(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_linked(&p);
    nt_resolved r = {0, 0, {0, 0, 0}};
    /* a never runs: b's query cannot be answered. */
    tu_ok(ax_name_resolve(p.b, "x", AX_SEC(30), nt_on_resolved, &r));
    ax_loop_step(p.lb, 0);
    ax_system_shutdown(p.b);
    assert_int_equal(r.calls, 1);
    tu_assert_err(r.err, AX_ECLOSED);
    nt_pair_close(&p);
    assert_int_equal(r.calls, 1);
}

static int got_downs(void *arg)
{
    cnt *c = arg;
    return c->s->downs >= c->want;
}

/* Monitors across the link: DOWN with the actor's reason, or NODE_DOWN
 * when the link is lost; a dead target gives NOPROC (demonitor:
 * test_demonitor). */
void test_monitors(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_up(&p);
    nt_sink w;
    ax_id wid = nt_spawn_sink(p.b, &w);
    ax_id t1 = nt_spawn_echo(p.a), t2 = nt_spawn_echo(p.a), t3 = nt_spawn_echo(p.a);
    tu_ok(ax_system_monitor(p.b, wid, nt_remote(t1, 1)));
    tu_ok(ax_system_monitor(p.b, wid, nt_remote(t2, 1)));
    tu_ok(ax_system_monitor(p.b, wid, nt_remote(t3, 1)));
    nt_spin(&p, 100);
    /* t1 ends by poison. */
    tu_ok(ax_system_send(p.a, ax_id_nil(), t1, AX_MSG_POISON, NULL, 0));
    cnt c = {&w, 1};
    assert_true(nt_run(&p, got_downs, &c, 5000));
    assert_int_equal(w.last_down.reason, AX_REASON_POISON);
    assert_int_equal(w.last_down.who.node, 1);
    assert_int_equal(w.last_down.who.index, t1.index);
    /* A dead target: NOPROC. */
    tu_ok(ax_system_monitor(p.b, wid, nt_remote(t1, 1)));
    c.want = 2;
    assert_true(nt_run(&p, got_downs, &c, 5000));
    assert_int_equal(w.last_down.reason, AX_REASON_NOPROC);
    /* The link is lost: t2's and t3's watcher gets NODE_DOWN for each. */
    tu_ok(ax_node_remove(p.b, 1));
    c.want = 4;
    assert_true(nt_run(&p, got_downs, &c, 5000));
    assert_int_equal(w.last_down.reason, AX_REASON_NODE_DOWN);
    nt_spin(&p, 100);
    assert_int_equal(w.downs, 4);
    /* No route any more. */
    tu_assert_err(ax_system_monitor(p.b, wid, nt_remote(t3, 1)), AX_ENOROUTE);
    nt_sink_free(&w);
    nt_pair_close(&p);
}

/* A watcher that monitors (NT_MSG_SEQ 1) or demonitors (2) its target
 * from its handler, and counts the DOWNs it gets. */
typedef struct mwatch {
    ax_id target;
    int rc, downs;
} mwatch;

static void mwatch_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    mwatch *w = state;
    if (msg->type == AX_MSG_DOWN) {
        w->downs++;
    } else if (msg->type == NT_MSG_SEQ) {
        uint64_t cmd;
        memcpy(&cmd, msg->data, sizeof cmd);
        w->rc = cmd == 1 ? ax_monitor(ctx, w->target) : ax_demonitor(ctx, w->target);
    }
}

static void mwatch_cmd(nt_pair *p, ax_id wid, mwatch *w, uint64_t cmd, ax_id target)
{
    w->target = target;
    w->rc = 1;
    tu_ok(ax_system_send(p->b, ax_id_nil(), wid, NT_MSG_SEQ, &cmd, sizeof cmd));
    nt_spin(p, 100);
}

static int got_mdown(void *arg)
{
    return ((const mwatch *)arg)->downs >= 1;
}

/* ax_demonitor of a remote target: no DOWN when it ends afterwards, nor
 * when the link is lost, while a monitor left in place gets its DOWN; a
 * second demonitor is AX_ENOENT. */
void test_demonitor(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_up(&p);
    mwatch w = {{0, 0, 0}, 1, 0};
    ax_id wid;
    tu_ok(ax_spawn(p.b, mwatch_recv, &w, NULL, &wid));
    ax_id t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = nt_spawn_echo(p.a);
        mwatch_cmd(&p, wid, &w, 1, nt_remote(t[i], 1));
        tu_ok(w.rc);
    }
    /* Node 1 holds the remote watcher's monitors (white box: the
     * target's monitor list); a DEMONITOR removes it there too. */
    assert_non_null(nt_watchers(p.a, t[1]));
    mwatch_cmd(&p, wid, &w, 2, nt_remote(t[1], 1));
    tu_ok(w.rc);
    assert_null(nt_watchers(p.a, t[1]));
    assert_non_null(nt_watchers(p.a, t[0]));
    mwatch_cmd(&p, wid, &w, 2, nt_remote(t[1], 1));
    tu_assert_err(w.rc, AX_ENOENT);
    /* t0 and t1 end: one DOWN, t0's (node 1 dropped t1's monitor when
     * the DEMONITOR came). */
    tu_ok(ax_system_send(p.a, ax_id_nil(), t[0], AX_MSG_POISON, NULL, 0));
    tu_ok(ax_system_send(p.a, ax_id_nil(), t[1], AX_MSG_POISON, NULL, 0));
    assert_true(nt_run(&p, got_mdown, &w, 5000));
    nt_spin(&p, 200);
    assert_int_equal(w.downs, 1);
    /* t2 demonitored, t3 not; the link goes: one NODE_DOWN, t3's. */
    mwatch_cmd(&p, wid, &w, 2, nt_remote(t[2], 1));
    tu_ok(w.rc);
    tu_ok(ax_node_remove(p.b, 1));
    nt_spin(&p, 200);
    assert_int_equal(w.downs, 2);
    nt_pair_close(&p);
}

/* A type whose payload owns memory: serialize/deserialize hooks carry it
 * across, the free hooks run on both sides; without a serialize hook it
 * cannot cross. */
typedef struct named {
    char *text;
    uint64_t len;
} named;

static int frees;

static long named_ser(const void *msg, void *buf, size_t cap)
{
    const named *n = msg;
    if (n->len <= cap)
        memcpy(buf, n->text, n->len);
    return (long)n->len;
}

static int named_de(const void *buf, size_t len, void *out)
{
    named *n = out;
    n->text = malloc(len + 1);
    if (!n->text)
        return AX_ENOMEM;
    memcpy(n->text, buf, len);
    n->text[len] = '\0';
    n->len = len;
    return 0;
}

static void named_free(void *msg)
{
    named *n = msg;
    free(n->text);
    frees++;
}

static char got_text[64];

static void named_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    (void)ctx;
    const named *n = msg->data;
    snprintf(got_text, sizeof got_text, "%s", n->text);
}

static int got_named(void *arg)
{
    (void)arg;
    return got_text[0] != '\0';
}

void test_hooks(void **state)
{
    (void)state;
    nt_pair p;
    nt_pair_open_linked(&p);
    ax_msg_type t;
    memset(&t, 0, sizeof t);
    t.id = 300;
    t.name = "named";
    t.size = sizeof(named);
    t.align = _Alignof(named);
    t.serialize = named_ser;
    t.deserialize = named_de;
    t.free = named_free;
    tu_ok(ax_msg_register(p.a, &t));
    tu_ok(ax_msg_register(p.b, &t));
    t.id = 301; /* owns memory, no wire hooks */
    t.serialize = NULL;
    t.deserialize = NULL;
    tu_ok(ax_msg_register(p.b, &t));
    ax_id rid;
    tu_ok(ax_spawn(p.a, named_recv, NULL, NULL, &rid));
    frees = 0;
    got_text[0] = '\0';
    named n = {strdup("hello, remote node"), 18};
    tu_ok(ax_system_send(p.b, ax_id_nil(), nt_remote(rid, 1), 300, &n, sizeof n));
    assert_true(nt_run(&p, got_named, NULL, 5000));
    assert_string_equal(got_text, "hello, remote node");
    nt_spin(&p, 20);
    assert_int_equal(frees,
                     2); /* the sender's copy after encoding, the receiver's after handling */
    named m = {strdup("x"), 1};
    tu_assert_err(ax_system_send(p.b, ax_id_nil(), nt_remote(rid, 1), 301, &m, sizeof m),
                  AX_EINVAL);
    assert_int_equal(frees, 2); /* a failed send leaves the payload with the caller */
    free(m.text);
    /* The receiver refuses such a type too: b sends 302 as plain bytes,
     * a registered it with a free hook and no deserialize hook - a's free
     * hook must never run on pointers of another process. */
    t.id = 302;
    tu_ok(ax_msg_register(p.a, &t));
    ax_msg_type bytes = t;
    bytes.free = NULL;
    tu_ok(ax_msg_register(p.b, &bytes));
    ax_link_stats before, after;
    tu_ok(ax_node_stats(p.a, 0, &before));
    named forged = {(char *)(uintptr_t)0x10, 1};
    tu_ok(ax_system_send(p.b, ax_id_nil(), nt_remote(rid, 1), 302, &forged, sizeof forged));
    nt_spin(&p, 50);
    tu_ok(ax_node_stats(p.a, 0, &after));
    assert_int_equal(after.undeliverable_in - before.undeliverable_in, 1);
    assert_int_equal(frees, 2);
    /* Nor does an ask's completion cross a link (it holds pointers). */
    axi_askdone d;
    memset(&d, 0, sizeof d);
    tu_assert_err(
        ax_system_send(p.b, ax_id_nil(), nt_remote(rid, 1), AXI_MSG_ASKDONE, &d, sizeof d),
        AX_EINVAL);
    nt_pair_close(&p);
}

/* A message type both sides use with different layouts: no link, and a
 * log line that names the type and both hashes. */
void test_schema_mismatch(void **state)
{
    (void)state;
    nt_pair p;
    ax_link_options o;
    nt_pair_open_plain(&p, &o);
    ax_msg_type t;
    memset(&t, 0, sizeof t);
    t.id = 500;
    t.name = "RiskCheck";
    t.size = 16;
    t.layout_hash = 0x1111;
    tu_ok(ax_msg_register(p.a, &t));
    t.layout_hash = 0x2222;
    tu_ok(ax_msg_register(p.b, &t));
    t.id = 501; /* only one side has it: not checked */
    tu_ok(ax_msg_register(p.b, &t));
    nt_schema_lines = 0;
    tu_ok(ax_node_add(p.b, 1, p.addr, &o));
    nt_spin(&p, 300);
    assert_false(nt_node_up(p.b, 1));
    assert_true(nt_schema_lines >= 1);
    ax_link_stats sa, sb;
    tu_ok(ax_node_stats(p.a, 0, &sa));
    tu_ok(ax_node_stats(p.b, 0, &sb));
    assert_true(sa.proto_refusals + sb.proto_refusals >= 1);
    assert_int_equal(sa.connects + sb.connects, 0);
    nt_pair_close(&p);
}
