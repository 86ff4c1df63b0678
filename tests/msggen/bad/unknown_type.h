/* expect: 6: unknown type 'Price' */
#include <axon/idl.h>

AX_MESSAGE(Quote, 1)
typedef struct {
    Price bid;
} Quote;
