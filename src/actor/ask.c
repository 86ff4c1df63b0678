/* ask.c - request/reply with a one-shot reply address.
 *
 * An ask spawns a reply slot: an actor-table entry of kind REPLY whose id
 * is the request's sender.  The first message that reaches the slot is the
 * answer; the slot then ends, so any later answer (or one after the
 * timeout) meets a stale id and is a counted dead letter.  The slot also
 * monitors the target, so an ask to an actor that ends before answering
 * fails at once (AX_ESTALE) instead of at the timeout.  Because the reply
 * address is an ordinary id, an ask works unchanged across node links. */
#include "actor/coro_int.h"

/* Cut the ask loose from its slot, timer and monitor.  end_now: end the
 * slot here unless it is queued (then it drops what it finds, and ends). */
static void detach(ax_system *s, axi_ask *k, int end_now)
{
    if (!k->attached)
        return;
    k->attached = 0;
    if (k->timer_armed) {
        ax_timer_stop(s->loop, k->timer);
        k->timer_armed = 0;
    }
    if (axi_is_local(s, k->target))
        axi_monitor_remove(s, k->slot, k->target);
    else if (s->net && s->net->demonitor)
        s->net->demonitor(s->route_arg, k->slot, k->target);
    axi_actor *slot = axi_actor_lookup(s, k->slot);
    if (slot) {
        slot->state = NULL;
        if (end_now && !(slot->flags & AXI_AF_QUEUED))
            axi_actor_end(s, slot, AX_REASON_NORMAL);
    }
}

/* A callback ask is done: queue the completion in the asker's mailbox,
 * so the callback runs as one of its messages - in order, and never while
 * one of its coroutine handlers waits.  Takes `reply` (may be NULL). */
static void complete_cb(ax_system *s, axi_ask *k, int status, axi_msg *reply)
{
    int rc = AX_ESTALE;
    if (axi_actor_lookup(s, k->asker)) {
        axi_askdone d = {k, reply, status};
        rc = axi_send(s, k->slot, k->asker, AXI_MSG_ASKDONE, &d, sizeof d);
        if (rc == 0)
            return;
    }
    /* The asker has ended (or memory ran out): the answer, if there was
     * one, is the dead letter. */
    if (reply) {
        ax_id from = reply->sender;
        uint32_t type = reply->view.type;
        axi_msg_drop(s, reply);
        axi_dead_letter(s, from, k->asker, type, rc);
    }
    axi_free(s->alloc, k, sizeof *k);
}

void axi_askdone_run(ax_system *s, axi_msg *m)
{
    axi_askdone *d = axi_msg_payload(m);
    axi_ask *k = d->ask;
    ax_ctx *ctx = &s->ctx;
    axi_msg *reply = d->reply;
    ctx->cur = reply; /* ax_sender/ax_reply refer to the answer */
    ctx->moved = 0;
    k->cb(ctx->actor->state, ctx, d->status, reply ? &reply->view : NULL, k->arg);
    if (reply && !ctx->moved)
        axi_msg_drop(s, reply);
    ctx->moved = 0;
    ctx->cur = m;
    axi_free(s->alloc, k, sizeof *k);
}

void axi_askdone_drop(ax_system *s, axi_msg *m, ax_id asker)
{
    axi_askdone *d = axi_msg_payload(m);
    if (d->reply) {
        axi_msg *r = d->reply;
        ax_id from = r->sender;
        uint32_t type = r->view.type;
        axi_msg_drop(s, r);
        axi_dead_letter(s, from, asker, type, AX_ESTALE);
    }
    axi_free(s->alloc, d->ask, sizeof *d->ask);
    axi_msg_dealloc(&s->pool, m);
}

/* The receive function of reply slots. */
static void reply_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    ax_system *s = ctx->sys;
    axi_ask *k = state;
    ax_stop(ctx); /* one answer only: later ones meet a stale id */
    if (!k) {
        /* The ask gave up (timeout, cancel) after this answer was queued. */
        axi_dead_letter(s, ctx->cur->sender, ctx->self, msg->type, AX_ETIMEDOUT);
        return;
    }
    int status = 0;
    if (msg->type == AX_MSG_DOWN && ax_id_eq(ctx->cur->sender, k->target))
        status = AX_ESTALE; /* the target ended without answering */
    detach(s, k, 0);
    if (status == 0)
        ctx->moved = ctx->slow = 1; /* the asker owns the reply node now */
    if (k->kind == AXI_ASK_CORO) {
        if (status == 0)
            k->rec->ask_reply = ctx->cur;
        axi_coro_wake(s, k->rec, status);
    } else {
        complete_cb(s, k, status, status == 0 ? ctx->cur : NULL);
    }
}

