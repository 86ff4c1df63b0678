/* fuzz_harness.h - feeding bytes to a node exactly as a peer would: a
 * fresh system (node 1) per input, the input written into one end of a
 * socketpair whose other end the node accepts as a connection, the loop
 * stepped until the node closes it or goes quiet.  Used by the libFuzzer
 * targets (clang -fsanitize=fuzzer,address) and by the replay driver that
 * CTest runs with any compiler. */
#ifndef AXON_FUZZ_HARNESS_H
#define AXON_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#define FUZZ_SECRET "fuzz-secret"

/* mode FUZZ_FRAMES: the node needs no authentication and the harness
 * puts a valid preamble and HELLO (from node 2) before the input, so the
 * input is decoded as frames of a link that is up.  FUZZ_HANDSHAKE: the
 * node requires FUZZ_SECRET and the input is the raw stream. */
enum { FUZZ_FRAMES = 0, FUZZ_HANDSHAKE = 1 };

int fuzz_run(int mode, const uint8_t *data, size_t size);

/* Seeds: valid streams for each mode, written by the caller's callback. */
typedef void (*fuzz_seed_fn)(void *arg, const uint8_t *data, size_t size);
void fuzz_seeds(int mode, fuzz_seed_fn fn, void *arg);

#endif
