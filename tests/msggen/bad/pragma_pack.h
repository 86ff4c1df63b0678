/* expect: 4: #pragma pack changes the layout and is not supported */
#include <axon/idl.h>

#pragma pack(push, 1)
AX_MESSAGE(Packed, 1)
typedef struct {
    int8_t a;
    double b;
} Packed;
