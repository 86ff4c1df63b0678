/* transport.h - the transport contract every link type implements, and the
 * socket helpers the stream transports share.
 *
 * A transport moves bytes of one connection.  It is driven by the loop
 * through one pollable descriptor (a socket today; an eventfd for the
 * in-process thread links to come) and five operations.  When an
 * operation returns AX_EAGAIN it sets c->want to the events it waits for
 * (TLS may need to write in order to read, and the reverse); pending()
 * reports bytes the transport already holds (decrypted TLS records), which
 * the loop must treat as readable work without waiting for the fd. */
#ifndef AXN_TRANSPORT_H
#define AXN_TRANSPORT_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "axon/common.h"

typedef struct axn_conn axn_conn;

typedef struct axn_stream_ops {
    const char *name; /* "tcp", "unix", "tls" */
    /* Run the transport's own handshake after the connection is made:
     * 0 done, AX_EAGAIN (call again when c->want is ready), or an error
     * (c->err_text may say why). */
    int (*start)(axn_conn *c);
    /* Read up to cap bytes: the count, 0 at end of stream, AX_EAGAIN, or
     * an error. */
    long (*read)(axn_conn *c, void *buf, size_t cap);
    /* Write from iov[0..n): the bytes taken (maybe fewer), AX_EAGAIN, or
     * an error.  The bytes not taken must be offered again unchanged. */
    long (*writev)(axn_conn *c, const struct iovec *iov, int n);
    /* Non-zero when read() has data without touching the descriptor. */
    int (*pending)(const axn_conn *c);
    /* Release the transport's state (the descriptor is closed by the caller). */
    void (*close)(axn_conn *c);
} axn_stream_ops;

/* Plain sockets (TCP and Unix alike). */
extern const axn_stream_ops axn_plain_ops;
/* TLS over a socket (tls.c). */
extern const axn_stream_ops axn_tls_ops;

/* ---- addresses -------------------------------------------------------- */

enum { AXN_AF_TCP = 1, AXN_AF_UNIX = 2 };

typedef struct axn_addr {
    int kind;
    char host[256];     /* TCP: without brackets */
    char port[8];       /* TCP: decimal */
    char path[108];     /* Unix: sun_path (abstract: path[0] == '\0') */
    size_t path_len;    /* Unix: bytes of path used */
    char text[300];     /* as given, for logs */
} axn_addr;

/* Parse "host:port", "[v6]:port", "/path", "./path", "unix:path", "@name".
 * Errors: AX_EINVAL. */
int axn_addr_parse(const char *s, axn_addr *out);

/* ---- socket helpers (sock.c) ----------------------------------------- */

/* Bind and listen; *fd is non-blocking, close-on-exec.  bound[0..cap)
 * receives the bound address as text.  Errors: AX_EINVAL, AX_EADDRINUSE,
 * AX_ESYS. */
int axn_sock_listen(const axn_addr *a, int *fd, char *bound, size_t cap);
/* Start a non-blocking connect.  0 connected, AX_EAGAIN in progress (wait
 * for writable, then axn_sock_connected), or an error. */
int axn_sock_connect(const struct sockaddr *sa, socklen_t len, int *fd);
/* After writable: 0 connected, or the connect error. */
int axn_sock_connected(int fd);
/* Accept one connection (non-blocking, close-on-exec).  AX_EAGAIN when
 * none is waiting.  peer[0..cap) receives its address as text. */
int axn_sock_accept(int lfd, int *fd, char *peer, size_t cap);
/* Unix socket address for a; returns its length. */
socklen_t axn_sock_unix_addr(const axn_addr *a, struct sockaddr_storage *ss);
/* Text form of a socket address. */
void axn_sock_name(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap);

#endif /* AXN_TRANSPORT_H */
