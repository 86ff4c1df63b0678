/* expect: 4: message id -5 is outside 1..0xFFFEFFFF */
#include <axon/idl.h>

AX_MESSAGE(Neg, -5)
typedef struct {
    int32_t a;
} Neg;
