/* expect: 4: '#define LEN 4 * 2' is not understood */
#include <axon/idl.h>

#define LEN 4 * 2