static void ask_timeout(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    axi_ask *k = arg;
    ax_system *s = k->sys;
    k->timer_armed = 0;
    detach(s, k, 1);
    if (k->kind == AXI_ASK_CORO)
        axi_coro_wake(s, k->rec, AX_ETIMEDOUT);
    else
        complete_cb(s, k, AX_ETIMEDOUT, NULL);
}

void axi_ask_slot_ended(ax_system *s, axi_actor *slot)
{
    axi_ask *k = slot->state;
    if (!k)
        return;
    /* Ended with the ask still attached: at shutdown, after every waiting
     * coroutine was unwound (a callback ask never runs then).  The slot is
     * already stale, so detach only drops the timer and the monitor. */
    slot->state = NULL;
    detach(s, k, 0);
    if (k->kind == AXI_ASK_CB)
        axi_free(s->alloc, k, sizeof *k);
    else
        axi_coro_wake(s, k->rec, AX_ECANCELED);
}

int axi_ask_start(ax_system *s, axi_ask *k, ax_id to, uint32_t type, const void *data,
                  size_t size, ax_duration timeout)
{
    axi_actor *slot;
    int rc = axi_actor_new(s, &slot);
    if (rc)
        return rc;
    /* Reply slots are not actors anyone spawned: they are not counted
     * (axi_actor_release leaves live_actors alone for them too). */
    s->stats.spawned--;
    s->stats.live_actors--;
    slot->kind = AXI_KIND_REPLY;
    slot->receive = reply_receive;
    slot->state = k;
    k->slot = axi_actor_id(slot);
    k->target = to;
    k->attached = 1;
    k->timer_armed = 0;
    if (axi_is_local(s, to)) {
        axi_actor *t = axi_actor_lookup(s, to);
        if (t) {
            rc = axi_monitor_add(s, t, k->slot);
            if (rc) {
                detach(s, k, 1);
                return rc;
            }
        }
        /* no target: the send below fails with AX_ESTALE (counted) */
    } else if (s->net && s->net->monitor) {
        /* Best effort: without it, a dead remote target costs the timeout. */
        (void)s->net->monitor(s->route_arg, k->slot, to);
    }
    rc = axi_send_from(s, &k->slot, to, type, data, size);
    if (rc == 0 && timeout >= 0) {
        rc = axi_timer_start(s->loop, axi_since_turn(s->loop, timeout), 0, ask_timeout, k, NULL,
                             NULL, &k->timer);
        if (rc == 0)
            k->timer_armed = 1;
    }
    if (rc)
        detach(s, k, 1);
    return rc;
}

int ax_ask(ax_ctx *ctx, ax_id to, uint32_t type, const void *data, size_t size,
           const ax_msg **reply, ax_duration timeout)
{
    axi_coro_rec *rec = axi_coro_of(ctx);
    if (!rec)
        return AX_ENOTCORO;
    if (!reply)
        return AX_EINVAL;
    *reply = NULL;
    if (rec->cancelled)
        return AX_ECANCELED;
    ax_system *s = ctx->sys;
    axi_ask *k = &rec->ask;
    memset(k, 0, sizeof *k);
    k->kind = AXI_ASK_CORO;
    k->rec = rec;
    k->sys = s;
    int rc = axi_ask_start(s, k, to, type, data, size, timeout);
    if (rc)
        return rc;
    rc = axi_coro_wait(rec);
    detach(s, k, 1); /* cancelled: the slot is still attached */
    /* The previous reply is released now: a handler asking in a loop
     * holds one reply at a time, not one per ask. */
    if (rec->replies) {
        axi_msg_drop(s, rec->replies);
        rec->replies = NULL;
    }
    axi_msg *r = rec->ask_reply;
    rec->ask_reply = NULL;
    if (rc == 0 && r) {
        r->next = NULL;
        rec->replies = r; /* kept until the next ask or the handler returns */
        *reply = &r->view;
    } else if (r) {
        axi_msg_drop(s, r); /* answered, but cancelled before it resumed */
    }
    return rc;
}

int ax_ask_cb(ax_ctx *ctx, ax_id to, uint32_t type, const void *data, size_t size,
              ax_duration timeout, ax_ask_fn cb, void *arg)
{
    if (!ctx || !ctx->actor || !cb)
        return AX_EINVAL;
    ax_system *s = ctx->sys;
    axi_ask *k = axi_calloc(s->alloc, sizeof *k);
    if (!k)
        return AX_ENOMEM;
    k->kind = AXI_ASK_CB;
    k->asker = ctx->self;
    k->cb = cb;
    k->arg = arg;
    k->sys = s;
    int rc = axi_ask_start(s, k, to, type, data, size, timeout);
    if (rc)
        axi_free(s->alloc, k, sizeof *k);
    return rc;
}
