/* expect: 7: pointers are not supported */
#include <axon/idl.h>

AX_MESSAGE(Login, 1)
typedef struct {
    int32_t user;
    char *name;
} Login;
