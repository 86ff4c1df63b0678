/* expect: 6: unknown type 'Point' */
#include <axon/idl.h>

AX_MESSAGE(Move, 1)
typedef struct {
    Point to;
} Move;

AX_STRUCT(Point)
typedef struct {
    int32_t x;
} Point;
