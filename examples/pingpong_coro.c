/* pingpong_coro - the seed's TPingActor: on Ping, sleep 100 ms, then send
 * Pong.
 *
 * The ping actor is a coroutine actor: ax_sleep() suspends its handler, and
 * the Pings that arrive meanwhile wait in its mailbox until the handler
 * returns.  A plain "pong" actor sends three Pings at once and counts the
 * Pongs; the printed times show the handlers ran one after another. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "axon.h"

enum { MSG_PING = 400, MSG_PONG = 401, MSG_GO = 402 };

typedef struct { uint32_t n; } Ping;
typedef struct { uint32_t n; } Pong;

static double t0;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6 - t0;
}

/* TPingActor: a coroutine handler. */
static void ping_actor(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    Ping p = *(const Ping *)msg->data;
    printf("%6.1f ms  ping actor: got Ping %u, sleeping 100 ms\n", now_ms(), p.n);
    int rc = ax_sleep(ctx, AX_MSEC(100));
    if (rc) {
        printf("ping actor: sleep: %s\n", ax_strerror(rc));
        return;
    }
    Pong pong = {p.n};
    ax_reply(ctx, MSG_PONG, &pong, sizeof pong);
}

typedef struct {
    ax_id ping;
    uint32_t pongs;
} pong_state;

static void pong_actor(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    pong_state *st = state;
    if (msg->type == MSG_GO) {
        for (uint32_t i = 1; i <= 3; i++) {
            Ping p = {i};
            ax_send(ctx, st->ping, MSG_PING, &p, sizeof p);
        }
        return;
    }
    printf("%6.1f ms  pong actor: got Pong %u\n", now_ms(), ((const Pong *)msg->data)->n);
    if (++st->pongs == 3) {
        ax_send(ctx, st->ping, AX_MSG_POISON, NULL, 0);
        ax_stop(ctx);
    }
}

int main(void)
{
    t0 = now_ms();
    ax_loop *loop;
    ax_system *sys;
    if (ax_loop_new(NULL, &loop) || ax_system_new(loop, NULL, &sys))
        return 1;
    ax_msg_register_pod(sys, MSG_PING, "Ping", sizeof(Ping), _Alignof(Ping));
    ax_msg_register_pod(sys, MSG_PONG, "Pong", sizeof(Pong), _Alignof(Pong));
    ax_msg_register_pod(sys, MSG_GO, "Go", 0, 1);
    pong_state ps = {ax_id_nil(), 0};
    ax_id ping, pong;
    int rc = ax_spawn_coro(sys, ping_actor, NULL, NULL, &ping);
    if (rc == 0)
        rc = ax_spawn(sys, pong_actor, &ps, NULL, &pong);
    if (rc) {
        fprintf(stderr, "spawn: %s\n", ax_strerror(rc));
        return 1;
    }
    ps.ping = ping;
    ax_system_send(sys, ax_id_nil(), pong, MSG_GO, NULL, 0);
    while (ax_actor_count(sys) > 0)
        ax_loop_step(loop, AX_FOREVER);
    printf("%6.1f ms  done: %u pongs\n", now_ms(), ps.pongs);
    ax_system_free(sys);
    ax_loop_free(loop);
    return ps.pongs == 3 ? 0 : 1;
}
