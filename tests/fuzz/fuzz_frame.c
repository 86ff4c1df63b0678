/* fuzz_frame.c - libFuzzer target: frames on a link that is up. */
#include "fuzz_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_run(FUZZ_FRAMES, data, size);
}
