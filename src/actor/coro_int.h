/* coro_int.h - coroutine handlers inside the actor system: the per-actor
 * record, waits and wake-ups, and the ask records shared by coro_actor.c,
 * ask.c and coro_io.c. */
#ifndef AXI_CORO_INT_H
#define AXI_CORO_INT_H

#include "actor/actor_int.h"
#include "axon/coro.h"
#include "coro/coro.h"

enum { AXI_ASK_CORO = 1, AXI_ASK_CB = 2 };

/* One outstanding ask: owned by its reply slot while attached.  Coroutine
 * asks live inside the asker's record; callback asks are allocated. */
typedef struct axi_ask {
    uint8_t kind;
    uint8_t attached;    /* the reply slot still points here */
    uint8_t timer_armed;
    ax_system *sys;
    ax_id slot;          /* the one-shot reply address */
    ax_id target;
    ax_timer timer;
    axi_coro_rec *rec;   /* AXI_ASK_CORO */
    ax_id asker;         /* AXI_ASK_CB */
    ax_ask_fn cb;
    void *arg;
} axi_ask;

struct axi_coro_rec {
    axi_coro *co;          /* the running or waiting handler; NULL when idle */
    ax_ctx ctx;            /* the handler's own context */
    axi_actor *actor;
    ax_receive_fn fn;
    axi_msg *msg;          /* the message being handled; owned until it returns */
    axi_msg *replies;      /* the last ask's reply, kept until the next ask
                              or until the handler returns */
    axi_coro_rec *wake_next;
    int wake_rc;           /* what the wait returns */
    uint8_t waiting;       /* suspended in a wait */
    uint8_t wake_queued;   /* on the system's wake list */
    uint8_t cancelled;     /* waits fail with AX_ECANCELED from now on */
    uint8_t cancel_reason; /* AX_REASON_POISON or AX_REASON_SHUTDOWN */
    uint8_t timer_armed;
    ax_timer timer;        /* sleep / I/O timeout */
    ax_io *io;             /* I/O wait */
    axi_ask ask;           /* the current ask */
    axi_msg *ask_reply;    /* handed over by the reply slot */
    char label[40];        /* "actor<node.index.cookie>" for overflow reports */
};

/* The record of the coroutine handler running `ctx`, or NULL if ctx is not
 * a coroutine handler's context (or not called from that coroutine). */
axi_coro_rec *axi_coro_of(ax_ctx *ctx);

/* Suspend the running handler until a wake-up; returns its result. */
int axi_coro_wait(axi_coro_rec *rec);

/* Complete rec's wait with rc (the first completion wins); it resumes in
 * the next dispatch pass. */
void axi_coro_wake(ax_system *s, axi_coro_rec *rec, int rc);

/* Arm rec's timeout timer (timeout < 0: none). */
int axi_coro_arm_timer(ax_system *s, axi_coro_rec *rec, ax_duration timeout, int rc);

/* Ask plumbing (ask.c). */
int axi_ask_start(ax_system *s, axi_ask *k, ax_id to, uint32_t type, const void *data,
                  size_t size, ax_duration timeout);
/* A reply slot is ending (shutdown, or after its one message). */
void axi_ask_slot_ended(ax_system *s, axi_actor *slot);
/* Add a monitor record: watcher is told when local actor t ends. */
int axi_monitor_add(ax_system *s, axi_actor *t, ax_id watcher);

#endif /* AXI_CORO_INT_H */
