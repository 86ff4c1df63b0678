/* expect: 1: must be NAME.h with NAME a plain identifier */
#include <axon/idl.h>

AX_MESSAGE(Order, 1)
typedef struct {
    int32_t a;
} Order;
