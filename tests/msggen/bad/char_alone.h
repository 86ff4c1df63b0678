/* expect: 6: a lone 'char' is signed on x86-64 and unsigned on AArch64 */
#include <axon/idl.h>

AX_MESSAGE(Key, 1)
typedef struct {
    char key;
} Key;
