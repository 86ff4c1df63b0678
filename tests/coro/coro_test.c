/* coro_test.c - tests of coro.c and the context switch: resume/yield,
 * nesting, callee-saved registers and floating-point state across
 * switches, finishing and discarding coroutines, argument errors.
 * Runs with the assembly switch, and as coro_test_ucontext with the
 * fallback (built from the same file).
 */
#include <fenv.h>
#include <signal.h>
#include <stdint.h>

#include "coro_testutil.h"
#include "regcheck.h"

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

/* ---- switching ------------------------------------------------------ */

/* A generator: each resume sends `in`, each yield answers `out`. */
struct pingpong {
    axi_coro *co;
    long in, out;
    axi_coro *seen_current;
};

static void pingpong_fn(void *arg)
{
    struct pingpong *pp = arg;
    long a = 0, b = 1;
    pp->seen_current = axi_coro_current();
    while (pp->in >= 0) {
        pp->out = a * 1000 + pp->in; /* fib(n) and an echo of what came in */
        long t = a + b;
        a = b;
        b = t;
        axi_coro_yield(pp->co);
    }
}

static void test_pingpong_values(void **state)
{
    (void)state;
    axi_stack_pool *p = new_pool(0, 4);
    struct pingpong pp = {0};
    pp.co = new_coro(p, pingpong_fn, &pp, "pingpong");
    assert_null(axi_coro_current());
    const long fib[] = {0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89};
    for (int i = 0; i < 12; i++) {
        pp.in = i * 7;
        axi_coro_resume(pp.co);
        assert_false(axi_coro_done(pp.co));
        assert_int_equal(pp.out, fib[i] * 1000 + i * 7);
        assert_null(axi_coro_current());
    }
    assert_ptr_equal(pp.seen_current, pp.co);
    pp.in = -1;
    axi_coro_resume(pp.co);
    assert_true(axi_coro_done(pp.co));
    axi_coro_free(pp.co);
    free_pool(p);
}

static void test_finish(void **state)
{
    (void)state;
    axi_stack_pool *p = new_pool(0, 4);
    int runs = 0;
    axi_coro *co = new_coro(p, count_fn, &runs, "finisher");
    assert_int_equal(runs, 0); /* nothing runs before the first resume */
    assert_false(axi_coro_done(co));
    axi_coro_resume(co);
    assert_int_equal(runs, 1);
    assert_true(axi_coro_done(co));
    assert_string_equal(axi_coro_label(co), "finisher");
    axi_coro_free(co);
    free_pool(p);
}

#define NINTER 64
#define STEPS  50

struct inter {
    axi_coro *co[NINTER];
    int log[NINTER * STEPS];
    int nlog;
};

struct inter_arg {
    struct inter *in;
    int id;
};

static void inter_fn(void *arg)
{
    struct inter_arg *a = arg;
    for (int s = 0; s < STEPS; s++) {
        a->in->log[a->in->nlog++] = a->id * 1000 + s;
        axi_coro_yield(a->in->co[a->id]);
    }
}

static void test_interleaved(void **state)
{
    (void)state;
    axi_stack_pool *p = new_pool(0, NINTER);
    static struct inter in;
    static struct inter_arg args[NINTER];
    memset(&in, 0, sizeof in);
    for (int i = 0; i < NINTER; i++) {
        args[i].in = &in;
        args[i].id = i;
        in.co[i] = new_coro(p, inter_fn, &args[i], "inter");
    }
    for (int s = 0; s <= STEPS; s++)
        for (int i = 0; i < NINTER; i++)
            axi_coro_resume(in.co[i]);
    assert_int_equal(in.nlog, NINTER * STEPS);
    for (int s = 0; s < STEPS; s++)
        for (int i = 0; i < NINTER; i++)
            assert_int_equal(in.log[s * NINTER + i], i * 1000 + s);
    for (int i = 0; i < NINTER; i++) {
        assert_true(axi_coro_done(in.co[i]));
        axi_coro_free(in.co[i]);
    }
    free_pool(p);
}

/* A resumes B from inside itself; both yield back to their own resumer. */
struct nest {
    axi_stack_pool *p;
    axi_coro *a, *b;
    axi_coro *cur_in_a_before, *cur_in_b, *cur_in_a_after;
    int trace[8], n;
};

