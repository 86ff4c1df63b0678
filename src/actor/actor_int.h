/* actor_int.h - the system, the actor table, mailboxes and the context.
 *
 * Actors live in one reserved table so their addresses never move (mailbox
 * tail pointers and the run queue point into them).  An id resolves with
 * one load and one compare: actors[index].cookie.
 * A slot's cookie is odd while its actor lives and even while it is free,
 * so ids of ended actors fail the compare (cookie 0 is never issued). */
#ifndef AXI_ACTOR_INT_H
#define AXI_ACTOR_INT_H

#include <stdatomic.h>

#include "axon/actor.h"
#include "axon/system.h"
#include "loop/loop_int.h"
#include "msg/msg_int.h"

enum {
    AXI_KIND_FREE = 0,
    AXI_KIND_PLAIN = 1,
    AXI_KIND_BEHAVIOR = 2,
    AXI_KIND_CORO = 3,  /* coroutine actor: receive = axi_coro_receive */
    AXI_KIND_REPLY = 4  /* one-shot reply address of an ask */
};

enum {
    AXI_AF_QUEUED = 1u,   /* on the run queue (or suspended: see below) */
    AXI_AF_STOPPING = 2u, /* ax_stop() called: ends after this handler */
    /* A coroutine handler is waiting.  QUEUED is set too, so sends do not
     * make the actor runnable: its mail waits until the handler returns. */
    AXI_AF_SUSPENDED = 4u
};

typedef struct axi_coro_rec axi_coro_rec;

typedef struct axi_monitor axi_monitor;
struct axi_monitor {
    axi_monitor *next;
    ax_id watcher;
};

typedef struct axi_name axi_name;

/* Cold per-actor data, allocated only when needed. */
typedef struct axi_actor_ext {
    const ax_behavior *behavior; /* behaviour actors: the current one */
    axi_coro_rec *coro;          /* coroutine handler state, lazily made */
    ax_receive_fn coro_fn;       /* coroutine actors: the user's handler */
    size_t stack_size;           /* 0: the system's default */
    ax_stop_fn on_stop;
    axi_monitor *monitors; /* who watches this actor */
    axi_name *names;       /* names this actor holds */
} axi_actor_ext;

typedef struct axi_actor axi_actor;
struct axi_actor {
    axi_msg *mb_head;
    axi_msg **mb_tailp;    /* &last->next, or &mb_head when empty */
    axi_actor *rq_next;    /* run queue link; free list link when free */
    void *state;
    ax_receive_fn receive; /* behaviour actors: axi_behavior_receive */
    uint32_t cookie;
    uint32_t index;
    uint32_t mb_len;
    uint32_t mb_limit;     /* UINT32_MAX = unlimited; 0 while the slot is free */
    uint8_t kind;
    uint8_t flags;
    /* The send fast path's bound: min(mb_limit, the system's high-water
     * mark).  Below it an append needs neither the limit nor the mark
     * checked; at it the general path decides (full, or a new mark) and
     * raises it.  0 while the slot is free or new. */
    uint32_t mb_mark;
    axi_actor_ext *ext;
};

/* A compiled behaviour: open-addressed table type -> handler. */
typedef struct axi_bhv_slot {
    uint32_t type; /* 0 = empty */
    uint32_t flags;
    ax_receive_fn fn;
} axi_bhv_slot;

struct ax_behavior {
    ax_system *sys;
    ax_behavior *next_owned; /* the system's list, freed with it */
    ax_receive_fn unknown;
    uint32_t mask;
    axi_bhv_slot slots[];
};

struct ax_ctx {
    ax_system *sys;
    axi_actor *actor;
    ax_id self;
    uint8_t moved; /* a forward moved cur: the dispatcher must not free it */
    uint8_t slow;  /* moved or stopping: the dispatcher takes its slow path */
    axi_msg *cur;  /* current message (its sender is ax_sender); NULL in on_stop */
};

/* Remote delivery hook, installed by the links layer: encodes a copy of
 * the message into the link's queue.  The node stays the caller's either
 * way (a remote forward keeps it readable until its handler returns).
 * Returns 0, or an AX_E* code after counting the dead letter itself. */
typedef int (*axi_route_fn)(void *arg, ax_id to, axi_msg *m);

/* Remote send straight from the caller's bytes (no node, no copy), also
 * installed by the links layer.  0 when sent, an AX_E* code (the caller
 * dead-letters) on failure, or 1 when the caller must build a node and
 * use the route hook instead (types that need serializing). */
