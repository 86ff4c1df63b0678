/* expect: 6: fields cannot have initializers */
#include <axon/idl.h>

AX_MESSAGE(Defaults, 1)
typedef struct {
    int32_t retries = 3;
} Defaults;
