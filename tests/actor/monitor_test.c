/* monitor_test.c - monitors and AX_MSG_DOWN (src/actor/monitor.c). */
#include "actor/actor_fixture.h"

/* A watcher: T_EMPTY monitors `target`, T_PING demonitors it, AX_MSG_DOWN
 * is recorded. */
typedef struct watcher {
    ax_id target;
    int monitor_rc, demonitor_rc, demonitor_again_rc;
    int downs;
    ax_down down[4];
    int others;
    int stops;
    int demonitor_once; /* T_PING removes one monitor, not two */
} watcher;

static void watcher_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    watcher *w = state;
    if (msg->type == AX_MSG_DOWN) {
        assert_int_equal(msg->size, sizeof(ax_down));
        if (w->downs < 4)
            memcpy(&w->down[w->downs], msg->data, sizeof(ax_down));
        w->downs++;
    } else if (msg->type == T_EMPTY) {
        w->monitor_rc = ax_monitor(ctx, w->target);
    } else if (msg->type == T_PING) {
        w->demonitor_rc = ax_demonitor(ctx, w->target);
        if (!w->demonitor_once)
            w->demonitor_again_rc = ax_demonitor(ctx, w->target);
    } else {
        w->others++;
    }
}

static void watcher_stop(void *state, ax_ctx *ctx, int reason)
{
    (void)ctx;
    (void)reason;
    ((watcher *)state)->stops++;
}

static ax_id spawn_watcher(fx *f, watcher *w, ax_id target)
{
    memset(w, 0, sizeof *w);
    w->target = target;
    w->monitor_rc = w->demonitor_rc = w->demonitor_again_rc = 1;
    ax_spawn_options so = {.on_stop = watcher_stop};
    ax_id id;
    tu_ok(ax_spawn(f->sys, watcher_receive, w, &so, &id));
    return id;
}

/* What most tests start from: a recording target `t` and a watcher `w` of
 * it.  Everything lives in the test's frame, so the actors' states outlive
 * the fx_close() that ends them. */
typedef struct scene {
    fx f;
    fx_rec t;
    ax_id tid;
    watcher w;
    ax_id wid;
} scene;

/* Open the fixture and spawn t, then w.  With `monitored`, w has already
 * called ax_monitor(t) from its handler and the loop is drained; without,
 * nothing has been sent yet. */
static fx *scene_open(scene *s, int monitored)
{
    s->tid = fx_open_rec(&s->f, &s->t);
    s->wid = spawn_watcher(&s->f, &s->w, s->tid);
    if (monitored) {
        fx_send_empty(&s->f, s->wid);
        fx_drain(&s->f);
    }
    return &s->f;
}

/* The watcher's i-th DOWN names `who`, ended for `reason`. */
static void assert_down(const watcher *w, int i, ax_id who, int reason)
{
    fx_assert_id_eq(w->down[i].who, who);
    assert_int_equal(w->down[i].reason, reason);
}

static void test_down_on_stop(void **state)
{
    (void)state;
    scene s;
    fx *f = scene_open(&s, 1);
    s.t.stop_after = 1;
    tu_ok(s.w.monitor_rc);
    assert_int_equal(s.w.downs, 0);
    tu_ok(fx_u64_send(f->sys, ax_id_nil(), s.tid, 1)); /* the target calls ax_stop */
    fx_drain(f);
    assert_int_equal(s.t.stops, 1);
    assert_int_equal(s.w.downs, 1);
    assert_down(&s.w, 0, s.tid, AX_REASON_NORMAL);
    assert_int_equal(f->dl.n, 0);
    fx_close(f);
}

static void test_down_on_poison(void **state)
{
    (void)state;
    scene s;
    fx *f = scene_open(&s, 1);
    fx_poison(f, s.tid);
    fx_drain(f);
    assert_int_equal(s.w.downs, 1);
    assert_down(&s.w, 0, s.tid, AX_REASON_POISON);
    fx_close(f);
}

