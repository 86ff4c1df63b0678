/* axon/loop.h - the event loop: poller, timers, fd watchers, embedding.
 *
 * One loop per thread.  Every function here must be called on the loop's
 * thread; the only thread-safe entry into axon is ax_system_post().
 *
 * One turn of the loop (ax_loop_step) is:
 *   1. wait for I/O (no wait if work is pending or ax_loop_stop was called)
 *   2. read the monotonic clock (once: ax_loop_now() is that reading)
 *   3. run every timer whose deadline has passed, in deadline order
 *   4. run fd watcher callbacks for the ready descriptors
 *   5. run the systems' dispatch passes (a bounded number of messages)
 */
#ifndef AXON_LOOP_H
#define AXON_LOOP_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ax_loop ax_loop;

/* Poller backends.  DEFAULT picks epoll on Linux and poll elsewhere. */
typedef enum ax_backend {
    AX_BACKEND_DEFAULT = 0,
    AX_BACKEND_EPOLL = 1,
    AX_BACKEND_POLL = 2
} ax_backend;

typedef struct ax_loop_options {
    ax_backend backend;           /* DEFAULT, EPOLL or POLL */
    const ax_allocator *allocator; /* NULL: malloc; copied, must outlive the loop */
    /* Busy polling: after a turn whose wait found I/O, poll without
     * blocking (yielding the CPU between polls) for up to this many
     * microseconds before sleeping in the poller.  It trades CPU time
     * for latency when a peer answers within microseconds (a sleep and
     * wake-up costs several on a VM).  It stops, and backs off for a
     * growing number of turns, when another thread wants the CPU.  Only
     * waits that could block poll: a timer due within the window, an
     * idle loop and ax_loop_step(loop, 0) never do.
     * 0 (the default): never; at most AX_LOOP_BUSY_POLL_MAX. */
    uint32_t busy_poll_us;
} ax_loop_options;

#define AX_LOOP_BUSY_POLL_MAX 1000000u /* 1 s */

/* Create a loop.  `opt` may be NULL for defaults.  On success *out owns a
 * loop the caller frees with ax_loop_free().
 * Errors: AX_EINVAL (out NULL, unknown backend, busy_poll_us past
 * AX_LOOP_BUSY_POLL_MAX), AX_ENOTSUP (backend not built on this
 * platform), AX_ENOMEM, AX_ESYS (epoll_create/eventfd failed). */
AX_EXTERN int ax_loop_new(const ax_loop_options *opt, ax_loop **out);

/* Free a loop.  Every system on it must have been freed and every fd
 * watcher stopped first.  Pending timers are dropped (their callbacks do
 * not run).  Errors: AX_EINVAL (NULL), AX_EBUSY (a system or watcher is
 * still attached; nothing is freed). */
AX_EXTERN int ax_loop_free(ax_loop *loop);

/* Run turns until ax_loop_stop() is called or the loop is idle: nothing
 * runnable, no timers, no active fd watchers and no ax_loop_ref() holds.
 * Returns 0, AX_EINVAL (NULL), AX_EBUSY when called re-entrantly from a
 * callback, or the poller's error (AX_ESYS) if waiting failed. */
AX_EXTERN int ax_loop_run(ax_loop *loop);

/* Run one turn.  It waits for I/O at most `max_wait` (0: do not wait,
 * AX_FOREVER: until something happens), and never waits when work is
 * pending or when the loop is idle (nothing could ever wake it).
 * Returns 1 if the loop still has something to do after the turn, 0 if it
 * is idle, AX_EBUSY when called re-entrantly, AX_ESYS if the poller failed. */
AX_EXTERN int ax_loop_step(ax_loop *loop, ax_duration max_wait);

/* Ask ax_loop_run() to return after the current turn (and the current
 * ax_loop_step() not to wait).  The request is cleared when that run or
 * step returns. */
AX_EXTERN void ax_loop_stop(ax_loop *loop);

/* Keep the loop alive: while holds > 0, ax_loop_run() does not return for
 * lack of work (use it while another thread may still ax_system_post()). */
AX_EXTERN void ax_loop_ref(ax_loop *loop);
AX_EXTERN void ax_loop_unref(ax_loop *loop);

/* The monotonic time (ns) read at the start of the current turn. */
AX_EXTERN int64_t ax_loop_now(const ax_loop *loop);

/* Re-read the clock now (for callbacks that ran for a long time). */
AX_EXTERN int64_t ax_loop_update_time(ax_loop *loop);

/* The name of the backend in use: "epoll" or "poll". */
AX_EXTERN const char *ax_loop_backend_name(const ax_loop *loop);

