/* expect: 6: 'size_t' has no fixed width on every platform; write uint64_t instead */
#include <axon/idl.h>

AX_MESSAGE(Len, 1)
typedef struct {
    size_t len;
} Len;
