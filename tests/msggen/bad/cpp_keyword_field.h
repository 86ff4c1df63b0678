/* expect: 6: 'class' is a C++ keyword */
#include <axon/idl.h>

AX_MESSAGE(Student, 1)
typedef struct {
    int32_t class;
} Student;
