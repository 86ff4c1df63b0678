/* expect: 7: struct Node cannot contain itself */
#include <axon/idl.h>

AX_MESSAGE(Node, 1)
typedef struct Node {
    int32_t value;
    Node next;
} Node;
