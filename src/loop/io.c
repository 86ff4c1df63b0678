/* io.c - fd watchers.  Each watcher owns a slot; the backend reports
 * tokens (slot | cookie << 32), so events collected for a watcher that a
 * callback stopped earlier in the same turn are recognised and dropped. */
#include <string.h>

#include "loop/loop_int.h"

#define NO_SLOT UINT32_MAX

static int fdmap_reserve(ax_loop *loop, int fd)
{
    if (fd < loop->fdmap_cap)
        return 0;
    int ncap = loop->fdmap_cap ? loop->fdmap_cap : 64;
    while (ncap <= fd)
        ncap *= 2;
    int32_t *m = axi_realloc(&loop->alloc, loop->fdmap, (size_t)loop->fdmap_cap * sizeof *m,
                             (size_t)ncap * sizeof *m);
    if (!m)
        return AX_ENOMEM;
    memset(m + loop->fdmap_cap, 0, (size_t)(ncap - loop->fdmap_cap) * sizeof *m);
    loop->fdmap = m;
    loop->fdmap_cap = ncap;
    return 0;
}

static int slot_take(ax_loop *loop, uint32_t *out)
{
    if (loop->io_free != NO_SLOT) {
        *out = loop->io_free;
        loop->io_free = loop->io_slots[*out].next_free;
        return 0;
    }
    if (loop->io_nslots == loop->io_cap) {
        uint32_t ncap = loop->io_cap ? loop->io_cap * 2 : 16;
        axi_io_slot *s = axi_realloc(&loop->alloc, loop->io_slots,
                                     (size_t)loop->io_cap * sizeof *s, (size_t)ncap * sizeof *s);
        if (!s)
            return AX_ENOMEM;
        loop->io_slots = s;
        loop->io_cap = ncap;
    }
    *out = loop->io_nslots++;
    return 0;
}

static void slot_put(ax_loop *loop, uint32_t slot)
{
    loop->io_slots[slot].w = NULL;
    loop->io_slots[slot].next_free = loop->io_free;
    loop->io_free = slot;
}

static uint64_t token_of(const ax_io *w)
{
    return (uint64_t)w->slot | ((uint64_t)w->cookie << 32);
}

static void count_active(ax_io *w, int delta)
{
    if (w->events && !w->weak)
        w->loop->io_active += (uint32_t)delta;
}

int ax_io_start(ax_loop *loop, int fd, unsigned events, ax_io_fn cb, void *arg, ax_io **out)
{
    if (!loop || fd < 0 || !cb || !out || (events & ~(unsigned)(AX_READABLE | AX_WRITABLE)))
        return AX_EINVAL;
    int rc = fdmap_reserve(loop, fd);
    if (rc)
        return rc;
    if (loop->fdmap[fd])
        return AX_EEXIST;
    ax_io *w = axi_calloc(&loop->alloc, sizeof *w);
    if (!w)
        return AX_ENOMEM;
    uint32_t slot;
    rc = slot_take(loop, &slot);
    if (rc) {
        axi_free(&loop->alloc, w, sizeof *w);
        return rc;
    }
    w->loop = loop;
    w->cb = cb;
    w->arg = arg;
    w->fd = fd;
    w->events = events;
    w->slot = slot;
    w->cookie = ++loop->io_cookie;
    if (events) {
        rc = loop->poller->add(loop, fd, events, token_of(w), &w->pos);
        if (rc) {
            slot_put(loop, slot);
            axi_free(&loop->alloc, w, sizeof *w);
            return rc;
        }
        w->registered = 1;
    }
    loop->io_slots[slot].w = w;
    loop->fdmap[fd] = (int32_t)slot + 1;
    count_active(w, 1);
    *out = w;
    return 0;
}

int ax_io_update(ax_io *w, unsigned events)
{
    if (!w || (events & ~(unsigned)(AX_READABLE | AX_WRITABLE)))
        return AX_EINVAL;
    ax_loop *loop = w->loop;
    if (events == w->events)
        return 0;
    int rc = 0;
    /* A paused watcher is removed from the backend: epoll reports errors
     * and hang-ups even for an empty mask, which would spin. */
    if (events == 0) {
        if (w->registered)
            loop->poller->del(loop, w->fd, w->pos);
        w->registered = 0;
    } else if (w->registered) {
        rc = loop->poller->mod(loop, w->fd, events, token_of(w), w->pos);
    } else {
        rc = loop->poller->add(loop, w->fd, events, token_of(w), &w->pos);
        if (rc == 0)
            w->registered = 1;
    }
    if (rc)
        return rc;
    count_active(w, -1);
    w->events = events;
    count_active(w, 1);
    return 0;
}

void ax_io_stop(ax_io *w)
{
    if (!w)
        return;
    ax_loop *loop = w->loop;
    if (w->registered)
        loop->poller->del(loop, w->fd, w->pos);
    count_active(w, -1);
    loop->fdmap[w->fd] = 0;
    slot_put(loop, w->slot);
    axi_free(&loop->alloc, w, sizeof *w);
}

void axi_io_set_weak(ax_io *w, int weak)
{
    count_active(w, -1);
    w->weak = weak ? 1 : 0;
    count_active(w, 1);
}

void axi_io_set_pos(ax_loop *loop, uint64_t token, uint32_t pos)
{
    ax_io *w = loop->io_slots[(uint32_t)token].w;
    if (w)
        w->pos = pos;
}

void axi_io_dispatch(ax_loop *loop, const axi_poll_event *ev, int n)
{
    for (int i = 0; i < n; i++) {
        uint32_t slot = (uint32_t)ev[i].token;
        uint32_t cookie = (uint32_t)(ev[i].token >> 32);
        if (slot >= loop->io_nslots)
            continue;
        ax_io *w = loop->io_slots[slot].w;
        if (!w || w->cookie != cookie)
            continue; /* stopped (and maybe replaced) earlier this turn */
        if (!w->events)
            continue; /* paused earlier this turn: not even errors */
        unsigned e = ev[i].events;
        if (e & AX_IOERR)
            e |= w->events; /* let the owner hit the error in read/write */
        e &= w->events | AX_IOERR;
        if (e)
            w->cb(loop, w, w->fd, e, w->arg);
    }
}

void axi_io_free_all(ax_loop *loop)
{
    axi_free(&loop->alloc, loop->io_slots, (size_t)loop->io_cap * sizeof *loop->io_slots);
    axi_free(&loop->alloc, loop->fdmap, (size_t)loop->fdmap_cap * sizeof *loop->fdmap);
    loop->io_slots = NULL;
    loop->fdmap = NULL;
    loop->io_cap = loop->io_nslots = 0;
    loop->fdmap_cap = 0;
    loop->io_free = NO_SLOT;
}
