/* expect: 7: 'SIDE_BUY' is already declared at */
#include <axon/idl.h>

AX_ENUM(Side, int32_t) {
    SIDE_BUY = 0,
    SIDE_SELL = 1,
    SIDE_BUY = 2,
};
