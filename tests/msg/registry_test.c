/* registry_test.c - the public face of the type registry (src/msg/
 * registry.c): registration errors, lookup, the copied record and name,
 * what a send checks against it (unknown id, size, empty and varsize
 * types), and encode/decode/release through the hooks and for hook-less
 * types.  Messages built in place: msg_new_test.c. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry_fx.h"

/* ---- registration --------------------------------------------------------- */

static long dummy_ser(const void *m, void *b, size_t c)
{
    (void)m, (void)b, (void)c;
    return 0;
}

static int dummy_des(const void *b, size_t l, void *o)
{
    (void)b, (void)l, (void)o;
    return 0;
}

static void register_rejects_bad_records(void **state)
{
    (void)state;
    static reg_env r; /* static: reachable from the teardown after a failure */
    re_open(&r);
    ax_system *sys = r.e.sys;
    ax_msg_type t = {100, "t", 8, 8, 0, 0, NULL, NULL, NULL};
    tu_assert_err(ax_msg_register(NULL, &t), AX_EINVAL);
    tu_assert_err(ax_msg_register(sys, NULL), AX_EINVAL);
    tu_assert_err(ax_msg_register_pod(NULL, 100, "t", 8, 8), AX_EINVAL);

    /* Ids: user range only. */
    static const uint32_t bad_ids[] = {0,           AX_MSG_SYSTEM_BASE,      AX_MSG_POISON,
                                       AX_MSG_DOWN, AX_MSG_SYSTEM_BASE + 77, UINT32_MAX};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        t.id = bad_ids[i];
        tu_assert_err(ax_msg_register(sys, &t), AX_ERANGE);
        tu_assert_err(ax_msg_register_pod(sys, bad_ids[i], "t", 8, 8), AX_ERANGE);
    }
    assert_int_equal(ax_msg_type_find(sys, AX_MSG_POISON)->size, 0); /* untouched */
    tu_ok(ax_msg_register_pod(sys, AX_MSG_ID_MIN + 1000, "min", 8, 8));
    tu_ok(ax_msg_register_pod(sys, AX_MSG_ID_MAX, "max", 8, 8));

    /* Alignment: a power of two up to 16. */
    static const uint32_t bad_align[] = {3, 5, 6, 12, 32, 64, 0x80000000u};
    for (size_t i = 0; i < sizeof bad_align / sizeof bad_align[0]; i++)
        tu_assert_err(ax_msg_register_pod(sys, 101, "t", 64, bad_align[i]), AX_EINVAL);
    for (uint32_t a = 1; a <= AX_MSG_MAX_ALIGN; a *= 2)
        tu_ok(ax_msg_register_pod(sys, 200 + a, "t", 64, a));

    /* Hooks come in pairs. */
    t = (ax_msg_type){101, "t", 8, 8, 0, 0, dummy_ser, NULL, NULL};
    tu_assert_err(ax_msg_register(sys, &t), AX_EINVAL);
    t = (ax_msg_type){101, "t", 8, 8, 0, 0, NULL, dummy_des, NULL};
    tu_assert_err(ax_msg_register(sys, &t), AX_EINVAL);

    /* Size limit. */
    tu_assert_err(ax_msg_register_pod(sys, 101, "t", AX_MSG_MAX_SIZE + 1, 8), AX_ERANGE);
    tu_assert_err(ax_msg_register_pod(sys, 101, "t", UINT32_MAX, 8), AX_ERANGE);
    assert_null(ax_msg_type_find(sys, 101)); /* nothing half-registered */
    tu_ok(ax_msg_register_pod(sys, 101, "t", AX_MSG_MAX_SIZE, 8));

    /* Duplicates, through either call; the first record stays. */
    tu_assert_err(ax_msg_register_pod(sys, T_POD, "again", 4, 4), AX_EEXIST);
    t = (ax_msg_type){T_BLOB, "again", 4, 4, 0, 0, NULL, NULL, NULL};
    tu_assert_err(ax_msg_register(sys, &t), AX_EEXIST);
    assert_int_equal(ax_msg_type_find(sys, T_POD)->size, sizeof(pod));
    assert_string_equal(ax_msg_type_find(sys, T_POD)->name, "pod");
    assert_true(ax_msg_type_find(sys, T_BLOB)->flags & AX_MSG_F_VARSIZE);
    re_close(&r);
}

