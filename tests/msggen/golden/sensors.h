/* sensors.h - the golden-file input of axon-msggen: one of each construct
 * (constant, enum, plain struct, messages, nested structs, arrays of structs,
 * 2-D arrays, bool, char[N], an empty message) and every comment style.
 * The expected output is in this directory; see docs/msggen.md to
 * regenerate it. */
#ifndef SENSORS_H
#define SENSORS_H

#include <axon/idl.h>

/* Readings per Batch. */
#define BATCH_LEN 4

/* Health of a sensor. */
AX_ENUM(Health, uint8_t) {
    HEALTH_OK = 0,   /* working */
    HEALTH_DEGRADED, /* readings may be noisy */
    /* needs service */
    HEALTH_FAILED = 9,
};

/** A position in metres. */
AX_STRUCT(Vec3)
typedef struct {
    float x;
    float y;
    float z;
} Vec3;

// One reading of one sensor.
// Sent by every sensor once per period.
AX_MESSAGE(Reading, 2001)
typedef struct {
    uint32_t sensor_id;
    int64_t timestamp_ns; // when it was taken
    Vec3 position;
    double value;
    Health health;
    bool calibrated;
    /* Unit of value, NUL-padded: "degC", "Pa", ... */
    char unit[4];
} Reading;

/* Several readings at once. */
AX_MESSAGE(Batch, 0x7D2)
typedef struct Batch {
    uint16_t count; /* valid entries in readings */
    Reading readings[BATCH_LEN];
    int16_t matrix[2][3];
} Batch;

/* Ask every sensor to report now. */
AX_EMPTY_MESSAGE(Poll, 2003)

#endif /* SENSORS_H */
