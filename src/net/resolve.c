/* resolve.c - host name resolution off the loop thread.
 *
 * getaddrinfo() may block for seconds (DNS), so each lookup runs on a
 * short-lived detached thread that queues its result and wakes the loop
 * through a pipe watched like any descriptor.  The shared part (queue,
 * pipe, reference count) is allocated with malloc, not the system's
 * allocator, because the threads touch it: the allocator need not be
 * thread-safe.  A cancelled request still completes on its thread and is
 * then discarded; the shared part is freed by whoever drops the last
 * reference, the loop or the last thread. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "net/net_int.h"

struct axn_resolve_req {
    axn_resolver *r;
    axn_resolve_req *next;
    axn_resolve_fn cb;
    void *arg;
    int cancelled;
    int err;
    int n;
    struct sockaddr_storage addrs[8];
    socklen_t lens[8];
    char host[256];
    char port[8];
};

struct axn_resolver {
    pthread_mutex_t mu;
    int refs;              /* the loop's, plus one per running thread */
    int fds[2];
    ax_io *io;
    axn_resolve_req *done; /* completed, newest first */
};
static void release(axn_resolver *r)
{
    pthread_mutex_lock(&r->mu);
    int last = --r->refs == 0;
    pthread_mutex_unlock(&r->mu);
    if (last) {
        axn_resolve_req *q = r->done;
        while (q) {
            axn_resolve_req *next = q->next;
            free(q);
            q = next;
        }
        close(r->fds[0]);
        close(r->fds[1]);
        pthread_mutex_destroy(&r->mu);
        free(r);
    }
}

static void *worker(void *arg)
{
    axn_resolve_req *q = arg;
    axn_resolver *r = q->r;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
    int rc = getaddrinfo(q->host, q->port, &hints, &res);
    if (rc != 0 || !res) {
        q->err = AX_ENOENT;
    } else {
        for (struct addrinfo *ai = res; ai && q->n < 8; ai = ai->ai_next) {
            if (ai->ai_addrlen > sizeof q->addrs[0])
                continue;
            memcpy(&q->addrs[q->n], ai->ai_addr, ai->ai_addrlen);
            q->lens[q->n++] = ai->ai_addrlen;
        }
        q->err = q->n ? 0 : AX_ENOENT;
    }
    if (res)
        freeaddrinfo(res);
    pthread_mutex_lock(&r->mu);
    q->next = r->done;
    r->done = q;
    pthread_mutex_unlock(&r->mu);
    char one = 1;
    ssize_t w;
    do
        w = write(r->fds[1], &one, 1);
    while (w < 0 && errno == EINTR);
    release(r);
    return NULL;
}

static void on_wake(ax_loop *loop, ax_io *w, int fd, unsigned events, void *arg)
{
    (void)loop;
    (void)w;
    (void)events;
    axn_resolver *r = arg;
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {
    }
    pthread_mutex_lock(&r->mu);
    axn_resolve_req *q = r->done;
    r->done = NULL;
    pthread_mutex_unlock(&r->mu);
    /* Completion order does not matter: each request has its own callback. */
    while (q) {
        axn_resolve_req *next = q->next;
        if (!q->cancelled)
            q->cb(q->arg, q->err, q->addrs, q->lens, q->n);
        free(q);
        q = next;
    }
}

int axn_resolver_new(axn_net *n, axn_resolver **out)
{
    axn_resolver *r = calloc(1, sizeof *r);
    if (!r)
        return AX_ENOMEM;
    if (pipe2(r->fds, O_NONBLOCK | O_CLOEXEC) < 0) {
        free(r);
        return AX_ESYS;
    }
    pthread_mutex_init(&r->mu, NULL);
    r->refs = 1;
    int rc = ax_io_start(n->loop, r->fds[0], AX_READABLE, on_wake, r, &r->io);
    if (rc) {
        close(r->fds[0]);
        close(r->fds[1]);
        pthread_mutex_destroy(&r->mu);
        free(r);
        return rc;
    }
    /* Waiting for a lookup is not work of its own: the connection that
     * asked keeps the loop alive through its timers. */
    axi_io_set_weak(r->io, 1);
    *out = r;
    return 0;
}

void axn_resolver_free(axn_resolver *r)
{
    if (!r)
        return;
    ax_io_stop(r->io);
    r->io = NULL;
    release(r);
}

int axn_resolve(axn_resolver *r, const char *host, const char *port, axn_resolve_fn cb, void *arg,
                axn_resolve_req **out)
{
    axn_resolve_req *q = calloc(1, sizeof *q);
    if (!q)
        return AX_ENOMEM;
    q->r = r;
    q->cb = cb;
    q->arg = arg;
    snprintf(q->host, sizeof q->host, "%s", host);
    snprintf(q->port, sizeof q->port, "%s", port);
    pthread_mutex_lock(&r->mu);
    r->refs++;
    pthread_mutex_unlock(&r->mu);
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, 256 * 1024);
    pthread_t th;
    int rc = pthread_create(&th, &at, worker, q);
    pthread_attr_destroy(&at);
    if (rc != 0) {
        free(q);
        release(r);
        return AX_ESYS;
    }
    *out = q;
    return 0;
}

void axn_resolve_cancel(axn_resolve_req *q)
{
    /* Only the loop thread reads the flag, in on_wake. */
    if (q)
        q->cancelled = 1;
}
