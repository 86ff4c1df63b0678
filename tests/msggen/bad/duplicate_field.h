/* expect: 8: Order already has a field named 'qty' */
#include <axon/idl.h>

AX_MESSAGE(Order, 1)
typedef struct {
    int32_t qty;
    double price;
    int64_t qty;
} Order;
