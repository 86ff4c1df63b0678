/* poll_epoll.c - the epoll backend (Linux).  Level-triggered; the epoll
 * descriptor doubles as the loop's pollable fd for embedding. */
#ifdef __linux__
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop/loop_int.h"

static uint32_t to_epoll(unsigned ev)
{
    uint32_t e = 0;
    if (ev & AX_READABLE)
        e |= EPOLLIN | EPOLLRDHUP;
    if (ev & AX_WRITABLE)
        e |= EPOLLOUT;
    return e;
}

static int ep_init(ax_loop *loop)
{
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    return loop->epfd < 0 ? axi_translate_errno(errno) : 0;
}

static void ep_destroy(ax_loop *loop)
{
    if (loop->epfd >= 0)
        close(loop->epfd);
    loop->epfd = -1;
}

static int ep_ctl(ax_loop *loop, int op, int fd, unsigned events, uint64_t token)
{
    struct epoll_event ev;
    ev.events = to_epoll(events);
    ev.data.u64 = token;
    if (epoll_ctl(loop->epfd, op, fd, &ev) == 0)
        return 0;
    /* EPERM: a regular file or other fd epoll cannot watch. */
    return errno == EPERM ? AX_EBADF : axi_translate_errno(errno);
}

static int ep_add(ax_loop *loop, int fd, unsigned events, uint64_t token, uint32_t *pos)
{
    *pos = 0;
    return ep_ctl(loop, EPOLL_CTL_ADD, fd, events, token);
}

static int ep_mod(ax_loop *loop, int fd, unsigned events, uint64_t token, uint32_t pos)
{
    (void)pos;
    return ep_ctl(loop, EPOLL_CTL_MOD, fd, events, token);
}

static void ep_del(ax_loop *loop, int fd, uint32_t pos)
{
    (void)pos;
    struct epoll_event ev = {0};
    /* ENOENT/EBADF: the fd was closed before its watcher stopped (a caller
     * bug the kernel already cleaned up after); nothing to undo. */
    (void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, &ev);
}

static int ep_wait(ax_loop *loop, ax_duration timeout, axi_poll_event *out, int max)
{
    struct epoll_event evs[AXI_MAX_EVENTS];
    if (max > AXI_MAX_EVENTS)
        max = AXI_MAX_EVENTS;
    int ms;
    if (timeout < 0)
        ms = -1;
    else if (timeout == 0)
        ms = 0;
    else if (timeout >= (ax_duration)INT32_MAX * 1000000)
        ms = INT32_MAX;
    else
        ms = (int)((timeout + 999999) / 1000000); /* round up: never wake early */
    int n = epoll_wait(loop->epfd, evs, max, ms);
    if (n < 0)
        return errno == EINTR ? 0 : axi_translate_errno(errno);
    for (int i = 0; i < n; i++) {
        unsigned e = 0;
        if (evs[i].events & (EPOLLIN | EPOLLRDHUP))
            e |= AX_READABLE;
        if (evs[i].events & EPOLLOUT)
            e |= AX_WRITABLE;
        if (evs[i].events & (EPOLLERR | EPOLLHUP))
            e |= AX_IOERR;
        out[i].token = evs[i].data.u64;
        out[i].events = e;
    }
    return n;
}

static int ep_fd(const ax_loop *loop)
{
    return loop->epfd;
}

const axi_poller axi_poller_epoll = {"epoll", ep_init, ep_destroy, ep_add, ep_mod,
                                     ep_del,  ep_wait, ep_fd};
#endif
