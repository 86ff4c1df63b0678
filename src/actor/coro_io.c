/* coro_io.c - read, write, accept and connect that wait on the system's
 * own loop: try the call; on EAGAIN watch the fd (and arm the timeout),
 * suspend the handler, and try again when the loop says it is ready. */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actor/coro_int.h"

static int ensure_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return AX_EBADF;
    if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return axi_translate_errno(errno);
    return 0;
}

static void io_ready(ax_loop *loop, ax_io *w, int fd, unsigned events, void *arg)
{
    (void)loop;
    (void)w;
    (void)fd;
    (void)events;
    axi_coro_rec *rec = arg;
    axi_coro_wake(rec->ctx.sys, rec, 0);
}

/* Time left until deadline (-1: none). */
static ax_duration remaining(ax_system *s, int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t left = deadline - ax_loop_update_time(s->loop);
    return left > 0 ? left : 0;
}

/* Wait until fd is ready for `events` or the deadline passes. */
static int wait_fd(axi_coro_rec *rec, int fd, unsigned events, int64_t deadline)
{
    ax_system *s = rec->ctx.sys;
    if (rec->cancelled)
        return AX_ECANCELED;
    ax_duration left = remaining(s, deadline);
    if (left == 0)
        return AX_ETIMEDOUT;
    int rc = ax_io_start(s->loop, fd, events, io_ready, rec, &rec->io);
    if (rc) {
        rec->io = NULL;
        return rc;
    }
    rc = axi_coro_arm_timer(s, rec, left, AX_ETIMEDOUT);
    if (rc) {
        ax_io_stop(rec->io);
        rec->io = NULL;
        return rc;
    }
    return axi_coro_wait(rec); /* stops the watcher and the timer */
}

static int64_t deadline_of(ax_system *s, ax_duration timeout)
{
    return timeout < 0 ? -1 : ax_loop_update_time(s->loop) + timeout;
}

/* The common start of every call: a coroutine handler, a valid fd (made
 * non-blocking), a buffer if there are bytes, and the deadline. */
static int begin(ax_ctx *ctx, int fd, const void *buf, size_t len, ax_duration timeout,
                 axi_coro_rec **rec, int64_t *deadline)
{
    *rec = axi_coro_of(ctx);
    if (!*rec)
        return AX_ENOTCORO;
    if (fd < 0 || (!buf && len))
        return AX_EINVAL;
    if ((*rec)->cancelled)
        return AX_ECANCELED;
    *deadline = deadline_of(ctx->sys, timeout);
    return ensure_nonblock(fd);
}

long ax_read(ax_ctx *ctx, int fd, void *buf, size_t len, ax_duration timeout)
{
    axi_coro_rec *rec;
    int64_t deadline;
    int rc = begin(ctx, fd, buf, len, timeout, &rec, &deadline);
    if (rc)
        return rc;
    for (;;) {
        ssize_t n = read(fd, buf, len);
        if (n >= 0)
            return (long)n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return axi_translate_errno(errno);
        rc = wait_fd(rec, fd, AX_READABLE, deadline);
        if (rc)
            return rc;
    }
}

/* send() with MSG_NOSIGNAL on sockets (a closed peer is AX_EPIPE, not a
 * SIGPIPE that kills the process); write() on everything else. */
static ssize_t write_some(int fd, const char *p, size_t n)
{
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == ENOTSOCK)
        w = write(fd, p, n);
    return w;
}

long ax_write(ax_ctx *ctx, int fd, const void *buf, size_t len, ax_duration timeout)
{
    axi_coro_rec *rec;
    int64_t deadline;
    int rc = begin(ctx, fd, buf, len, timeout, &rec, &deadline);
    if (rc)
        return rc;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write_some(fd, (const char *)buf + done, len - done);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return axi_translate_errno(errno);
        rc = wait_fd(rec, fd, AX_WRITABLE, deadline);
        if (rc)
            return rc;
    }
    return (long)len;
}

int ax_accept(ax_ctx *ctx, int listen_fd, ax_duration timeout)
{
    axi_coro_rec *rec;
    int64_t deadline;
    int rc = begin(ctx, listen_fd, NULL, 0, timeout, &rec, &deadline);
    if (rc)
        return rc;
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0)
            return fd;
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return axi_translate_errno(errno);
        rc = wait_fd(rec, listen_fd, AX_READABLE, deadline);
        if (rc)
            return rc;
    }
}

int ax_connect(ax_ctx *ctx, int fd, const struct sockaddr *addr, socklen_t addrlen,
               ax_duration timeout)
{
    axi_coro_rec *rec;
    int64_t deadline;
    int rc = begin(ctx, fd, NULL, 0, timeout, &rec, &deadline);
    if (rc)
        return rc;
    if (!addr)
        return AX_EINVAL;
    if (connect(fd, addr, addrlen) == 0)
        return 0;
    if (errno != EINPROGRESS && errno != EINTR)
        return axi_translate_errno(errno);
    rc = wait_fd(rec, fd, AX_WRITABLE, deadline);
    if (rc)
        return rc;
    int err = 0;
    socklen_t elen = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
        return axi_translate_errno(errno);
    return err ? axi_translate_errno(err) : 0;
}