typedef int (*axi_route_bytes_fn)(void *arg, ax_id from, ax_id to, uint32_t type,
                                  const void *data, size_t size);

/* The links layer (src/net) plugs in through this table; every hook may
 * be NULL (no links: remote ids fail with AX_ENOROUTE). */
typedef struct axi_net_hooks {
    /* watcher (local) monitors target (remote); DOWN arrives later. */
    int (*monitor)(void *arg, ax_id watcher, ax_id target);
    int (*demonitor)(void *arg, ax_id watcher, ax_id target);
    /* Called first by ax_system_shutdown (close links, stop timers). */
    void (*shutdown)(void *arg);
    /* Called by ax_system_free after shutdown: release everything. */
    void (*free)(void *arg);
} axi_net_hooks;

struct ax_system {
    ax_loop *loop;
    const ax_allocator *alloc; /* -> alloc_copy */
    ax_allocator alloc_copy;
    uint32_t node_id;
    uint32_t batch;
    uint32_t turn_budget;
    uint32_t max_actors;

    /* actor table */
    axi_actor *actors;    /* reserved for slots_cap slots (table.c) */
    uint32_t slots_cap;   /* reserved */
    uint32_t slots_ready; /* committed (readable and writable) */
    uint32_t nslots;      /* slots ever used */
    axi_actor *free_list; /* recycled slots (LIFO) */

    /* run queue */
    axi_actor *rq_head, *rq_tail;

    axi_types types;
    axi_pool pool;
    ax_ctx ctx;           /* the context of the running sync handler */

    int in_dispatch;
    int closed;
    int shutdown_pending;

    /* names: chained hash */
    axi_name **name_buckets;
    uint32_t name_mask;
    uint32_t name_count;

    ax_behavior *behaviors;

    /* links (src/net) */
    axi_route_fn route;
    axi_route_bytes_fn route_bytes;
    void *route_arg;          /* also the arg of every net hook */
    const axi_net_hooks *net;

    /* ax_system_post: lock-free MPSC stack + eventfd/pipe wake-up */
    _Atomic(axi_msg *) post_head;
    atomic_uint post_pending;
    atomic_int wake_pending;
    atomic_int post_closed;
    uint32_t post_limit;
    int wake_fd[2];
    ax_io *wake_io;

    ax_dead_letter_fn on_dead_letter;
    void *dead_letter_arg;

    /* coroutines (coro_actor.c) */
    struct axi_stack_pool *stacks; /* made on the first coroutine handler */
    size_t stack_size;
    uint32_t stack_cache;
    axi_coro_rec *wake_head, *wake_tail; /* waits that completed */

    axi_runner runner;
    uint32_t mb_hwm;  /* longest mailbox (stats.mailbox_hwm on read) */
    ax_stats stats;
};

/* ---- table (table.c) -------------------------------------------------- */

static inline axi_actor *axi_actor_at(const ax_system *s, uint32_t index)
{
    return &s->actors[index];
}

/* The live local actor named by `id`, or NULL.  id.node must be local. */
static inline axi_actor *axi_actor_lookup(const ax_system *s, ax_id id)
{
    if (AXI_UNLIKELY(id.index >= s->nslots))
        return NULL;
    axi_actor *a = axi_actor_at(s, id.index);
    return AXI_LIKELY(a->cookie == id.cookie && (id.cookie & 1u)) ? a : NULL;
}

static inline int axi_is_local(const ax_system *s, ax_id id)
{
    return id.node == 0 || id.node == s->node_id;
}

static inline ax_id axi_actor_id(const axi_actor *a)
{
    ax_id id = {0, a->index, a->cookie};
    return id;
}

int axi_actor_new(ax_system *s, axi_actor **out);
/* Release a slot (cookie bumped: every id of it goes stale). */
void axi_actor_release(ax_system *s, axi_actor *a);
axi_actor_ext *axi_actor_ext_get(ax_system *s, axi_actor *a);
void axi_table_free(ax_system *s);

/* ---- send / dispatch -------------------------------------------------- */

/* Count a dead letter and call the hook. */
void axi_dead_letter(ax_system *s, ax_id from, ax_id to, uint32_t type, int reason);
/* Release a message node: free hook (if any), then memory. */
static inline void axi_msg_drop(ax_system *s, axi_msg *m)
{
    if (AXI_UNLIKELY(m->flags & AXI_MF_HAS_FREE))
        axi_msg_run_free_hook(&s->types, m);
    axi_msg_dealloc(&s->pool, m);
}

/* Put an actor at the back of the run queue (its QUEUED flag is the
 * caller's business). */
