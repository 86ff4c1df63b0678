/* counter - the seed's TCounter: Add, Add, Query -> Value.
 *
 * A counter actor adds what it is sent and answers Query with its Value.
 * A printer actor asks, prints the answer, and poisons both actors.  The
 * program runs the loop until no actor is left:
 *     while (ax_actor_count(sys) > 0) ax_loop_step(loop, AX_FOREVER); */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "axon.h"

enum { MSG_ADD = 100, MSG_QUERY = 101, MSG_VALUE = 102, MSG_START = 103 };

typedef struct { int64_t amount; } Add;
typedef struct { int64_t value; } Value;
typedef struct { ax_id counter; } Start;

typedef struct { int64_t total; } counter_state;

static void counter_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    counter_state *c = state;
    switch (msg->type) {
    case MSG_ADD:
        c->total += ((const Add *)msg->data)->amount;
        break;
    case MSG_QUERY: {
        Value v = {c->total};
        ax_reply(ctx, MSG_VALUE, &v, sizeof v);
        break;
    }
    }
}

static void printer_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    ax_id *counter = state;
    switch (msg->type) {
    case MSG_START:
        *counter = ((const Start *)msg->data)->counter;
        ax_send(ctx, *counter, MSG_QUERY, NULL, 0);
        break;
    case MSG_VALUE:
        printf("counter value: %lld\n", (long long)((const Value *)msg->data)->value);
        ax_send(ctx, *counter, AX_MSG_POISON, NULL, 0);
        ax_stop(ctx);
        break;
    }
}

static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "counter: %s: %s (%s)\n", what, ax_strerror(rc), ax_errname(rc));
        exit(1);
    }
}

int main(void)
{
    ax_loop *loop;
    ax_system *sys;
    check(ax_loop_new(NULL, &loop), "ax_loop_new");
    check(ax_system_new(loop, NULL, &sys), "ax_system_new");
    check(ax_msg_register_pod(sys, MSG_ADD, "Add", sizeof(Add), _Alignof(Add)), "register Add");
    check(ax_msg_register_pod(sys, MSG_QUERY, "Query", 0, 1), "register Query");
    check(ax_msg_register_pod(sys, MSG_VALUE, "Value", sizeof(Value), _Alignof(Value)),
          "register Value");
    check(ax_msg_register_pod(sys, MSG_START, "Start", sizeof(Start), _Alignof(Start)),
          "register Start");

    counter_state cs = {0};
    ax_id printer_counter;
    ax_id counter, printer;
    check(ax_spawn(sys, counter_receive, &cs, NULL, &counter), "spawn counter");
    check(ax_spawn(sys, printer_receive, &printer_counter, NULL, &printer), "spawn printer");
    check(ax_name_register(sys, "counter", counter), "register name");

    Add a1 = {40}, a2 = {2};
    check(ax_system_send(sys, ax_id_nil(), counter, MSG_ADD, &a1, sizeof a1), "send Add");
    check(ax_system_send(sys, ax_id_nil(), counter, MSG_ADD, &a2, sizeof a2), "send Add");
    Start st = {counter};
    /* The printer's Query follows the two Adds into the counter's mailbox,
     * so it sees both: one sender, one receiver, send order. */
    check(ax_system_send(sys, ax_id_nil(), printer, MSG_START, &st, sizeof st), "send Start");

    while (ax_actor_count(sys) > 0)
        ax_loop_step(loop, AX_FOREVER);

    ax_stats stats;
    ax_system_stats(sys, &stats);
    printf("delivered=%llu dead_letters=%llu\n", (unsigned long long)stats.delivered,
           (unsigned long long)stats.dead_letters);
    check(ax_system_free(sys), "ax_system_free");
    check(ax_loop_free(loop), "ax_loop_free");
    return cs.total == 42 ? 0 : 1;
}
