/* expect: 6: 'short' has no fixed width in C; write int16_t instead */
#include <axon/idl.h>

AX_MESSAGE(Count, 1)
typedef struct {
    short count;
} Count;
