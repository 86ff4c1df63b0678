/* expect: 6: 'unsigned' has no fixed width in C; write uint32_t instead */
#include <axon/idl.h>

AX_MESSAGE(Count, 1)
typedef struct {
    unsigned count;
} Count;
