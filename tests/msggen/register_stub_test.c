/* register_stub_test.c - the C code axon-msggen generates for
 * golden/sensors.h (at build time, through axon_generate_messages), run
 * against a stub ax_msg_register() that records each call and can fail on
 * demand.  Needs no axon library: it tests the generated table and
 * registration function, and that the IDL header is usable plain C. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <axon/msg.h>

#include "sensors.axon.h"

#define FAKE_SYS ((ax_system *)(uintptr_t)0x5e5)

static const ax_msg_type *calls[8];
static int ncalls;
static int fail_at = -1; /* call index that fails */
static int fail_rc;

int ax_msg_register(ax_system *sys, const ax_msg_type *type)
{
    assert_ptr_equal(sys, FAKE_SYS);
    assert_true(ncalls < 8);
    calls[ncalls] = type;
    if (ncalls++ == fail_at)
        return fail_rc;
    return 0;
}

static int reset(void **state)
{
    (void)state;
    memset(calls, 0, sizeof calls);
    ncalls = 0;
    fail_at = -1;
    return 0;
}

static void expect_type(const ax_msg_type *t, uint32_t id, const char *name, size_t size,
                        size_t align, uint64_t hash)
{
    assert_non_null(t);
    assert_int_equal(t->id, id);
    assert_string_equal(t->name, name);
    assert_int_equal(t->size, size);
    assert_int_equal(t->align, align);
    assert_int_equal(t->flags, 0);
    assert_true(t->layout_hash == hash);
    assert_null(t->serialize);
    assert_null(t->deserialize);
    assert_null(t->free);
}

static void registers_every_message_in_order(void **state)
{
    (void)state;
    assert_int_equal(sensors_register(FAKE_SYS), 0);
    assert_int_equal(ncalls, 3);
    expect_type(calls[0], 2001, "Reading", sizeof(Reading), _Alignof(Reading),
                Reading_SCHEMA_HASH);
    expect_type(calls[1], 2002, "Batch", sizeof(Batch), _Alignof(Batch), Batch_SCHEMA_HASH);
    expect_type(calls[2], 2003, "Poll", 0, 1, Poll_SCHEMA_HASH);
}

static void stops_at_the_first_error(void **state)
{
    (void)state;
    fail_at = 1;
    fail_rc = AX_EEXIST;
    assert_int_equal(sensors_register(FAKE_SYS), AX_EEXIST);
    assert_int_equal(ncalls, 2); /* Poll was not attempted */
    assert_int_equal(calls[1]->id, Batch_MESSAGE_ID);
}

static void table_matches_registration(void **state)
{
    (void)state;
    size_t n = 0;
    const ax_msg_type *table = sensors_message_types(&n);
    assert_int_equal(n, 3);
    assert_int_equal(sensors_register(FAKE_SYS), 0);
    for (size_t i = 0; i < n; i++)
        assert_ptr_equal(&table[i], calls[i]);
    assert_ptr_equal(sensors_message_types(NULL), table);
    /* The hashes are distinct, and the file hash is none of them. */
    assert_true(Reading_SCHEMA_HASH != Batch_SCHEMA_HASH);
    assert_true(SENSORS_SCHEMA_HASH != Reading_SCHEMA_HASH);
}

static int kind_of(uint32_t id)
{
    switch (id) { /* AX_MSG_ID is a constant expression */
    case AX_MSG_ID(Reading):
        return 1;
    case AX_MSG_ID(Batch):
        return 2;
    case AX_MSG_ID(Poll):
        return 3;
    default:
        return 0;
    }
}

static void idl_header_is_plain_c(void **state)
{
    (void)state;
    assert_int_equal(kind_of(Reading_MESSAGE_ID), 1);
    assert_int_equal(kind_of(0x7D2), 2);
    assert_int_equal(kind_of(Poll_MESSAGE_ID), 3);
    Batch b;
    memset(&b, 0, sizeof b);
    b.count = BATCH_LEN;
    b.readings[3].health = HEALTH_FAILED;
    b.readings[3].position.z = 1.5f;
    b.readings[3].calibrated = true;
    memcpy(b.readings[3].unit, "degC", 4);
    b.matrix[1][2] = -7;
    assert_int_equal(sizeof(Health), 1);
    assert_int_equal(b.readings[3].health, 9);
    assert_int_equal(offsetof(Batch, readings), 8);
    assert_int_equal(sizeof b, 216);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(registers_every_message_in_order, reset),
        cmocka_unit_test_setup(stops_at_the_first_error, reset),
        cmocka_unit_test_setup(table_matches_registration, reset),
        cmocka_unit_test_setup(idl_header_is_plain_c, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
