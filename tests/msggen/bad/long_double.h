/* expect: 6: write double instead */
#include <axon/idl.h>

AX_MESSAGE(Price, 1)
typedef struct {
    long double value;
} Price;
