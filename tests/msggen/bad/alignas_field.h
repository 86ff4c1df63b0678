/* expect: 6: alignment and packing attributes are not supported */
#include <axon/idl.h>

AX_MESSAGE(Aligned, 1)
typedef struct {
    _Alignas(16) int32_t a;
} Aligned;
