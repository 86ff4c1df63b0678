/* expect: 9: message id 7 of 'Second' is already used by 'First' */
#include <axon/idl.h>

AX_MESSAGE(First, 7)
typedef struct {
    int32_t a;
} First;

AX_MESSAGE(Second, 7)
typedef struct {
    int32_t b;
} Second;
