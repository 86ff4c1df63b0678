/* expect: 4: message id 0 is outside 1..0xFFFEFFFF (0 is never a valid id) */
#include <axon/idl.h>

AX_MESSAGE(Zero, 0)
typedef struct {
    int32_t a;
} Zero;
