/* expect: 6: 'long' has no fixed width (64 bits on Linux, 32 on Windows); write int64_t */
#include <axon/idl.h>

AX_MESSAGE(Count, 1)
typedef struct {
    long count;
} Count;
