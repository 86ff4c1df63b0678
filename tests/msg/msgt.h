/* msgt.h - helpers shared by the message tests (pool, types, registry):
 * deterministic payload patterns, a checking sink actor, and a counting
 * wrapper for the memory a non-POD payload owns.
 *
 * Everything here is static inline so each test file takes what it uses. */
#ifndef AXON_TESTS_MSGT_H
#define AXON_TESTS_MSGT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/testutil.h"

/* ---- payload patterns ------------------------------------------------- */

/* Byte i of the payload of a `size`-byte message of type `type`.  Depends
 * on all three so a payload delivered under the wrong type, with the wrong
 * size or shifted by a few bytes does not match. */
static inline uint8_t msgt_byte(uint32_t type, size_t size, size_t i)
{
    return (uint8_t)(type * 31u + size * 7u + i * 13u + (i >> 8) + 1u);
}

static inline void msgt_fill(void *p, uint32_t type, size_t size)
{
    uint8_t *b = p;
    for (size_t i = 0; i < size; i++)
        b[i] = msgt_byte(type, size, i);
}

/* 1 if p[0..size) holds the pattern.  `full` 0 checks the first, middle
 * and last 8 bytes only (enough to catch a wrong node or a short copy,
 * cheap enough for 60 KB payloads 100,000 times). */
static inline int msgt_check(const void *p, uint32_t type, size_t size, int full)
{
    const uint8_t *b = p;
    if (full || size <= 24) {
        for (size_t i = 0; i < size; i++)
            if (b[i] != msgt_byte(type, size, i))
                return 0;
        return 1;
    }
    size_t starts[3] = {0, size / 2 - 4, size - 8};
    for (int k = 0; k < 3; k++)
        for (size_t i = starts[k]; i < starts[k] + 8; i++)
            if (b[i] != msgt_byte(type, size, i))
                return 0;
    return 1;
}

/* ---- a sink actor ------------------------------------------------------ */

typedef struct msgt_sink {
    uint64_t got;        /* messages handled */
    uint64_t bad;        /* payloads that did not hold the pattern */
    uint64_t misaligned; /* data not aligned to `align` */
    uint64_t bytes;      /* payload bytes handled */
    uint32_t align;      /* alignment to check (0: none) */
    int full_check;      /* check every payload byte */
    int no_check;        /* payloads are not patterned: only count */
    uint32_t last_type;
    uint32_t last_size;
    const void *last_data;
    ax_id last_sender;
} msgt_sink;

static inline void msgt_sink_fn(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    msgt_sink *k = state;
    k->got++;
    k->bytes += msg->size;
    k->last_type = msg->type;
    k->last_size = msg->size;
    k->last_data = msg->data;
    k->last_sender = ax_sender(ctx);
    if (k->align && ((uintptr_t)msg->data % k->align) != 0)
        k->misaligned++;
    if (!k->no_check && !msgt_check(msg->data, msg->type, msg->size, k->full_check))
        k->bad++;
}

static inline ax_id msgt_spawn_sink(ax_system *sys, msgt_sink *k)
{
    ax_id id;
    tu_ok(ax_spawn(sys, msgt_sink_fn, k, NULL, &id));
    return id;
}

/* ---- memory owned by non-POD payloads ---------------------------------- */

/* Live blocks allocated by the tests for payload-owned resources (the
 * `text` and `vals` of a note), so a test can prove every one was freed
 * exactly once (ASan catches the second free). */
static int64_t msgt_user_live __attribute__((unused));

static inline void *msgt_user_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p)
        msgt_user_live++;
    return p;
}

static inline void msgt_user_free(void *p)
{
    if (p) {
        msgt_user_live--;
        free(p);
    }
}

/* A payload that owns heap memory: a string and an array. */
typedef struct msgt_note {
    char *text;
    uint32_t n;
    uint32_t *vals;
} msgt_note;

static inline msgt_note msgt_note_make(const char *text, uint32_t n, uint32_t seed)
{
    msgt_note v;
    size_t len = strlen(text);
    v.text = msgt_user_alloc(len + 1);
    memcpy(v.text, text, len + 1);
    v.n = n;
    v.vals = n ? msgt_user_alloc(n * sizeof *v.vals) : NULL;
    for (uint32_t i = 0; i < n; i++)
        v.vals[i] = seed * 1000u + i;
    return v;
}

/* 1 if v holds what msgt_note_make(text, n, seed) built. */
static inline int msgt_note_is(const msgt_note *v, const char *text, uint32_t n, uint32_t seed)
{
    if (!v->text || strcmp(v->text, text) != 0 || v->n != n)
        return 0;
    if (n && !v->vals)
        return 0;
    for (uint32_t i = 0; i < n; i++)
        if (v->vals[i] != seed * 1000u + i)
            return 0;
    return 1;
}

/* The note type's free hook: counts its calls, releases what is left. */
static int msgt_note_frees __attribute__((unused));

static inline void msgt_note_free(void *msg)
{
    msgt_note *v = msg;
    msgt_note_frees++;
    msgt_user_free(v->text);
    msgt_user_free(v->vals);
    v->text = NULL;
    v->vals = NULL;
}

/* Release a note that stayed with its owner (not through the free hook). */
static inline void msgt_note_release(msgt_note *v)
{
    msgt_user_free(v->text);
    msgt_user_free(v->vals);
    v->text = NULL;
    v->vals = NULL;
}

#endif /* AXON_TESTS_MSGT_H */
