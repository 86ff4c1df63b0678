/* expect: 4: message id 0xFFFF0000 is outside 1..0xFFFEFFFF (ids from 0xFFFF0000 are reserved for axon) */
#include <axon/idl.h>

AX_MESSAGE(Sys, 0xFFFF0000)
typedef struct {
    int32_t a;
} Sys;
