/* expect: 7: unions are not supported */
#include <axon/idl.h>

AX_MESSAGE(Tagged, 1)
typedef struct {
    int32_t tag;
    union {
        int32_t i;
        float f;
    } value;
} Tagged;
