/* axon/coro.h - coroutine actors: handlers that may wait.
 *
 * A coroutine actor's handler runs on its own stack (mmap'd, guard page
 * below, cached for reuse) and may call ax_sleep(), ax_ask() and the
 * coroutine I/O functions.  Only one handler per actor runs at a time:
 * while it waits, new messages queue in its mailbox and are handled, in
 * order, after it returns.  Behaviour actors get the same by marking a
 * handler AX_HANDLER_ASYNC.
 *
 * Every wait below returns AX_ENOTCORO when called from a handler that is
 * not running as a coroutine, and AX_ECANCELED once the actor is being
 * stopped (a poison pill reached it while it waited, or its system shut
 * down): the handler should then return promptly.  After a cancelled
 * handler returns, the actor ends (reason AX_REASON_POISON or
 * AX_REASON_SHUTDOWN) and the messages still queued become dead letters.
 */
#ifndef AXON_CORO_H
#define AXON_CORO_H

#include <sys/socket.h>

#include "actor.h"
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Spawn a coroutine actor.  As ax_spawn(); opt->stack_size picks its stack
 * size (0: the system's default, 64 KiB unless ax_system_options says
 * otherwise).  A handler that overflows its stack hits the guard page and
 * the process aborts with a report naming the actor. */
AX_EXTERN int ax_spawn_coro(ax_system *sys, ax_receive_fn receive, void *state,
                            const ax_spawn_options *opt, ax_id *out);

/* Suspend the handler for `d` ns (0: until the loop has gone round once).
 * Returns 0, AX_EINVAL (d < 0), AX_ECANCELED, AX_ENOTCORO, AX_ENOMEM. */
AX_EXTERN int ax_sleep(ax_ctx *ctx, ax_duration d);

/* Send `type`/data[0..size) to `to` with a one-shot reply address as the
 * sender, and wait for the reply or `timeout` ns (AX_FOREVER: no limit).
 * On success *reply points at the reply message, valid until the
 * handler's next ax_ask() or until it returns (copy what you keep).  The target's ax_reply() (or any send to the reply address)
 * answers; the first answer wins, later ones (and any answer after a
 * timeout) are dead letters.  If the target has ended, or ends before
 * answering, ax_ask returns AX_ESTALE at once rather than at the timeout.
 * Errors: as ax_send(), AX_ETIMEDOUT, AX_ESTALE, AX_ECANCELED,
 * AX_ENOTCORO, AX_EINVAL (reply NULL). */
AX_EXTERN int ax_ask(ax_ctx *ctx, ax_id to, uint32_t type, const void *data, size_t size,
                     const ax_msg **reply, ax_duration timeout);

/* The callback form of ask for plain (and sync behaviour) actors.  cb runs
 * later, exactly once, as a message of the asking actor: in its mailbox
 * order, never while another of its handlers runs or waits (ctx->self is
 * the asker, its state is passed; ax_sender/ax_reply refer to the
 * answer's sender).  It gets status 0 and the reply, or AX_ETIMEDOUT /
 * AX_ESTALE (target ended) and reply NULL.  If the asker has ended by
 * then, cb does not run (a reply is then a dead letter).
 * Errors (cb never runs): as ax_send(), AX_ESTALE, AX_EINVAL, AX_ENOMEM. */
typedef void (*ax_ask_fn)(void *state, ax_ctx *ctx, int status, const ax_msg *reply,
                          void *arg);
AX_EXTERN int ax_ask_cb(ax_ctx *ctx, ax_id to, uint32_t type, const void *data, size_t size,
                        ax_duration timeout, ax_ask_fn cb, void *arg);

/* ---- coroutine I/O on the system's loop ------------------------------ */
/* The fd must be non-blocking (these functions set O_NONBLOCK if it is
 * not) and not watched by anyone else (one watcher per fd).  `timeout` is
 * in ns, AX_FOREVER for none.  OS errors are translated (AX_ECONNRESET,
 * AX_EPIPE, AX_ECONNREFUSED, ..., else AX_ESYS). */

/* Read up to len bytes.  Returns the count (> 0), 0 at end of file, or an
 * error: AX_ETIMEDOUT, AX_ECANCELED, AX_ENOTCORO, AX_EEXIST (fd watched
 * elsewhere), AX_EINVAL. */
AX_EXTERN long ax_read(ax_ctx *ctx, int fd, void *buf, size_t len, ax_duration timeout);

/* Write all len bytes (waiting for room as needed).  Returns len or an
 * error; on AX_ETIMEDOUT/AX_ECANCELED part of the data may have been
 * written. */
AX_EXTERN long ax_write(ax_ctx *ctx, int fd, const void *buf, size_t len, ax_duration timeout);

/* Accept a connection on a listening socket.  Returns the new fd
 * (non-blocking, close-on-exec; the caller owns it) or an error. */
AX_EXTERN int ax_accept(ax_ctx *ctx, int listen_fd, ax_duration timeout);

/* Connect `fd` to addr and wait until the connection is established.
 * Returns 0 or an error (AX_ECONNREFUSED, AX_ETIMEDOUT, ...). */
AX_EXTERN int ax_connect(ax_ctx *ctx, int fd, const struct sockaddr *addr, socklen_t addrlen,
                         ax_duration timeout);

#ifdef __cplusplus
}
#endif
#endif /* AXON_CORO_H */
