#define _POSIX_C_SOURCE 200809L
/* ring - N actors pass M tokens around a ring; prints the throughput.
 *
 *   ring [N actors] [B tokens] [hops per token]
 * The same work as bench/ring, written as an application would: each
 * actor knows its successor by id and forwards a token until its hop
 * budget runs out, then reports to a collector actor found by name. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "axon.h"

enum { MSG_TOKEN = 300, MSG_DONE = 301 };

typedef struct { uint64_t hops_left; } Token;

typedef struct {
    ax_id next;
    ax_id collector;
} link;

typedef struct {
    uint64_t done, expected;
} collector;

static void ring_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    link *l = state;
    Token t = *(const Token *)msg->data;
    if (--t.hops_left == 0)
        ax_send(ctx, l->collector, MSG_DONE, NULL, 0);
    else
        ax_send(ctx, l->next, MSG_TOKEN, &t, sizeof t);
}

static void collector_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    collector *c = state;
    if (++c->done == c->expected)
        ax_stop(ctx);
}

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 1000;
    uint32_t b = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 100;
    uint64_t hops = argc > 3 ? strtoull(argv[3], NULL, 10) : 100000;
    if (n == 0 || b == 0 || hops == 0) {
        fprintf(stderr, "usage: ring [actors>0] [tokens>0] [hops>0]\n");
        return 2;
    }
    ax_loop *loop;
    ax_system *sys;
    if (ax_loop_new(NULL, &loop) || ax_system_new(loop, NULL, &sys))
        return 1;
    ax_msg_register_pod(sys, MSG_TOKEN, "Token", sizeof(Token), _Alignof(Token));
    ax_msg_register_pod(sys, MSG_DONE, "Done", 0, 1);

    collector col = {0, b};
    ax_id cid;
    ax_spawn(sys, collector_receive, &col, NULL, &cid);
    ax_name_register(sys, "collector", cid);

    link *links = calloc(n, sizeof *links);
    ax_id *ids = calloc(n, sizeof *ids);
    for (uint32_t i = 0; i < n; i++)
        if (ax_spawn(sys, ring_receive, &links[i], NULL, &ids[i]))
            return 1;
    ax_id found;
    ax_name_lookup(sys, "collector", &found);
    for (uint32_t i = 0; i < n; i++) {
        links[i].next = ids[(i + 1) % n];
        links[i].collector = found;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (uint32_t i = 0; i < b; i++) {
        Token t = {hops};
        ax_system_send(sys, ax_id_nil(), ids[(uint64_t)i * n / b], MSG_TOKEN, &t, sizeof t);
    }
    ax_loop_run(loop);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("ring: %u actors, %u tokens x %llu hops in %.3f s: %.1f M hops/s\n", n, b,
           (unsigned long long)hops, secs, (double)b * (double)hops / secs / 1e6);
    int ok = col.done == b;
    ax_system_free(sys);
    ax_loop_free(loop);
    free(links);
    free(ids);
    return ok ? 0 : 1;
}
