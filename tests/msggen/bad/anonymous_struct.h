/* expect: 7: anonymous structs are not supported */
#include <axon/idl.h>

AX_MESSAGE(Outer, 1)
typedef struct {
    int32_t a;
    struct {
        int32_t b;
    } inner;
} Outer;
