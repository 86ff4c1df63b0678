/* expect: 7: flexible and zero-length array members are not supported */
#include <axon/idl.h>

AX_MESSAGE(Blob, 1)
typedef struct {
    uint32_t len;
    uint8_t data[];
} Blob;
