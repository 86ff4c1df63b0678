/* names_test.c - the local name registry (src/actor/names.c). */
#include "actor/actor_fixture.h"

static void test_register_lookup_unregister(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    fx_rec r;
    memset(&r, 0, sizeof r);
    ax_id a = fx_spawn_rec(f.sys, &r);
    ax_id out = {1, 2, 3};
    tu_assert_err(ax_name_lookup(f.sys, "risk_engine", &out), AX_ENOENT);
    tu_ok(ax_name_register(f.sys, "risk_engine", a));
    tu_ok(ax_name_lookup(f.sys, "risk_engine", &out));
    fx_assert_id_eq(out, a);
    /* the name is copied */
    char buf[32];
    strcpy(buf, "temp_name");
    tu_ok(ax_name_register(f.sys, buf, a));
    memset(buf, 'x', 9);
    tu_ok(ax_name_lookup(f.sys, "temp_name", &out));
    fx_assert_id_eq(out, a);
    /* names are exact: no prefix matches */
    tu_assert_err(ax_name_lookup(f.sys, "risk", &out), AX_ENOENT);
    tu_assert_err(ax_name_lookup(f.sys, "risk_engine2", &out), AX_ENOENT);
    /* a looked-up id is an ordinary id */
    tu_ok(ax_name_lookup(f.sys, "risk_engine", &out));
    tu_ok(fx_u64_send(f.sys, ax_id_nil(), out, 8));
    fx_drain(&f);
    assert_int_equal(r.n, 1);

    tu_ok(ax_name_unregister(f.sys, "risk_engine"));
    tu_assert_err(ax_name_lookup(f.sys, "risk_engine", &out), AX_ENOENT);
    tu_assert_err(ax_name_unregister(f.sys, "risk_engine"), AX_ENOENT);
    tu_assert_err(ax_name_unregister(f.sys, "never"), AX_ENOENT);
    /* free again: anyone may take it, including the same actor */
    tu_ok(ax_name_register(f.sys, "risk_engine", a));
    tu_ok(ax_name_lookup(f.sys, "temp_name", &out)); /* the other name is untouched */
    fx_close(&f);
}

static void test_duplicate_name(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    fx_rec r1, r2;
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    ax_id a = fx_spawn_rec(f.sys, &r1);
    ax_id b = fx_spawn_rec(f.sys, &r2);
    tu_ok(ax_name_register(f.sys, "svc", a));
    tu_assert_err(ax_name_register(f.sys, "svc", b), AX_EEXIST);
    tu_assert_err(ax_name_register(f.sys, "svc", a), AX_EEXIST);
    ax_id out;
    tu_ok(ax_name_lookup(f.sys, "svc", &out));
    fx_assert_id_eq(out, a); /* the first registration stands */
    fx_close(&f);
}

static void test_names_die_with_actor(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    fx_rec r1, r2, r3;
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    memset(&r3, 0, sizeof r3);
    ax_id a = fx_spawn_rec(f.sys, &r1);
    ax_id b = fx_spawn_rec(f.sys, &r2);
    /* one actor, several names */
    tu_ok(ax_name_register(f.sys, "alpha", a));
    tu_ok(ax_name_register(f.sys, "alpha.2", a));
    tu_ok(ax_name_register(f.sys, "alpha.3", a));
    tu_ok(ax_name_register(f.sys, "beta", b));
    tu_ok(ax_name_unregister(f.sys, "alpha.2")); /* one removed by hand first */
    ax_id out;
    r1.stop_after = 1;
    tu_ok(fx_u64_send(f.sys, ax_id_nil(), a, 1)); /* ends via ax_stop */
    tu_ok(ax_system_send(f.sys, ax_id_nil(), b, AX_MSG_POISON, NULL, 0));
    fx_drain(&f);
    tu_assert_err(ax_name_lookup(f.sys, "alpha", &out), AX_ENOENT);
    tu_assert_err(ax_name_lookup(f.sys, "alpha.2", &out), AX_ENOENT);
    tu_assert_err(ax_name_lookup(f.sys, "alpha.3", &out), AX_ENOENT);
    tu_assert_err(ax_name_lookup(f.sys, "beta", &out), AX_ENOENT);
    tu_assert_err(ax_name_unregister(f.sys, "alpha"), AX_ENOENT);
    /* the slot's next actor starts with no names; the old ones are free */
    ax_id c = fx_spawn_rec(f.sys, &r3);
    tu_ok(ax_name_register(f.sys, "alpha", c));
    tu_ok(ax_name_lookup(f.sys, "alpha", &out));
    fx_assert_id_eq(out, c);
    /* registering a stale id */
    tu_assert_err(ax_name_register(f.sys, "ghost", a), AX_ESTALE);
    tu_assert_err(ax_name_register(f.sys, "ghost", b), AX_ESTALE);
    tu_assert_err(ax_name_lookup(f.sys, "ghost", &out), AX_ENOENT);
    fx_close(&f);
}

