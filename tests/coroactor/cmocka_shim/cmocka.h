/* cmocka.h - a small cmocka-compatible shim: the subset of cmocka's API
 * that the coroutine, actor and coroutine-actor tests (and tests/util) use,
 * for a target where cmocka is not installed.  scripts/test-aarch64.sh puts
 * this directory on the include path (and builds cmocka_shim.c in) only
 * when no arm64 cmocka can be installed; everywhere else the real cmocka is
 * used.
 *
 * Same behaviour where it matters: a failed assert prints both values and
 * ends the current test, skip() marks it skipped, a group run returns the
 * number of failed tests. */
#ifndef AXON_CMOCKA_SHIM_H
#define AXON_CMOCKA_SHIM_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*CMUnitTestFunction)(void **state);
typedef int (*CMFixtureFunction)(void **state);

struct CMUnitTest {
    const char *name;
    CMUnitTestFunction test_func;
    CMFixtureFunction setup_func;
    CMFixtureFunction teardown_func;
    void *initial_state;
};

#define cmocka_unit_test(f)                                                                        \
    {                                                                                              \
#f, f, NULL, NULL, NULL                                                                    \
    }

void _cmocka_shim_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
void _cmocka_shim_skip(const char *file, int line) __attribute__((noreturn));
void print_message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void print_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int _cmocka_run_group_tests(const char *group_name, const struct CMUnitTest *const tests,
                            const size_t num_tests, CMFixtureFunction group_setup,
                            CMFixtureFunction group_teardown);

#define cmocka_run_group_tests(t, setup, teardown)                                                 \
    _cmocka_run_group_tests(#t, (t), sizeof(t) / sizeof((t)[0]), (setup), (teardown))

#define fail_msg(...) _cmocka_shim_fail(__FILE__, __LINE__, __VA_ARGS__)
#define fail()        fail_msg("failure")
#define skip()        _cmocka_shim_skip(__FILE__, __LINE__)

#define assert_true(c)                                                                             \
    do {                                                                                           \
        if (!(c))                                                                                  \
            fail_msg("%s is not true", #c);                                                        \
    } while (0)
#define assert_false(c)                                                                            \
    do {                                                                                           \
        if (c)                                                                                     \
            fail_msg("%s is not false", #c);                                                       \
    } while (0)
#define assert_int_equal(a, b)                                                                     \
    do {                                                                                           \
        intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b);                                           \
        if (a_ != b_)                                                                              \
            fail_msg("%jd (%#jx) != %jd (%#jx)", a_, (uintmax_t)a_, b_, (uintmax_t)b_);            \
    } while (0)
#define assert_int_not_equal(a, b)                                                                 \
    do {                                                                                           \
        intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b);                                           \
        if (a_ == b_)                                                                              \
            fail_msg("%jd == %jd", a_, b_);                                                        \
    } while (0)
#define assert_in_range(v, lo, hi)                                                                 \
    do {                                                                                           \
        intmax_t v_ = (intmax_t)(v), l_ = (intmax_t)(lo), h_ = (intmax_t)(hi);                     \
        if (v_ < l_ || v_ > h_)                                                                    \
            fail_msg("%jd is not within the range %jd-%jd", v_, l_, h_);                           \
    } while (0)
#define assert_ptr_equal(a, b)                                                                     \
    do {                                                                                           \
        const void *a_ = (const void *)(a), *b_ = (const void *)(b);                               \
        if (a_ != b_)                                                                              \
            fail_msg("%p != %p", a_, b_);                                                          \
    } while (0)
#define assert_ptr_not_equal(a, b)                                                                 \
    do {                                                                                           \
        const void *a_ = (const void *)(a), *b_ = (const void *)(b);                               \
        if (a_ == b_)                                                                              \
            fail_msg("%p == %p", a_, b_);                                                          \
    } while (0)
#define assert_null(p)     assert_ptr_equal((p), NULL)
#define assert_non_null(p) assert_ptr_not_equal((p), NULL)
#define assert_string_equal(a, b)                                                                  \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (strcmp(a_, b_) != 0)                                                                   \
            fail_msg("\"%s\" != \"%s\"", a_, b_);                                                  \
    } while (0)
#define assert_string_not_equal(a, b)                                                              \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (strcmp(a_, b_) == 0)                                                                   \
            fail_msg("\"%s\" == \"%s\"", a_, b_);                                                  \
    } while (0)
#define assert_memory_equal(a, b, n)                                                               \
    do {                                                                                           \
        if (memcmp((a), (b), (n)) != 0)                                                            \
            fail_msg("%zu bytes at %s and %s differ", (size_t)(n), #a, #b);                        \
    } while (0)

#endif /* AXON_CMOCKA_SHIM_H */
