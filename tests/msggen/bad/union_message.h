/* expect: 5: unions are not supported */
#include <axon/idl.h>

AX_MESSAGE(Value, 1)
typedef union {
    int32_t i;
    float f;
} Value;
