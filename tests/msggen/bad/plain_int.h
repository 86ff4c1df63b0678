/* expect: 6: 'int' has no fixed width in C; write int32_t instead */
#include <axon/idl.h>

AX_MESSAGE(Count, 1)
typedef struct {
    int count;
} Count;
