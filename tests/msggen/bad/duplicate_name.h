/* expect: 9: 'Order' is already declared at */
#include <axon/idl.h>

AX_MESSAGE(Order, 1)
typedef struct {
    int32_t a;
} Order;

AX_MESSAGE(Order, 2)
typedef struct {
    int32_t b;
} Order;
