/* expect: 6: expected ';' after field 'a', found 'int32_t' */
#include <axon/idl.h>

AX_MESSAGE(Order, 1)
typedef struct {
    int32_t a
    int32_t b;
} Order;
