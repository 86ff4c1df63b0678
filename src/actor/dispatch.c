/* dispatch.c - the dispatch pass and the end of an actor.
 *
 * A pass pops runnable actors in FIFO order; each handles at most `batch`
 * messages, then goes to the back of the queue if it has more.  A pass
 * handles at most `turn_budget` messages, so timers and I/O get their turn
 * even when messages circulate forever. */
#include "actor/coro_int.h"

void axi_behavior_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    const ax_behavior *b = ctx->actor->ext->behavior;
    const axi_bhv_slot *sl = axi_bhv_lookup(b, msg->type);
    if (!sl)
        b->unknown(state, ctx, msg);
    else if (sl->flags & AX_HANDLER_ASYNC)
        axi_coro_run(ctx->sys, sl->fn, msg);
    else
        sl->fn(state, ctx, msg);
}

void axi_actor_end(ax_system *s, axi_actor *a, int reason)
{
    ax_id id = axi_actor_id(a);
    /* From here the id is stale: sends to it fail, even from on_stop (and
     * mb_mark 0 keeps forged even cookies off the send fast path). */
    a->cookie++;
    a->mb_limit = 0;
    a->mb_mark = 0;
    if (a->ext && a->ext->on_stop) {
        ax_ctx saved = s->ctx;
        int was = s->in_dispatch;
        s->in_dispatch = 1; /* user code: ax_system_free must refuse */
        s->ctx.actor = a;
        s->ctx.self = id;
        s->ctx.cur = NULL;
        s->ctx.moved = 0;
        a->ext->on_stop(a->state, &s->ctx, reason);
        s->ctx = saved;
        s->in_dispatch = was;
    }
    if (a->kind == AXI_KIND_REPLY)
        axi_ask_slot_ended(s, a);
    if (a->ext) {
        axi_coro_rec_free(s, a);
        axi_names_drop_actor(s, a);
        if (reason != AX_REASON_SHUTDOWN)
            axi_monitors_fire(s, a, reason);
        axi_monitors_free(s, a);
    }
    int dl_reason = reason == AX_REASON_SHUTDOWN ? AX_ECLOSED : AX_ESTALE;
    axi_msg *m = a->mb_head;
    while (m) {
        axi_msg *next = m->next;
        ax_id from = m->sender;
        uint32_t type = m->view.type;
        /* Not dead letters: a poison pill, or the target's DOWN reaching
         * a reply slot that already has its answer. */
        int control = (m->flags & AXI_MF_POISON) ||
                      (a->kind == AXI_KIND_REPLY && type == AX_MSG_DOWN);
        if (m->flags & AXI_MF_ASKDONE) {
            axi_askdone_drop(s, m, id); /* counts the answer it carried */
            m = next;
            continue;
        }
        axi_msg_drop(s, m); /* released before the hook hears of it */
        if (!control)
            axi_dead_letter(s, from, id, type, dl_reason);
        m = next;
    }
    a->mb_head = NULL;
    a->mb_tailp = &a->mb_head;
    a->mb_len = 0;
    axi_actor_release(s, a);
}

int axi_dispatch_pending(void *arg)
{
    ax_system *s = arg;
    return s->rq_head != NULL || s->wake_head != NULL || s->shutdown_pending;
}

static void shutdown_now(ax_system *s);

