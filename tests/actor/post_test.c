/* post_test.c - ax_system_post(), the one thread-safe entry
 * (src/actor/post.c): delivery and per-thread order from other threads,
 * type checks on the loop thread, the post limit, and shutdown.
 *
 * Labelled `threads`: run these under -DAXON_SANITIZE=thread too.  The
 * counting allocator is wrapped in a mutex, since ax_system_post()
 * allocates on the posting thread. */
#include <fcntl.h>
#include <pthread.h>

#include "actor/actor_fixture.h"

/* ---- a locked counting allocator ---------------------------------------- */

typedef struct lk_alloc {
    ax_allocator a;
    tu_alloc inner;
    pthread_mutex_t mu;
} lk_alloc;

static void *lk_a(void *ud, size_t n)
{
    lk_alloc *l = ud;
    pthread_mutex_lock(&l->mu);
    void *p = l->inner.a.alloc(l->inner.a.ud, n);
    pthread_mutex_unlock(&l->mu);
    return p;
}

static void *lk_r(void *ud, void *p, size_t o, size_t n)
{
    lk_alloc *l = ud;
    pthread_mutex_lock(&l->mu);
    void *q = l->inner.a.realloc(l->inner.a.ud, p, o, n);
    pthread_mutex_unlock(&l->mu);
    return q;
}

static void lk_f(void *ud, void *p, size_t n)
{
    lk_alloc *l = ud;
    pthread_mutex_lock(&l->mu);
    l->inner.a.free(l->inner.a.ud, p, n);
    pthread_mutex_unlock(&l->mu);
}

/* ---- the environment ------------------------------------------------------ */

typedef struct penv {
    lk_alloc la;
    tu_env env;
    fx_dl dl;
    pthread_t loop_thread;
    int hook_off_thread; /* dead-letter hook calls not on the loop thread */
} penv;

static void penv_hook(void *arg, const ax_dead_letter *d)
{
    penv *p = arg;
    if (!pthread_equal(pthread_self(), p->loop_thread))
        p->hook_off_thread++;
    fx_dl_hook(&p->dl, d);
}

static void penv_open(penv *p, uint32_t post_limit)
{
    memset(p, 0, sizeof *p);
    fx_watchdog("post test", 25);
    tu_alloc_init(&p->la.inner);
    pthread_mutex_init(&p->la.mu, NULL);
    p->la.a = (ax_allocator){.alloc = lk_a, .realloc = lk_r, .free = lk_f, .ud = &p->la};
    p->loop_thread = pthread_self();
    ax_system_options o;
    memset(&o, 0, sizeof o);
    o.post_limit = post_limit;
    tu_env_open_dl(&p->env, &p->la.a, &o, penv_hook, p);
    fx_register_types(p->env.sys);
    ax_loop_ref(p->env.loop); /* let steps sleep until a post wakes the loop */
}

static void penv_close(penv *p)
{
    fx_watchdog_off();
    ax_loop_unref(p->env.loop);
    tu_env_close(&p->env);
    assert_int_equal(p->hook_off_thread, 0);
    assert_int_equal(p->la.inner.live_blocks, 0);
    assert_int_equal(p->la.inner.live_bytes, 0);
    pthread_mutex_destroy(&p->la.mu);
}

/* ---- a receiver that checks per-stream order ----------------------------- */

#define NSTREAMS 8

typedef struct checker {
    uint32_t next[NSTREAMS];
    uint64_t total, bad, switches;
    uint32_t last;
    ax_id last_sender[NSTREAMS];
} checker;

static void checker_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    checker *c = state;
    fx_seq s;
    memcpy(&s, msg->data, sizeof s);
    if (s.stream >= NSTREAMS || s.seq != c->next[s.stream]) {
        if (c->bad++ == 0)
            print_error("out of order: stream %u got %u\n", s.stream, s.seq);
    } else {
        c->next[s.stream]++;
        c->last_sender[s.stream] = ax_sender(ctx);
    }
    if (c->total++ > 0 && c->last != s.stream)
        c->switches++;
    c->last = s.stream;
}

