/* expect: 4: #ifdef is not supported */
#include <axon/idl.h>

#ifdef WITH_EXTRA
AX_MESSAGE(Order, 1)
typedef struct {
    int32_t a;
} Order;
#endif
