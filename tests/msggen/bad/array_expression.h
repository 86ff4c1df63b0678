/* expect: 6: an array length must be a single integer literal or #define'd constant, not an expression */
#include <axon/idl.h>

AX_MESSAGE(Grid, 1)
typedef struct {
    int32_t cells[4 * 4];
} Grid;