typedef struct poster {
    ax_system *sys;
    ax_id to, from;
    uint32_t stream, count;
    int errors;
    int first_error;
    pthread_t th;
} poster;

static void *poster_main(void *arg)
{
    poster *p = arg;
    for (uint32_t i = 0; i < p->count; i++) {
        fx_seq s = {p->stream, i};
        int rc = ax_system_post(p->sys, p->from, p->to, T_SEQ, &s, sizeof s);
        if (rc) {
            if (!p->errors++)
                p->first_error = rc;
        }
    }
    return NULL;
}

typedef struct until_n {
    checker *c;
    uint64_t n;
} until_n;

typedef struct until_rec {
    fx_rec *r;
    uint64_t n;
} until_rec;

static int reached(void *arg)
{
    until_n *u = arg;
    return u->c->total >= u->n;
}

static void run_posters(int nthreads, uint32_t per)
{
    penv p;
    penv_open(&p, 0);
    checker c;
    memset(&c, 0, sizeof c);
    ax_id rid;
    tu_ok(ax_spawn(p.env.sys, checker_receive, &c, NULL, &rid));
    poster ps[NSTREAMS];
    for (int i = 0; i < nthreads; i++) {
        ps[i] = (poster){p.env.sys, rid, {0, 1000u + (uint32_t)i, 1}, (uint32_t)i, per, 0, 0, 0};
        assert_int_equal(pthread_create(&ps[i].th, NULL, poster_main, &ps[i]), 0);
    }
    until_n u = {&c, (uint64_t)nthreads * per};
    tu_run_until(p.env.loop, reached, &u, 20000);
    for (int i = 0; i < nthreads; i++) {
        assert_int_equal(pthread_join(ps[i].th, NULL), 0);
        if (ps[i].errors)
            fail_msg("poster %d: %d errors, first %s", i, ps[i].errors,
                     ax_errname(ps[i].first_error));
    }
    assert_int_equal(c.bad, 0);
    assert_int_equal(c.total, (uint64_t)nthreads * per);
    for (int i = 0; i < nthreads; i++) {
        assert_int_equal(c.next[i], per);
        fx_assert_id_eq(c.last_sender[i], ps[i].from);
    }
    ax_stats st = fx_stats(p.env.sys);
    assert_int_equal(st.posted, (uint64_t)nthreads * per);
    assert_int_equal(st.delivered, (uint64_t)nthreads * per);
    assert_int_equal(p.dl.n, 0);
    penv_close(&p);
}

static void test_post_from_one_thread(void **state)
{
    (void)state;
    run_posters(1, 10000);
}

static void test_post_from_four_threads(void **state)
{
    (void)state;
    run_posters(4, 10000);
}

/* ---- type checks happen on the loop thread -------------------------------- */

static int free_hook_calls;

static void counting_free(void *msg)
{
    (void)msg;
    free_hook_calls++;
}

typedef struct bad_poster {
    ax_system *sys;
    ax_id to, gone;
    int rc[6];
} bad_poster;

static void *bad_poster_main(void *arg)
{
    bad_poster *b = arg;
    uint64_t v = 1;
    b->rc[0] = ax_system_post(b->sys, ax_id_nil(), b->to, T_UNREG, &v, sizeof v);
    b->rc[1] = ax_system_post(b->sys, ax_id_nil(), b->to, T_U64, &v, 4);
    b->rc[2] = ax_system_post(b->sys, ax_id_nil(), b->gone, T_U64, &v, sizeof v);
    b->rc[3] = ax_system_post(b->sys, ax_id_nil(), b->to, 777, &v, sizeof v);   /* free hook */
    b->rc[4] = ax_system_post(b->sys, ax_id_nil(), b->to, T_U64, &v, sizeof v); /* fine */
    b->rc[5] = ax_system_post(b->sys, ax_id_nil(), b->to, AX_MSG_POISON, NULL, 0);
    return NULL;
}

static int dl_at_least_4(void *arg)
{
    penv *p = arg;
    return p->dl.n >= 4 && ax_actor_count(p->env.sys) == 0;
}

static int gone_stopped(void *arg)
{
    return ((fx_rec *)arg)->stops > 0;
}

