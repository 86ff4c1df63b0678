/* expect: 4: unexpected 'AX_MESAGE': expected AX_MESSAGE(Name, id) */
#include <axon/idl.h>

AX_MESAGE(Typo, 1)
typedef struct {
    int32_t a;
} Typo;
