/* expect: 4: unions are not supported */
#include <axon/idl.h>

typedef union {
    int32_t i;
    float f;
} Value;
