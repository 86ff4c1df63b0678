// expect: 5: '/*' inside a comment (was a comment left open?)
#include <axon/idl.h>

AX_MESSAGE(Order, 1) /* the comment is not closed
/* Second comment. */
typedef struct {
    int32_t a;
} Order;