void axi_dispatch_run(void *arg)
{
    ax_system *s = arg;
    if (AXI_UNLIKELY(s->shutdown_pending)) {
        /* Asked for by a handler run outside a pass (straight from a
         * link's input): no other handler runs first. */
        shutdown_now(s);
        return;
    }
    uint32_t budget = s->turn_budget;
    const uint32_t batch = s->batch;
    ax_ctx *ctx = &s->ctx;
    uint64_t delivered = 0;
    s->in_dispatch = 1;
    ctx->sys = s;
    while (budget > 0) {
        if (AXI_UNLIKELY(s->wake_head != NULL)) {
            /* Finished waits go first (a reply handled in this pass resumes
             * its asker in this pass); they count against the budget. */
            uint32_t n = (uint32_t)axi_coro_wake_all(s);
            budget = n < budget ? budget - n : 0;
            if (s->shutdown_pending)
                break; /* a resumed handler shut the system down */
            continue;
        }
        axi_actor *a = s->rq_head;
        if (!a)
            break;
        s->rq_head = a->rq_next;
        if (!s->rq_head)
            s->rq_tail = NULL;
        /* QUEUED stays set while the actor runs, so its sends to itself
         * do not put it on the queue a second time (it may yet end in this
         * batch, and a queued slot must never be released). */
        if (AXI_UNLIKELY(a->flags & AXI_AF_STOPPING)) {
            /* ax_stop() from an ask callback while it had mail queued. */
            axi_actor_end(s, a, AX_REASON_NORMAL);
            continue;
        }
        ctx->actor = a;
        ctx->self = axi_actor_id(a);
        const uint32_t limit = batch < budget ? batch : budget;
        uint32_t left = limit; /* counts down: one test per message */
        int ended = 0;
        while (left > 0) {
            axi_msg *m = a->mb_head;
            if (!m)
                break;
            axi_msg *next = m->next;
            a->mb_head = next;
            if (!next)
                a->mb_tailp = &a->mb_head;
            a->mb_len--;
            left--;
            ctx->cur = m;
            /* The handler cannot change the flags (it sees a const view;
             * whatever takes the node away sets ctx->slow), so they are
             * read once. */
            const uint8_t mf = m->flags;
            /* A pill that reaches a reply slot is the answer it carries
             * (sent with ax_reply by the target), not a stop. */
            if (AXI_UNLIKELY(mf & AXI_MF_CONTROL) &&
                !(a->kind == AXI_KIND_REPLY && (mf & AXI_MF_POISON))) {
                if (mf & AXI_MF_POISON) {
                    delivered--; /* handled by axon, not by a handler */
                    axi_msg_dealloc(&s->pool, m);
                    axi_actor_end(s, a, AX_REASON_POISON);
                    ended = 1;
                    break;
                }
                axi_askdone_run(s, m); /* the callback runs as this actor */
            } else {
                a->receive(a->state, ctx, &m->view);
            }
            /* One test for the rare cases: a payload with a free hook or
             * direct memory, or ctx->slow (a forward moved the node, or
             * ax_stop() was called). */
            if (AXI_LIKELY(!(mf | ctx->slow))) {
                m->next = s->pool.free[m->cls];
                s->pool.free[m->cls] = m;
                continue;
            }
            ctx->slow = 0;
            if (!ctx->moved)
                axi_msg_drop(s, m);
            ctx->moved = 0;
            if (a->flags & AXI_AF_SUSPENDED)
                break; /* a coroutine handler waits (even after ax_stop: it
                          ends when the handler returns); its mail waits */
            if (a->flags & AXI_AF_STOPPING) {
                axi_actor_end(s, a, AX_REASON_NORMAL);
                ended = 1;
                break;
            }
            if (s->shutdown_pending)
                break; /* the handler shut the system down */
        }
        const uint32_t n = limit - left;
        budget -= n;
        delivered += n;
        if (ended || (a->flags & AXI_AF_SUSPENDED)) {
            /* released, or waiting in a coroutine (QUEUED stays set) */
        } else if (a->mb_head) {
            axi_rq_push(s, a); /* to the back: others get their turn */
        } else {
            a->flags &= (uint8_t)~AXI_AF_QUEUED;
        }
        if (AXI_UNLIKELY(s->shutdown_pending))
            break;
    }
    ctx->actor = NULL;
    ctx->cur = NULL;
    s->stats.delivered += delivered;
    s->in_dispatch = 0;
    if (s->shutdown_pending)
        shutdown_now(s);
}

int axi_run_now_after(ax_system *s, axi_actor *a)
{
    ax_ctx *ctx = &s->ctx;
    ctx->slow = 0;
    ctx->moved = 0; /* a borrowed message is copied, never moved */
    if (a->flags & AXI_AF_STOPPING)
        axi_actor_end(s, a, AX_REASON_NORMAL);
    else if (a->mb_head)
        axi_rq_push(s, a); /* QUEUED stays set */
    else
        a->flags &= (uint8_t)~AXI_AF_QUEUED;
    return s->shutdown_pending;
}

/* ---- shutdown -------------------------------------------------------- */

static void shutdown_now(ax_system *s)
{
    /* Handlers run from here (unwinding coroutines, on_stop, the
     * dead-letter hook): ax_system_free from them must refuse. */
    int was = s->in_dispatch;
    s->in_dispatch = 1;
    s->shutdown_pending = 0;
    if (s->net && s->net->shutdown)
        s->net->shutdown(s->route_arg);
    s->closed = 1;
    axi_types_uncache(&s->types);
    atomic_store(&s->post_closed, 1);
    /* Scheduled sends that will never fire are dead letters too. */
    axi_timer_drop_owner(s->loop, s);
    axi_coro_shutdown(s);
    for (uint32_t i = 0; i < s->nslots; i++) {
        axi_actor *a = axi_actor_at(s, i);
        if (a->cookie & 1u)
            axi_actor_end(s, a, AX_REASON_SHUTDOWN);
    }
    s->rq_head = s->rq_tail = NULL;
    axi_post_close(s, 0);
    s->in_dispatch = was;
}

void ax_system_shutdown(ax_system *sys)
{
    if (!sys || sys->closed)
        return;
    if (sys->in_dispatch) {
        sys->shutdown_pending = 1;
        sys->ctx.slow = 1; /* leave the batch after this handler */
    }
    else
        shutdown_now(sys);
}

/* ---- context accessors ----------------------------------------------- */

ax_id ax_self(const ax_ctx *ctx)
{
    return ctx ? ctx->self : ax_id_nil();
}

ax_id ax_sender(const ax_ctx *ctx)
{
    return ctx && ctx->cur ? ctx->cur->sender : ax_id_nil();
}

ax_system *ax_ctx_system(const ax_ctx *ctx)
{
    return ctx ? ctx->sys : NULL;
}

void *ax_ctx_state(const ax_ctx *ctx)
{
    return ctx && ctx->actor ? ctx->actor->state : NULL;
}

void ax_stop(ax_ctx *ctx)
{
    if (ctx && ctx->actor && ctx->cur) {
        ctx->actor->flags |= AXI_AF_STOPPING;
        ctx->slow = 1;
    }
}
