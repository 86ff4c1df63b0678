/* poll_poll.c - the portable poll() backend.  Watched descriptors live in
 * a dense pollfd array; removal moves the last entry into the hole and
 * tells its watcher the new position. */
#include <errno.h>
#include <poll.h>
#include <time.h>

#include "loop/loop_int.h"

static int pl_init(ax_loop *loop)
{
    loop->pfds = NULL;
    loop->ptokens = NULL;
    loop->plen = loop->pcap = loop->tcap = 0;
    return 0;
}

static void pl_destroy(ax_loop *loop)
{
    axi_free(&loop->alloc, loop->pfds, (size_t)loop->pcap * sizeof(struct pollfd));
    axi_free(&loop->alloc, loop->ptokens, (size_t)loop->tcap * sizeof(uint64_t));
    loop->pfds = NULL;
    loop->ptokens = NULL;
    loop->plen = loop->pcap = loop->tcap = 0;
}

static short to_poll(unsigned ev)
{
    short e = 0;
    if (ev & AX_READABLE)
        e |= POLLIN;
    if (ev & AX_WRITABLE)
        e |= POLLOUT;
    return e;
}

static int reserve(ax_loop *loop)
{
    /* Two arrays with their own capacities, so a failure half-way leaves
     * every recorded size true (frees are sized). */
    if (loop->plen == loop->pcap) {
        uint32_t ncap = loop->pcap ? loop->pcap * 2 : 16;
        struct pollfd *p = axi_realloc(&loop->alloc, loop->pfds, (size_t)loop->pcap * sizeof *p,
                                       (size_t)ncap * sizeof *p);
        if (!p)
            return AX_ENOMEM;
        loop->pfds = p;
        loop->pcap = ncap;
    }
    if (loop->plen == loop->tcap) {
        uint32_t ncap = loop->pcap;
        uint64_t *t = axi_realloc(&loop->alloc, loop->ptokens, (size_t)loop->tcap * sizeof *t,
                                  (size_t)ncap * sizeof *t);
        if (!t)
            return AX_ENOMEM;
        loop->ptokens = t;
        loop->tcap = ncap;
    }
    return 0;
}

static int pl_add(ax_loop *loop, int fd, unsigned events, uint64_t token, uint32_t *pos)
{
    int rc = reserve(loop);
    if (rc)
        return rc;
    struct pollfd *p = loop->pfds;
    uint32_t i = loop->plen++;
    p[i].fd = fd;
    p[i].events = to_poll(events);
    p[i].revents = 0;
    loop->ptokens[i] = token;
    *pos = i;
    return 0;
}

static int pl_mod(ax_loop *loop, int fd, unsigned events, uint64_t token, uint32_t pos)
{
    struct pollfd *p = loop->pfds;
    p[pos].fd = fd;
    p[pos].events = to_poll(events);
    loop->ptokens[pos] = token;
    return 0;
}

static void pl_del(ax_loop *loop, int fd, uint32_t pos)
{
    (void)fd;
    struct pollfd *p = loop->pfds;
    uint32_t last = --loop->plen;
    if (pos != last) {
        p[pos] = p[last];
        loop->ptokens[pos] = loop->ptokens[last];
        axi_io_set_pos(loop, loop->ptokens[pos], pos);
    }
}

static int pl_wait(ax_loop *loop, ax_duration timeout, axi_poll_event *out, int max)
{
    struct timespec ts, *tsp = NULL;
    if (timeout >= 0) {
        ts.tv_sec = (time_t)(timeout / 1000000000);
        ts.tv_nsec = (long)(timeout % 1000000000);
        tsp = &ts;
    }
    struct pollfd *p = loop->pfds;
    int n = ppoll(p, loop->plen, tsp, NULL);
    if (n < 0)
        return errno == EINTR ? 0 : axi_translate_errno(errno);
    int k = 0;
    for (uint32_t i = 0; i < loop->plen && n > 0 && k < max; i++) {
        if (!p[i].revents)
            continue;
        n--;
        unsigned e = 0;
        if (p[i].revents & POLLIN)
            e |= AX_READABLE;
        if (p[i].revents & POLLOUT)
            e |= AX_WRITABLE;
        if (p[i].revents & (POLLERR | POLLHUP | POLLNVAL))
            e |= AX_IOERR;
        out[k].token = loop->ptokens[i];
        out[k].events = e;
        k++;
    }
    return k;
}

static int pl_fd(const ax_loop *loop)
{
    (void)loop;
    return AX_ENOTSUP;
}

const axi_poller axi_poller_poll = {"poll", pl_init, pl_destroy, pl_add, pl_mod,
                                    pl_del, pl_wait, pl_fd};
