/* register_test.c - the generated registration code of golden/sensors.h
 * against axon's real type registry: every type is found with the size,
 * alignment and schema hash the tool computed, a second registration is
 * refused, and a Reading survives ax_msg_encode/ax_msg_decode. */
#include "util/testutil.h"

#include <string.h>

#include "sensors.axon.h"

static void check(const ax_system *sys, uint32_t id, const char *name, size_t size,
                  size_t align, uint64_t hash)
{
    const ax_msg_type *t = ax_msg_type_find(sys, id);
    assert_non_null(t);
    assert_string_equal(t->name, name);
    assert_int_equal(t->size, size);
    assert_int_equal(t->align, align);
    assert_true(t->layout_hash == hash);
}

static void registers_into_a_system(void **state)
{
    (void)state;
    tu_alloc a;
    tu_alloc_init(&a);
    tu_env e;
    tu_env_open(&e, &a.a, NULL);

    tu_ok(sensors_register(e.sys));
    check(e.sys, Reading_MESSAGE_ID, "Reading", sizeof(Reading), _Alignof(Reading),
          Reading_SCHEMA_HASH);
    check(e.sys, Batch_MESSAGE_ID, "Batch", sizeof(Batch), _Alignof(Batch), Batch_SCHEMA_HASH);
    check(e.sys, Poll_MESSAGE_ID, "Poll", 0, 1, Poll_SCHEMA_HASH);
    tu_assert_err(sensors_register(e.sys), AX_EEXIST);

    Reading r, back;
    memset(&r, 0, sizeof r);
    r.sensor_id = 42;
    r.value = -273.15;
    r.health = HEALTH_DEGRADED;
    memcpy(r.unit, "degC", 4);
    unsigned char buf[sizeof r];
    assert_int_equal(ax_msg_encode(e.sys, Reading_MESSAGE_ID, &r, sizeof r, buf, sizeof buf),
                     (long)sizeof r);
    tu_ok(ax_msg_decode(e.sys, Reading_MESSAGE_ID, buf, sizeof buf, &back));
    assert_memory_equal(&r, &back, sizeof r);

    tu_env_close(&e);
    assert_int_equal(a.live_blocks, 0);
}

int main(int argc, char **argv)
{
    tu_parse_backend(argc, argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registers_into_a_system),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
