/* names_test.c - the local name registry (src/actor/names.c). */
#include "actor/actor_fixture.h"

/* `name` is registered to nobody: the lookup fails with AX_ENOENT. */
static void assert_unnamed(fx *f, const char *name)
{
    ax_id out;
    int rc = ax_name_lookup(f->sys, name, &out);
    if (rc != AX_ENOENT)
        fail_msg("lookup of \"%s\" returned %s (%d), want AX_ENOENT", name, ax_errname(rc), rc);
}

/* `name` is registered to `want`. */
static void assert_named(fx *f, const char *name, ax_id want)
{
    ax_id out;
    tu_ok(ax_name_lookup(f->sys, name, &out));
    fx_assert_id_eq(out, want);
}

/* Register, lookup and unregister each refuse `name` with AX_EINVAL. */
static void assert_bad_name(fx *f, const char *name, ax_id a)
{
    static const char *const call[3] = {"register", "lookup", "unregister"};
    ax_id out;
    int rc[3];
    rc[0] = ax_name_register(f->sys, name, a);
    rc[1] = ax_name_lookup(f->sys, name, &out);
    rc[2] = ax_name_unregister(f->sys, name);
    for (int i = 0; i < 3; i++)
        if (rc[i] != AX_EINVAL)
            fail_msg("ax_name_%s of %s name (%zu bytes) returned %s (%d), want AX_EINVAL", call[i],
                     name ? "a" : "a NULL", name ? strlen(name) : 0, ax_errname(rc[i]), rc[i]);
}

static void test_register_lookup_unregister(void **state)
{
    (void)state;
    fx f;
    fx_rec r;
    ax_id a = fx_open_rec(&f, &r);
    ax_id out = {1, 2, 3};
    tu_assert_err(ax_name_lookup(f.sys, "risk_engine", &out), AX_ENOENT);
    tu_ok(ax_name_register(f.sys, "risk_engine", a));
    assert_named(&f, "risk_engine", a);
    /* the name is copied */
    char buf[32];
    strcpy(buf, "temp_name");
    tu_ok(ax_name_register(f.sys, buf, a));
    memset(buf, 'x', 9);
    assert_named(&f, "temp_name", a);
    /* names are exact: no prefix matches */
    assert_unnamed(&f, "risk");
    assert_unnamed(&f, "risk_engine2");
    /* a looked-up id is an ordinary id */
    tu_ok(ax_name_lookup(f.sys, "risk_engine", &out));
    tu_ok(fx_u64_send(f.sys, ax_id_nil(), out, 8));
    fx_drain(&f);
    assert_int_equal(r.n, 1);

    tu_ok(ax_name_unregister(f.sys, "risk_engine"));
    assert_unnamed(&f, "risk_engine");
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
    fx_rec r1, r2;
    ax_id a = fx_open_rec(&f, &r1);
    ax_id b = fx_spawn_new_rec(&f, &r2);
    tu_ok(ax_name_register(f.sys, "svc", a));
    tu_assert_err(ax_name_register(f.sys, "svc", b), AX_EEXIST);
    tu_assert_err(ax_name_register(f.sys, "svc", a), AX_EEXIST);
    assert_named(&f, "svc", a); /* the first registration stands */
    fx_close(&f);
}

static void test_names_die_with_actor(void **state)
{
    (void)state;
    fx f;
    fx_rec r1, r2, r3;
    ax_id a = fx_open_rec(&f, &r1);
    ax_id b = fx_spawn_new_rec(&f, &r2);
    /* one actor, several names; one removed by hand first */
    static const char *const gone[] = {"alpha", "alpha.2", "alpha.3", "beta"};
    for (int i = 0; i < 4; i++)
        tu_ok(ax_name_register(f.sys, gone[i], i < 3 ? a : b));
    tu_ok(ax_name_unregister(f.sys, "alpha.2"));
    r1.stop_after = 1;
    tu_ok(fx_u64_send(f.sys, ax_id_nil(), a, 1)); /* ends via ax_stop */
    fx_poison(&f, b);
    fx_drain(&f);
    for (int i = 0; i < 4; i++)
        assert_unnamed(&f, gone[i]);
    tu_assert_err(ax_name_unregister(f.sys, "alpha"), AX_ENOENT);
    /* the slot's next actor starts with no names; the old ones are free */
    ax_id c = fx_spawn_new_rec(&f, &r3);
    tu_ok(ax_name_register(f.sys, "alpha", c));
    assert_named(&f, "alpha", c);
    /* registering a stale id */
    tu_assert_err(ax_name_register(f.sys, "ghost", a), AX_ESTALE);
    tu_assert_err(ax_name_register(f.sys, "ghost", b), AX_ESTALE);
    assert_unnamed(&f, "ghost");
    fx_close(&f);
}

