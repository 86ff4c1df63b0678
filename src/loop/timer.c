/* timer.c - timers: a binary min-heap of (deadline, start order) entries
 * over a slot table.  Start and stop are O(log n); handles are
 * {slot, cookie} values, so a stale handle is a failed compare, never a
 * dangling pointer.  A slot's cookie is odd while armed, even while free. */
#include <string.h>

#include "loop/loop_int.h"

#define NO_SLOT UINT32_MAX

/* now + d without overflow: a delay past the end of time means never. */
static int64_t deadline_after(int64_t now, ax_duration d)
{
    return d > INT64_MAX - now ? INT64_MAX : now + d;
}

static int ent_less(const axi_heap_ent *a, const axi_heap_ent *b)
{
    if (a->deadline != b->deadline)
        return a->deadline < b->deadline;
    return a->seq < b->seq;
}

static void heap_set(axi_timers *t, uint32_t i, axi_heap_ent e)
{
    t->heap[i] = e;
    t->slots[e.slot].heap_pos = i;
}

static void sift_up(axi_timers *t, uint32_t i)
{
    axi_heap_ent e = t->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!ent_less(&e, &t->heap[parent]))
            break;
        heap_set(t, i, t->heap[parent]);
        i = parent;
    }
    heap_set(t, i, e);
}

static void sift_down(axi_timers *t, uint32_t i)
{
    axi_heap_ent e = t->heap[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= t->len)
            break;
        if (c + 1 < t->len && ent_less(&t->heap[c + 1], &t->heap[c]))
            c++;
        if (!ent_less(&t->heap[c], &e))
            break;
        heap_set(t, i, t->heap[c]);
        i = c;
    }
    heap_set(t, i, e);
}

static void heap_remove(axi_timers *t, uint32_t i)
{
    t->len--;
    if (i == t->len)
        return;
    axi_heap_ent last = t->heap[t->len];
    heap_set(t, i, last);
    if (i > 0 && ent_less(&last, &t->heap[(i - 1) / 2]))
        sift_up(t, i);
    else
        sift_down(t, i);
}

static int grow(ax_loop *loop)
{
    /* Two arrays with their own capacities, so a failure half-way leaves
     * every recorded size true (frees are sized). */
    axi_timers *t = &loop->timers;
    uint32_t ncap = t->cap_slots ? t->cap_slots * 2 : 16;
    if (t->cap < ncap) {
        axi_heap_ent *h = axi_realloc(&loop->alloc, t->heap, (size_t)t->cap * sizeof *h,
                                      (size_t)ncap * sizeof *h);
        if (!h)
            return AX_ENOMEM;
        t->heap = h;
        t->cap = ncap;
    }
    axi_timer_slot *s = axi_realloc(&loop->alloc, t->slots, (size_t)t->cap_slots * sizeof *s,
                                    (size_t)ncap * sizeof *s);
    if (!s)
        return AX_ENOMEM;
    t->slots = s;
    t->cap_slots = ncap;
    return 0;
}

static void slot_release(axi_timers *t, uint32_t idx)
{
    axi_timer_slot *s = &t->slots[idx];
    s->cookie++; /* even: free; every old handle is now stale */
    s->cb = NULL;
    s->arg = NULL;
    s->drop = NULL;
    s->owner = NULL;
    s->heap_pos = t->free_head;
    t->free_head = idx;
}

