/* sock.c - addresses and the plain socket transport (TCP and Unix): the
 * one place that turns socket errno values into AX_E* codes. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/net_int.h"

/* ---- addresses -------------------------------------------------------- */

static int parse_port(const char *p, char *out)
{
    size_t n = strlen(p);
    if (n == 0 || n > 5)
        return AX_EINVAL;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return AX_EINVAL;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (v > 65535)
        return AX_EINVAL;
    snprintf(out, 8, "%u", v);
    return 0;
}

int axn_addr_parse(const char *s, axn_addr *a)
{
    memset(a, 0, sizeof *a);
    if (!s || !*s)
        return AX_EINVAL;
    size_t len = strlen(s);
    if (len >= sizeof a->text)
        return AX_EINVAL;
    memcpy(a->text, s, len + 1);
    const char *path = NULL;
    if (strncmp(s, "unix:", 5) == 0)
        path = s + 5;
    else if (s[0] == '/' || s[0] == '.' || s[0] == '@')
        path = s;
    if (path) {
        size_t n = strlen(path);
        if (n == 0 || n >= sizeof a->path)
            return AX_EINVAL;
        a->kind = AXN_AF_UNIX;
        if (path[0] == '@') {
            if (n < 2)
                return AX_EINVAL;
            a->path[0] = '\0';
            memcpy(a->path + 1, path + 1, n - 1);
            a->path_len = n;
        } else {
            memcpy(a->path, path, n + 1);
            a->path_len = n + 1;
        }
        return 0;
    }
    a->kind = AXN_AF_TCP;
    const char *colon;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':' || close == s + 1)
            return AX_EINVAL;
        size_t hn = (size_t)(close - s - 1);
        if (hn >= sizeof a->host)
            return AX_EINVAL;
        memcpy(a->host, s + 1, hn);
        a->host[hn] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return AX_EINVAL;
        size_t hn = (size_t)(colon - s);
        if (hn >= sizeof a->host || memchr(s, ':', hn))
            return AX_EINVAL; /* a bare v6 address needs brackets */
        memcpy(a->host, s, hn);
        a->host[hn] = '\0';
    }
    return parse_port(colon + 1, a->port);
}

socklen_t axn_sock_unix_addr(const axn_addr *a, struct sockaddr_storage *ss)
{
    struct sockaddr_un *un = (struct sockaddr_un *)ss;
    memset(ss, 0, sizeof *ss);
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, a->path, a->path_len);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + a->path_len);
}

