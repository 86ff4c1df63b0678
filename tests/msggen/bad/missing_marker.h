/* expect: 4: struct Bare has no AX_MESSAGE(Bare, id) or AX_STRUCT(Bare) */
#include <axon/idl.h>

typedef struct {
    int32_t a;
} Bare;