static void test_post_type_checked_on_loop_thread(void **state)
{
    (void)state;
    penv p;
    penv_open(&p, 0);
    ax_msg_type owning = {
        .id = 777, .name = "owning", .size = 8, .align = 8, .flags = 0, .free = counting_free};
    tu_ok(ax_msg_register(p.env.sys, &owning));
    free_hook_calls = 0;
    fx_rec r, gone;
    memset(&r, 0, sizeof r);
    memset(&gone, 0, sizeof gone);
    ax_id rid = fx_spawn_rec(p.env.sys, &r);
    ax_id gid = fx_spawn_rec(p.env.sys, &gone);
    tu_ok(ax_system_send(p.env.sys, ax_id_nil(), gid, AX_MSG_POISON, NULL, 0));
    tu_run_until(p.env.loop, gone_stopped, &gone, 5000);
    bad_poster b = {p.env.sys, rid, gid, {1, 1, 1, 1, 1, 1}};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, bad_poster_main, &b), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    for (int i = 0; i < 6; i++)
        tu_ok(b.rc[i]); /* accepted: checked later, on the loop thread */
    tu_run_until(p.env.loop, dl_at_least_4, &p, 5000);
    assert_int_equal(p.dl.n, 4);
    assert_int_equal(p.dl.v[0].type, T_UNREG);
    assert_int_equal(p.dl.v[0].reason, AX_EUNKNOWNTYPE);
    fx_assert_id_eq(p.dl.v[0].to, rid);
    assert_int_equal(p.dl.v[1].reason, AX_EMSGSIZE);
    assert_int_equal(p.dl.v[2].reason, AX_ESTALE);
    fx_assert_id_eq(p.dl.v[2].to, gid);
    assert_int_equal(p.dl.v[3].type, 777); /* refused: raw bytes own nothing */
    assert_int_equal(p.dl.v[3].reason, AX_EINVAL);
    assert_int_equal(free_hook_calls, 0);
    assert_int_equal(r.n, 1); /* only the good one; then the pill ended it */
    assert_int_equal(r.m[0].u64, 1);
    assert_int_equal(r.stops, 1);
    assert_int_equal(r.stop_reason, AX_REASON_POISON);
    assert_int_equal(fx_stats(p.env.sys).posted, 6);
    penv_close(&p);
}

/* ---- limits and shutdown --------------------------------------------------- */

typedef struct post_n {
    ax_system *sys;
    ax_id to;
    int n;
    int ok, full, other;
} post_n;

static void *post_n_main(void *arg)
{
    post_n *p = arg;
    for (int i = 0; i < p->n; i++) {
        uint64_t v = (uint64_t)i;
        int rc = ax_system_post(p->sys, ax_id_nil(), p->to, T_U64, &v, sizeof v);
        if (rc == 0)
            p->ok++;
        else if (rc == AX_EFULL)
            p->full++;
        else
            p->other = rc;
    }
    return NULL;
}

static int rec_has(void *arg)
{
    until_rec *u = arg;
    return u->r->n >= u->n;
}

static void test_post_limit(void **state)
{
    (void)state;
    penv p;
    penv_open(&p, 10);
    fx_rec r;
    memset(&r, 0, sizeof r);
    ax_id rid = fx_spawn_rec(p.env.sys, &r);
    post_n pn = {p.env.sys, rid, 15, 0, 0, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, post_n_main, &pn), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    tu_ok(pn.other);
    assert_int_equal(pn.ok, 10);
    assert_int_equal(pn.full, 5);
    uint64_t v = 99;
    tu_assert_err(ax_system_post(p.env.sys, ax_id_nil(), rid, T_U64, &v, sizeof v), AX_EFULL);
    until_rec u = {&r, 10};
    tu_run_until(p.env.loop, rec_has, &u, 5000);
    /* drained: room again */
    tu_ok(ax_system_post(p.env.sys, ax_id_nil(), rid, T_U64, &v, sizeof v));
    u.n = 11;
    tu_run_until(p.env.loop, rec_has, &u, 5000);
    for (uint64_t i = 0; i < 10; i++)
        assert_int_equal(r.m[i].u64, i);
    assert_int_equal(r.m[10].u64, 99);
    assert_int_equal(p.dl.n, 0); /* a refused post is an error, not a drop */
    penv_close(&p);
}

