/* expect: 4: message id 0x100000000 is outside 1..0xFFFEFFFF (ids are unsigned 32-bit numbers) */
#include <axon/idl.h>

AX_MESSAGE(Big, 0x100000000)
typedef struct {
    int32_t a;
} Big;
