/* expect: 7: alignment and packing attributes are not supported */
#include <axon/idl.h>

AX_MESSAGE(Packed, 1)
typedef struct {
    int8_t a;
    double b __attribute__((aligned(16)));
} Packed;
