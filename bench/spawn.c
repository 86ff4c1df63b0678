/* spawn - spawn N idle plain actors; report memory per actor and time.
 *
 *   spawn --actors N
 * prints:
 *   spawn actors=N spawn_s=S bytes_per_actor=B rss_before=R0 rss_after=R1
 * Memory is the growth of the resident set (/proc/self/statm) across the
 * spawns, divided by N: everything an idle actor costs, table included. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "axon.h"

static void on_msg(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    (void)ctx;
    (void)msg;
}

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    unsigned long n = 1000000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--actors"))
            n = strtoul(argv[i + 1], NULL, 10);
        else {
            fprintf(stderr, "usage: spawn --actors N\n");
            return 2;
        }
    }
    if (n == 0) {
        fprintf(stderr, "spawn: N must be positive\n");
        return 2;
    }
    ax_loop *loop;
    ax_system *sys;
    ax_system_options o;
    memset(&o, 0, sizeof o);
    o.max_actors = (uint32_t)(n + 16);
    if (ax_loop_new(NULL, &loop) || ax_system_new(loop, &o, &sys)) {
        fprintf(stderr, "spawn: cannot create loop/system\n");
        return 1;
    }
    long before = rss_bytes();
    double t0 = now_s();
    for (unsigned long i = 0; i < n; i++) {
        ax_id id;
        int rc = ax_spawn(sys, on_msg, NULL, NULL, &id);
        if (rc) {
            fprintf(stderr, "spawn: failed after %lu actors: %s\n", i, ax_strerror(rc));
            return 1;
        }
    }
    double secs = now_s() - t0;
    long after = rss_bytes();
    printf("spawn actors=%lu spawn_s=%.4f bytes_per_actor=%.1f rss_before=%ld rss_after=%ld\n", n,
           secs, (double)(after - before) / (double)n, before, after);
    ax_system_free(sys);
    ax_loop_free(loop);
    return 0;
}