static void nest_b(void *arg)
{
    struct nest *ns = arg;
    ns->cur_in_b = axi_coro_current();
    ns->trace[ns->n++] = 2;
    axi_coro_yield(ns->b);
    ns->trace[ns->n++] = 5;
}

static void nest_a(void *arg)
{
    struct nest *ns = arg;
    ns->cur_in_a_before = axi_coro_current();
    ns->trace[ns->n++] = 1;
    axi_coro_resume(ns->b);
    ns->cur_in_a_after = axi_coro_current();
    ns->trace[ns->n++] = 3;
    axi_coro_yield(ns->a);
    ns->trace[ns->n++] = 4;
    axi_coro_resume(ns->b);
    ns->trace[ns->n++] = 6;
}

static void test_nested(void **state)
{
    (void)state;
    struct nest ns = {0};
    ns.p = new_pool(0, 4);
    ns.a = new_coro(ns.p, nest_a, &ns, "a");
    ns.b = new_coro(ns.p, nest_b, &ns, "b");
    axi_coro_resume(ns.a);
    assert_int_equal(ns.n, 3);
    axi_coro_resume(ns.a);
    assert_true(axi_coro_done(ns.a));
    assert_true(axi_coro_done(ns.b));
    for (int i = 0; i < 6; i++)
        assert_int_equal(ns.trace[i], i + 1);
    assert_ptr_equal(ns.cur_in_a_before, ns.a);
    assert_ptr_equal(ns.cur_in_b, ns.b);
    assert_ptr_equal(ns.cur_in_a_after, ns.a);
    assert_null(axi_coro_current());
    axi_coro_free(ns.a);
    axi_coro_free(ns.b);
    free_pool(ns.p);
}

/* ---- registers and floating point ------------------------------------ */

#ifdef HAVE_REGCHECK
struct regs {
    axi_coro *co;
    uint64_t bad;
};

static void do_yield(void *arg)
{
    axi_coro_yield(((struct regs *)arg)->co);
}

static void do_resume(void *arg)
{
    axi_coro_resume(((struct regs *)arg)->co);
}

static void regs_fn(void *arg)
{
    struct regs *r = arg;
    for (uint64_t i = 0; i < 16; i++)
        r->bad |= regcheck_call(do_yield, r, 0x5a5a000000000000ull + i * 0x10000ull);
}
#endif

static void test_callee_saved_registers(void **state)
{
    (void)state;
#ifdef HAVE_REGCHECK
    axi_stack_pool *p = new_pool(0, 4);
    struct regs r = {0};
    r.co = new_coro(p, regs_fn, &r, "regs");
    uint64_t bad = 0;
    for (uint64_t i = 0; i <= 16; i++)
        bad |= regcheck_call(do_resume, &r, 0x1234000000000000ull + i * 0x10000ull);
    assert_true(axi_coro_done(r.co));
    if (bad || r.bad)
        fail_msg("callee-saved registers clobbered: resumer mask %#llx, coroutine mask %#llx",
                 (unsigned long long)bad, (unsigned long long)r.bad);
    axi_coro_free(r.co);
    free_pool(p);
#else
    skip();
#endif
}

/* Values the compiler keeps live across switches (in callee-saved
 * registers where the ABI has them, else spilled): the portable check. */
struct fpvals {
    axi_coro *co;
    double sum;
};

static void fpvals_fn(void *arg)
{
    struct fpvals *f = arg;
    double a = 1.5, b = -2.25, c = 3.125, d = 1e100, e = -1e-100, g = 0.1;
    for (int i = 0; i < 10; i++) {
        axi_coro_yield(f->co);
        a += 1;
        b *= -1;
        c += a * b;
        d /= 2;
        e *= 3;
        g += 0.1;
    }
    f->sum = a + b + c + g + (d > 0) + (e < 0);
}