static inline void axi_rq_push(ax_system *s, axi_actor *a)
{
    a->rq_next = NULL;
    if (s->rq_tail)
        s->rq_tail->rq_next = a;
    else
        s->rq_head = a;
    s->rq_tail = a;
}

/* axi_enqueue_below_mark() for a caller that has read the length (`len`,
 * below mb_mark) already: one load less, and an actor with mail is known
 * to be queued (or running, or waiting in a coroutine - QUEUED is set then
 * too), so only an empty box needs its flags looked at. */
static inline void axi_enqueue_len(ax_system *s, axi_actor *a, axi_msg *m, uint32_t len)
{
    m->next = NULL;
    *a->mb_tailp = m;
    a->mb_tailp = &m->next;
    a->mb_len = len + 1;
    if (AXI_UNLIKELY(len == 0) && !(a->flags & AXI_AF_QUEUED)) {
        a->flags |= AXI_AF_QUEUED;
        axi_rq_push(s, a);
    }
}

/* Append a node to a live actor's mailbox (under its limit) and make it
 * runnable.  The caller has checked mb_len < mb_mark, so the high-water
 * mark cannot move. */
static inline void axi_enqueue_below_mark(ax_system *s, axi_actor *a, axi_msg *m)
{
    m->next = NULL;
    *a->mb_tailp = m;
    a->mb_tailp = &m->next;
    a->mb_len++;
    if (!(a->flags & AXI_AF_QUEUED)) {
        a->flags |= AXI_AF_QUEUED;
        axi_rq_push(s, a);
    }
}

/* The same for any length under the limit: keeps the high-water mark and
 * raises the actor's fast-path bound to it. */
static inline void axi_enqueue(ax_system *s, axi_actor *a, axi_msg *m)
{
    if (AXI_UNLIKELY(a->mb_len >= s->mb_hwm))
        s->mb_hwm = a->mb_len + 1;
    a->mb_mark = a->mb_limit < s->mb_hwm ? a->mb_limit : s->mb_hwm;
    axi_enqueue_below_mark(s, a, m);
}

/* Copying send: validates, allocates, delivers (the general path). */
int axi_send(ax_system *s, ax_id from, ax_id to, uint32_t type, const void *data, size_t size);
/* The same, trying the fast path first. */
int axi_send_from(ax_system *s, const ax_id *from, ax_id to, uint32_t type, const void *data,
                  size_t size);
/* Deliver a built node to `to`.  On success the node is taken; on failure
 * it is left with the caller (and a dead letter counted where the issue
 * is the target).  m->sender must be set. */
int axi_deliver(ax_system *s, ax_id to, axi_msg *m);
/* Build a node (type checked, payload copied).  NULL + *err on failure. */
axi_msg *axi_msg_build(ax_system *s, ax_id from, uint32_t type, const void *data, size_t size,
                       int *err);

/* End an actor now: on_stop, names, DOWN to monitors, mailbox to dead
 * letters, slot released. */
void axi_actor_end(ax_system *s, axi_actor *a, int reason);
void axi_dispatch_run(void *arg);
/* The receive function of every behaviour actor: looks the handler up in
 * its current behaviour. */
void axi_behavior_receive(void *state, ax_ctx *ctx, const ax_msg *msg);
int axi_dispatch_pending(void *arg);

/* ---- coroutines (coro_actor.c, ask.c, coro_io.c) --------------------- */

/* The payload of AXI_MSG_ASKDONE. */
typedef struct axi_askdone {
    struct axi_ask *ask;
    axi_msg *reply; /* owned by this message; NULL unless status is 0 */
    int32_t status;
} axi_askdone;

/* Run (or, when the asker has ended, drop) an ask completion. */
void axi_askdone_run(ax_system *s, axi_msg *m);
void axi_askdone_drop(ax_system *s, axi_msg *m, ax_id asker);

/* The receive function of coroutine actors. */
void axi_coro_receive(void *state, ax_ctx *ctx, const ax_msg *msg);
/* Run fn as a coroutine handler of the actor now being dispatched. */
void axi_coro_run(ax_system *s, ax_receive_fn fn, const ax_msg *msg);
/* Resume every coroutine whose wait completed; returns how many. */
int axi_coro_wake_all(ax_system *s);
/* A poison pill reached a suspended actor: cancel its wait. */
void axi_coro_cancel(ax_system *s, axi_actor *a);
/* At shutdown: unwind every suspended handler. */
void axi_coro_shutdown(ax_system *s);
/* Free an actor's coroutine record (it has no running handler). */
void axi_coro_rec_free(ax_system *s, axi_actor *a);
void axi_coro_system_free(ax_system *s);
/* Remove the monitor `watcher` holds on local `target` (if any). */
void axi_monitor_remove(ax_system *s, ax_id watcher, ax_id target);

