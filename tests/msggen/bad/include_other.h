/* expect: 4: #include "common.h" is not allowed */
#include <axon/idl.h>

#include "common.h"
AX_MESSAGE(Order, 1)
typedef struct {
    int32_t a;
} Order;