static void test_post_after_shutdown(void **state)
{
    (void)state;
    penv p;
    penv_open(&p, 0);
    fx_rec r;
    memset(&r, 0, sizeof r);
    ax_id rid = fx_spawn_rec(p.env.sys, &r);
    /* posted but not yet drained when the system shuts down: dead letters */
    uint64_t v = 1;
    tu_ok(ax_system_post(p.env.sys, ax_id_nil(), rid, T_U64, &v, sizeof v));
    tu_ok(ax_system_post(p.env.sys, ax_id_nil(), rid, T_U64, &v, sizeof v));
    ax_system_shutdown(p.env.sys);
    assert_int_equal(p.dl.by_reason[-AX_ECLOSED], 2);
    post_n pn = {p.env.sys, rid, 3, 0, 0, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, post_n_main, &pn), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(pn.ok, 0);
    tu_assert_err(pn.other, AX_ECLOSED);
    assert_int_equal(r.n, 0);
    penv_close(&p);
}

/* Threads keep posting while the loop thread shuts the system down: every
 * post either succeeds or says AX_ECLOSED, never anything worse. */
typedef struct racer {
    ax_system *sys;
    ax_id to;
    uint64_t ok, closed, other;
    pthread_t th;
} racer;

static void *racer_main(void *arg)
{
    racer *r = arg;
    uint64_t v = 0;
    while (r->closed < 100) {
        int rc = ax_system_post(r->sys, ax_id_nil(), r->to, T_U64, &v, sizeof v);
        if (rc == 0)
            r->ok++;
        else if (rc == AX_ECLOSED)
            r->closed++;
        else
            r->other++;
        v++;
    }
    return NULL;
}

/* One round: posters spin while the loop thread shuts the system down
 * right after a drain (so a wake-up is not pending and the next post will
 * write to the wake-up descriptor).  Right after the shutdown the test
 * opens a pipe, which may get the number of the descriptor the shutdown
 * closed: nothing may ever be written into it. */
static void racing_round(int round)
{
    penv p;
    penv_open(&p, 0);
    static fx_rec r;
    memset(&r, 0, sizeof r);
    ax_id rid = fx_spawn_rec(p.env.sys, &r);
    enum { NR = 2 };
    racer rs[NR];
    for (int i = 0; i < NR; i++) {
        rs[i] = (racer){p.env.sys, rid, 0, 0, 0, 0};
        assert_int_equal(pthread_create(&rs[i].th, NULL, racer_main, &rs[i]), 0);
    }
    until_rec u = {&r, 50u + (uint64_t)round * 7u};
    tu_run_until(p.env.loop, rec_has, &u, 10000);
    ax_system_shutdown(p.env.sys);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    /* each racer stops once it has run into the closed system 100 times */
    uint64_t ok = 0;
    for (int i = 0; i < NR; i++) {
        assert_int_equal(pthread_join(rs[i].th, NULL), 0);
        assert_int_equal(rs[i].other, 0);
        assert_int_equal(rs[i].closed, 100);
        ok += rs[i].ok;
    }
    char junk[16];
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    ssize_t got = read(pfd[0], junk, sizeof junk);
    close(pfd[0]);
    close(pfd[1]);
    if (got > 0)
        fail_msg("round %d: a post wrote %zd bytes into a descriptor opened after the shutdown",
                 round, got);
    penv_close(&p);
    /* every accepted post was either handled or reported */
    assert_int_equal(r.n + p.dl.n, ok);
}

static void test_post_racing_shutdown(void **state)
{
    (void)state;
    for (int round = 0; round < 30; round++)
        racing_round(round);
}

int main(int argc, char **argv)
{
    tu_parse_backend(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_post_from_one_thread),
        cmocka_unit_test(test_post_from_four_threads),
        cmocka_unit_test(test_post_type_checked_on_loop_thread),
        cmocka_unit_test(test_post_limit),
        cmocka_unit_test(test_post_after_shutdown),
        cmocka_unit_test(test_post_racing_shutdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
