/* cmocka_shim.c - the runner behind cmocka_shim/cmocka.h (see there). */
#include "cmocka.h"

#include <stdlib.h>

static jmp_buf shim_jmp;
static int shim_in_test;
static int shim_skipped;

void _cmocka_shim_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[  ERROR   ] --- ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n[   LINE   ] --- %s:%d: error: Failure!\n", file, line);
    va_end(ap);
    if (!shim_in_test)
        abort(); /* an assert outside any test: nothing to return to */
    longjmp(shim_jmp, 1);
}

void _cmocka_shim_skip(const char *file, int line)
{
    (void)file;
    (void)line;
    shim_skipped = 1;
    if (!shim_in_test)
        abort();
    longjmp(shim_jmp, 1);
}

void print_message(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

void print_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

int _cmocka_run_group_tests(const char *group_name, const struct CMUnitTest *const tests,
                            const size_t num_tests, CMFixtureFunction group_setup,
                            CMFixtureFunction group_teardown)
{
    void *group_state = NULL;
    printf("[==========] Running %zu test(s).\n", num_tests);
    if (group_setup && group_setup(&group_state) != 0) {
        printf("[  ERROR   ] %s: group setup failed\n", group_name);
        return (int)num_tests;
    }
    volatile int failed = 0, skipped = 0;
    for (volatile size_t i = 0; i < num_tests; i++) {
        const struct CMUnitTest *t = &tests[i];
        void *st = t->initial_state ? t->initial_state : group_state;
        volatile int ok = 1;
        shim_skipped = 0;
        printf("[ RUN      ] %s\n", t->name);
        fflush(stdout);
        if (t->setup_func && t->setup_func(&st) != 0) {
            ok = 0;
        } else {
            shim_in_test = 1;
            if (setjmp(shim_jmp) == 0)
                t->test_func(&st);
            else
                ok = 0;
            shim_in_test = 0;
            if (t->teardown_func && t->teardown_func(&st) != 0)
                ok = 0;
        }
        if (shim_skipped) {
            printf("[  SKIPPED ] %s\n", t->name);
            skipped++;
        } else if (ok) {
            printf("[       OK ] %s\n", t->name);
        } else {
            printf("[  FAILED  ] %s\n", t->name);
            failed++;
        }
        fflush(stdout);
    }
    if (group_teardown)
        group_teardown(&group_state);
    printf("[==========] %zu test(s) run.\n", num_tests);
    printf("[  PASSED  ] %zu test(s).\n", num_tests - (size_t)failed - (size_t)skipped);
    if (failed)
        printf("[  FAILED  ] %d test(s).\n", failed);
    fflush(stdout);
    return failed;
}
