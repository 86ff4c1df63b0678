/* loop.c - loop lifecycle and the turn: wait, clock, timers, I/O, dispatch. */
#include <sched.h>
#include <string.h>

#include "loop/loop_int.h"

#define NO_SLOT UINT32_MAX

int ax_loop_new(const ax_loop_options *opt, ax_loop **out)
{
    if (!out)
        return AX_EINVAL;
    *out = NULL;
    ax_backend be = opt ? opt->backend : AX_BACKEND_DEFAULT;
    const ax_allocator *a = opt && opt->allocator ? opt->allocator : &axi_default_allocator;
    if (!a->alloc || !a->realloc || !a->free)
        return AX_EINVAL;
    if (opt && opt->busy_poll_us > AX_LOOP_BUSY_POLL_MAX)
        return AX_EINVAL;
    const axi_poller *p;
    switch (be) {
    case AX_BACKEND_DEFAULT:
    case AX_BACKEND_EPOLL:
#ifdef __linux__
        p = &axi_poller_epoll;
#else
        if (be == AX_BACKEND_EPOLL)
            return AX_ENOTSUP;
        p = &axi_poller_poll;
#endif
        break;
    case AX_BACKEND_POLL:
        p = &axi_poller_poll;
        break;
    default:
        return AX_EINVAL;
    }
    ax_loop *loop = axi_calloc(a, sizeof *loop);
    if (!loop)
        return AX_ENOMEM;
    loop->alloc = *a;
    loop->busy_poll_ns = opt ? (int64_t)opt->busy_poll_us * 1000 : 0;
    loop->poller = p;
    loop->epfd = -1;
    loop->timers.free_head = NO_SLOT;
    loop->io_free = NO_SLOT;
    int rc = p->init(loop);
    if (rc) {
        axi_free(a, loop, sizeof *loop);
        return rc;
    }
    loop->now = axi_clock_ns();
    *out = loop;
    return 0;
}

int ax_loop_free(ax_loop *loop)
{
    if (!loop)
        return AX_EINVAL;
    if (loop->systems > 0 || loop->running)
        return AX_EBUSY;
    for (uint32_t i = 0; i < loop->io_nslots; i++)
        if (loop->io_slots[i].w)
            return AX_EBUSY;
    axi_timers_free(loop);
    axi_io_free_all(loop);
    loop->poller->destroy(loop);
    ax_allocator a = loop->alloc;
    axi_free(&a, loop, sizeof *loop);
    return 0;
}

static int work_pending(ax_loop *loop)
{
    for (axi_runner *r = loop->runners; r; r = r->next)
        if (r->pending(r->arg))
            return 1;
    return 0;
}

/* Something could still happen: the loop is worth another turn. */
static int loop_alive(ax_loop *loop)
{
    return loop->refs > 0 || loop->timers.len > 0 || loop->io_active > 0 || work_pending(loop);
}

ax_duration ax_loop_timeout(ax_loop *loop)
{
    if (!loop || loop->stop_requested || work_pending(loop))
        return 0;
    return axi_timers_next(loop);
}

/* A polled wait is "contended" when a yield gave the CPU away for this
 * long: another thread wanted this CPU, so spinning only delays it. */
#define AXI_BUSY_CONTENDED_NS 5000
#define AXI_BUSY_BACKOFF_MAX 1024 /* turns */

/* Poll without blocking, yielding between polls, for up to busy_poll_ns
 * before a blocking wait would start: a peer's answer that comes within
 * the window is taken without the sleep and wake-up (on a VM, a halted
 * vCPU and an interrupt).  When a yield shows that someone else wanted
 * the CPU, stop and skip polling for a number of turns that doubles with
 * each contended poll.  Returns the events found, 0 or the poller's
 * error. */
static int busy_poll(ax_loop *loop)
{
    int n = loop->poller->wait(loop, 0, loop->events, AXI_MAX_EVENTS);
    if (n != 0)
        return n; /* ready already: a wait, not a poll */
    int64_t t = axi_clock_ns(), end = t + loop->busy_poll_ns;
    loop->stats.busy_polls++;
    for (;;) {
        sched_yield();
        int64_t u = axi_clock_ns();
        if (u - t > AXI_BUSY_CONTENDED_NS) {
            loop->stats.busy_contended++;
            uint32_t b = loop->busy_backoff;
            b = b ? (b < AXI_BUSY_BACKOFF_MAX ? 2 * b : b) : 1;
            loop->busy_backoff = b;
            loop->busy_skip = b;
            return 0;
        }
        if (u >= end)
            return 0;
        t = u;
        n = loop->poller->wait(loop, 0, loop->events, AXI_MAX_EVENTS);
        if (n != 0) {
            if (n > 0) {
                loop->stats.busy_hits++;
                loop->busy_backoff = 0; /* polling paid off, uncontended */
            }
            return n;
        }
    }
}

