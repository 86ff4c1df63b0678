/* registry_fx.h - the fixture of the registry tests (registry_test.c,
 * msg_new_test.c): a system with a POD, an empty, a varsize, a hooked
 * ("note") and an oversized type registered, a checking sink actor, a
 * counting allocator and a dead-letter counter.  Each test binary includes
 * it once. */
#ifndef AXON_TESTS_REGISTRY_FX_H
#define AXON_TESTS_REGISTRY_FX_H

#include <stdalign.h>

#include "msg/msg_int.h"
#include "msgt.h"

enum {
    T_POD = 1,
    T_EMPTY = 2,
    T_BLOB = 3,
    T_NOTE = 4,
    T_BIG = 5,
};

/* A POD struct without padding: its bytes are its encoding. */
typedef struct pod {
    uint32_t a;
    uint16_t b, c;
    double d;
} pod;

_Static_assert(sizeof(pod) == 16, "pod has no padding");

/* ---- the note type's wire hooks ---------------------------------------- */

/* Encoding: u32 n, u32 text length, the text (no NUL), n u32 values. */
static int ser_calls, ser_null, des_dirty;

static long note_ser(const void *msg, void *buf, size_t cap)
{
    ser_calls++;
    if (!msg) {
        ser_null++;
        return AX_EINVAL;
    }
    const msgt_note *v = msg;
    if (v->n > 1000)
        return AX_ERANGE;
    uint32_t tl = (uint32_t)strlen(v->text);
    size_t need = 8 + (size_t)tl + 4u * (size_t)v->n;
    if (need > cap)
        return (long)need;
    unsigned char *b = buf;
    memcpy(b, &v->n, 4);
    memcpy(b + 4, &tl, 4);
    memcpy(b + 8, v->text, tl);
    if (v->n)
        memcpy(b + 8 + tl, v->vals, 4u * (size_t)v->n);
    return (long)need;
}

static int note_des(const void *buf, size_t len, void *out)
{
    msgt_note *v = out;
    if (v->text || v->n || v->vals)
        des_dirty++; /* msg.h: the hook gets type->size zeroed bytes */
    if (len < 8)
        return AX_EMSGSIZE;
    const unsigned char *b = buf;
    uint32_t n, tl;
    memcpy(&n, b, 4);
    memcpy(&tl, b + 4, 4);
    if (len != 8 + (size_t)tl + 4u * (size_t)n)
        return AX_EMSGSIZE;
    v->text = msgt_user_alloc((size_t)tl + 1);
    memcpy(v->text, b + 8, tl);
    v->text[tl] = '\0';
    v->n = n;
    v->vals = n ? msgt_user_alloc(4u * (size_t)n) : NULL;
    if (n)
        memcpy(v->vals, b + 8 + tl, 4u * (size_t)n);
    return 0;
}

typedef struct reg_env {
    tu_alloc ta;
    tu_env e;
    msgt_sink sink;
    ax_id to;
    uint64_t dl;
} reg_env;

static void count_dead_letter(void *arg, const ax_dead_letter *dl)
{
    (void)dl;
    ((reg_env *)arg)->dl++;
}

/* The env a test left open when it failed (cmocka jumps out of the test):
 * the teardown frees it so the sanitizer's leak report shows only real
 * leaks. */
static reg_env *open_re;

static int re_teardown(void **state)
{
    (void)state;
    if (open_re) {
        ax_system_free(open_re->e.sys);
        ax_loop_free(open_re->e.loop);
        open_re = NULL;
    }
    return 0;
}

static void re_open(reg_env *r)
{
    memset(r, 0, sizeof *r);
    tu_alloc_init(&r->ta);
    tu_env_open_dl(&r->e, &r->ta.a, NULL, count_dead_letter, r);
    ax_system *sys = r->e.sys;
    tu_ok(ax_msg_register_pod(sys, T_POD, "pod", sizeof(pod), alignof(pod)));
    tu_ok(ax_msg_register_pod(sys, T_EMPTY, "empty", 0, 0));
    ax_msg_type blob = {T_BLOB, "blob", 0, 1, AX_MSG_F_VARSIZE, 0, NULL, NULL, NULL};
    tu_ok(ax_msg_register(sys, &blob));
    ax_msg_type note = {T_NOTE, "note",   sizeof(msgt_note), alignof(msgt_note), 0,
                        0,      note_ser, note_des,          msgt_note_free};
    tu_ok(ax_msg_register(sys, &note));
    tu_ok(ax_msg_register_pod(sys, T_BIG, "big", 100000, 8));
    r->sink.full_check = 1;
    r->to = msgt_spawn_sink(sys, &r->sink);
    msgt_note_frees = 0;
    msgt_user_live = 0;
    ser_calls = ser_null = des_dirty = 0;
    open_re = r;
}

static void re_close(reg_env *r)
{
    open_re = NULL;
    tu_env_close(&r->e);
    assert_int_equal(r->ta.live_blocks, 0);
    assert_int_equal(r->ta.live_bytes, 0);
    assert_int_equal(msgt_user_live, 0);
}

#endif /* AXON_TESTS_REGISTRY_FX_H */