/* ---- names / monitors / post ----------------------------------------- */

void axi_names_drop_actor(ax_system *s, axi_actor *a);
void axi_names_free(ax_system *s);
void axi_monitors_fire(ax_system *s, axi_actor *a, int reason);
void axi_monitors_free(ax_system *s, axi_actor *a);
int axi_post_init(ax_system *s);
void axi_post_close(ax_system *s, int release_fd);
void axi_behaviors_free(ax_system *s);

/* The common case of axi_deliver() inline, for the links layer's decoder:
 * a built node to a live local actor below its mark, in an open system,
 * that is not a poison pill (a suspended coroutine must be cancelled).
 * Returns 0 when it took the node, 1 when axi_deliver() must decide (it
 * then counts whatever failure there is). */
static inline int axi_deliver_local_fast(ax_system *s, ax_id to, axi_msg *m)
{
    if (AXI_UNLIKELY(s->closed || !axi_is_local(s, to) || (m->flags & AXI_MF_POISON)))
        return 1;
    axi_actor *a = axi_actor_lookup(s, to);
    if (AXI_UNLIKELY(!a || a->mb_len >= a->mb_mark))
        return 1;
    axi_enqueue_below_mark(s, a, m);
    return 0;
}

/* ---- handlers run straight from a link's input ----------------------- */

/* The handler slot for `type` in a behaviour, or NULL (then its unknown
 * handler runs).  Empty slots hold type 0, which is never a valid id. */
static inline const axi_bhv_slot *axi_bhv_lookup(const ax_behavior *b, uint32_t type)
{
    uint32_t i = (type * 0x9E3779B1u) & b->mask;
    for (;;) {
        const axi_bhv_slot *sl = &b->slots[i];
        if (sl->type == type)
            return sl;
        if (sl->type == 0)
            return NULL;
        i = (i + 1) & b->mask;
    }
}

/* Whether a message of `type` for live actor `a` may run its handler now,
 * from a link's input, instead of through the mailbox: a plain actor, or
 * a behaviour actor whose handler for the type is synchronous (the
 * unknown handler is); with no mail and not running (mail implies
 * QUEUED, so flags 0 says both); outside any handler, in an open system
 * that no handler has asked to shut down.  Coroutine actors never: their
 * handler may keep the message past a wait. */
static inline int axi_can_run_now(const ax_system *s, const axi_actor *a, uint32_t type)
{
    if (a->flags != 0 || (s->in_dispatch | s->closed | s->shutdown_pending))
        return 0;
    if (AXI_LIKELY(a->kind == AXI_KIND_PLAIN))
        return 1;
    if (a->kind != AXI_KIND_BEHAVIOR)
        return 0;
    const axi_bhv_slot *sl = axi_bhv_lookup(a->ext->behavior, type);
    return !sl || !(sl->flags & AX_HANDLER_ASYNC);
}

/* The rare ends of axi_run_now (dispatch.c): the handler stopped its
 * actor, queued mail for it, or shut the system down.  Returns 1 when the
 * caller must stop handing over messages (shutdown pending). */
int axi_run_now_after(ax_system *s, axi_actor *a);

/* Run the handler of `a` (axi_can_run_now) on `m`, a borrowed header
 * (flags AXI_MF_BORROWED, view and sender set) whose payload the caller
 * keeps valid until this returns.  Same context as a dispatch: QUEUED is
 * set while it runs, so its sends to itself queue it once, after.
 * Returns 0, or 1 as axi_run_now_after. */
static inline int axi_run_now(ax_system *s, axi_actor *a, axi_msg *m)
{
    ax_ctx *ctx = &s->ctx;
    a->flags = AXI_AF_QUEUED;
    s->in_dispatch = 1;
    ctx->sys = s;
    ctx->actor = a;
    ctx->self = axi_actor_id(a);
    ctx->cur = m;
    a->receive(a->state, ctx, &m->view);
    ctx->cur = NULL;
    ctx->actor = NULL;
    s->in_dispatch = 0;
    s->stats.delivered++;
    if (AXI_LIKELY(!ctx->slow && a->mb_head == NULL)) {
        a->flags = 0;
        return 0;
    }
    return axi_run_now_after(s, a);
}

#endif /* AXI_ACTOR_INT_H */
