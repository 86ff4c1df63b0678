/* expect: 6: 'MESSAGE_ID' is a member the generated code defines */
#include <axon/idl.h>

AX_MESSAGE(Envelope, 1)
typedef struct {
    uint32_t MESSAGE_ID;
} Envelope;