static void test_invalid_names(void **state)
{
    (void)state;
    fx f;
    fx_rec r;
    ax_id a = fx_open_rec(&f, &r);
    char longest[AX_NAME_MAX + 1], too_long[AX_NAME_MAX + 2];
    memset(longest, 'n', AX_NAME_MAX);
    longest[AX_NAME_MAX] = '\0';
    memset(too_long, 'n', AX_NAME_MAX + 1);
    too_long[AX_NAME_MAX + 1] = '\0';
    ax_id out;
    assert_bad_name(&f, NULL, a);
    assert_bad_name(&f, "", a);
    assert_bad_name(&f, too_long, a);
    tu_assert_err(ax_name_register(NULL, "x", a), AX_EINVAL);
    tu_assert_err(ax_name_register(f.sys, "nil", ax_id_nil()), AX_EINVAL);
    tu_assert_err(ax_name_lookup(f.sys, "x", NULL), AX_EINVAL);
    tu_assert_err(ax_name_lookup(NULL, "x", &out), AX_EINVAL);
    tu_assert_err(ax_name_unregister(NULL, "x"), AX_EINVAL);
    /* AX_NAME_MAX bytes is fine */
    tu_ok(ax_name_register(f.sys, longest, a));
    assert_named(&f, longest, a);
    tu_ok(ax_name_unregister(f.sys, longest));
    fx_close(&f);
}

/* 10,000 names: the table rehashes many times; every name stays findable,
 * removal in any order works, and what an actor held dies with it. */
enum { MANY_N = 10000, MANY_ACTORS = 10 };

/* Name number i, held (at first) by actor i % MANY_ACTORS. */
static const char *many_name(char *buf, size_t n, int i)
{
    snprintf(buf, n, "actor/%d/name-%05d", i % MANY_ACTORS, i);
    return buf;
}

static void test_many_names(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, NULL);
    fx_rec r[MANY_ACTORS];
    ax_id ids[MANY_ACTORS];
    for (int i = 0; i < MANY_ACTORS; i++)
        ids[i] = fx_spawn_new_rec(&f, &r[i]);
    char name[64];
    for (int i = 0; i < MANY_N; i++)
        tu_ok(ax_name_register(f.sys, many_name(name, sizeof name, i), ids[i % MANY_ACTORS]));
    for (int i = 0; i < MANY_N; i++)
        assert_named(&f, many_name(name, sizeof name, i), ids[i % MANY_ACTORS]);
    /* unregister every third by hand */
    for (int i = 0; i < MANY_N; i += 3)
        tu_ok(ax_name_unregister(f.sys, many_name(name, sizeof name, i)));
    /* actor 0 ends: its remaining names go with it */
    fx_poison(&f, ids[0]);
    fx_drain(&f);
    for (int i = 0; i < MANY_N; i++) {
        if (i % 3 == 0 || i % MANY_ACTORS == 0)
            assert_unnamed(&f, many_name(name, sizeof name, i));
        else
            assert_named(&f, many_name(name, sizeof name, i), ids[i % MANY_ACTORS]);
    }
    /* re-register after the churn */
    for (int i = 0; i < MANY_N; i += 3)
        tu_ok(ax_name_register(f.sys, many_name(name, sizeof name, i),
                               ids[1 + (i % (MANY_ACTORS - 1))]));
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