static void test_monitor_dead_actor_noproc(void **state)
{
    (void)state;
    scene s;
    fx *f = scene_open(&s, 0);
    fx_poison(f, s.tid);
    fx_drain(f);
    /* from a handler */
    fx_send_empty(f, s.wid);
    fx_drain(f);
    tu_ok(s.w.monitor_rc);
    assert_int_equal(s.w.downs, 1);
    assert_down(&s.w, 0, s.tid, AX_REASON_NOPROC);
    /* from outside: the DOWN is queued at once, handled on the next turn */
    tu_ok(ax_system_monitor(f->sys, s.wid, s.tid));
    assert_int_equal(ax_loop_step(f->loop, 0), 0);
    assert_int_equal(s.w.downs, 2);
    assert_int_equal(s.w.down[1].reason, AX_REASON_NOPROC);
    /* even when the slot is in use again by a newer actor */
    fx_rec t2;
    ax_id t2id = fx_spawn_new_rec(f, &t2);
    assert_int_equal(t2id.index, s.tid.index);
    tu_ok(ax_system_monitor(f->sys, s.wid, s.tid));
    fx_drain(f);
    assert_int_equal(s.w.downs, 3);
    assert_down(&s.w, 2, s.tid, AX_REASON_NOPROC);
    assert_int_equal(t2.n, 0);
    /* both ends gone: nobody to tell, and no dead letter */
    fx_poison(f, s.wid);
    fx_drain(f);
    tu_assert_err(ax_system_monitor(f->sys, s.wid, s.tid), AX_ESTALE);
    fx_drain(f);
    assert_int_equal(s.w.downs, 3);
    assert_int_equal(f->dl.n, 0);
    fx_close(f);
}

static void test_demonitor(void **state)
{
    (void)state;
    scene s;
    fx *f = scene_open(&s, 0);
    fx_send_empty(f, s.wid);
    fx_send_ping(f, s.wid);
    fx_drain(f);
    tu_ok(s.w.monitor_rc);
    tu_ok(s.w.demonitor_rc);
    tu_assert_err(s.w.demonitor_again_rc, AX_ENOENT);
    fx_poison(f, s.tid);
    fx_drain(f);
    assert_int_equal(s.w.downs, 0);
    assert_int_equal(f->dl.n, 0);
    /* demonitoring something never monitored, or gone */
    s.w.target = s.tid;
    fx_send_ping(f, s.wid);
    fx_drain(f);
    tu_assert_err(s.w.demonitor_rc, AX_ENOENT);
    fx_close(f);
}

/* Two monitors give two DOWNs; removing one leaves the other. */
static void test_two_monitors_two_downs(void **state)
{
    (void)state;
    scene s; /* w: w1 */
    fx *f = scene_open(&s, 0);
    watcher w2;
    ax_id w2id = spawn_watcher(f, &w2, s.tid);
    fx_send_empty(f, s.wid);
    fx_send_empty(f, s.wid); /* w1 twice */
    fx_send_empty(f, w2id);
    tu_ok(ax_system_monitor(f->sys, w2id, s.tid)); /* w2 twice, once from outside */
    w2.demonitor_once = 1;
    fx_send_ping(f, w2id); /* drops one */
    fx_drain(f);
    s.t.stop_after = 1;
    tu_ok(fx_u64_send(f->sys, ax_id_nil(), s.tid, 1));
    fx_drain(f);
    assert_int_equal(s.w.downs, 2);
    assert_int_equal(w2.downs, 1);
    for (int i = 0; i < 2; i++)
        assert_down(&s.w, i, s.tid, AX_REASON_NORMAL);
    fx_close(f);
}

/* A watcher that ended first gets nothing, and it is not a dead letter -
 * not even when a new actor took the watcher's slot. */
static void test_dead_watcher_gets_nothing(void **state)
{
    (void)state;
    scene s;
    fx *f = scene_open(&s, 0);
    watcher w_live;
    ax_id lid = spawn_watcher(f, &w_live, s.tid);
    fx_send_empty(f, s.wid);
    fx_send_empty(f, lid);
    fx_drain(f);
    fx_poison(f, s.wid);
    fx_drain(f);
    assert_int_equal(s.w.stops, 1);
    fx_rec newcomer;
    ax_id nid = fx_spawn_new_rec(f, &newcomer);
    assert_int_equal(nid.index, s.wid.index);
    uint64_t dl0 = fx_stats(f->sys).dead_letters;
    fx_poison(f, s.tid);
    fx_drain(f);
    assert_int_equal(s.w.downs, 0);
    assert_int_equal(newcomer.n, 0);
    assert_int_equal(w_live.downs, 1); /* the live watcher still got its DOWN */
    assert_int_equal(fx_stats(f->sys).dead_letters, dl0);
    assert_int_equal(f->dl.n, 0);
    fx_close(f);
}

