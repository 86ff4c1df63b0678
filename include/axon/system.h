/* axon/system.h - an actor system: its lifecycle, cross-thread post,
 * dead letters, statistics and the name registry.
 *
 * A system lives on one loop and is used from that loop's thread only,
 * except for ax_system_post(), which any thread may call.
 */
#ifndef AXON_SYSTEM_H
#define AXON_SYSTEM_H

#include "common.h"
#include "loop.h"
#include "msg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An undeliverable message, as reported to the dead-letter hook. */
typedef struct ax_dead_letter {
    ax_id from;    /* the sender (nil if none) */
    ax_id to;      /* the intended recipient */
    uint32_t type; /* message type id */
    int reason;    /* AX_ESTALE (target ended), AX_EFULL (mailbox limit),
                      AX_ECLOSED (shutdown), AX_ENOROUTE (no link to its
                      node), AX_EUNKNOWNTYPE / AX_EMSGSIZE (a bad post),
                      AX_EINVAL (a post of a type with a free hook) */
} ax_dead_letter;

/* Called once per dead letter, on the loop thread, after it was counted.
 * The payload is not available: it has been released, or (for a failed
 * send) it stays with the caller. */
typedef void (*ax_dead_letter_fn)(void *arg, const ax_dead_letter *dl);

typedef struct ax_system_options {
    uint32_t node_id;        /* this system's node id for links; 0 = unset */
    uint32_t max_actors;     /* live actor limit; 0 = 16 M.  The actor table
                                reserves (not commits) address space for
                                twice this many 72-byte slots on the first
                                spawn; spawning fails with AX_EFULL past the
                                limit, AX_ENOMEM if the reservation fails. */
    uint32_t batch;          /* messages one actor handles per turn; 0 = 64 */
    uint32_t turn_budget;    /* messages per dispatch pass; 0 = 4096 */
    uint32_t post_limit;     /* queued ax_system_post()s; 0 = 1 M */
    const ax_allocator *allocator; /* NULL: the loop's allocator */
    size_t stack_size;       /* coroutine stacks; 0 = 64 KiB */
    uint32_t stack_cache;    /* finished stacks kept for reuse; 0 = 1024 */
    ax_dead_letter_fn on_dead_letter; /* optional hook */
    void *dead_letter_arg;
} ax_system_options;

/* Create a system on `loop`.  `opt` may be NULL for defaults.  The system
 * registers AX_MSG_POISON and AX_MSG_DOWN.  Free it with ax_system_free()
 * before freeing the loop.  Everything but the actor table (mmap'd, see
 * max_actors) comes from the allocator.
 * Errors: AX_EINVAL, AX_ENOMEM, AX_ESYS (wake-up descriptor). */
AX_EXTERN int ax_system_new(ax_loop *loop, const ax_system_options *opt, ax_system **out);

/* Shut the system down: every live actor is stopped (reason
 * AX_REASON_SHUTDOWN, its on_stop hook runs, monitors are not notified),
 * queued messages become dead letters (AX_ECLOSED), and from now on every
 * send and spawn fails with AX_ECLOSED.  Callable from a handler: the
 * shutdown then happens when the handler returns.  Idempotent. */
AX_EXTERN void ax_system_shutdown(ax_system *sys);

/* Shut down (if not yet) and free the system and everything it owns.
 * Every thread that posts to it must have stopped posting first.
 * Errors: AX_EINVAL (NULL), AX_EBUSY (called from inside one of its
 * handlers; nothing is freed). */
AX_EXTERN int ax_system_free(ax_system *sys);

AX_EXTERN ax_loop *ax_system_loop(const ax_system *sys);

/* Number of live actors. */
AX_EXTERN size_t ax_actor_count(const ax_system *sys);

/* Send a message from outside any handler, with an explicit sender (nil
 * allowed).  Same semantics and errors as ax_send(). */
AX_EXTERN int ax_system_send(ax_system *sys, ax_id from, ax_id to, uint32_t type,
                             const void *data, size_t size);

/* Send a message built with ax_msg_new().  On success the system owns it;
 * on failure it stays with the caller (ax_msg_discard()). */
AX_EXTERN int ax_system_send_msg(ax_system *sys, ax_id from, ax_id to, ax_outmsg *m);

/* The only thread-safe entry point: queue a message for `to` from any
 * thread and wake the loop.  The payload is copied; hook-less payloads
 * only (types with a free hook are refused when delivered).  Type checks
 * happen on the loop thread: a message with an unknown type or a wrong
 * size becomes a dead letter (reason AX_EUNKNOWNTYPE / AX_EMSGSIZE), as
 * does one for a stale id.  Messages posted by one thread are delivered
 * in post order.
 * Errors: AX_EINVAL, AX_ERANGE (size > AX_MSG_MAX_SIZE), AX_ECLOSED,
 * AX_EFULL (post_limit messages already queued), AX_ENOMEM. */
AX_EXTERN int ax_system_post(ax_system *sys, ax_id from, ax_id to, uint32_t type,
                             const void *data, size_t size);

/* ---- statistics ------------------------------------------------------ */

typedef struct ax_stats {
    uint64_t delivered;     /* messages handed to a handler (not poison pills) */
    uint64_t dead_letters;  /* messages that could not be delivered */
    uint64_t spawned;       /* actors ever spawned */
    uint64_t live_actors;   /* actors alive now */
    uint64_t mailbox_hwm;   /* longest mailbox seen */
    uint64_t posted;        /* messages that arrived through ax_system_post */
} ax_stats;

AX_EXTERN void ax_system_stats(const ax_system *sys, ax_stats *out);

/* ---- names ----------------------------------------------------------- */

#define AX_NAME_MAX 255

/* Register `name` (1..AX_NAME_MAX bytes, copied) for a live local actor.
 * An actor may hold several names; they are removed when it ends.
 * Errors: AX_EINVAL (bad name or id), AX_ESTALE (actor gone),
 * AX_EEXIST (name taken), AX_ENOMEM. */
AX_EXTERN int ax_name_register(ax_system *sys, const char *name, ax_id id);

/* Find the actor registered under `name`.  Errors: AX_EINVAL, AX_ENOENT. */
AX_EXTERN int ax_name_lookup(const ax_system *sys, const char *name, ax_id *out);

/* Remove a name.  Errors: AX_EINVAL, AX_ENOENT. */
AX_EXTERN int ax_name_unregister(ax_system *sys, const char *name);

#ifdef __cplusplus
}
#endif
#endif /* AXON_SYSTEM_H */
