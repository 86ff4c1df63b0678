/* expect: 6: E_BIG = 300 does not fit in uint8_t (0..255) */
#include <axon/idl.h>

AX_ENUM(E, uint8_t) {
    E_SMALL = 1,
    E_BIG = 300,
};
