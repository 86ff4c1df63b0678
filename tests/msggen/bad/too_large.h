/* expect: 6: more than the largest message payload */
#include <axon/idl.h>

AX_MESSAGE(Huge, 1)
typedef struct {
    uint8_t data[20000000];
} Huge;