/* Shutdown ends everyone with AX_REASON_SHUTDOWN and sends no DOWN. */
static void test_shutdown_sends_no_down(void **state)
{
    (void)state;
    scene s;
    fx *f = scene_open(&s, 1);
    /* the target's slot comes before the watcher's: it ends first */
    assert_true(s.tid.index < s.wid.index);
    ax_system_shutdown(f->sys);
    assert_int_equal(s.t.stops, 1);
    assert_int_equal(s.t.stop_reason, AX_REASON_SHUTDOWN);
    assert_int_equal(s.w.stops, 1);
    assert_int_equal(s.w.downs, 0);
    for (uint64_t i = 0; i < f->dl.n && i < FX_DL_KEEP; i++)
        assert_int_not_equal(f->dl.v[i].type, AX_MSG_DOWN);
    assert_int_equal(f->dl.n, 0);
    fx_close(f);
}

static void test_monitor_errors(void **state)
{
    (void)state;
    fx f;
    fx_rec t;
    ax_id tid = fx_open_rec(&f, &t);
    tu_assert_err(ax_monitor(NULL, tid), AX_EINVAL);
    tu_assert_err(ax_demonitor(NULL, tid), AX_EINVAL);
    tu_assert_err(ax_system_monitor(NULL, tid, tid), AX_EINVAL);
    tu_assert_err(ax_system_monitor(f.sys, ax_id_nil(), tid), AX_EINVAL);
    tu_assert_err(ax_system_monitor(f.sys, tid, ax_id_nil()), AX_EINVAL);
    watcher w;
    ax_id wid = spawn_watcher(&f, &w, ax_id_nil());
    fx_send_empty(&f, wid); /* ax_monitor(ctx, nil) */
    fx_drain(&f);
    tu_assert_err(w.monitor_rc, AX_EINVAL);
    assert_int_equal(w.downs, 0);
    fx_close(&f);
}

/* A DOWN that cannot be allocated is still not lost silently: the watcher
 * gets it, or it is counted and reported as a dead letter. */
static void test_down_out_of_memory_is_reported(void **state)
{
    (void)state;
    scene s;
    fx *f = scene_open(&s, 1);
    tu_ok(s.w.monitor_rc);
    fx_poison(f, s.tid);
    /* Fail the next allocation: the DOWN's pool refill (nothing of its
     * size class was ever allocated in this system). */
    uint64_t before = f->ta.allocs + f->ta.reallocs;
    f->ta.fail_at = before + 1;
    fx_drain(f);
    f->ta.fail_at = 0;
    assert_int_equal(s.t.stops, 1);
    int reached = f->ta.allocs + f->ta.reallocs > before;
    if (s.w.downs == 0) {
        if (f->dl.n != 1)
            fail_msg("the DOWN was lost silently (allocation failed: %s; %llu dead letters)",
                     reached ? "yes" : "no", (unsigned long long)f->dl.n);
        fx_assert_id_eq(f->dl.v[0].to, s.wid);
        assert_int_equal(f->dl.v[0].type, AX_MSG_DOWN);
        assert_int_equal(fx_stats(f->sys).dead_letters, 1);
    }
    fx_close(f);
}

int main(int argc, char **argv)
{
    tu_parse_backend(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_down_on_stop),
        cmocka_unit_test(test_down_on_poison),
        cmocka_unit_test(test_monitor_dead_actor_noproc),
        cmocka_unit_test(test_demonitor),
        cmocka_unit_test(test_two_monitors_two_downs),
        cmocka_unit_test(test_dead_watcher_gets_nothing),
        cmocka_unit_test(test_shutdown_sends_no_down),
        cmocka_unit_test(test_monitor_errors),
        cmocka_unit_test(test_down_out_of_memory_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
