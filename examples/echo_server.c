/* echo_server - a TCP echo server where each connection is a coroutine
 * actor using ax_read/ax_write: actors and I/O on one loop.
 *
 *   echo_server [port [max_connections]]
 *
 * It listens on 127.0.0.1:<port> (0, the default, picks a free port) and
 * prints "echo_server listening on 127.0.0.1:<port>".  A listener actor
 * waits in ax_accept() and spawns one coroutine actor per connection; that
 * actor echoes what it reads until the client closes, then closes its end
 * and stops.  The handlers read like blocking code, yet nothing blocks:
 * each wait suspends only its own actor, and the loop runs the others.
 *
 * With max_connections > 0 the server accepts that many connections and
 * exits (status 0) once they have all closed.  SIGINT or SIGTERM stops it
 * at any time: the system shuts down, every waiting handler sees
 * AX_ECANCELED and returns, and each actor's on_stop closes its socket. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "axon.h"

enum { MSG_START = 1 };

/* What every actor of the program shares (one loop thread: no locks). */
typedef struct app {
    int listen_fd;
    long max_conns; /* 0: no limit */
    long accepted;
    long live_conns; /* connection actors that have not ended */
    int listening;   /* the listener actor is alive */
    int signalled;   /* SIGINT/SIGTERM arrived */
    int sig_pipe[2]; /* the signal handler writes here; an actor reads */
} app;

/* ---- one actor per connection ------------------------------------------ */

typedef struct conn {
    app *app;
    int fd;
    char buf[64 * 1024]; /* on the heap: handler stacks are small */
} conn;

static void conn_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    conn *c = state;
    for (;;) {
        long n = ax_read(ctx, c->fd, c->buf, sizeof c->buf, AX_FOREVER);
        if (n == 0)
            break; /* the client closed: done */
        if (n < 0) {
            if (n != AX_ECANCELED && n != AX_ECONNRESET)
                fprintf(stderr, "echo_server: read: %s\n", ax_strerror((int)n));
            break;
        }
        /* A client that stops reading gets 30 s before we give up. */
        long w = ax_write(ctx, c->fd, c->buf, (size_t)n, AX_SEC(30));
        if (w < 0) {
            if (w != AX_ECANCELED && w != AX_EPIPE && w != AX_ECONNRESET)
                fprintf(stderr, "echo_server: write: %s\n", ax_strerror((int)w));
            break;
        }
    }
    ax_stop(ctx);
}

/* Runs however the actor ends (EOF, error, shutdown, or before it ever
 * ran), so the socket is closed exactly once. */
static void conn_stop(void *state, ax_ctx *ctx, int reason)
{
    (void)ctx;
    (void)reason;
    conn *c = state;
    close(c->fd);
    c->app->live_conns--;
    free(c);
}

/* ---- the listener ---------------------------------------------------------- */

static void listener_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    app *a = state;
    ax_system *sys = ax_ctx_system(ctx);
    while (a->max_conns == 0 || a->accepted < a->max_conns) {
        int fd = ax_accept(ctx, a->listen_fd, AX_FOREVER);
        if (fd < 0) {
            if (fd != AX_ECANCELED)
                fprintf(stderr, "echo_server: accept: %s\n", ax_strerror(fd));
            break;
        }
        conn *c = malloc(sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->app = a;
        c->fd = fd;
        ax_spawn_options so;
        memset(&so, 0, sizeof so);
        so.on_stop = conn_stop;
        ax_id id;
        int rc = ax_spawn_coro(sys, conn_receive, c, &so, &id);
        if (rc) {
            fprintf(stderr, "echo_server: spawn: %s\n", ax_strerror(rc));
            close(fd);
            free(c);
            continue;
        }
        a->accepted++;
        a->live_conns++;
        /* If this send failed, the actor would never run; stopping it
         * with a poison pill lets on_stop close the socket. */
        if (ax_send(ctx, id, MSG_START, NULL, 0) != 0)
            ax_send(ctx, id, AX_MSG_POISON, NULL, 0);
    }
    ax_stop(ctx);
}

static void listener_stop(void *state, ax_ctx *ctx, int reason)
{
    (void)ctx;
    (void)reason;
    app *a = state;
    close(a->listen_fd);
    a->listen_fd = -1;
    a->listening = 0;
}

/* ---- signals: a handler writes a byte, an actor reads it ------------------ */

static int sig_write_fd = -1;

static void on_signal(int sig)
{
    (void)sig;
    int saved = errno;
    if (write(sig_write_fd, "s", 1) < 0) {
        /* the pipe is full: a stop is already on its way */
    }
    errno = saved;
}

static void signal_receive(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    app *a = state;
    char b;
    long n = ax_read(ctx, a->sig_pipe[0], &b, 1, AX_FOREVER);
    if (n > 0)
        a->signalled = 1;
    ax_stop(ctx);
}

/* ---- main ---------------------------------------------------------------------- */

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    socklen_t len = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 128) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        perror("echo_server: listen");
        close(fd);
        return -1;
    }
    printf("echo_server listening on 127.0.0.1:%d\n", ntohs(sa.sin_port));
    fflush(stdout);
    return fd;
}

static int check(int rc, const char *what)
{
    if (rc != 0)
        fprintf(stderr, "echo_server: %s: %s (%s)\n", what, ax_strerror(rc), ax_errname(rc));
    return rc;
}

int main(int argc, char **argv)
{
    long port = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
    long max_conns = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
    if (port < 0 || port > 65535 || max_conns < 0) {
        fprintf(stderr, "usage: echo_server [port [max_connections]]\n");
        return 2;
    }
    app a;
    memset(&a, 0, sizeof a);
    a.max_conns = max_conns;
    signal(SIGPIPE, SIG_IGN);
    if (pipe2(a.sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        perror("echo_server: pipe");
        return 1;
    }
    sig_write_fd = a.sig_pipe[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    a.listen_fd = listen_on((int)port);
    if (a.listen_fd < 0)
        return 1;
    ax_loop *loop;
    ax_system *sys;
    if (check(ax_loop_new(NULL, &loop), "loop") || check(ax_system_new(loop, NULL, &sys), "system"))
        return 1;
    ax_id listener, sigwatch;
    if (check(ax_msg_register_pod(sys, MSG_START, "start", 0, 1), "register") ||
        check(ax_spawn_coro(sys, listener_receive, &a,
                            &(ax_spawn_options){.on_stop = listener_stop}, &listener),
              "spawn") ||
        check(ax_spawn_coro(sys, signal_receive, &a, NULL, &sigwatch), "spawn") ||
        check(ax_system_send(sys, ax_id_nil(), listener, MSG_START, NULL, 0), "send") ||
        check(ax_system_send(sys, ax_id_nil(), sigwatch, MSG_START, NULL, 0), "send"))
        return 1;
    a.listening = 1;

    /* Until a signal, or until the listener is done and every connection
     * has closed. */
    while (!a.signalled && (a.listening || a.live_conns > 0)) {
        int rc = ax_loop_step(loop, AX_FOREVER);
        if (rc < 0) {
            check(rc, "loop");
            break;
        }
    }
    /* Shutdown cancels whatever still waits (the signal reader, and after a
     * signal the listener and open connections): their on_stop hooks close
     * the sockets. */
    int rc = ax_system_free(sys);
    if (rc == 0)
        rc = ax_loop_free(loop);
    close(a.sig_pipe[0]);
    close(a.sig_pipe[1]);
    if (check(rc, "teardown"))
        return 1;
    fprintf(stderr, "echo_server: %ld connection(s) served%s\n", a.accepted,
            a.signalled ? ", stopped by a signal" : "");
    return 0;
}
