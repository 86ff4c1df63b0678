/* coro_switch.c - cost of one coroutine switch.
 *
 * One switch is one resume or one yield, so a resume/yield round trip is
 * two.  Prints the median of several runs as `switch_ns=<ns>`, and the cost
 * of a whole coroutine life with a warm stack cache (create, run to the
 * end, free) as `create_run_free_ns=<ns>`.
 *
 * Usage: coro_switch [round_trips_per_run]   (default 5,000,000)
 */
#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"
#include "coro/coro.h"

#define RUNS 9

static void spin(void *arg)
{
    axi_coro **self = arg;
    for (;;)
        axi_coro_yield(*self);
}

static void nothing(void *arg)
{
    (void)arg;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 5000000;
    if (n <= 0)
        n = 5000000;
    axi_stack_pool *pool;
    axi_coro *co;
    if (axi_stack_pool_new(NULL, 0, 16, &pool) != 0 ||
        axi_coro_new(pool, 0, spin, &co, "bench", &co) != 0) {
        fprintf(stderr, "coro_switch: cannot create a coroutine\n");
        return 1;
    }
    for (long i = 0; i < n / 10; i++) /* warm up caches and predictors */
        axi_coro_resume(co);

    double sw[RUNS], life[RUNS];
    for (int r = 0; r < RUNS; r++) {
        int64_t t0 = axi_clock_ns();
        for (long i = 0; i < n; i++)
            axi_coro_resume(co);
        int64_t t1 = axi_clock_ns();
        sw[r] = (double)(t1 - t0) / (2.0 * (double)n);
    }
    axi_coro_free(co); /* suspended: discarded */

    long m = n / 10;
    for (int r = 0; r < RUNS; r++) {
        int64_t t0 = axi_clock_ns();
        for (long i = 0; i < m; i++) {
            axi_coro *c;
            if (axi_coro_new(pool, 0, nothing, NULL, "life", &c) != 0)
                return 1;
            axi_coro_resume(c);
            axi_coro_free(c);
        }
        int64_t t1 = axi_clock_ns();
        life[r] = (double)(t1 - t0) / (double)m;
    }
    axi_stack_pool_free(pool);

    printf("switch_ns=%.2f\n", median(sw, RUNS));
    printf("create_run_free_ns=%.1f\n", median(life, RUNS));
    return 0;
}
