/* coro_actor.c - coroutine handlers: running a handler on its own stack,
 * waits, wake-ups, cancellation, and ax_sleep.
 *
 * A handler starts inside the dispatch pass.  If it returns without
 * waiting, the dispatcher carries on as for a plain handler.  If it waits,
 * its actor is marked SUSPENDED (and QUEUED, so new mail does not make it
 * runnable) and the dispatcher moves on.  Whatever ends the wait - a timer,
 * a descriptor, a reply, a cancellation - puts the record on the wake list,
 * and the next dispatch pass resumes it before running anything else.  When
 * the handler finally returns, the actor's mailbox is scheduled again. */
#include <stdio.h>

#include "actor/coro_int.h"

axi_coro_rec *axi_coro_of(ax_ctx *ctx)
{
    if (!ctx || !ctx->sys || ctx == &ctx->sys->ctx)
        return NULL;
    axi_coro_rec *rec = AXI_CONTAINER_OF(ctx, axi_coro_rec, ctx);
    return rec->co && axi_coro_current() == rec->co ? rec : NULL;
}

static axi_coro_rec *rec_get(ax_system *s, axi_actor *a)
{
    axi_actor_ext *ext = axi_actor_ext_get(s, a);
    if (!ext)
        return NULL;
    if (!ext->coro) {
        axi_coro_rec *rec = axi_calloc(s->alloc, sizeof *rec);
        if (!rec)
            return NULL;
        rec->actor = a;
        snprintf(rec->label, sizeof rec->label, "actor<0.%u.%u>", a->index, a->cookie);
        ext->coro = rec;
    }
    return ext->coro;
}

void axi_coro_rec_free(ax_system *s, axi_actor *a)
{
    axi_coro_rec *rec = a->ext ? a->ext->coro : NULL;
    if (!rec)
        return;
    /* Only idle records come here: shutdown unwinds waiting handlers first. */
    a->ext->coro = NULL;
    axi_free(s->alloc, rec, sizeof *rec);
}

static void entry(void *arg)
{
    axi_coro_rec *rec = arg;
    rec->fn(rec->actor->state, &rec->ctx, &rec->msg->view);
}

/* Stop whatever the last wait armed (a fired timer is already gone). */
static void disarm(ax_system *s, axi_coro_rec *rec)
{
    if (rec->timer_armed) {
        ax_timer_stop(s->loop, rec->timer);
        rec->timer_armed = 0;
    }
    if (rec->io) {
        ax_io_stop(rec->io);
        rec->io = NULL;
    }
}

/* The handler has returned: release it and what it held. */
static void finish(ax_system *s, axi_coro_rec *rec)
{
    axi_coro_free(rec->co);
    rec->co = NULL;
    axi_msg *r = rec->replies;
    while (r) {
        axi_msg *next = r->next;
        axi_msg_drop(s, r);
        r = next;
    }
    rec->replies = NULL;
    if (rec->ask_reply) { /* answered, never taken */
        axi_msg_drop(s, rec->ask_reply);
        rec->ask_reply = NULL;
    }
    if (!rec->ctx.moved)
        axi_msg_drop(s, rec->msg);
    rec->msg = NULL;
}

/* Resume a waiting handler outside the dispatch of its actor. */
static void resume_waiting(ax_system *s, axi_coro_rec *rec)
{
    axi_actor *a = rec->actor;
    rec->waiting = 0;
    axi_coro_resume(rec->co);
    if (!axi_coro_done(rec->co))
        return; /* waiting again */
    finish(s, rec);
    a->flags &= (uint8_t) ~(AXI_AF_SUSPENDED | AXI_AF_QUEUED);
    if (rec->cancelled) {
        axi_actor_end(s, a, rec->cancel_reason);
    } else if (a->flags & AXI_AF_STOPPING) {
        axi_actor_end(s, a, AX_REASON_NORMAL);
    } else if (a->mb_head) {
        /* Mail that arrived while it waited: its turn now. */
        a->flags |= AXI_AF_QUEUED;
        axi_rq_push(s, a);
    }
}

void axi_coro_run(ax_system *s, ax_receive_fn fn, const ax_msg *msg)
{
    ax_ctx *dctx = &s->ctx;
    axi_actor *a = dctx->actor;
    (void)msg;
    axi_coro_rec *rec = rec_get(s, a);
    int rc = rec ? 0 : AX_ENOMEM;
    if (rc == 0 && !s->stacks) {
        rc = axi_stack_pool_new(s->alloc, s->stack_size, s->stack_cache, &s->stacks);
        if (rc == 0)
            axi_coro_install_overflow_handler();
    }
    if (rc == 0)
        rc = axi_coro_new(s->stacks, a->ext->stack_size, entry, rec, rec->label, &rec->co);
    if (rc) {
        /* The handler cannot run: the message is undeliverable. */
        axi_dead_letter(s, dctx->cur->sender, dctx->self, dctx->cur->view.type, rc);
        return;
    }
    rec->fn = fn;
    rec->msg = dctx->cur;
    rec->ctx.sys = s;
    rec->ctx.actor = a;
    rec->ctx.self = dctx->self;
    rec->ctx.moved = 0;
    rec->ctx.slow = 0;
    rec->ctx.cur = dctx->cur;
    /* The record owns the message now, whatever happens next. */
    dctx->moved = dctx->slow = 1;
    axi_coro_resume(rec->co);
    if (axi_coro_done(rec->co)) {
        finish(s, rec); /* the dispatcher sees STOPPING itself */
        return;
    }
    a->flags |= AXI_AF_SUSPENDED | AXI_AF_QUEUED;
}

