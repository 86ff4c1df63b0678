/* fuzz_handshake.c - libFuzzer target: the raw stream from the first byte
 * (preamble, HELLO, AUTH) against a node that requires a secret. */
#include "fuzz_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_run(FUZZ_HANDSHAKE, data, size);
}
