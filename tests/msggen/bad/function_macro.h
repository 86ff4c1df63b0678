/* expect: 4: function-like macro LEN(...) is not supported */
#include <axon/idl.h>

#define LEN(x) (x * 2)