static void register_copies_record_and_name(void **state)
{
    (void)state;
    static reg_env r; /* static: reachable from the teardown after a failure */
    re_open(&r);
    ax_system *sys = r.e.sys;
    char name[16] = "alpha";
    ax_msg_type t = {300, name, 12, 4, 0, 0xFEEDFACECAFEBEEFull, dummy_ser, dummy_des, NULL};
    tu_ok(ax_msg_register(sys, &t));
    /* The caller's buffer and record may change afterwards. */
    strcpy(name, "XXXXX");
    t.size = 99;
    t.name = NULL;
    const ax_msg_type *f = ax_msg_type_find(sys, 300);
    assert_non_null(f);
    assert_ptr_not_equal(f, &t);
    assert_ptr_not_equal(f->name, name);
    assert_string_equal(f->name, "alpha");
    assert_int_equal(f->id, 300);
    assert_int_equal(f->size, 12);
    assert_int_equal(f->align, 4);
    assert_int_equal(f->flags, 0);
    assert_true(f->layout_hash == 0xFEEDFACECAFEBEEFull);
    assert_true(f->serialize == dummy_ser);
    assert_true(f->deserialize == dummy_des);
    assert_null(f->free);

    /* A NULL name is allowed; alignment 0 reads back as 1. */
    tu_ok(ax_msg_register_pod(sys, 301, NULL, 3, 0));
    f = ax_msg_type_find(sys, 301);
    assert_null(f->name);
    assert_int_equal(f->align, 1);
    /* An empty name is kept as an empty string. */
    tu_ok(ax_msg_register_pod(sys, 302, "", 3, 1));
    assert_string_equal(ax_msg_type_find(sys, 302)->name, "");

    /* Lookups that find nothing. */
    assert_null(ax_msg_type_find(sys, 0));
    assert_null(ax_msg_type_find(sys, 999));
    assert_null(ax_msg_type_find(NULL, T_POD));
    /* The system's own types are there from the start. */
    f = ax_msg_type_find(sys, AX_MSG_POISON);
    assert_non_null(f);
    assert_int_equal(f->size, 0);
    f = ax_msg_type_find(sys, AX_MSG_DOWN);
    assert_non_null(f);
    assert_int_equal(f->size, sizeof(ax_down));
    assert_int_equal(f->align, alignof(ax_down));
    re_close(&r);
}

/* ---- what a send checks against the registry ------------------------------ */

/* Sends one message from inside a handler and records the result. */
typedef struct sender {
    ax_id to;
    uint32_t type;
    const void *data;
    size_t size;
    int rc;
} sender;

static void sender_fn(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    sender *sd = state;
    (void)msg;
    sd->rc = ax_send(ctx, sd->to, sd->type, sd->data, sd->size);
}

static int send_from_handler(reg_env *r, uint32_t type, const void *data, size_t size)
{
    sender sd = {r->to, type, data, size, 1};
    ax_id id;
    tu_ok(ax_spawn(r->e.sys, sender_fn, &sd, NULL, &id));
    tu_ok(ax_system_send(r->e.sys, ax_id_nil(), id, T_EMPTY, NULL, 0));
    tu_drain(r->e.loop, 5000);
    return sd.rc;
}

