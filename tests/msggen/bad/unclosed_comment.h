/* expect: 4: comment is not closed */
#include <axon/idl.h>

AX_MESSAGE(Order, 1) /* oops
typedef struct {
    int32_t a;
} Order;
