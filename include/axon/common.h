/* axon/common.h - error codes, actor ids, durations and the allocator.
 *
 * Everything else in axon builds on these value types.  All public
 * functions return int: 0 on success, a negative AX_E* code on failure.
 * Nothing in axon reports through errno.
 */
#ifndef AXON_COMMON_H
#define AXON_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AX_VERSION_MAJOR 0
#define AX_VERSION_MINOR 1
#define AX_VERSION_PATCH 0

#if defined(__GNUC__)
#define AX_EXTERN __attribute__((visibility("default")))
#else
#define AX_EXTERN
#endif

/* ---- errors ---------------------------------------------------------- */

/* One table: name, value, message.  AX_ERRNO_MAP generates the enum,
 * ax_strerror() and ax_errname(), so they can never disagree. */
#define AX_ERRNO_MAP(X)                                                        \
    X(EINVAL, -1, "invalid argument")                                          \
    X(ENOMEM, -2, "out of memory")                                             \
    X(ESTALE, -3, "stale actor id: the actor has ended")                       \
    X(EUNKNOWNTYPE, -4, "unknown message type id: register it first")          \
    X(EMSGSIZE, -5, "payload size does not match the message type")            \
    X(EEXIST, -6, "already exists")                                            \
    X(ENOENT, -7, "not found")                                                 \
    X(EFULL, -8, "full: mailbox, queue or table at its limit")                 \
    X(ECLOSED, -9, "the system is shut down")                                  \
    X(ENOSENDER, -10, "the current message has no sender to reply to")        \
    X(ENOROUTE, -11, "no route to the actor's node")                          \
    X(ETIMEDOUT, -12, "timed out")                                             \
    X(ENOTSUP, -13, "operation not supported")                                 \
    X(EBUSY, -14, "resource busy")                                             \
    X(ENOCTX, -15, "only valid inside a message handler")                     \
    X(ERANGE, -16, "value out of the documented range")                        \
    X(ESYS, -17, "operating system call failed")                               \
    X(EAGAIN, -18, "resource temporarily unavailable")                         \
    X(EBADF, -19, "bad file descriptor")                                       \
    X(ECANCELED, -20, "cancelled: the actor is stopping")                      \
    X(ENOTCORO, -21, "only valid in a coroutine handler")                      \
    X(ECONNREFUSED, -22, "connection refused")                                 \
    X(ECONNRESET, -23, "connection reset by peer")                             \
    X(EPIPE, -24, "broken pipe: the peer closed the connection")               \
    X(EADDRINUSE, -25, "address already in use")                               \
    X(EPROTO, -26, "protocol error: malformed or unexpected data")             \
    X(EAUTH, -27, "authentication failed")                                     \
    X(ELINKFULL, -28, "link buffer full: the node is down or not reading")     \
    X(ELOST, -29, "lost with the peer process: sent but never confirmed")

typedef enum ax_err {
    AX_OK = 0,
#define AX__ERR_ENUM(name, val, msg) AX_##name = (val),
    AX_ERRNO_MAP(AX__ERR_ENUM)
#undef AX__ERR_ENUM
} ax_err;

/* A static, human-readable message for an error code ("unknown error"
 * for values outside the table).  Never NULL. */
AX_EXTERN const char *ax_strerror(int err);

/* The symbolic name of an error code, e.g. "AX_ESTALE" ("AX_OK" for 0,
 * "AX_EUNKNOWN" for values outside the table).  Never NULL. */
AX_EXTERN const char *ax_errname(int err);

/* ---- actor ids ------------------------------------------------------- */

/* The address of an actor: a small value, passed and compared by value.
 * node  0 means "this system"; other values name linked systems.
 * index the actor's slot in its system's table.
 * cookie changes every time the slot is reused, so an id that outlived its
 *       actor never reaches a newer one.  Cookie 0 is never issued, so
 *       the all-zero id (AX_ID_NIL) never names an actor. */
typedef struct ax_id {
    uint32_t node;
    uint32_t index;
    uint32_t cookie;
} ax_id;

static inline ax_id ax_id_nil(void)
{
    ax_id id = {0, 0, 0};
    return id;
}

static inline int ax_id_is_nil(ax_id id)
{
    return id.cookie == 0;
}

static inline int ax_id_eq(ax_id a, ax_id b)
{
    return a.node == b.node && a.index == b.index && a.cookie == b.cookie;
}

/* ---- time ------------------------------------------------------------ */

/* Durations and loop times are signed 64-bit nanoseconds. */
typedef int64_t ax_duration;

#define AX_NSEC(n) ((ax_duration)(n))
#define AX_USEC(n) ((ax_duration)(n) * 1000)
#define AX_MSEC(n) ((ax_duration)(n) * 1000000)
#define AX_SEC(n) ((ax_duration)(n) * 1000000000)
/* "No limit": wait until something happens. */
#define AX_FOREVER ((ax_duration)-1)

/* ---- allocator ------------------------------------------------------- */

/* Every byte axon allocates goes through one of these (one per loop and
 * system; NULL options mean malloc/realloc/free).  The struct is copied;
 * `ud` must outlive the loop or system.  Frees are sized: `size` is the
 * size that was asked for.  Blocks must be aligned like malloc's (16 bytes
 * on 64-bit targets): message payloads rely on it.  alloc and realloc
 * return NULL on failure, which axon reports as AX_ENOMEM.
 * ax_system_post() allocates on the posting thread, so an allocator used
 * with it must be thread-safe. */
typedef struct ax_allocator {
    void *(*alloc)(void *ud, size_t size);
    void *(*realloc)(void *ud, void *ptr, size_t old_size, size_t new_size);
    void (*free)(void *ud, void *ptr, size_t size);
    void *ud;
} ax_allocator;

#ifdef __cplusplus
}
#endif
#endif /* AXON_COMMON_H */
