/* overflow_test.c - tests of overflow.c: a stack overflow in a coroutine
 * is reported with the coroutine's label and aborts, on the main thread
 * and on others (each gets its own alternate signal stack); other faults
 * reach the handler that was there before.
 *
 * The death tests run in a fresh child process.  They are skipped under
 * Valgrind, which emulates faults and alternate stacks its own way; they
 * run (and pass) under ASan and TSan.
 */
#include <pthread.h>
#include <signal.h>

#include "coro_testutil.h"

static void test_install_idempotent(void **state)
{
    (void)state;
    assert_int_equal(axi_coro_install_overflow_handler(), 0);
    assert_int_equal(axi_coro_install_overflow_handler(), 0);
}

/* ---- threads ----------------------------------------------------------- */

struct thr {
    int runs;
    int had_altstack;
};

static void thr_fn(void *arg)
{
    struct thr *t = arg;
    stack_t ss;
    t->had_altstack = sigaltstack(NULL, &ss) == 0 && !(ss.ss_flags & SS_DISABLE);
    t->runs++;
}

static void *thr_main(void *arg)
{
    struct thr *t = arg;
    axi_stack_pool *p = NULL;
    if (axi_stack_pool_new(NULL, 0, 4, &p) != 0)
        return NULL;
    for (int i = 0; i < 100; i++) {
        axi_coro *co;
        if (axi_coro_new(p, 0, thr_fn, t, "thread", &co) != 0)
            break;
        axi_coro_resume(co);
        axi_coro_free(co);
    }
    axi_stack_pool_free(p);
    return NULL;
}

/* Pools on several threads at once; each thread gets its alternate signal
 * stack on its first resume. */
static void test_threads(void **state)
{
    (void)state;
    assert_int_equal(axi_coro_install_overflow_handler(), 0);
    pthread_t th[4];
    struct thr t[4];
    memset(t, 0, sizeof t);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, thr_main, &t[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(t[i].runs, 100);
        assert_true(t[i].had_altstack);
    }
}

/* ---- death tests: a child process, its stderr, how it died --------------- */

static volatile int stop_recursion; /* never set: keeps the compiler quiet */

static long overflow_recurse(long n)
{
    volatile char buf[256];
    buf[0] = (char)n;
    if (stop_recursion)
        return 0;
    return overflow_recurse(n + 1) + buf[0]; /* not a tail call */
}

static void overflow_fn(void *arg)
{
    (void)arg;
    overflow_recurse(0);
}

static void *overflow_thread(void *arg)
{
    (void)arg;
    axi_stack_pool *p;
    axi_coro *co;
    if (axi_stack_pool_new(NULL, 32 * 1024, 0, &p) != 0 ||
        axi_coro_new(p, 0, overflow_fn, NULL, "actor<0.42.7>", &co) != 0)
        _exit(3);
    axi_coro_resume(co);
    _exit(4); /* not reached */
}

static void child_overflow_main(void)
{
    if (axi_coro_install_overflow_handler() != 0)
        _exit(2);
    overflow_thread(NULL);
}

static void child_overflow_thread(void)
{
    pthread_t th;
    if (axi_coro_install_overflow_handler() != 0)
        _exit(2);
    pthread_create(&th, NULL, overflow_thread, NULL);
    pthread_join(th, NULL);
    _exit(5);
}

static void check_overflow_report(const struct child *c)
{
    expect_signal(c, SIGABRT);
    if (!strstr(c->err, "stack overflow in coroutine \"actor<0.42.7>\""))
        fail_msg("no overflow report naming the coroutine; stderr:\n%s", c->err);
}

static void test_overflow_reports_label(void **state)
{
    (void)state;
    if (UNDER_VALGRIND())
        skip();
    struct child c;
    run_child("overflow_main", &c);
    check_overflow_report(&c);
}

static void test_overflow_in_other_thread(void **state)
{
    (void)state;
    if (UNDER_VALGRIND())
        skip();
    struct child c;
    run_child("overflow_thread", &c);
    check_overflow_report(&c);
}

static void earlier_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    (void)uc;
    static const char msg[] = "earlier handler ran\n";
    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) {
    }
    _exit(42);
}

static void null_fault_fn(void *arg)
{
    *(volatile int *)arg = 1; /* arg is a bad address */
}

/* A fault inside a coroutine that is not an overflow goes on to the
 * handler installed before ours. */
static void child_fault_chains(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = earlier_handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    axi_stack_pool *p;
    axi_coro *co;
    if (axi_coro_install_overflow_handler() != 0 || axi_stack_pool_new(NULL, 0, 0, &p) != 0 ||
        axi_coro_new(p, 0, null_fault_fn, (void *)16, "faulty", &co) != 0)
        _exit(2);
    axi_coro_resume(co);
}

static void test_fault_chains_to_previous_handler(void **state)
{
    (void)state;
    if (UNDER_VALGRIND())
        skip(); /* its own SIGSEGV handling gets in the way */
    struct child c;
    run_child("fault_chains", &c);
    expect_exit(&c, 42);
    assert_non_null(strstr(c.err, "earlier handler ran"));
    assert_null(strstr(c.err, "stack overflow"));
}

/* With no earlier handler, such a fault kills the process as SIGSEGV. */
static void child_fault_default(void)
{
    signal(SIGSEGV, SIG_DFL);
    axi_stack_pool *p;
    axi_coro *co;
    if (axi_coro_install_overflow_handler() != 0 || axi_stack_pool_new(NULL, 0, 0, &p) != 0 ||
        axi_coro_new(p, 0, null_fault_fn, (void *)16, "faulty", &co) != 0)
        _exit(2);
    axi_coro_resume(co);
}

static void test_fault_default_restored(void **state)
{
    (void)state;
    if (UNDER_VALGRIND())
        skip();
    struct child c;
    run_child("fault_default", &c);
    expect_signal(&c, SIGSEGV);
    assert_null(strstr(c.err, "stack overflow"));
}

static const struct child_scenario children[] = {
    {"overflow_main", child_overflow_main},
    {"overflow_thread", child_overflow_thread},
    {"fault_chains", child_fault_chains},
    {"fault_default", child_fault_default},
};

int main(int argc, char **argv)
{
    child_dispatch(argc, argv, children, sizeof children / sizeof children[0]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_idempotent),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_overflow_reports_label),
        cmocka_unit_test(test_overflow_in_other_thread),
        cmocka_unit_test(test_fault_chains_to_previous_handler),
        cmocka_unit_test(test_fault_default_restored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