static void test_fp_values(void **state)
{
    (void)state;
    axi_stack_pool *p = new_pool(0, 4);
    struct fpvals f = {0};
    f.co = new_coro(p, fpvals_fn, &f, "fpvals");
    double x = 0.5, y = 7.0, z = -3.0;
    while (!axi_coro_done(f.co)) {
        axi_coro_resume(f.co);
        x *= 2;
        y -= 1;
        z = z * x + y;
    }
    /* The same arithmetic without coroutines. */
    double a = 1.5, b = -2.25, c = 3.125, g = 0.1;
    for (int i = 0; i < 10; i++) {
        a += 1;
        b *= -1;
        c += a * b;
        g += 0.1;
    }
    double xx = 0.5, yy = 7.0, zz = -3.0;
    for (int i = 0; i < 11; i++) {
        xx *= 2;
        yy -= 1;
        zz = zz * xx + yy;
    }
    assert_true(f.sum == a + b + c + g + 2);
    assert_true(x == xx && y == yy && z == zz);
    axi_coro_free(f.co);
    free_pool(p);
}

/* The rounding mode in the SSE unit, where x86-64 does its double math;
 * fegetround() reads the x87 control word there.  Elsewhere the FPU has
 * one control register and fegetround() reads it. */
static int sse_round(void)
{
#if defined(__x86_64__)
    switch (_mm_getcsr() & 0x6000) {
    case 0x0000:
        return FE_TONEAREST;
    case 0x2000:
        return FE_DOWNWARD;
    case 0x4000:
        return FE_UPWARD;
    default:
        return FE_TOWARDZERO;
    }
#else
    return fegetround();
#endif
}

struct fpmode {
    axi_coro *co;
    int start_x87, start_sse; /* modes seen on first entry */
    int later_x87, later_sse; /* after the resumer changed its own */
    volatile double one, three;
    double third_up;
};

static void fpmode_fn(void *arg)
{
    struct fpmode *m = arg;
    m->start_x87 = fegetround();
    m->start_sse = sse_round();
    fesetround(FE_UPWARD);
    axi_coro_yield(m->co);
    m->later_x87 = fegetround();
    m->later_sse = sse_round();
    m->third_up = m->one / m->three; /* rounded up if our mode is in force */
    fesetround(FE_TONEAREST);
}

/* Each context has its own FP control modes; a new coroutine starts with
 * its creator's. */
static void test_fp_control_modes(void **state)
{
    (void)state;
    axi_stack_pool *p = new_pool(0, 4);
    struct fpmode m = {0};
    m.one = 1.0;
    m.three = 3.0;
    assert_int_equal(fesetround(FE_TOWARDZERO), 0);
    m.co = new_coro(p, fpmode_fn, &m, "fpmode");
    fesetround(FE_TONEAREST);
    axi_coro_resume(m.co);
    /* The coroutine switched to FE_UPWARD; ours is untouched. */
    assert_int_equal(fegetround(), FE_TONEAREST);
    assert_int_equal(sse_round(), FE_TONEAREST);
    fesetround(FE_DOWNWARD);
    axi_coro_resume(m.co);
    assert_true(axi_coro_done(m.co));
    double third_down = m.one / m.three;
    /* Its final fesetround(FE_TONEAREST) did not leak out either. */
    int after_x87 = fegetround(), after_sse = sse_round();
    fesetround(FE_TONEAREST);
    assert_int_equal(m.start_x87, FE_TOWARDZERO);
    assert_int_equal(m.start_sse, FE_TOWARDZERO);
    assert_int_equal(m.later_x87, FE_UPWARD);
    assert_int_equal(m.later_sse, FE_UPWARD);
    assert_int_equal(after_x87, FE_DOWNWARD);
    assert_int_equal(after_sse, FE_DOWNWARD);
    /* The modes are really in force, not just stored (Valgrind computes
     * SSE division round-to-nearest whatever the mode says). */
    if (!UNDER_VALGRIND())
        assert_true(m.third_up > third_down);
    axi_coro_free(m.co);
    free_pool(p);
}

struct fpflags {
    axi_coro *co;
    volatile double zero;
    int seen_inside;
};

static void fpflags_fn(void *arg)
{
    struct fpflags *f = arg;
    volatile double r = 1.0 / f->zero; /* raises FE_DIVBYZERO */
    (void)r;
    axi_coro_yield(f->co);
    f->seen_inside = fetestexcept(FE_INEXACT) != 0;
}

/* The exception flags are the thread's: they follow execution across a
 * switch in both directions, as across a call.  (The ucontext fallback
 * switches them with the rest of the FP environment.) */
