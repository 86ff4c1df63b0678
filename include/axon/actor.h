/* axon/actor.h - actors, behaviours, the handler context, monitors.
 *
 * An actor is a slot in its system's table holding a user state pointer
 * and either a receive function (plain actor) or a behaviour (a table of
 * handlers per message type).  Handlers run to completion on the loop
 * thread, one message at a time per actor; messages from one sender to
 * one receiver are handled in send order.
 */
#ifndef AXON_ACTOR_H
#define AXON_ACTOR_H

#include "common.h"
#include "loop.h"
#include "msg.h"
#include "system.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The handler context: valid only during the handler call it was passed
 * to.  Do not keep it. */
typedef struct ax_ctx ax_ctx;

/* A message handler: the actor's state, the context, the message. */
typedef void (*ax_receive_fn)(void *state, ax_ctx *ctx, const ax_msg *msg);

/* Why an actor ended (ax_down.reason, on_stop's reason). */
enum {
    AX_REASON_NORMAL = 0,   /* it called ax_stop() */
    AX_REASON_POISON = 1,   /* it handled AX_MSG_POISON */
    AX_REASON_SHUTDOWN = 2, /* its system shut down */
    AX_REASON_NOPROC = 3,   /* monitored after it had already ended */
    AX_REASON_NODE_DOWN = 4 /* the link to its node was lost */
};

/* Called once when the actor ends, after its last handler, so the state
 * can be released.  Sends are still allowed (except during shutdown). */
typedef void (*ax_stop_fn)(void *state, ax_ctx *ctx, int reason);

typedef struct ax_spawn_options {
    ax_stop_fn on_stop;     /* optional */
    uint32_t mailbox_limit; /* queued messages; 0 = unlimited.  Sends past
                               it fail with AX_EFULL (a dead letter). */
    size_t stack_size;      /* coroutine handlers: stack bytes; 0 = the
                               system's default */
} ax_spawn_options;

/* Spawn a plain actor.  `state` is owned by the caller (free it in
 * on_stop if you like); `opt` may be NULL.  *out receives its id.
 * Errors: AX_EINVAL, AX_ECLOSED, AX_EFULL (max_actors reached), AX_ENOMEM. */
AX_EXTERN int ax_spawn(ax_system *sys, ax_receive_fn receive, void *state,
                       const ax_spawn_options *opt, ax_id *out);

/* ---- behaviours ------------------------------------------------------ */

enum {
    AX_HANDLER_SYNC = 0,
    /* Run the handler as a coroutine: it may sleep, ask and wait for I/O
     * (axon/coro.h); the actor's later messages wait until it returns. */
    AX_HANDLER_ASYNC = 1
};

typedef struct ax_handler {
    uint32_t type;     /* message type id (registered) */
    ax_receive_fn fn;
    uint32_t flags;    /* AX_HANDLER_* */
} ax_handler;

/* An immutable table msg type -> handler, plus the handler for every other
 * type.  Owned by the system that made it; freed with the system. */
typedef struct ax_behavior ax_behavior;

/* Build a behaviour from n handlers and a required `unknown` handler
 * (which always runs synchronously).
 * Errors: AX_EINVAL (NULL unknown/fn, bad flags), AX_EEXIST (a type
 * listed twice), AX_EUNKNOWNTYPE (a type not registered), AX_ENOMEM. */
AX_EXTERN int ax_behavior_new(ax_system *sys, const ax_handler *handlers, size_t n,
                              ax_receive_fn unknown, ax_behavior **out);

/* Spawn an actor that starts with behaviour `b`.  As ax_spawn(). */
AX_EXTERN int ax_spawn_behavior(ax_system *sys, const ax_behavior *b, void *state,
                                const ax_spawn_options *opt, ax_id *out);

/* Switch the current actor's behaviour; takes effect from the next
 * message.  Errors: AX_EINVAL (NULL, behaviour of another system),
 * AX_ENOTSUP (the actor is a plain actor). */
AX_EXTERN int ax_become(ax_ctx *ctx, const ax_behavior *b);

/* ---- the context ----------------------------------------------------- */

AX_EXTERN ax_id ax_self(const ax_ctx *ctx);
/* The sender of the current message (nil if it had none). */
AX_EXTERN ax_id ax_sender(const ax_ctx *ctx);
AX_EXTERN ax_system *ax_ctx_system(const ax_ctx *ctx);
AX_EXTERN void *ax_ctx_state(const ax_ctx *ctx);

