/* expect: 6: 'const' is not allowed on a field */
#include <axon/idl.h>

AX_MESSAGE(Fixed, 1)
typedef struct {
    const int32_t a;
} Fixed;
