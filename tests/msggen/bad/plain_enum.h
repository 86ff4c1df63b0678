/* expect: 4: plain C enums have a compiler-chosen size */
#include <axon/idl.h>

enum Color {
    RED,
    GREEN,
};
