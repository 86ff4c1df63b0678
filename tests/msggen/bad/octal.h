/* expect: 6: '010' is an octal literal in C */
#include <axon/idl.h>

AX_MESSAGE(Octal, 1)
typedef struct {
    int32_t cells[010];
} Octal;
