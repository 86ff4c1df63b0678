/* expect: 6: 'from' is a Python keyword */
#include <axon/idl.h>

AX_MESSAGE(Transfer, 1)
typedef struct {
    int64_t from;
    int64_t to;
} Transfer;