static void send_unknown_type_and_wrong_size(void **state)
{
    (void)state;
    static reg_env r; /* static: reachable from the teardown after a failure */
    re_open(&r);
    ax_system *sys = r.e.sys;
    pod v = {42, 0, 0, 0};
    tu_assert_err(ax_system_send(sys, ax_id_nil(), r.to, 999, &v, sizeof v), AX_EUNKNOWNTYPE);
    tu_assert_err(ax_system_send(sys, ax_id_nil(), r.to, 0, &v, sizeof v), AX_EUNKNOWNTYPE);
    tu_assert_err(ax_system_send(sys, ax_id_nil(), r.to, 0, NULL, 0), AX_EUNKNOWNTYPE);
    tu_assert_err(ax_system_send(sys, ax_id_nil(), r.to, 0xFFFF1234u, &v, sizeof v),
                  AX_EUNKNOWNTYPE);
    tu_assert_err(ax_system_send(sys, ax_id_nil(), r.to, T_POD, &v, sizeof v - 1), AX_EMSGSIZE);
    tu_assert_err(ax_system_send(sys, ax_id_nil(), r.to, T_POD, &v, sizeof v + 1), AX_EMSGSIZE);
    tu_assert_err(ax_system_send(sys, ax_id_nil(), r.to, T_POD, &v, 0), AX_EMSGSIZE);
    tu_assert_err(ax_system_send(sys, ax_id_nil(), r.to, T_EMPTY, &v, 1), AX_EMSGSIZE);
    tu_assert_err(ax_system_send(sys, ax_id_nil(), r.to, T_BIG, &v, sizeof v), AX_EMSGSIZE);
    tu_assert_err(ax_system_send(sys, ax_id_nil(), r.to, T_BLOB, &v, AX_MSG_MAX_SIZE + 1u),
                  AX_EMSGSIZE);
    /* NULL data with a size: on the cold path, then with T_POD cached by
     * a good send, so the fast path sees it first. */
    tu_assert_err(ax_system_send(sys, ax_id_nil(), r.to, T_POD, NULL, sizeof v), AX_EINVAL);
    msgt_fill(&v, T_POD, sizeof v);
    tu_ok(ax_system_send(sys, ax_id_nil(), r.to, T_POD, &v, sizeof v));
    tu_assert_err(ax_system_send(sys, ax_id_nil(), r.to, T_POD, NULL, sizeof v), AX_EINVAL);
    tu_assert_err(ax_system_send(sys, ax_id_nil(), r.to, T_BLOB, NULL, 5), AX_EINVAL);
    /* The same from a handler. */
    tu_assert_err(send_from_handler(&r, 999, &v, sizeof v), AX_EUNKNOWNTYPE);
    tu_assert_err(send_from_handler(&r, T_POD, &v, 4), AX_EMSGSIZE);
    tu_assert_err(send_from_handler(&r, T_POD, NULL, sizeof v), AX_EINVAL);
    tu_drain(r.e.loop, 5000);
    /* Caller errors are not dead letters, and nothing bad was delivered. */
    assert_int_equal(r.dl, 0);
    assert_int_equal(r.sink.got, 1);
    assert_int_equal(r.sink.bad, 0);
    re_close(&r);
}

static void send_empty_type(void **state)
{
    (void)state;
    static reg_env r; /* static: reachable from the teardown after a failure */
    re_open(&r);
    uint64_t v = 0;
    tu_ok(ax_system_send(r.e.sys, ax_id_nil(), r.to, T_EMPTY, NULL, 0));
    tu_ok(ax_system_send(r.e.sys, ax_id_nil(), r.to, T_EMPTY, &v, 0));
    tu_ok(send_from_handler(&r, T_EMPTY, NULL, 0));
    tu_drain(r.e.loop, 5000);
    assert_int_equal(r.sink.got, 3);
    assert_int_equal(r.sink.last_type, T_EMPTY);
    assert_int_equal(r.sink.last_size, 0);
    assert_int_equal(r.sink.bytes, 0);
    re_close(&r);
}

static void send_varsize_full_range(void **state)
{
    (void)state;
    static reg_env r; /* static: reachable from the teardown after a failure */
    re_open(&r);
    static const size_t sizes[] = {
        0, 1, 7, 8, 15, 16, 17, 1000, 65488, 65489, 200000, 1000000, AX_MSG_MAX_SIZE};
    unsigned char *buf = malloc(AX_MSG_MAX_SIZE);
    assert_non_null(buf);
    uint64_t bytes = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        msgt_fill(buf, T_BLOB, sizes[i]);
        tu_ok(ax_system_send(r.e.sys, ax_id_nil(), r.to, T_BLOB, sizes[i] ? buf : NULL, sizes[i]));
        tu_drain(r.e.loop, 10000);
        assert_int_equal(r.sink.got, i + 1);
        assert_int_equal(r.sink.last_size, sizes[i]);
        assert_int_equal(r.sink.bad, 0);
        bytes += sizes[i];
    }
    assert_int_equal(r.sink.bytes, bytes);
    free(buf);
    re_close(&r);
}

