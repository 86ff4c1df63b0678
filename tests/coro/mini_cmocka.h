/* mini_cmocka.h - the few cmocka calls coro_test.c uses, for targets where
 * cmocka is not installed (the aarch64 cross build under qemu, see
 * scripts/test-aarch64.sh).  Same names, same behaviour: a failed assert
 * ends the current test, skip() marks it skipped, the run's exit status is
 * the number of failed tests. */
#ifndef AXON_MINI_CMOCKA_H
#define AXON_MINI_CMOCKA_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct CMUnitTest {
    const char *name;
    void (*test_func)(void **state);
};

#define cmocka_unit_test(f)                                                                        \
    {                                                                                              \
#f, f                                                                                      \
    }

static jmp_buf mini_jmp;
static int mini_skipped;

static void mini_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
static void mini_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[  ERROR   ] --- ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n[   LINE   ] --- %s:%d\n", file, line);
    va_end(ap);
    longjmp(mini_jmp, 1);
}

#define fail_msg(...) mini_fail(__FILE__, __LINE__, __VA_ARGS__)
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
            fail_msg("%jd != %jd", a_, b_);                                                        \
    } while (0)
#define assert_int_not_equal(a, b)                                                                 \
    do {                                                                                           \
        intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b);                                           \
        if (a_ == b_)                                                                              \
            fail_msg("%jd == %jd", a_, b_);                                                        \
    } while (0)
#define assert_ptr_equal(a, b)                                                                     \
    do {                                                                                           \
        const void *a_ = (a), *b_ = (b);                                                           \
        if (a_ != b_)                                                                              \
            fail_msg("%p != %p", a_, b_);                                                          \
    } while (0)
#define assert_ptr_not_equal(a, b)                                                                 \
    do {                                                                                           \
        const void *a_ = (a), *b_ = (b);                                                           \
        if (a_ == b_)                                                                              \
            fail_msg("%p == %p", a_, b_);                                                          \
    } while (0)
#define assert_null(p)     assert_ptr_equal((p), NULL)
#define assert_non_null(p) assert_ptr_not_equal((p), NULL)
#define assert_string_equal(a, b)                                                                  \
    do {                                                                                           \
        if (strcmp((a), (b)) != 0)                                                                 \
            fail_msg("\"%s\" != \"%s\"", (a), (b));                                                \
    } while (0)
#define skip()                                                                                     \
    do {                                                                                           \
        mini_skipped = 1;                                                                          \
        longjmp(mini_jmp, 1);                                                                      \
    } while (0)
#define print_message(...) printf(__VA_ARGS__)

#define cmocka_run_group_tests(tests, setup, teardown)                                             \
    mini_run((tests), sizeof(tests) / sizeof((tests)[0]))

static int mini_run(const struct CMUnitTest *t, size_t n)
{
    volatile int failed = 0;
    printf("[==========] Running %zu test(s).\n", n);
    for (volatile size_t i = 0; i < n; i++) {
        volatile int ok = 1;
        mini_skipped = 0;
        printf("[ RUN      ] %s\n", t[i].name);
        fflush(stdout);
        if (setjmp(mini_jmp) == 0)
            t[i].test_func(NULL);
        else
            ok = 0;
        if (mini_skipped)
            printf("[  SKIPPED ] %s\n", t[i].name);
        else if (ok)
            printf("[       OK ] %s\n", t[i].name);
        else {
            printf("[  FAILED  ] %s\n", t[i].name);
            failed++;
        }
        fflush(stdout);
    }
    printf("[==========] %zu test(s) run, %d failed.\n", n, (int)failed);
    return failed;
}

#endif /* AXON_MINI_CMOCKA_H */
