/* loop_int.h - the loop's private structure, the poller contract
 * (ax_plat_poller_*) every backend implements, and the hooks systems use
 * to run their dispatch passes on the loop. */
#ifndef AXI_LOOP_INT_H
#define AXI_LOOP_INT_H

#include "axon/loop.h"
#include "base/base.h"

/* At most this many ready descriptors are collected per poll call. */
#define AXI_MAX_EVENTS 1024

typedef struct axi_poll_event {
    uint64_t token; /* watcher slot | cookie << 32 */
    unsigned events; /* AX_READABLE | AX_WRITABLE | AX_IOERR */
} axi_poll_event;

/* ---- the platform poller contract ------------------------------------ */

typedef struct axi_poller {
    const char *name;
    /* Set up loop->backend; return 0 or AX_E*. */
    int (*init)(ax_loop *loop);
    void (*destroy)(ax_loop *loop);
    /* Start watching fd for events (non-zero).  *pos is backend-private
     * (the poll backend keeps its array index there). */
    int (*add)(ax_loop *loop, int fd, unsigned events, uint64_t token, uint32_t *pos);
    int (*mod)(ax_loop *loop, int fd, unsigned events, uint64_t token, uint32_t pos);
    void (*del)(ax_loop *loop, int fd, uint32_t pos);
    /* Wait at most timeout ns (-1 forever, 0 not at all); fill out[] and
     * return the count, or AX_E*.  EINTR returns 0. */
    int (*wait)(ax_loop *loop, ax_duration timeout, axi_poll_event *out, int max);
    /* The single pollable descriptor, or AX_ENOTSUP. */
    int (*backend_fd)(const ax_loop *loop);
} axi_poller;

extern const axi_poller axi_poller_epoll;
extern const axi_poller axi_poller_poll;

/* ---- runners: the systems' dispatch passes -------------------------- */

typedef struct axi_runner axi_runner;
struct axi_runner {
    /* Non-zero when run() has work now (the loop will not sleep). */
    int (*pending)(void *arg);
    void (*run)(void *arg);
    void *arg;
    axi_runner *next;
};

void axi_loop_add_runner(ax_loop *loop, axi_runner *r);
/* Add a runner that runs after every other (the links layer's flush must
 * follow the dispatch passes of the turn). */
void axi_loop_add_runner_last(ax_loop *loop, axi_runner *r);
void axi_loop_remove_runner(ax_loop *loop, axi_runner *r);

/* ---- timers (timer.c) ------------------------------------------------ */

typedef struct axi_timer_slot {
    int64_t deadline;
    ax_duration repeat;
    ax_timer_fn cb;
    void *arg;
    void (*drop)(void *arg); /* called when stopped or dropped unfired */
    const void *owner;       /* for axi_timer_drop_owner() */
    uint32_t heap_pos;       /* index in the heap; next free slot when free */
    uint32_t cookie;         /* even: free; odd: armed */
} axi_timer_slot;

typedef struct axi_heap_ent {
    int64_t deadline;
    uint64_t seq; /* start order: ties fire FIFO; newer than a pass waits */
    uint32_t slot;
    uint32_t pad;
} axi_heap_ent;

typedef struct axi_timers {
    axi_timer_slot *slots;
    uint32_t nslots, cap_slots, free_head;
    axi_heap_ent *heap;
    uint32_t len, cap;
    uint64_t seq;
} axi_timers;

/* ax_timer_start() with a drop hook and an owner tag (either may be NULL). */
int axi_timer_start(ax_loop *loop, ax_duration delay, ax_duration repeat, ax_timer_fn cb,
                    void *arg, void (*drop)(void *), const void *owner, ax_timer *out);
/* Stop every timer whose owner is `owner`, calling its drop hook. */
void axi_timer_drop_owner(ax_loop *loop, const void *owner);
/* Run the due timers; return how many ran. */
int axi_timers_run(ax_loop *loop);
/* ns until the next deadline from loop->now (0 if due), or -1 if none. */
ax_duration axi_timers_next(const ax_loop *loop);
void axi_timers_free(ax_loop *loop);

/* ---- fd watchers (io.c) ---------------------------------------------- */

struct ax_io {
    ax_loop *loop;
    ax_io_fn cb;
    void *arg;
    int fd;
    unsigned events;     /* requested */
    uint32_t slot;
    uint32_t cookie;
    uint32_t pos;        /* backend-private */
    unsigned registered; /* known to the backend */
    unsigned weak;       /* does not keep the loop alive */
};

typedef struct axi_io_slot {
    ax_io *w;
    uint32_t next_free;
} axi_io_slot;

/* Mark a watcher weak: it never keeps ax_loop_run() going by itself. */
void axi_io_set_weak(ax_io *w, int weak);
/* The poll backend moves entries; it tells the watcher its new position. */
void axi_io_set_pos(ax_loop *loop, uint64_t token, uint32_t pos);
/* Dispatch collected events to watchers. */
void axi_io_dispatch(ax_loop *loop, const axi_poll_event *ev, int n);
void axi_io_free_all(ax_loop *loop);

/* ---- the loop -------------------------------------------------------- */

struct ax_loop {
    const axi_poller *poller;
    ax_allocator alloc;
    int64_t now;
    int stop_requested;
    int running; /* inside a turn: re-entrant step/run is refused */
    int refs;    /* ax_loop_ref holds */
    uint32_t systems; /* attached systems (ax_loop_free refuses while > 0) */

    axi_timers timers;

    axi_io_slot *io_slots; /* watcher by slot; w == NULL when free */
    uint32_t io_nslots, io_cap;
    uint32_t io_free;      /* free slot stack, linked through next_free */
    uint32_t io_cookie;
    uint32_t io_active; /* watchers with events != 0 and not weak */
    int32_t *fdmap;     /* fd -> slot + 1, 0 = unwatched */
    int fdmap_cap;

    axi_runner *runners;

    /* busy polling (ax_loop_options.busy_poll_us) */
    int64_t busy_poll_ns; /* 0: off */
    int busy;             /* the last wait returned events */
    uint32_t busy_skip;   /* turns left without busy polling */
    uint32_t busy_backoff; /* the next skip after a contended poll */
    ax_loop_counters stats;

    /* backend state */
    int epfd;
    void *pfds;          /* poll backend: struct pollfd[] */
    uint64_t *ptokens;   /* poll backend: token per pollfd */
    uint32_t plen, pcap, tcap;

    axi_poll_event events[AXI_MAX_EVENTS];
};

/* Attach/detach accounting for systems. */
void axi_loop_attach(ax_loop *loop);
void axi_loop_detach(ax_loop *loop);

/* A delay counted from now rather than from the start of the turn (timer
 * delays count from ax_loop_now()): waits that promise "at least d from
 * this call" use it, since a turn may be old when a handler runs. */
static inline ax_duration axi_since_turn(const ax_loop *loop, ax_duration d)
{
    ax_duration lag = axi_clock_ns() - loop->now;
    return d > INT64_MAX - lag ? INT64_MAX : d + lag;
}

#endif /* AXI_LOOP_INT_H */
