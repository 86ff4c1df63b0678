/* expect: 6: field 'len' has the name of the constant #define'd at */
#include <axon/idl.h>

AX_MESSAGE(Blob, 1)
typedef struct {
    uint32_t len;
    uint8_t data[16];
} Blob;

#define len 16