/* A size equal to the fast path's "no fixed size" marker (UINT32_MAX as
 * a size_t) must be refused like any other size above the limit.  Each
 * call runs in a child process: if the check is missing, the send copies
 * 4 GiB into a small node, and that crash must fail this test, not take
 * the whole binary down. */
static int huge_size_child(uint32_t type, int want)
{
    /* cmocka's handlers would resume the parent's test run in the child. */
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], SIG_DFL);
    ax_loop_options lo = {.backend = tu_backend, .allocator = NULL};
    ax_loop *loop;
    ax_system *sys;
    if (ax_loop_new(&lo, &loop) || ax_system_new(loop, NULL, &sys))
        return 3;
    ax_msg_type blob = {T_BLOB, "blob", 0, 1, AX_MSG_F_VARSIZE, 0, NULL, NULL, NULL};
    ax_id to;
    if (ax_msg_register(sys, &blob) || ax_msg_register_pod(sys, T_BIG, "big", 100000, 8))
        return 3;
    msgt_sink sink = {.no_check = 1};
    if (ax_spawn(sys, msgt_sink_fn, &sink, NULL, &to))
        return 3;
    unsigned char *buf = calloc(1, 64);
    /* The fast path only runs with a node on the free list: put one there. */
    if (!buf || ax_system_send(sys, ax_id_nil(), to, T_BLOB, buf, 1))
        return 3;
    while (ax_loop_step(loop, 0) > 0) {
    }
    /* Type 0 meets the type cache at rest (as on a fresh system or after
     * a rehash): register enough types to rehash. */
    for (uint32_t i = 0; type == 0 && i < 64; i++)
        if (ax_msg_register_pod(sys, 30000 + i, NULL, 4, 4))
            return 3;
    int rc = ax_system_send(sys, ax_id_nil(), to, type, buf, (size_t)UINT32_MAX);
    if (rc != want) {
        fprintf(stderr, "type %u, size UINT32_MAX: got %s, want %s\n", type, ax_errname(rc),
                ax_errname(want));
        return 2;
    }
    free(buf);
    ax_system_free(sys);
    ax_loop_free(loop);
    return 0;
}

/* Run huge_size_child(type, want) in a child; 1 if it passed, else 0
 * with the reason printed. */
static int run_isolated(uint32_t type, int want)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(huge_size_child(type, want));
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (WIFSIGNALED(st)) {
        print_error("type %u, size UINT32_MAX: the send crashed (signal %d), want %s\n", type,
                    WTERMSIG(st), ax_errname(want));
        return 0;
    }
    if (WEXITSTATUS(st) != 0) {
        print_error("type %u, size UINT32_MAX: child exited %d (2: wrong code, 1: sanitizer "
                    "report, 3: setup), want %s\n",
                    type, WEXITSTATUS(st), ax_errname(want));
        return 0;
    }
    return 1;
}

static void send_size_uint32_max_is_refused(void **state)
{
    (void)state;
    if (SIZE_MAX <= UINT32_MAX)
        skip();
    int passed = run_isolated(T_BLOB, AX_EMSGSIZE)   /* varsize */
                 + run_isolated(T_BIG, AX_EMSGSIZE)  /* fixed, too big for a pooled node */
                 + run_isolated(0, AX_EUNKNOWNTYPE); /* never registered */
    if (passed != 3)
        fail_msg("%d of 3 sends of size UINT32_MAX were not refused", 3 - passed);
}

/* ---- encode / decode / release -------------------------------------------- */

