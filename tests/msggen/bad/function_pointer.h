/* expect: 6: function pointers are not supported: an address means nothing */
#include <axon/idl.h>

AX_MESSAGE(Callback, 1)
typedef struct {
    void (*fn)(void);
} Callback;