/* Counters since ax_loop_new(), for tuning busy_poll_us: a busy-poll
 * window that rarely finds I/O only burns CPU; one often contended means
 * the loop shares its CPU. */
typedef struct ax_loop_counters {
    uint64_t turns;          /* turns run by ax_loop_run and ax_loop_step */
    uint64_t waits;          /* poller waits with a timeout (they may find
                                I/O at once); busy polling saves these */
    uint64_t busy_polls;     /* busy-poll windows that found nothing ready
                                at first and so polled on */
    uint64_t busy_hits;      /* ... and found I/O within the window */
    uint64_t busy_contended; /* ... cut short: another thread wanted the CPU */
} ax_loop_counters;

/* Copy the loop's counters into *out.  Errors: AX_EINVAL (NULL). */
AX_EXTERN int ax_loop_stats(const ax_loop *loop, ax_loop_counters *out);

/* ---- embedding ------------------------------------------------------- */

/* A descriptor that becomes readable whenever the loop has I/O to handle,
 * for driving the loop from another program's poller: wait until this fd
 * is readable or ax_loop_timeout() elapses, then call ax_loop_step(loop, 0).
 * Errors: AX_ENOTSUP for the poll backend (it has no single descriptor). */
AX_EXTERN int ax_loop_backend_fd(const ax_loop *loop);

/* How long an outer poller may sleep before the loop needs a turn:
 * 0 if work is pending now, AX_FOREVER if only I/O can wake it, otherwise
 * the ns until the next timer, counted from ax_loop_now() (a host that did
 * other work since the last turn calls ax_loop_update_time() first). */
AX_EXTERN ax_duration ax_loop_timeout(ax_loop *loop);

/* ---- timers ---------------------------------------------------------- */

/* A timer handle: a value.  After the timer has fired (one-shot) or been
 * stopped, the handle is stale and ax_timer_stop() returns AX_ENOENT. */
typedef struct ax_timer {
    uint32_t index;
    uint32_t cookie;
} ax_timer;

typedef void (*ax_timer_fn)(ax_loop *loop, ax_timer timer, void *arg);

/* Start a timer that calls cb(loop, handle, arg) `delay` ns after
 * ax_loop_now() (the clock read at the start of this turn), then
 * every `repeat` ns if repeat > 0.  O(log n).  Timers with equal deadlines
 * fire in start order.  A timer started from a timer callback never fires
 * in the same pass.  `out` may be NULL.
 * Errors: AX_EINVAL (NULL cb, negative delay/repeat), AX_ENOMEM. */
AX_EXTERN int ax_timer_start(ax_loop *loop, ax_duration delay, ax_duration repeat,
                             ax_timer_fn cb, void *arg, ax_timer *out);

/* Stop a timer.  O(log n).  Safe from any callback, including its own.
 * Errors: AX_ENOENT (already fired or stopped), AX_EINVAL (NULL loop). */
AX_EXTERN int ax_timer_stop(ax_loop *loop, ax_timer timer);

/* Number of armed timers. */
AX_EXTERN size_t ax_timer_count(const ax_loop *loop);

/* ---- fd watchers ----------------------------------------------------- */

typedef struct ax_io ax_io;

enum {
    AX_READABLE = 1, /* data (or EOF) to read, or a connection to accept */
    AX_WRITABLE = 2, /* room to write, or a connect() completed */
    AX_IOERR = 4     /* error or hang-up: reported, never requested */
};

/* cb receives the ready events (AX_READABLE|AX_WRITABLE|AX_IOERR). */
typedef void (*ax_io_fn)(ax_loop *loop, ax_io *w, int fd, unsigned events, void *arg);

/* Watch `fd` for `events`.  The fd stays owned by the caller; stop the
 * watcher before closing it.  One watcher per fd.  The watcher keeps the
 * loop alive while its events are non-zero.
 * Errors: AX_EINVAL, AX_EEXIST (fd already watched), AX_ENOMEM,
 * AX_EBADF (epoll refused the fd), AX_ESYS. */
AX_EXTERN int ax_io_start(ax_loop *loop, int fd, unsigned events, ax_io_fn cb,
                          void *arg, ax_io **out);

/* Change the watched events (0 pauses the watcher).  Errors: AX_EINVAL,
 * or AX_EBADF / AX_ESYS from the poller. */
AX_EXTERN int ax_io_update(ax_io *w, unsigned events);

/* Stop and free a watcher.  Safe from any callback, including its own:
 * events already collected for it in this turn are discarded. */
AX_EXTERN void ax_io_stop(ax_io *w);

#ifdef __cplusplus
}
#endif
#endif /* AXON_LOOP_H */
