/* axon/idl.h - the macros of axon's message IDL.
 *
 * Messages are declared once, in a plain C header that includes this file,
 * and tools/axon-msggen generates the C registration table, a C++ header, a
 * Rust module and a Python module from it (docs/msggen.md):
 *
 *     #include <axon/idl.h>
 *
 *     AX_ENUM(Side, int32_t) { SIDE_BUY = 0, SIDE_SELL = 1 };
 *
 *     AX_MESSAGE(RiskCheck, 1020)
 *     typedef struct {
 *         int64_t order_id;
 *         char    symbol[8];
 *         double  quantity;
 *         double  price;
 *         Side    side;
 *     } RiskCheck;
 *
 * For a C compiler the macros are ordinary declarations, so a C program
 * that includes the IDL header gets usable types: AX_MSG_ID(RiskCheck) is
 * the id as an integer constant expression (usable in `case` labels), and
 * a `Side` is an int32_t with the enumerators SIDE_BUY and SIDE_SELL.
 *
 * Depends on nothing but <stdint.h> and <stdbool.h>.
 */
#ifndef AXON_IDL_H
#define AXON_IDL_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
#define AX__IDL_ASSERT static_assert
#else
#define AX__IDL_ASSERT _Static_assert
#endif

/* Declare that the struct typedef'd on the next lines is the message type
 * `Name` with type id `id` (1..0xFFFEFFFF: ids from 0xFFFF0000 are axon's).
 * The id is kept as two enumerators of 16 bits each, so ids above INT_MAX
 * stay valid ISO C (an enumerator must fit in int). */
#define AX_MESSAGE(Name, id)                                                                       \
    enum {                                                                                         \
        AX_MSGID_HI_##Name = (int)(((unsigned long long)(id) >> 16) & 0xFFFFu),                    \
        AX_MSGID_LO_##Name = (int)((unsigned long long)(id) & 0xFFFFu)                             \
    };                                                                                             \
    AX__IDL_ASSERT((unsigned long long)(id) - 1u < 0xFFFEFFFFull,                                  \
                   "AX_MESSAGE(" #Name ", " #id "): message ids are 1..0xFFFEFFFF");

/* A message without payload (size 0).  `Name` is an incomplete struct
 * type: send it with a NULL payload and size 0. */
#define AX_EMPTY_MESSAGE(Name, id)                                                                 \
    AX_MESSAGE(Name, id)                                                                           \
    typedef struct Name Name;

/* Declare that the struct typedef'd on the next lines is a plain struct
 * without an id, for nesting inside messages. */
#define AX_STRUCT(Name)

/* A named set of values stored as the fixed-width integer type `Type`:
 *     AX_ENUM(Side, int32_t) { SIDE_BUY = 0, SIDE_SELL = 1 };
 * declares `Side` as `Type` (so its size never depends on the compiler, as
 * a C enum's would) and the enumerators as C enum constants. */
#define AX_ENUM(Name, Type)                                                                        \
    typedef Type Name;                                                                             \
    enum AX_ENUM_##Name

/* The id of message type `Name` as a uint32_t constant expression. */
#define AX_MSG_ID(Name)                                                                            \
    ((uint32_t)(((uint32_t)AX_MSGID_HI_##Name << 16) | (uint32_t)AX_MSGID_LO_##Name))

#endif /* AXON_IDL_H */