static void test_fp_flags_follow_thread(void **state)
{
    (void)state;
    if (!ASM_SWITCH || UNDER_VALGRIND())
        skip();
    axi_stack_pool *p = new_pool(0, 4);
    struct fpflags f = {0};
    f.co = new_coro(p, fpflags_fn, &f, "fpflags");
    feclearexcept(FE_ALL_EXCEPT);
    axi_coro_resume(f.co);
    int divbyzero = fetestexcept(FE_DIVBYZERO) != 0;
    feraiseexcept(FE_INEXACT);
    axi_coro_resume(f.co);
    feclearexcept(FE_ALL_EXCEPT);
    assert_true(divbyzero);
    assert_true(f.seen_inside);
    axi_coro_free(f.co);
    free_pool(p);
}

/* ---- discarding ------------------------------------------------------- */

struct forever {
    axi_coro *co;
    int steps;
};

static void forever_fn(void *arg)
{
    struct forever *f = arg;
    for (;;) {
        f->steps++;
        axi_coro_yield(f->co);
    }
}

/* A suspended coroutine can be discarded; its stack is reused cleanly. */
static void test_free_suspended(void **state)
{
    (void)state;
    axi_stack_pool *p = new_pool(0, 1);
    struct forever f = {0};
    f.co = new_coro(p, forever_fn, &f, "forever");
    axi_coro_resume(f.co);
    axi_coro_resume(f.co);
    assert_int_equal(f.steps, 2);
    axi_coro_free(f.co);
    int runs = 0;
    axi_coro *co = new_coro(p, count_fn, &runs, "after");
    axi_coro_resume(co);
    assert_int_equal(runs, 1);
    axi_coro_free(co);
    free_pool(p);
}

/* ---- errors ------------------------------------------------------------- */

static void test_errors(void **state)
{
    (void)state;
    axi_stack_pool *p = new_pool(0, 0);
    int runs = 0;
    axi_coro *co = (axi_coro *)&runs;
    assert_int_equal(axi_coro_new(NULL, 0, count_fn, &runs, "x", &co), AX_EINVAL);
    assert_null(co);
    assert_int_equal(axi_coro_new(p, 0, NULL, &runs, "x", &co), AX_EINVAL);
    assert_int_equal(axi_coro_new(p, 0, count_fn, &runs, "x", NULL), AX_EINVAL);
    assert_int_equal(axi_coro_new(p, AXI_CORO_MAX_STACK + 1, count_fn, &runs, "x", &co), AX_EINVAL);

    /* Labels are truncated, and NULL is "". */
    char longlabel[200];
    memset(longlabel, 'L', sizeof longlabel - 1);
    longlabel[sizeof longlabel - 1] = '\0';
    co = new_coro(p, count_fn, &runs, longlabel);
    assert_int_equal(strlen(axi_coro_label(co)), AXI_CORO_LABEL_MAX - 1);
    axi_coro_free(co);
    co = new_coro(p, count_fn, &runs, NULL);
    assert_string_equal(axi_coro_label(co), "");
    axi_coro_free(co);
    assert_int_equal(runs, 0);
    free_pool(p);
}

/* Resuming a finished coroutine is a bug: it aborts with a message. */
static void child_resume_done(void)
{
    axi_stack_pool *p;
    axi_coro *co;
    int runs = 0;
    if (axi_stack_pool_new(NULL, 0, 0, &p) != 0 ||
        axi_coro_new(p, 0, count_fn, &runs, "twice", &co) != 0)
        _exit(2);
    axi_coro_resume(co);
    axi_coro_resume(co);
    _exit(3);
}

static void test_resume_done_aborts(void **state)
{
    (void)state;
    struct child c;
    run_child("resume_done", &c);
    expect_signal(&c, SIGABRT);
    if (!strstr(c.err, "coroutine \"twice\": axi_coro_resume"))
        fail_msg("no misuse report; stderr:\n%s", c.err);
}

static const struct child_scenario children[] = {
    {"resume_done", child_resume_done},
};

int main(int argc, char **argv)
{
    child_dispatch(argc, argv, children, sizeof children / sizeof children[0]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pingpong_values),
        cmocka_unit_test(test_finish),
        cmocka_unit_test(test_interleaved),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_callee_saved_registers),
        cmocka_unit_test(test_fp_values),
        cmocka_unit_test(test_fp_control_modes),
        cmocka_unit_test(test_fp_flags_follow_thread),
        cmocka_unit_test(test_free_suspended),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_resume_done_aborts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
