/* expect: 4: 'float' cannot hold an enum: write a fixed-width integer type */
#include <axon/idl.h>

AX_ENUM(E, float) {
    E_A = 1,
};
