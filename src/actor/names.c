/* names.c - the local name registry: a chained hash of name -> id, with
 * each actor keeping the list of its own names so they die with it. */
#include "actor/actor_int.h"

struct axi_name {
    axi_name *bucket_next;
    axi_name *actor_next;
    ax_id id;
    uint64_t hash;
    size_t len;
    char text[];
};

static uint64_t hash_name(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static int check_name(const char *name, size_t *len)
{
    if (!name)
        return AX_EINVAL;
    size_t n = strnlen(name, AX_NAME_MAX + 1);
    if (n == 0 || n > AX_NAME_MAX)
        return AX_EINVAL;
    *len = n;
    return 0;
}

static axi_name **find_slot(const ax_system *s, const char *name, size_t len, uint64_t h)
{
    if (!s->name_buckets)
        return NULL;
    axi_name **pp = &s->name_buckets[h & s->name_mask];
    for (; *pp; pp = &(*pp)->bucket_next)
        if ((*pp)->hash == h && (*pp)->len == len && memcmp((*pp)->text, name, len) == 0)
            return pp;
    return pp;
}

static int grow(ax_system *s)
{
    uint32_t ncap = s->name_buckets ? (s->name_mask + 1) * 2 : 64;
    axi_name **nb = axi_calloc(s->alloc, (size_t)ncap * sizeof *nb);
    if (!nb)
        return AX_ENOMEM;
    if (s->name_buckets) {
        for (uint32_t i = 0; i <= s->name_mask; i++) {
            axi_name *n = s->name_buckets[i];
            while (n) {
                axi_name *next = n->bucket_next;
                n->bucket_next = nb[n->hash & (ncap - 1)];
                nb[n->hash & (ncap - 1)] = n;
                n = next;
            }
        }
        axi_free(s->alloc, s->name_buckets, ((size_t)s->name_mask + 1) * sizeof *nb);
    }
    s->name_buckets = nb;
    s->name_mask = ncap - 1;
    return 0;
}

static void name_free(ax_system *s, axi_name *n)
{
    axi_free(s->alloc, n, sizeof *n + n->len + 1);
}

int ax_name_register(ax_system *sys, const char *name, ax_id id)
{
    size_t len;
    if (!sys || check_name(name, &len) || ax_id_is_nil(id))
        return AX_EINVAL;
    if (!axi_is_local(sys, id))
        return AX_EINVAL;
    axi_actor *a = axi_actor_lookup(sys, id);
    if (!a)
        return AX_ESTALE;
    if (!sys->name_buckets || sys->name_count >= sys->name_mask + 1) {
        int rc = grow(sys);
        if (rc)
            return rc;
    }
    uint64_t h = hash_name(name, len);
    axi_name **pp = find_slot(sys, name, len, h);
    if (*pp)
        return AX_EEXIST;
    axi_actor_ext *ext = axi_actor_ext_get(sys, a);
    if (!ext)
        return AX_ENOMEM;
    axi_name *n = axi_alloc(sys->alloc, sizeof *n + len + 1);
    if (!n)
        return AX_ENOMEM;
    n->bucket_next = NULL;
    n->id = axi_actor_id(a);
    n->hash = h;
    n->len = len;
    memcpy(n->text, name, len);
    n->text[len] = '\0';
    *pp = n;
    n->actor_next = ext->names;
    ext->names = n;
    sys->name_count++;
    return 0;
}

int ax_name_lookup(const ax_system *sys, const char *name, ax_id *out)
{
    size_t len;
    if (!sys || !out || check_name(name, &len))
        return AX_EINVAL;
    axi_name **pp = find_slot(sys, name, len, hash_name(name, len));
    if (!pp || !*pp)
        return AX_ENOENT;
    *out = (*pp)->id;
    return 0;
}

static void unlink_from_actor(ax_system *s, axi_name *n)
{
    axi_actor *a = axi_actor_lookup(s, n->id);
    if (!a || !a->ext)
        return;
    for (axi_name **pp = &a->ext->names; *pp; pp = &(*pp)->actor_next) {
        if (*pp == n) {
            *pp = n->actor_next;
            return;
        }
    }
}

int ax_name_unregister(ax_system *sys, const char *name)
{
    size_t len;
    if (!sys || check_name(name, &len))
        return AX_EINVAL;
    axi_name **pp = find_slot(sys, name, len, hash_name(name, len));
    if (!pp || !*pp)
        return AX_ENOENT;
    axi_name *n = *pp;
    *pp = n->bucket_next;
    unlink_from_actor(sys, n);
    sys->name_count--;
    name_free(sys, n);
    return 0;
}

void axi_names_drop_actor(ax_system *s, axi_actor *a)
{
    axi_name *n = a->ext->names;
    while (n) {
        axi_name *next = n->actor_next;
        axi_name **pp = find_slot(s, n->text, n->len, n->hash);
        if (pp && *pp == n)
            *pp = n->bucket_next;
        s->name_count--;
        name_free(s, n);
        n = next;
    }
    a->ext->names = NULL;
}

void axi_names_free(ax_system *s)
{
    if (!s->name_buckets)
        return;
    for (uint32_t i = 0; i <= s->name_mask; i++) {
        axi_name *n = s->name_buckets[i];
        while (n) {
            axi_name *next = n->bucket_next;
            name_free(s, n);
            n = next;
        }
    }
    axi_free(s->alloc, s->name_buckets, ((size_t)s->name_mask + 1) * sizeof(axi_name *));
    s->name_buckets = NULL;
    s->name_count = 0;
}
