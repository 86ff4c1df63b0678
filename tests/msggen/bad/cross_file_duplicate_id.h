/* expect: 4: message id 5 of 'Again' is already used by 'Original' */
#include <axon/idl.h>

AX_MESSAGE(Again, 5)
typedef struct {
    int32_t a;
} Again;
