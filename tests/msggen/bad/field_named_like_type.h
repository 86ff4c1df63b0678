/* expect: 8: field 'Side' has the name of the type declared at */
#include <axon/idl.h>

AX_ENUM(Side, int32_t) { SIDE_BUY, SIDE_SELL };

AX_MESSAGE(Order, 1)
typedef struct {
    Side Side;
} Order;
