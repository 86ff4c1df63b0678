/* expect: 6: plain C enums have a compiler-chosen size */
#include <axon/idl.h>

AX_MESSAGE(Paint, 1)
typedef struct {
    enum Color c;
} Paint;
