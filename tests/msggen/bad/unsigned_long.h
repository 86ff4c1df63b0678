/* expect: 6: 'unsigned long' has no fixed width */
#include <axon/idl.h>

AX_MESSAGE(Count, 1)
typedef struct {
    unsigned long count;
} Count;
