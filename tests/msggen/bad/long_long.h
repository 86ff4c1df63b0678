/* expect: 6: 'long long' has no fixed width in C; write int64_t instead */
#include <axon/idl.h>

AX_MESSAGE(Count, 1)
typedef struct {
    long long count;
} Count;