int axi_timer_start(ax_loop *loop, ax_duration delay, ax_duration repeat, ax_timer_fn cb,
                    void *arg, void (*drop)(void *), const void *owner, ax_timer *out)
{
    if (!loop || !cb || delay < 0 || repeat < 0)
        return AX_EINVAL;
    axi_timers *t = &loop->timers;
    uint32_t idx;
    if (t->free_head != NO_SLOT) {
        idx = t->free_head;
        t->free_head = t->slots[idx].heap_pos;
    } else {
        if (t->nslots == t->cap_slots) {
            int rc = grow(loop);
            if (rc)
                return rc;
        }
        idx = t->nslots++;
        t->slots[idx].cookie = 0;
    }
    axi_timer_slot *s = &t->slots[idx];
    s->cookie++; /* odd: armed */
    s->deadline = deadline_after(loop->now, delay);
    s->repeat = repeat;
    s->cb = cb;
    s->arg = arg;
    s->drop = drop;
    s->owner = owner;
    axi_heap_ent e = {s->deadline, t->seq++, idx, 0};
    t->heap[t->len] = e;
    s->heap_pos = t->len++;
    sift_up(t, s->heap_pos);
    if (out) {
        out->index = idx;
        out->cookie = s->cookie;
    }
    return 0;
}

int ax_timer_start(ax_loop *loop, ax_duration delay, ax_duration repeat, ax_timer_fn cb, void *arg,
                   ax_timer *out)
{
    return axi_timer_start(loop, delay, repeat, cb, arg, NULL, NULL, out);
}

int ax_timer_stop(ax_loop *loop, ax_timer h)
{
    if (!loop)
        return AX_EINVAL;
    axi_timers *t = &loop->timers;
    if (h.index >= t->nslots || t->slots[h.index].cookie != h.cookie || !(h.cookie & 1))
        return AX_ENOENT;
    axi_timer_slot *s = &t->slots[h.index];
    void (*drop)(void *) = s->drop;
    void *arg = s->arg;
    heap_remove(t, s->heap_pos);
    slot_release(t, h.index);
    if (drop)
        drop(arg);
    return 0;
}

size_t ax_timer_count(const ax_loop *loop)
{
    return loop ? loop->timers.len : 0;
}

void axi_timer_drop_owner(ax_loop *loop, const void *owner)
{
    axi_timers *t = &loop->timers;
    for (uint32_t i = 0; i < t->len;) {
        uint32_t idx = t->heap[i].slot;
        if (t->slots[idx].owner == owner) {
            ax_timer h = {idx, t->slots[idx].cookie};
            ax_timer_stop(loop, h); /* refills position i: look at it again */
        } else {
            i++;
        }
    }
}

int axi_timers_run(ax_loop *loop)
{
    axi_timers *t = &loop->timers;
    uint64_t pass = t->seq; /* timers started from callbacks wait a pass */
    int ran = 0;
    while (t->len > 0) {
        axi_heap_ent top = t->heap[0];
        if (top.deadline > loop->now || top.seq >= pass)
            break;
        axi_timer_slot *s = &t->slots[top.slot];
        ax_timer h = {top.slot, s->cookie};
        ax_timer_fn cb = s->cb;
        void *arg = s->arg;
        if (s->repeat > 0) {
            /* Re-arm before the callback so it may stop itself. */
            s->deadline = deadline_after(loop->now, s->repeat);
            t->heap[0].deadline = s->deadline;
            t->heap[0].seq = t->seq++;
            sift_down(t, 0);
        } else {
            heap_remove(t, 0);
            slot_release(t, top.slot);
        }
        cb(loop, h, arg);
        ran++;
    }
    return ran;
}

ax_duration axi_timers_next(const ax_loop *loop)
{
    const axi_timers *t = &loop->timers;
    if (t->len == 0)
        return -1;
    ax_duration d = t->heap[0].deadline - loop->now;
    return d > 0 ? d : 0;
}

void axi_timers_free(ax_loop *loop)
{
    axi_timers *t = &loop->timers;
    while (t->len > 0) {
        uint32_t idx = t->heap[0].slot;
        ax_timer h = {idx, t->slots[idx].cookie};
        ax_timer_stop(loop, h);
    }
    axi_free(&loop->alloc, t->slots, (size_t)t->cap_slots * sizeof *t->slots);
    axi_free(&loop->alloc, t->heap, (size_t)t->cap * sizeof *t->heap);
    memset(t, 0, sizeof *t);
    t->free_head = NO_SLOT;
}
