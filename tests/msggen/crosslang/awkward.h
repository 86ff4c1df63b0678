/* awkward.h - layouts that catch a generator that gets alignment wrong:
 * padding after int8_t before double, tail padding, nested structs,
 * arrays of structs, multi-dimensional arrays, bool, enums of every width,
 * an empty message and the largest valid id. */
#ifndef AWKWARD_H
#define AWKWARD_H

#include <stdbool.h>
#include <stdint.h>
#include <axon/idl.h>

#define NAME_LEN 5
#define ROWS (2)

/* A colour that fits in one byte. */
AX_ENUM(Color, uint8_t) { COLOR_RED = 1, COLOR_GREEN = 2, COLOR_BLUE = 200 };

/* 64-bit enum with a negative value. */
AX_ENUM(Mode, int64_t) {
    MODE_OFF = -1,
    MODE_IDLE,      /* 0: implicit value */
    MODE_ON = 7,
};

AX_ENUM(Level, int16_t) { LEVEL_LOW = -300, LEVEL_HIGH = 300 };

/* Prefix does not match: enumerators keep their C names. */
AX_ENUM(Flag, uint32_t) { FLAG_A = 1, OTHER_B = 0x7FFFFFFF };

/* 7 bytes of padding after tag, 4 bytes of tail padding. */
AX_STRUCT(Point)
typedef struct {
    int8_t tag;
    double x;
    float y;
} Point;

/* Padding everywhere. */
AX_MESSAGE(Padded, 100)
typedef struct {
    int8_t a;  /* then 7 bytes of padding */
    double b;
    int16_t c;
    bool d;    /* 1 byte */
    int32_t e; /* aligned to 4 after d */
    bool f;    /* then 7 bytes of tail padding */
} Padded;

/* Nested structs, arrays of structs and enums, 2-D arrays. */
AX_MESSAGE(Nested, 101)
typedef struct {
    bool flag;
    Point p;
    Point ps[3];
    Color color;
    Color colors[5];
    Mode mode;
    Level level;
    int32_t grid[ROWS][3];
    char names[3][NAME_LEN];
    uint64_t big;
    Flag flags;
} Nested;

/* One of every primitive, in an unfriendly order. */
AX_MESSAGE(AllTypes, 102)
typedef struct {
    uint8_t u8;
    uint64_t u64;
    int8_t i8;
    int64_t i64;
    uint16_t u16;
    float f32;
    int16_t i16;
    double f64;
    uint32_t u32;
    _Bool b;
    int32_t i32;
    char text[NAME_LEN];
    char one[1];
    int32_t type; /* a Rust keyword as a field name */
} AllTypes;

/* A message nested in a message, followed by a byte. */
AX_MESSAGE(Wrapper, 103)
typedef struct Wrapper {
    Nested inner;
    int8_t trailer;
    Padded pads[2];
} Wrapper;

/* Alignment 1, odd size. */
AX_MESSAGE(Bytes, 104)
typedef struct {
    uint8_t data[3];
} Bytes;

/* The largest id a user type may take. */
AX_MESSAGE(Tiny, 0xFFFEFFFF)
typedef struct {
    bool on;
} Tiny;

/* No payload at all. */
AX_EMPTY_MESSAGE(Ping, 105)

#endif