static int turn(ax_loop *loop, ax_duration max_wait)
{
    ax_duration timeout = 0;
    if (!loop->stop_requested && !work_pending(loop)) {
        if (!loop_alive(loop))
            max_wait = 0; /* nothing could ever wake us */
        if (max_wait != 0) {
            loop->now = axi_clock_ns(); /* about to sleep: use a fresh clock */
            timeout = axi_timers_next(loop);
            if (max_wait > 0 && (timeout < 0 || timeout > max_wait))
                timeout = max_wait;
        }
    }
    int n = 0;
    if (loop->busy_skip > 0)
        loop->busy_skip--;
    else if (loop->busy && loop->busy_poll_ns > 0 && timeout != 0 &&
             (timeout < 0 || timeout > loop->busy_poll_ns)) {
        int64_t t0 = axi_clock_ns();
        n = busy_poll(loop);
        if (n < 0)
            return n;
        if (timeout > 0) { /* the window counts toward the wait */
            timeout -= axi_clock_ns() - t0;
            if (timeout < 0)
                timeout = 0;
        }
    }
    if (n == 0 && (loop->poller->backend_fd(loop) >= 0 || loop->plen > 0 || timeout != 0)) {
        loop->stats.waits += timeout != 0;
        n = loop->poller->wait(loop, timeout, loop->events, AXI_MAX_EVENTS);
        if (n < 0)
            return n;
    }
    loop->busy = n > 0;
    loop->stats.turns++;
    loop->now = axi_clock_ns();
    axi_timers_run(loop);
    axi_io_dispatch(loop, loop->events, n);
    for (axi_runner *r = loop->runners; r; r = r->next)
        if (r->pending(r->arg))
            r->run(r->arg);
    return 0;
}

int ax_loop_step(ax_loop *loop, ax_duration max_wait)
{
    if (!loop)
        return AX_EINVAL;
    if (loop->running)
        return AX_EBUSY;
    loop->running = 1;
    int rc = turn(loop, max_wait);
    loop->running = 0;
    loop->stop_requested = 0; /* a step is one turn: the request is met */
    if (rc < 0)
        return rc;
    return loop_alive(loop) ? 1 : 0;
}

int ax_loop_run(ax_loop *loop)
{
    if (!loop)
        return AX_EINVAL;
    if (loop->running)
        return AX_EBUSY;
    loop->stop_requested = 0;
    loop->running = 1;
    int rc = 0;
    while (!loop->stop_requested && loop_alive(loop)) {
        rc = turn(loop, AX_FOREVER);
        if (rc < 0)
            break;
    }
    loop->stop_requested = 0;
    loop->running = 0;
    return rc < 0 ? rc : 0;
}

void ax_loop_stop(ax_loop *loop)
{
    if (loop)
        loop->stop_requested = 1;
}

void ax_loop_ref(ax_loop *loop)
{
    if (loop)
        loop->refs++;
}

void ax_loop_unref(ax_loop *loop)
{
    if (loop && loop->refs > 0)
        loop->refs--;
}

int64_t ax_loop_now(const ax_loop *loop)
{
    return loop ? loop->now : 0;
}

int64_t ax_loop_update_time(ax_loop *loop)
{
    if (!loop)
        return 0;
    loop->now = axi_clock_ns();
    return loop->now;
}

int ax_loop_stats(const ax_loop *loop, ax_loop_counters *out)
{
    if (!loop || !out)
        return AX_EINVAL;
    *out = loop->stats;
    return 0;
}

const char *ax_loop_backend_name(const ax_loop *loop)
{
    return loop ? loop->poller->name : "";
}

int ax_loop_backend_fd(const ax_loop *loop)
{
    if (!loop)
        return AX_EINVAL;
    return loop->poller->backend_fd(loop);
}

void axi_loop_add_runner(ax_loop *loop, axi_runner *r)
{
    r->next = loop->runners;
    loop->runners = r;
}

void axi_loop_add_runner_last(ax_loop *loop, axi_runner *r)
{
    axi_runner **pp = &loop->runners;
    while (*pp)
        pp = &(*pp)->next;
    r->next = NULL;
    *pp = r;
}

void axi_loop_remove_runner(ax_loop *loop, axi_runner *r)
{
    for (axi_runner **pp = &loop->runners; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            return;
        }
    }
}

void axi_loop_attach(ax_loop *loop)
{
    loop->systems++;
}

void axi_loop_detach(ax_loop *loop)
{
    loop->systems--;
}
