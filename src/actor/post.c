/* post.c - ax_system_post(), the one thread-safe entry into a system.
 *
 * Posting threads push nodes onto a lock-free stack (one CAS) and wake the
 * loop through an eventfd (a pipe elsewhere) only when no wake-up is
 * already pending.  The loop takes the whole stack with one exchange and
 * reverses it, which restores each thread's post order. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include "actor/actor_int.h"

static void wake(ax_system *s)
{
    if (atomic_exchange(&s->wake_pending, 1) == 0) {
        uint64_t one = 1;
        ssize_t w;
        do
            w = write(s->wake_fd[1], &one, s->wake_fd[0] == s->wake_fd[1] ? 8 : 1);
        while (w < 0 && errno == EINTR);
        /* EAGAIN: the counter/pipe is full, so a wake-up is pending anyway. */
    }
}

static void clear_wake(ax_system *s)
{
    char buf[64];
    ssize_t r;
    do
        r = read(s->wake_fd[0], buf, s->wake_fd[0] == s->wake_fd[1] ? 8 : sizeof buf);
    while (r > 0 && s->wake_fd[0] != s->wake_fd[1]);
    atomic_store(&s->wake_pending, 0);
}

static void deliver_posted(ax_system *s, axi_msg *m, ax_id to)
{
    const axi_type_slot *t = axi_types_find(&s->types, m->view.type);
    int reason = 0;
    if (!t)
        reason = AX_EUNKNOWNTYPE;
    else if (t->varsize ? m->view.size > AX_MSG_MAX_SIZE : m->view.size != t->size)
        reason = AX_EMSGSIZE;
    else if (t->has_free)
        reason = AX_EINVAL; /* raw bytes from another thread own nothing */
    if (reason) {
        axi_dead_letter(s, m->sender, to, m->view.type, reason);
        axi_msg_dealloc(&s->pool, m);
        return;
    }
    m->flags |= t->mflags;
    int rc = axi_deliver(s, to, m);
    if (rc) {
        if (rc == AX_ECLOSED)
            axi_dead_letter(s, m->sender, to, m->view.type, rc);
        axi_msg_dealloc(&s->pool, m);
    }
}

/* The recipient travels in the payload tail: posted nodes are allocated
 * with room for one ax_id after the payload. */
static ax_id *post_target(axi_msg *m)
{
    return (ax_id *)((char *)axi_msg_payload(m) + ((m->view.size + 3u) & ~3u));
}


static void drain(ax_system *s)
{
    axi_msg *m = atomic_exchange(&s->post_head, NULL);
    axi_msg *rev = NULL;
    while (m) {
        axi_msg *next = m->next;
        m->next = rev;
        rev = m;
        m = next;
    }
    while (rev) {
        axi_msg *next = rev->next;
        atomic_fetch_sub(&s->post_pending, 1);
        ax_id to = *post_target(rev);
        s->stats.posted++;
        deliver_posted(s, rev, to);
        rev = next;
    }
}

static void on_wake(ax_loop *loop, ax_io *w, int fd, unsigned events, void *arg)
{
    (void)loop;
    (void)w;
    (void)fd;
    (void)events;
    ax_system *s = arg;
    clear_wake(s);
    drain(s);
}

int axi_post_init(ax_system *s)
{
    s->wake_fd[0] = s->wake_fd[1] = -1;
#ifdef __linux__
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return axi_translate_errno(errno);
    s->wake_fd[0] = s->wake_fd[1] = fd;
#else
    if (pipe(s->wake_fd) != 0)
        return axi_translate_errno(errno);
    for (int i = 0; i < 2; i++) {
        fcntl(s->wake_fd[i], F_SETFL, fcntl(s->wake_fd[i], F_GETFL) | O_NONBLOCK);
        fcntl(s->wake_fd[i], F_SETFD, FD_CLOEXEC);
    }
#endif
    int rc = ax_io_start(s->loop, s->wake_fd[0], AX_READABLE, on_wake, s, &s->wake_io);
    if (rc) {
        close(s->wake_fd[0]);
        if (s->wake_fd[1] != s->wake_fd[0])
            close(s->wake_fd[1]);
        s->wake_fd[0] = s->wake_fd[1] = -1;
        return rc;
    }
    axi_io_set_weak(s->wake_io, 1);
    return 0;
}

/* Drop whatever is still queued (dead letters, AX_ECLOSED) and release
 * the wake-up descriptor. */
void axi_post_close(ax_system *s, int release_fd)
{
    atomic_store(&s->post_closed, 1);
    axi_msg *m = atomic_exchange(&s->post_head, NULL);
    while (m) {
        axi_msg *next = m->next;
        atomic_fetch_sub(&s->post_pending, 1);
        axi_dead_letter(s, m->sender, *post_target(m), m->view.type, AX_ECLOSED);
        axi_free(s->alloc, m, axi_direct_bytes(m->view.size));
        m = next;
    }
    if (s->wake_io) {
        ax_io_stop(s->wake_io);
        s->wake_io = NULL;
    }
    /* The descriptor outlives the shutdown: a post that passed the closed
     * check just before it may still write its wake-up.  Only
     * ax_system_free() (no posting thread left, by contract) closes it. */
    if (!release_fd)
        return;
    if (s->wake_fd[0] >= 0) {
        close(s->wake_fd[0]);
        if (s->wake_fd[1] != s->wake_fd[0])
            close(s->wake_fd[1]);
    }
    s->wake_fd[0] = s->wake_fd[1] = -1;
}

int ax_system_post(ax_system *sys, ax_id from, ax_id to, uint32_t type, const void *data,
                   size_t size)
{
    if (!sys || (!data && size))
        return AX_EINVAL;
    if (size > AX_MSG_MAX_SIZE)
        return AX_ERANGE;
    if (atomic_load(&sys->post_closed))
        return AX_ECLOSED;
    if (atomic_fetch_add(&sys->post_pending, 1) >= sys->post_limit) {
        atomic_fetch_sub(&sys->post_pending, 1);
        return AX_EFULL;
    }
    axi_msg *m = axi_alloc(sys->alloc, axi_direct_bytes(size));
    if (!m) {
        atomic_fetch_sub(&sys->post_pending, 1);
        return AX_ENOMEM;
    }
    m->sender = from;
    m->view.type = type;
    m->view.size = (uint32_t)size;
    m->view.data = axi_msg_payload(m);
    m->cls = AXI_CLS_DIRECT;
    m->flags = AXI_MF_DIRECT;
    if (size)
        memcpy(axi_msg_payload(m), data, size);
    *post_target(m) = to;
    axi_msg *head = atomic_load(&sys->post_head);
    do
        m->next = head;
    while (!atomic_compare_exchange_weak(&sys->post_head, &head, m));
    wake(sys);
    return 0;
}