static void test_invalid_names(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    fx_rec r;
    memset(&r, 0, sizeof r);
    ax_id a = fx_spawn_rec(f.sys, &r);
    char longest[AX_NAME_MAX + 1], too_long[AX_NAME_MAX + 2];
    memset(longest, 'n', AX_NAME_MAX);
    longest[AX_NAME_MAX] = '\0';
    memset(too_long, 'n', AX_NAME_MAX + 1);
    too_long[AX_NAME_MAX + 1] = '\0';
    ax_id out;
    tu_assert_err(ax_name_register(f.sys, NULL, a), AX_EINVAL);
    tu_assert_err(ax_name_register(f.sys, "", a), AX_EINVAL);
    tu_assert_err(ax_name_register(f.sys, too_long, a), AX_EINVAL);
    tu_assert_err(ax_name_register(NULL, "x", a), AX_EINVAL);
    tu_assert_err(ax_name_register(f.sys, "nil", ax_id_nil()), AX_EINVAL);
    tu_assert_err(ax_name_lookup(f.sys, NULL, &out), AX_EINVAL);
    tu_assert_err(ax_name_lookup(f.sys, "", &out), AX_EINVAL);
    tu_assert_err(ax_name_lookup(f.sys, too_long, &out), AX_EINVAL);
    tu_assert_err(ax_name_lookup(f.sys, "x", NULL), AX_EINVAL);
    tu_assert_err(ax_name_lookup(NULL, "x", &out), AX_EINVAL);
    tu_assert_err(ax_name_unregister(f.sys, NULL), AX_EINVAL);
    tu_assert_err(ax_name_unregister(f.sys, ""), AX_EINVAL);
    tu_assert_err(ax_name_unregister(f.sys, too_long), AX_EINVAL);
    tu_assert_err(ax_name_unregister(NULL, "x"), AX_EINVAL);
    /* AX_NAME_MAX bytes is fine */
    tu_ok(ax_name_register(f.sys, longest, a));
    tu_ok(ax_name_lookup(f.sys, longest, &out));
    fx_assert_id_eq(out, a);
    tu_ok(ax_name_unregister(f.sys, longest));
    fx_close(&f);
}

/* 10,000 names: the table rehashes many times; every name stays findable,
 * removal in any order works, and what an actor held dies with it. */
static void test_many_names(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    enum { N = 10000, ACTORS = 10 };
    fx_rec r[ACTORS];
    ax_id ids[ACTORS];
    memset(r, 0, sizeof r);
    for (int i = 0; i < ACTORS; i++)
        ids[i] = fx_spawn_rec(f.sys, &r[i]);
    char name[64];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "actor/%d/name-%05d", i % ACTORS, i);
        tu_ok(ax_name_register(f.sys, name, ids[i % ACTORS]));
    }
    ax_id out;
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "actor/%d/name-%05d", i % ACTORS, i);
        tu_ok(ax_name_lookup(f.sys, name, &out));
        fx_assert_id_eq(out, ids[i % ACTORS]);
    }
    /* unregister every third by hand */
    for (int i = 0; i < N; i += 3) {
        snprintf(name, sizeof name, "actor/%d/name-%05d", i % ACTORS, i);
        tu_ok(ax_name_unregister(f.sys, name));
    }
    /* actor 0 ends: its remaining names go with it */
    tu_ok(ax_system_send(f.sys, ax_id_nil(), ids[0], AX_MSG_POISON, NULL, 0));
    fx_drain(&f);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "actor/%d/name-%05d", i % ACTORS, i);
        int want = (i % 3 == 0 || i % ACTORS == 0) ? AX_ENOENT : 0;
        tu_assert_err(ax_name_lookup(f.sys, name, &out), want);
        if (want == 0)
            fx_assert_id_eq(out, ids[i % ACTORS]);
    }
    /* re-register after the churn */
    for (int i = 0; i < N; i += 3) {
        snprintf(name, sizeof name, "actor/%d/name-%05d", i % ACTORS, i);
        tu_ok(ax_name_register(f.sys, name, ids[1 + (i % (ACTORS - 1))]));
    }
    fx_close(&f); /* the remaining names are freed with the system */
}

int main(int argc, char **argv)
{
    tu_parse_backend(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_lookup_unregister),
        cmocka_unit_test(test_duplicate_name),
        cmocka_unit_test(test_names_die_with_actor),
        cmocka_unit_test(test_invalid_names),
        cmocka_unit_test(test_many_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
