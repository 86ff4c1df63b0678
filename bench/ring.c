/* ring - N actors in a ring, B messages in flight, M deliveries in all.
 *
 * Each message carries a hop budget ceil(M/B); every actor forwards it to
 * the next with one less, until it runs out.  The clock starts before the
 * injection and stops when the loop goes idle (every message finished).
 * Same work as ../shared/peers/c/ring_fifo.c and peers/erlang/ring.erl.
 *
 *   ring --actors N --batch B --hops M [--runs R]
 * prints one line per run:
 *   ring actors=N batch=B hops=M secs=S hops_per_s=X laps_per_s=Y
 * and with --runs > 1 a final "median" line in the same format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "axon.h"

#define MSG_HOP 1u

typedef struct node {
    ax_id next;
    uint64_t *done;
} node;

static void on_hop(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    node *n = state;
    uint64_t ttl;
    memcpy(&ttl, msg->data, sizeof ttl);
    if (ttl == 1) {
        (*n->done)++;
        return;
    }
    const uint64_t left = ttl - 1;
    ax_send(ctx, n->next, MSG_HOP, &left, sizeof left);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double run_once(uint64_t n_actors, uint64_t batch, uint64_t hops)
{
    ax_loop *loop;
    ax_system *sys;
    if (ax_loop_new(NULL, &loop) || ax_system_new(loop, NULL, &sys)) {
        fprintf(stderr, "ring: cannot create loop/system\n");
        exit(1);
    }
    ax_msg_register_pod(sys, MSG_HOP, "hop", sizeof(uint64_t), _Alignof(uint64_t));
    node *nodes = calloc(n_actors, sizeof *nodes);
    ax_id *ids = calloc(n_actors, sizeof *ids);
    uint64_t done = 0;
    for (uint64_t i = 0; i < n_actors; i++) {
        nodes[i].done = &done;
        if (ax_spawn(sys, on_hop, &nodes[i], NULL, &ids[i])) {
            fprintf(stderr, "ring: spawn failed\n");
            exit(1);
        }
    }
    for (uint64_t i = 0; i < n_actors; i++)
        nodes[i].next = ids[(i + 1) % n_actors];
    uint64_t per = (hops + batch - 1) / batch;
    double t0 = now_s();
    for (uint64_t i = 0; i < batch; i++) {
        int rc = ax_system_send(sys, ax_id_nil(), ids[0], MSG_HOP, &per, sizeof per);
        if (rc) {
            fprintf(stderr, "ring: send: %s\n", ax_strerror(rc));
            exit(1);
        }
    }
    ax_loop_run(loop);
    double secs = now_s() - t0;
    if (done != batch) {
        fprintf(stderr, "ring: %llu of %llu messages finished\n", (unsigned long long)done,
                (unsigned long long)batch);
        exit(1);
    }
    ax_system_free(sys);
    ax_loop_free(loop);
    free(nodes);
    free(ids);
    return secs;
}

int main(int argc, char **argv)
{
    uint64_t n = 100, b = 1024, m = 100000000, runs = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        uint64_t v = strtoull(argv[i + 1], NULL, 10);
        if (!strcmp(argv[i], "--actors"))
            n = v;
        else if (!strcmp(argv[i], "--batch"))
            b = v;
        else if (!strcmp(argv[i], "--hops"))
            m = v;
        else if (!strcmp(argv[i], "--runs"))
            runs = v;
        else {
            fprintf(stderr, "usage: ring --actors N --batch B --hops M [--runs R]\n");
            return 2;
        }
    }
    if (n == 0 || b == 0 || m == 0 || runs == 0) {
        fprintf(stderr, "ring: N, B, M and R must be positive\n");
        return 2;
    }
    uint64_t total = (m + b - 1) / b * b;
    double *rates = calloc(runs, sizeof *rates);
    for (uint64_t r = 0; r < runs; r++) {
        double secs = run_once(n, b, m);
        rates[r] = (double)total / secs;
        printf("ring actors=%llu batch=%llu hops=%llu secs=%.4f hops_per_s=%.0f laps_per_s=%.0f\n",
               (unsigned long long)n, (unsigned long long)b, (unsigned long long)total, secs,
               rates[r], rates[r] / (double)n);
        fflush(stdout);
    }
    if (runs > 1) {
        qsort(rates, runs, sizeof *rates, cmp_double);
        double med = runs % 2 ? rates[runs / 2] : (rates[runs / 2 - 1] + rates[runs / 2]) / 2;
        printf("ring median actors=%llu batch=%llu hops=%llu runs=%llu hops_per_s=%.0f "
               "laps_per_s=%.0f\n",
               (unsigned long long)n, (unsigned long long)b, (unsigned long long)total,
               (unsigned long long)runs, med, med / (double)n);
    }
    free(rates);
    return 0;
}
