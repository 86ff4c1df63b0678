/* direct_util.c - see direct_util.h. */
#include "direct_util.h"

#include "actor/actor_int.h" /* struct ax_ctx: the current message's flags */

int is_direct(const ax_ctx *ctx)
{
    return ctx->cur != NULL && (ctx->cur->flags & AXI_MF_BORROWED) != 0;
}

void register_extra(ax_system *sys)
{
    tu_ok(ax_msg_register_pod(sys, MSG_SELF, "self", 8, 8));
    tu_ok(ax_msg_register_pod(sys, MSG_ODD12, "odd12", 12, 8));
    tu_ok(ax_msg_register_pod(sys, MSG_ODD20, "odd20", 20, 8));
}

void open_default(nt_pair *p)
{
    ax_link_options o;
    nt_options(&o);
    nt_pair_open(p, 1, &o, &o);
    register_extra(p->a);
    register_extra(p->b);
    assert_true(nt_run(p, nt_pair_up, p, 5000));
}

void record_dl(void *arg, const ax_dead_letter *dl)
{
    dl_log *d = arg;
    d->n++;
    if (dl->reason == AX_ESTALE)
        d->estale++;
    else if (dl->reason == AX_ECLOSED)
        d->eclosed++;
    else
        d->other++;
    d->last = *dl;
}

/* open_default with node 1's dead letters recorded in d. */
void open_with_dl(nt_pair *p, dl_log *d)
{
    memset(d, 0, sizeof *d);
    ax_system_options so;
    memset(&so, 0, sizeof so);
    so.on_dead_letter = record_dl;
    so.dead_letter_arg = d;
    ax_link_options o;
    nt_options(&o);
    nt_pair_open_with(p, 1, &o, &o, &so);
    register_extra(p->a);
    register_extra(p->b);
    assert_true(nt_run(p, nt_pair_up, p, 5000));
}

typedef struct until {
    const uint64_t *v;
    uint64_t want;
} until;

static int reached(void *arg)
{
    until *u = arg;
    return *u->v >= u->want;
}

int wait_for(nt_pair *p, const uint64_t *v, uint64_t want)
{
    until u = {v, want};
    return nt_run(p, reached, &u, 20000);
}

void send_range(ax_system *sys, ax_id from, ax_id to, uint32_t type, uint64_t first, uint64_t last)
{
    for (uint64_t v = first; v <= last; v++)
        tu_ok(ax_system_send(sys, from, to, type, &v, 8));
}

uint64_t get_u64(const ax_msg *msg)
{
    uint64_t v;
    memcpy(&v, msg->data, 8);
    return v;
}
