/* behaviors - ping/pong between two behaviour actors that use become.
 *
 * The pinger has two behaviours: "serving" (answers Pong by sending the
 * next Ping) and "tired" (after N rounds it poisons the ponger and stops
 * at the next Pong).  The ponger answers Ping with Pong and, on its third
 * Ping, switches to "grumpy", which answers too but counts grumbles.
 * Every other message type reaches each behaviour's unknown handler. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "axon.h"

enum { MSG_PING = 200, MSG_PONG = 201, MSG_KICK = 202 };

typedef struct { uint32_t round; } Ping;
typedef struct { uint32_t round; } Pong;

typedef struct {
    ax_id peer;
    uint32_t rounds;
    const ax_behavior *tired;
} pinger;

typedef struct {
    uint32_t pings;
    uint32_t grumbles;
    const ax_behavior *grumpy;
} ponger;

static void unknown(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    (void)ctx;
    printf("  (unhandled message type %u)\n", msg->type);
}

static void pinger_kick(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    pinger *p = state;
    Ping ping = {1};
    ax_send(ctx, p->peer, MSG_PING, &ping, sizeof ping);
}

static void pinger_pong(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    pinger *p = state;
    const Pong *pong = msg->data;
    printf("pinger: pong %u\n", pong->round);
    if (pong->round >= p->rounds) {
        /* From the next message on: the Pong we send ourselves now meets
         * the "tired" behaviour. */
        ax_become(ctx, p->tired);
        ax_send(ctx, p->peer, AX_MSG_POISON, NULL, 0);
        Pong extra = {pong->round + 1};
        ax_send(ctx, ax_self(ctx), MSG_PONG, &extra, sizeof extra);
        return;
    }
    Ping ping = {pong->round + 1};
    ax_send(ctx, p->peer, MSG_PING, &ping, sizeof ping);
}

static void pinger_tired_pong(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    printf("pinger: too tired for pong %u, stopping\n", ((const Pong *)msg->data)->round);
    ax_stop(ctx);
}

static void ponger_ping(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    ponger *p = state;
    const Ping *ping = msg->data;
    Pong pong = {ping->round};
    p->pings++;
    if (p->pings == 3) {
        printf("ponger: becoming grumpy\n");
        ax_become(ctx, p->grumpy);
    }
    ax_reply(ctx, MSG_PONG, &pong, sizeof pong);
}

static void ponger_grumpy_ping(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    ponger *p = state;
    p->grumbles++;
    printf("ponger: *grumble* (%u)\n", p->grumbles);
    ponger_ping(state, ctx, msg);
}

static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "behaviors: %s: %s\n", what, ax_strerror(rc));
        exit(1);
    }
}

int main(void)
{
    ax_loop *loop;
    ax_system *sys;
    check(ax_loop_new(NULL, &loop), "ax_loop_new");
    check(ax_system_new(loop, NULL, &sys), "ax_system_new");
    check(ax_msg_register_pod(sys, MSG_PING, "Ping", sizeof(Ping), _Alignof(Ping)), "Ping");
    check(ax_msg_register_pod(sys, MSG_PONG, "Pong", sizeof(Pong), _Alignof(Pong)), "Pong");
    check(ax_msg_register_pod(sys, MSG_KICK, "Kick", 0, 1), "Kick");

    ax_behavior *serving, *tired, *playing, *grumpy;
    ax_handler hs[] = {{MSG_KICK, pinger_kick, AX_HANDLER_SYNC},
                       {MSG_PONG, pinger_pong, AX_HANDLER_SYNC}};
    ax_handler ht[] = {{MSG_PONG, pinger_tired_pong, AX_HANDLER_SYNC}};
    ax_handler hp[] = {{MSG_PING, ponger_ping, AX_HANDLER_SYNC}};
    ax_handler hg[] = {{MSG_PING, ponger_grumpy_ping, AX_HANDLER_SYNC}};
    check(ax_behavior_new(sys, hs, 2, unknown, &serving), "serving");
    check(ax_behavior_new(sys, ht, 1, unknown, &tired), "tired");
    check(ax_behavior_new(sys, hp, 1, unknown, &playing), "playing");
    check(ax_behavior_new(sys, hg, 1, unknown, &grumpy), "grumpy");

    ponger po = {0, 0, grumpy};
    pinger pi = {ax_id_nil(), 5, tired};
    ax_id pong_id, ping_id;
    check(ax_spawn_behavior(sys, playing, &po, NULL, &pong_id), "spawn ponger");
    check(ax_spawn_behavior(sys, serving, &pi, NULL, &ping_id), "spawn pinger");
    pi.peer = pong_id;

    check(ax_system_send(sys, ax_id_nil(), ping_id, MSG_KICK, NULL, 0), "kick");
    /* A type the ponger has no handler for: its unknown handler runs. */
    check(ax_system_send(sys, ax_id_nil(), pong_id, MSG_KICK, NULL, 0), "stray");
    ax_loop_run(loop);
    if (ax_actor_count(sys) != 0)
        return 1;

    printf("ponger handled %u pings, grumbled %u times\n", po.pings, po.grumbles);
    check(ax_system_free(sys), "ax_system_free");
    check(ax_loop_free(loop), "ax_loop_free");
    return po.pings == 5 && po.grumbles == 2 ? 0 : 1;
}
