/* expect: 7: the typedef name 'Other' differs from the name in AX_MESSAGE(Order, ...) */
#include <axon/idl.h>

AX_MESSAGE(Order, 1)
typedef struct {
    int32_t a;
} Other;
