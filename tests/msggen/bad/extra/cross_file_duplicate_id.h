/* Passed before ../cross_file_duplicate_id.h by the rejection test. */
#include <axon/idl.h>

AX_MESSAGE(Original, 5)
typedef struct {
    int32_t a;
} Original;