static void nonpod_encode_decode_roundtrip(void **state)
{
    (void)state;
    static reg_env r; /* static: reachable from the teardown after a failure */
    re_open(&r);
    ax_system *sys = r.e.sys;
    msgt_note a = msgt_note_make("round trip", 5, 3);
    long need = ax_msg_encode(sys, T_NOTE, &a, sizeof a, NULL, 0);
    assert_int_equal(need, 8 + 10 + 4 * 5);

    /* Too small: the size comes back, nothing is written. */
    unsigned char small[64];
    memset(small, 0xAA, sizeof small);
    assert_int_equal(ax_msg_encode(sys, T_NOTE, &a, sizeof a, small, (size_t)need - 1), need);
    for (size_t i = 0; i < sizeof small; i++)
        if (small[i] != 0xAA)
            fail_msg("byte %zu written by an encode into a too-small buffer", i);

    unsigned char *big = malloc(256);
    assert_non_null(big);
    assert_int_equal(ax_msg_encode(sys, T_NOTE, &a, sizeof a, big, 256), need);

    /* Decode into garbage: the hook gets zeroed memory, builds a copy. */
    msgt_note b;
    memset(&b, 0x5A, sizeof b);
    tu_ok(ax_msg_decode(sys, T_NOTE, big, (size_t)need, &b));
    assert_int_equal(des_dirty, 0);
    assert_true(msgt_note_is(&b, "round trip", 5, 3));
    assert_ptr_not_equal(b.text, a.text);
    assert_ptr_not_equal(b.vals, a.vals);
    assert_int_equal(msgt_user_live, 4); /* a's two blocks and b's */

    /* Release runs the free hook, once. */
    ax_msg_release(sys, T_NOTE, &b);
    assert_int_equal(msgt_note_frees, 1);
    assert_null(b.text);
    assert_int_equal(msgt_user_live, 2);
    ax_msg_release(sys, T_NOTE, NULL); /* no-op */
    ax_msg_release(sys, 999, &b);      /* unknown: no-op */
    ax_msg_release(NULL, T_NOTE, &b);  /* no-op */
    assert_int_equal(msgt_note_frees, 1);

    /* Hook errors come back unchanged, and nothing is owned after them. */
    memset(&b, 0, sizeof b);
    tu_assert_err(ax_msg_decode(sys, T_NOTE, big, (size_t)need - 1, &b), AX_EMSGSIZE);
    tu_assert_err(ax_msg_decode(sys, T_NOTE, big, 3, &b), AX_EMSGSIZE);
    assert_int_equal(msgt_user_live, 2);
    uint32_t n = a.n;
    a.n = 2000;
    assert_int_equal(ax_msg_encode(sys, T_NOTE, &a, sizeof a, big, 256), AX_ERANGE);
    a.n = n;

    /* Argument errors. */
    assert_int_equal(ax_msg_encode(sys, 999, &a, sizeof a, big, 256), AX_EUNKNOWNTYPE);
    assert_int_equal(ax_msg_encode(NULL, T_NOTE, &a, sizeof a, big, 256), AX_EUNKNOWNTYPE);
    assert_int_equal(ax_msg_encode(sys, T_NOTE, &a, sizeof a, NULL, 256), AX_EINVAL);
    assert_int_equal(ax_msg_encode(sys, T_NOTE, NULL, sizeof a, big, 256), AX_EINVAL);
    tu_assert_err(ax_msg_decode(sys, 999, big, (size_t)need, &b), AX_EUNKNOWNTYPE);
    tu_assert_err(ax_msg_decode(sys, T_NOTE, NULL, (size_t)need, &b), AX_EINVAL);
    tu_assert_err(ax_msg_decode(sys, T_NOTE, big, (size_t)need, NULL), AX_EINVAL);
    assert_int_equal(ser_null, 0);

    free(big);
    msgt_note_release(&a);
    re_close(&r);
}

/* Encode checks the payload size for every fixed-size type, hooks or not:
 * the serialize hook reads type->size bytes at `msg`, so a NULL or short
 * payload must be refused before it runs (as it is for hook-less types). */
static void nonpod_encode_checks_size_before_hook(void **state)
{
    (void)state;
    static reg_env r; /* static: reachable from the teardown after a failure */
    re_open(&r);
    unsigned char buf[256];
    long rc = ax_msg_encode(r.e.sys, T_NOTE, NULL, 0, buf, sizeof buf);
    if (ser_null)
        fail_msg("ax_msg_encode ran the serialize hook on a NULL payload (returned %ld)", rc);
    assert_int_equal(rc, AX_EMSGSIZE);
    msgt_note a = msgt_note_make("sized", 1, 1);
    assert_int_equal(ax_msg_encode(r.e.sys, T_NOTE, &a, sizeof a - 1, buf, sizeof buf),
                     AX_EMSGSIZE);
    assert_int_equal(ser_calls, 0);
    msgt_note_release(&a);
    re_close(&r);
}

