/* expect: 6: write int32_t instead */
#include <axon/idl.h>

AX_MESSAGE(Len, 1)
typedef struct {
    int_fast32_t len;
} Len;