/* Send a copy of data[0..size) as a message of type `type` to `to`, with
 * the current actor as sender.  Returns once the message is queued.
 * Errors: AX_EINVAL (data NULL with size > 0), AX_EUNKNOWNTYPE,
 * AX_EMSGSIZE, AX_ESTALE (target ended: counted as a dead letter),
 * AX_EFULL (target's mailbox limit: dead letter), AX_ENOROUTE (unknown
 * node: dead letter), AX_ELINKFULL (remote target: its link's outage
 * buffer is full - dead letter), AX_ECLOSED, AX_ENOMEM. */
AX_EXTERN int ax_send(ax_ctx *ctx, ax_id to, uint32_t type, const void *data,
                      size_t size);

/* Send a message built with ax_msg_new(); taken only on success. */
AX_EXTERN int ax_send_msg(ax_ctx *ctx, ax_id to, ax_outmsg *m);

/* Forward the current message to `to`, keeping its original sender.  The
 * first forward to a local actor moves the message without copying; later
 * local ones copy, and so does every local forward of a message handled in
 * place in a link's input buffer (docs/nodes.md section 5); a forward to a
 * remote id always sends a copy (the link encodes it).  Either way msg
 * stays readable until the handler returns.
 * Errors: as ax_send(), AX_ENOCTX (no current message, e.g. in on_stop),
 * AX_EINVAL (a second local forward of a type with a free hook: a copy
 * would duplicate ownership). */
AX_EXTERN int ax_forward(ax_ctx *ctx, ax_id to);

/* Send to the sender of the current message.  Errors: as ax_send(),
 * AX_ENOSENDER if it had none, AX_ENOCTX outside a message (on_stop). */
AX_EXTERN int ax_reply(ax_ctx *ctx, uint32_t type, const void *data, size_t size);

/* Send after `delay` ns (sender = self).  The payload is copied now; type
 * errors are reported now, delivery errors become dead letters when the
 * timer fires.  *out (may be NULL) receives a handle for ax_cancel().
 * Errors: as ax_send() for type and size, AX_EINVAL (negative delay). */
AX_EXTERN int ax_schedule(ax_ctx *ctx, ax_duration delay, ax_id to, uint32_t type,
                          const void *data, size_t size, ax_timer *out);

/* ax_schedule() from outside a handler, with an explicit sender. */
AX_EXTERN int ax_system_schedule(ax_system *sys, ax_duration delay, ax_id from,
                                 ax_id to, uint32_t type, const void *data,
                                 size_t size, ax_timer *out);

/* Cancel a scheduled send; its payload is released.  Errors: AX_ENOENT
 * (already sent or cancelled). */
AX_EXTERN int ax_cancel(ax_ctx *ctx, ax_timer t);
AX_EXTERN int ax_system_cancel(ax_system *sys, ax_timer t);

/* End the current actor once this handler returns.  Messages still in its
 * mailbox become dead letters (AX_ESTALE). */
AX_EXTERN void ax_stop(ax_ctx *ctx);

/* ---- monitors -------------------------------------------------------- */

/* The payload of AX_MSG_DOWN. */
typedef struct ax_down {
    ax_id who;      /* the actor that ended */
    int32_t reason; /* AX_REASON_* */
    uint32_t _pad;
} ax_down;

/* Deliver an AX_MSG_DOWN to the current actor when `target` ends.  If it
 * has already ended, DOWN (AX_REASON_NOPROC) is sent at once.  Each call
 * adds one monitor (one DOWN each).  A monitor whose watcher has ended is
 * dropped silently.  Errors: AX_EINVAL (NULL, nil ids), AX_ENOMEM,
 * AX_ECLOSED, AX_ENOROUTE (remote target: monitors across nodes come with
 * the links layer), AX_ESTALE (both target and watcher have ended), or the
 * error of sending the immediate DOWN (e.g. AX_EFULL). */
AX_EXTERN int ax_monitor(ax_ctx *ctx, ax_id target);

/* ax_monitor() for an explicit watcher, from outside a handler. */
AX_EXTERN int ax_system_monitor(ax_system *sys, ax_id watcher, ax_id target);

/* Remove one monitor of `target` by the current actor.
 * Errors: AX_ENOENT (no such monitor). */
AX_EXTERN int ax_demonitor(ax_ctx *ctx, ax_id target);

#ifdef __cplusplus
}
#endif
#endif /* AXON_ACTOR_H */
