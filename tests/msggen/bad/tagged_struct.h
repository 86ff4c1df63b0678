/* expect: 4: write 'AX_MESSAGE(Name, id)' or 'AX_STRUCT(Name)' followed by 'typedef struct { ... } Name;' */
#include <axon/idl.h>

struct Order {
    int32_t a;
};
