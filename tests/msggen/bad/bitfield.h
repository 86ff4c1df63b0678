/* expect: 6: bitfields are not supported */
#include <axon/idl.h>

AX_MESSAGE(Flags, 1)
typedef struct {
    uint32_t ready : 1;
    uint32_t rest : 31;
} Flags;
