/* expect: 6: struct Nothing has no fields (empty structs are not valid C): for a message without payload write AX_EMPTY_MESSAGE(Nothing, id) */
#include <axon/idl.h>

AX_MESSAGE(Nothing, 1)
typedef struct {
} Nothing;