static void pod_encode_decode_roundtrip(void **state)
{
    (void)state;
    static reg_env r; /* static: reachable from the teardown after a failure */
    re_open(&r);
    ax_system *sys = r.e.sys;
    pod p = {0xA1B2C3D4u, 0x1234, 0x5678, 4.5};
    pod q;
    unsigned char buf[64];
    memset(buf, 0xAA, sizeof buf);
    assert_int_equal(ax_msg_encode(sys, T_POD, &p, sizeof p, NULL, 0), sizeof p);
    assert_int_equal(ax_msg_encode(sys, T_POD, &p, sizeof p, buf, sizeof p - 1), sizeof p);
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0xAA);
    assert_int_equal(ax_msg_encode(sys, T_POD, &p, sizeof p, buf, sizeof buf), sizeof p);
    assert_memory_equal(buf, &p, sizeof p); /* the bytes are the encoding */
    assert_int_equal(buf[sizeof p], 0xAA);
    memset(&q, 0, sizeof q);
    tu_ok(ax_msg_decode(sys, T_POD, buf, sizeof p, &q));
    assert_memory_equal(&q, &p, sizeof p);
    ax_msg_release(sys, T_POD, &q); /* no hook: nothing happens */
    assert_memory_equal(&q, &p, sizeof p);

    /* Wrong lengths. */
    tu_assert_err(ax_msg_decode(sys, T_POD, buf, sizeof p - 1, &q), AX_EMSGSIZE);
    tu_assert_err(ax_msg_decode(sys, T_POD, buf, sizeof p + 1, &q), AX_EMSGSIZE);
    tu_assert_err(ax_msg_decode(sys, T_POD, buf, 0, &q), AX_EMSGSIZE);
    assert_int_equal(ax_msg_encode(sys, T_POD, &p, sizeof p - 1, buf, sizeof buf), AX_EMSGSIZE);

    /* Empty type: zero bytes both ways. */
    assert_int_equal(ax_msg_encode(sys, T_EMPTY, NULL, 0, NULL, 0), 0);
    tu_ok(ax_msg_decode(sys, T_EMPTY, NULL, 0, &q));
    tu_assert_err(ax_msg_decode(sys, T_EMPTY, buf, 1, &q), AX_EMSGSIZE);

    /* Varsize: any length, copied as is. */
    unsigned char blob[100], out[100];
    msgt_fill(blob, T_BLOB, sizeof blob);
    assert_int_equal(ax_msg_encode(sys, T_BLOB, blob, sizeof blob, buf, sizeof buf),
                     sizeof blob); /* too small: size only */
    unsigned char wide[128];
    assert_int_equal(ax_msg_encode(sys, T_BLOB, blob, sizeof blob, wide, sizeof wide), sizeof blob);
    tu_ok(ax_msg_decode(sys, T_BLOB, wide, sizeof blob, out));
    assert_memory_equal(out, blob, sizeof blob);
    tu_ok(ax_msg_decode(sys, T_BLOB, wide, 0, out));
    re_close(&r);
}

int main(int argc, char **argv)
{
    tu_parse_backend(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(register_rejects_bad_records, re_teardown),
        cmocka_unit_test_teardown(register_copies_record_and_name, re_teardown),
        cmocka_unit_test_teardown(send_unknown_type_and_wrong_size, re_teardown),
        cmocka_unit_test_teardown(send_empty_type, re_teardown),
        cmocka_unit_test_teardown(send_varsize_full_range, re_teardown),
        cmocka_unit_test_teardown(send_size_uint32_max_is_refused, re_teardown),
        cmocka_unit_test_teardown(nonpod_encode_decode_roundtrip, re_teardown),
        cmocka_unit_test_teardown(nonpod_encode_checks_size_before_hook, re_teardown),
        cmocka_unit_test_teardown(pod_encode_decode_roundtrip, re_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
