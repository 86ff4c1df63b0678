/* registry.c - the public face of the type registry: registration,
 * lookup, and the encode/decode/release helpers the links layer uses. */
#include "actor/actor_int.h"

int ax_msg_register(ax_system *sys, const ax_msg_type *type)
{
    if (!sys || !type)
        return AX_EINVAL;
    if (type->id < AX_MSG_ID_MIN || type->id > AX_MSG_ID_MAX)
        return AX_ERANGE;
    return axi_types_add(&sys->types, type);
}

int ax_msg_register_pod(ax_system *sys, uint32_t id, const char *name, uint32_t size,
                        uint32_t align)
{
    ax_msg_type t;
    memset(&t, 0, sizeof t);
    t.id = id;
    t.name = name;
    t.size = size;
    t.align = align;
    return ax_msg_register(sys, &t);
}

const ax_msg_type *ax_msg_type_find(const ax_system *sys, uint32_t id)
{
    if (!sys)
        return NULL;
    const axi_type_slot *s = axi_types_find(&sys->types, id);
    return s ? &sys->types.recs[s->rec] : NULL;
}

long ax_msg_encode(const ax_system *sys, uint32_t id, const void *msg, size_t msg_size, void *buf,
                   size_t cap)
{
    const ax_msg_type *t = ax_msg_type_find(sys, id);
    if (!t)
        return AX_EUNKNOWNTYPE;
    if ((!msg && msg_size) || (!buf && cap))
        return AX_EINVAL;
    if (!(t->flags & AX_MSG_F_VARSIZE) && msg_size != t->size)
        return AX_EMSGSIZE;
    if (t->serialize)
        return t->serialize(msg, buf, cap);
    if (msg_size <= cap && msg_size)
        memcpy(buf, msg, msg_size);
    return (long)msg_size;
}

int ax_msg_decode(const ax_system *sys, uint32_t id, const void *buf, size_t len, void *msg_out)
{
    const ax_msg_type *t = ax_msg_type_find(sys, id);
    if (!t)
        return AX_EUNKNOWNTYPE;
    if ((!buf && len) || !msg_out)
        return AX_EINVAL;
    if (t->deserialize) {
        memset(msg_out, 0, t->size);
        return t->deserialize(buf, len, msg_out);
    }
    if (!(t->flags & AX_MSG_F_VARSIZE) && len != t->size)
        return AX_EMSGSIZE;
    if (len)
        memcpy(msg_out, buf, len);
    return 0;
}

void ax_msg_release(const ax_system *sys, uint32_t id, void *msg)
{
    const ax_msg_type *t = ax_msg_type_find(sys, id);
    if (t && t->free && msg)
        t->free(msg);
}