void axn_sock_name(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap)
{
    char host[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(buf, cap, "%s:%u", host, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(buf, cap, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else if (sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
        size_t n = len > offsetof(struct sockaddr_un, sun_path)
                       ? (size_t)len - offsetof(struct sockaddr_un, sun_path)
                       : 0;
        if (n == 0)
            snprintf(buf, cap, "unix:(unnamed)");
        else if (un->sun_path[0] == '\0')
            snprintf(buf, cap, "@%.*s", (int)(n - 1), un->sun_path + 1);
        else
            snprintf(buf, cap, "%.*s", (int)strnlen(un->sun_path, n), un->sun_path);
    } else {
        snprintf(buf, cap, "(unknown)");
    }
}

/* ---- sockets ---------------------------------------------------------- */

static int sock_err(int e)
{
    switch (e) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EINPROGRESS:
        return AX_EAGAIN;
    case EADDRINUSE:
        return AX_EADDRINUSE;
    case ENOENT:
        return AX_ENOENT;
    case ETIMEDOUT:
        return AX_ETIMEDOUT;
    case ENOMEM:
    case ENOBUFS:
        return AX_ENOMEM;
    case EINVAL:
    case EAFNOSUPPORT:
        return AX_EINVAL;
    default:
        return AX_ESYS;
    }
}

static void tune(int fd, int family)
{
    int one = 1;
    if (family == AF_INET || family == AF_INET6)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int numeric_bind_addr(const axn_addr *a, struct sockaddr_storage *ss, socklen_t *len)
{
    const char *host = a->host;
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    int rc = getaddrinfo((host[0] && strcmp(host, "*") != 0) ? host : NULL, a->port, &hints, &res);
    if (rc != 0 || !res)
        return AX_EINVAL;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* A Unix socket file nobody listens on any more (its process died). */
static int unix_stale(const struct sockaddr *sa, socklen_t len)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int rc = connect(fd, sa, len);
    int e = errno;
    close(fd);
    return rc < 0 && e == ECONNREFUSED;
}

int axn_sock_listen(const axn_addr *a, int *out, char *bound, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (a->kind == AXN_AF_UNIX) {
        len = axn_sock_unix_addr(a, &ss);
    } else {
        int rc = numeric_bind_addr(a, &ss, &len);
        if (rc)
            return rc;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return sock_err(errno);
    int one = 1;
    if (a->kind == AXN_AF_TCP)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        int e = errno;
        if (e == EADDRINUSE && a->kind == AXN_AF_UNIX && a->path[0] &&
            unix_stale((struct sockaddr *)&ss, len)) {
            unlink(a->path);
            if (bind(fd, (struct sockaddr *)&ss, len) == 0)
                goto bound_ok;
            e = errno;
        }
        close(fd);
        return sock_err(e);
    }
bound_ok:
    if (listen(fd, 128) < 0) {
        int e = errno;
        close(fd);
        return sock_err(e);
    }
    struct sockaddr_storage got;
    socklen_t glen = sizeof got;
    if (getsockname(fd, (struct sockaddr *)&got, &glen) == 0 && a->kind == AXN_AF_TCP)
        axn_sock_name((struct sockaddr *)&got, glen, bound, cap);
    else
        snprintf(bound, cap, "%s", a->text);
    *out = fd;
    return 0;
}

int axn_sock_connect(const struct sockaddr *sa, socklen_t len, int *out)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return sock_err(errno);
    tune(fd, sa->sa_family);
    *out = fd;
    if (connect(fd, sa, len) == 0)
        return 0;
    int e = errno;
    if (e == EINPROGRESS || e == EAGAIN)
        return AX_EAGAIN;
    close(fd);
    *out = -1;
    return e == ECONNREFUSED || e == ENOENT ? AX_ENOROUTE : sock_err(e);
}

int axn_sock_connected(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return sock_err(errno);
    if (err == 0)
        return 0;
    return err == ECONNREFUSED ? AX_ENOROUTE : sock_err(err);
}

int axn_sock_accept(int lfd, int *out, char *peer, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == EINTR || e == ECONNABORTED)
            return AX_EAGAIN;
        return sock_err(e);
    }
    tune(fd, ss.ss_family);
    axn_sock_name((struct sockaddr *)&ss, len, peer, cap);
    *out = fd;
    return 0;
}

/* ---- the plain transport --------------------------------------------- */

static int plain_start(axn_conn *c)
{
    (void)c;
    return 0;
}

static long plain_read(axn_conn *c, void *buf, size_t cap)
{
    for (;;) {
        ssize_t r = recv(c->fd, buf, cap, 0);
        if (r >= 0)
            return (long)r;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->want = AX_READABLE;
            return AX_EAGAIN;
        }
        snprintf(c->err_text, sizeof c->err_text, "recv: %s", strerror(errno));
        return AX_ESYS;
    }
}

static long plain_writev(axn_conn *c, const struct iovec *iov, int n)
{
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = (struct iovec *)iov;
    mh.msg_iovlen = (size_t)n;
    for (;;) {
        /* MSG_NOSIGNAL: a peer gone away is an error here, not SIGPIPE. */
        ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
        if (w >= 0)
            return (long)w;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->want = AX_WRITABLE;
            return AX_EAGAIN;
        }
        snprintf(c->err_text, sizeof c->err_text, "send: %s", strerror(errno));
        return AX_ESYS;
    }
}

static int plain_pending(const axn_conn *c)
{
    (void)c;
    return 0;
}

static void plain_close(axn_conn *c)
{
    (void)c;
}

const axn_stream_ops axn_plain_ops = {"plain", plain_start, plain_read, plain_writev,
                                      plain_pending, plain_close};
