/* expect: 11: write 'Point' instead of 'struct Point' */
#include <axon/idl.h>

AX_STRUCT(Point)
typedef struct {
    int32_t x;
} Point;

AX_MESSAGE(Move, 1)
typedef struct {
    struct Point to;
} Move;
