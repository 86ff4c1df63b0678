/* expect: 4: '1.5' is not an integer literal */
#include <axon/idl.h>

AX_MESSAGE(Order, 1.5)
typedef struct {
    int32_t a;
} Order;
