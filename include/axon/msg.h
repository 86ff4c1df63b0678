/* axon/msg.h - message types and the per-system type registry.
 *
 * A message is {type id, sender, payload bytes}.  Every type id a system
 * sends or receives must be registered first with an ax_msg_type record.
 *
 * Plain-old-data types (no pointers) need no hooks: the payload is copied
 * by value into a pooled slot.  Types that own resources register a `free`
 * hook, run when the message is done with (after its handler returns, or
 * when it is dropped), and serialize/deserialize hooks for the wire.
 */
#ifndef AXON_MSG_H
#define AXON_MSG_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ax_system ax_system;

/* Type ids.  0 is never valid.  User types take ids in
 * [AX_MSG_ID_MIN, AX_MSG_ID_MAX]; ids from AX_MSG_SYSTEM_BASE up are axon's. */
#define AX_MSG_ID_MIN 1u
#define AX_MSG_ID_MAX 0xFFFEFFFFu
#define AX_MSG_SYSTEM_BASE 0xFFFF0000u

/* System message types, registered in every system. */
#define AX_MSG_POISON 0xFFFF0001u /* empty: the target ends after it, in order */
#define AX_MSG_DOWN 0xFFFF0002u   /* ax_down: a monitored actor has ended */

/* The largest alignment a payload may ask for. */
#define AX_MSG_MAX_ALIGN 16u
/* The largest payload one message may carry (16 MiB). */
#define AX_MSG_MAX_SIZE (16u * 1024u * 1024u)

enum {
    /* Payload size varies per message (0..AX_MSG_MAX_SIZE); `size` in the
     * record is ignored.  Useful for byte blobs. */
    AX_MSG_F_VARSIZE = 1u
};

/* Serialize the payload `msg` into buf[0..cap).  Returns the number of
 * bytes the encoding needs (write nothing and return the same number when
 * it exceeds cap; the caller grows the buffer and calls again), or a
 * negative AX_E* code. */
typedef long (*ax_serialize_fn)(const void *msg, void *buf, size_t cap);
/* Build the payload in `msg_out` (type->size zeroed bytes) from buf[0..len).
 * Returns 0 or a negative AX_E* code (then nothing is owned by msg_out). */
typedef int (*ax_deserialize_fn)(const void *buf, size_t len, void *msg_out);
/* Release what the payload owns (not the payload memory itself). */
typedef void (*ax_msg_free_fn)(void *msg);

/* A message type description.  The registry copies it (and its name). */
typedef struct ax_msg_type {
    uint32_t id;              /* AX_MSG_ID_MIN..AX_MSG_ID_MAX */
    const char *name;         /* for logs and errors; NULL allowed */
    uint32_t size;            /* payload bytes (0 = empty type) */
    uint32_t align;           /* power of two <= AX_MSG_MAX_ALIGN; 0 = 1 */
    uint32_t flags;           /* AX_MSG_F_* */
    uint64_t layout_hash;     /* schema hash (axon-msggen); 0 = unknown */
    ax_serialize_fn serialize;     /* NULL: the bytes are the encoding */
    ax_deserialize_fn deserialize; /* NULL: the bytes are the encoding */
    ax_msg_free_fn free;           /* NULL: nothing to release */
} ax_msg_type;

/* Register a type in `sys`.
 * Errors: AX_EINVAL (NULL, bad alignment, serialize without deserialize
 * or the reverse, unknown flags, a free hook on a VARSIZE type), AX_ERANGE (id outside the user range, size above
 * AX_MSG_MAX_SIZE), AX_EEXIST (id already registered), AX_ENOMEM. */
AX_EXTERN int ax_msg_register(ax_system *sys, const ax_msg_type *type);

/* Register a plain-old-data type: ax_msg_register() with no hooks. */
AX_EXTERN int ax_msg_register_pod(ax_system *sys, uint32_t id, const char *name,
                                  uint32_t size, uint32_t align);

/* Look a type up.  The pointer is valid until the next registration.
 * Returns NULL for unknown ids. */
AX_EXTERN const ax_msg_type *ax_msg_type_find(const ax_system *sys, uint32_t id);

/* Encode a payload of type `id` into buf[0..cap) using its serialize hook,
 * or a byte copy for hook-less types.  Returns the encoded size (which may
 * exceed cap: see ax_serialize_fn) or AX_EUNKNOWNTYPE, AX_EINVAL,
 * AX_EMSGSIZE (msg_size is not the type's size) or the hook's error. */
AX_EXTERN long ax_msg_encode(const ax_system *sys, uint32_t id, const void *msg,
                             size_t msg_size, void *buf, size_t cap);

/* Decode buf[0..len) into a payload of type `id` at msg_out (with room for
 * the type's size; for VARSIZE types without hooks, len bytes).  On success
 * the caller owns what msg_out holds and releases it with ax_msg_release().
 * Errors: AX_EUNKNOWNTYPE, AX_EMSGSIZE (hook-less type, wrong length),
 * or the hook's error. */
AX_EXTERN int ax_msg_decode(const ax_system *sys, uint32_t id, const void *buf,
                            size_t len, void *msg_out);

/* Run the type's free hook on a payload (no-op for types without one). */
AX_EXTERN void ax_msg_release(const ax_system *sys, uint32_t id, void *msg);

/* ---- messages as handlers see them ------------------------------------ */

/* The view of the current message passed to a handler.  `data` points at
 * the payload (aligned for its type) and stays valid until the handler
 * returns; the handler may modify it, e.g. take ownership of a resource
 * by clearing the pointer field the free hook would release. */
typedef struct ax_msg {
    uint32_t type;
    uint32_t size;
    void *data;
} ax_msg;

/* ---- construct in place ---------------------------------------------- */

/* A message built in place: allocate, fill the payload, then send it with
 * ax_send_msg()/ax_system_send_msg(), which take it only on success; on
 * failure (or if never sent) release it with ax_msg_discard(). */
typedef struct ax_outmsg ax_outmsg;

/* Allocate a message of type `type` with a `size`-byte payload (zeroed).
 * *data receives the payload pointer.
 * Errors: AX_EINVAL, AX_EUNKNOWNTYPE, AX_EMSGSIZE, AX_ENOMEM, AX_ECLOSED. */
AX_EXTERN int ax_msg_new(ax_system *sys, uint32_t type, size_t size, ax_outmsg **out,
                         void **data);

/* Free an unsent message, running its type's free hook. */
AX_EXTERN void ax_msg_discard(ax_system *sys, ax_outmsg *m);

#ifdef __cplusplus
}
#endif
#endif /* AXON_MSG_H */
