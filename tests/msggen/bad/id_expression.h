/* expect: 5: a message id must be a single integer literal or #define'd constant, not an expression */
#include <axon/idl.h>

#define BASE 1000
AX_MESSAGE(Sum, BASE + 1)
typedef struct {
    int32_t a;
} Sum;