void axi_coro_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    axi_coro_run(ctx->sys, ctx->actor->ext->coro_fn, msg);
}

int axi_coro_wait(axi_coro_rec *rec)
{
    ax_system *s = rec->ctx.sys;
    rec->waiting = 1;
    axi_coro_yield(rec->co);
    disarm(s, rec);
    return rec->wake_rc;
}

void axi_coro_wake(ax_system *s, axi_coro_rec *rec, int rc)
{
    if (rec->wake_queued || !rec->waiting)
        return; /* the first completion wins */
    rec->wake_rc = rc;
    rec->wake_queued = 1;
    rec->wake_next = NULL;
    if (s->wake_tail)
        s->wake_tail->wake_next = rec;
    else
        s->wake_head = rec;
    s->wake_tail = rec;
}

int axi_coro_wake_all(ax_system *s)
{
    /* Only the waits completed so far: a handler that sleeps 0 again
     * waits for the next pass, so timers and I/O get their turn. */
    axi_coro_rec *rec = s->wake_head;
    s->wake_head = s->wake_tail = NULL;
    int n = 0;
    while (rec) {
        axi_coro_rec *next = rec->wake_next;
        rec->wake_queued = 0;
        if (s->shutdown_pending) {
            /* A handler resumed before shut the system down: the rest
             * are unwound by the shutdown itself. */
            rec = next;
            continue;
        }
        if (rec->co && rec->waiting) {
            resume_waiting(s, rec);
            n++;
        }
        rec = next;
    }
    return n;
}

static void timer_wake(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    axi_coro_rec *rec = arg;
    rec->timer_armed = 0;
    axi_coro_wake(rec->ctx.sys, rec, rec->wake_rc);
}

int axi_coro_arm_timer(ax_system *s, axi_coro_rec *rec, ax_duration timeout, int rc)
{
    if (timeout < 0)
        return 0;
    rec->wake_rc = rc; /* what timer_wake reports */
    int err = axi_timer_start(s->loop, axi_since_turn(s->loop, timeout), 0, timer_wake, rec,
                              NULL, NULL, &rec->timer);
    if (err == 0)
        rec->timer_armed = 1;
    return err;
}

int ax_sleep(ax_ctx *ctx, ax_duration d)
{
    axi_coro_rec *rec = axi_coro_of(ctx);
    if (!rec)
        return AX_ENOTCORO;
    if (d < 0)
        return AX_EINVAL;
    if (rec->cancelled)
        return AX_ECANCELED;
    /* A 0 ns timer fires in the next turn's timer pass: sleep(0) lets the
     * loop (timers, I/O, other actors) go round once. */
    int rc = axi_coro_arm_timer(ctx->sys, rec, d, 0);
    if (rc)
        return rc;
    return axi_coro_wait(rec);
}

void axi_coro_cancel(ax_system *s, axi_actor *a)
{
    axi_coro_rec *rec = a->ext ? a->ext->coro : NULL;
    if (!rec || !rec->co || rec->cancelled)
        return;
    rec->cancelled = 1;
    rec->cancel_reason = AX_REASON_POISON;
    axi_coro_wake(s, rec, AX_ECANCELED);
}

void axi_coro_shutdown(ax_system *s)
{
    /* Unwind every waiting handler: its waits now fail with AX_ECANCELED
     * at once, so a handler that returns on errors ends in a few resumes.
     * One that keeps waiting regardless is abandoned after many. */
    for (uint32_t i = 0; i < s->nslots; i++) {
        axi_actor *a = axi_actor_at(s, i);
        if (!(a->cookie & 1u) || !a->ext || !a->ext->coro || !a->ext->coro->co)
            continue;
        axi_coro_rec *rec = a->ext->coro;
        rec->cancelled = 1;
        rec->cancel_reason = AX_REASON_SHUTDOWN;
        for (int tries = 0; rec->co && tries < 10000; tries++) {
            rec->wake_rc = AX_ECANCELED;
            rec->wake_queued = 0;
            rec->waiting = 0;
            axi_coro_resume(rec->co);
            if (axi_coro_done(rec->co))
                finish(s, rec);
        }
        if (rec->co) {
            disarm(s, rec);
            axi_coro_free(rec->co); /* its frames never run again */
            rec->co = NULL;
            finish(s, rec);
        }
        a->flags &= (uint8_t) ~(AXI_AF_SUSPENDED | AXI_AF_QUEUED);
    }
    s->wake_head = s->wake_tail = NULL;
}

void axi_coro_system_free(ax_system *s)
{
    if (s->stacks)
        axi_stack_pool_free(s->stacks);
    s->stacks = NULL;
}

int ax_spawn_coro(ax_system *sys, ax_receive_fn receive, void *state, const ax_spawn_options *opt,
                  ax_id *out)
{
    if (!sys || !receive || !out)
        return AX_EINVAL;
    if (opt && opt->stack_size &&
        (opt->stack_size < AXI_CORO_MIN_STACK || opt->stack_size > AXI_CORO_MAX_STACK))
        return AX_EINVAL;
    int rc = ax_spawn(sys, axi_coro_receive, state, opt, out);
    if (rc)
        return rc;
    axi_actor *a = axi_actor_lookup(sys, *out);
    axi_actor_ext *ext = axi_actor_ext_get(sys, a);
    if (!ext) {
        axi_actor_end(sys, a, AX_REASON_NORMAL);
        return AX_ENOMEM;
    }
    a->kind = AXI_KIND_CORO;
    ext->coro_fn = receive;
    ext->stack_size = opt ? opt->stack_size : 0;
    return 0;
}
