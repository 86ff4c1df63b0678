/* certgen.h - test certificates made with libcrypto at run time (nothing
 * is committed): a CA, a node certificate it signs (used by every node;
 * nodes are told apart by node id, not certificate), and a self-signed
 * rogue certificate the CA never signed.  Shared by the tests and
 * bench/ring_dist. */
#ifndef AXON_CERTGEN_H
#define AXON_CERTGEN_H

#include <stddef.h>

typedef struct certgen_paths {
    char ca[512], cert[512], key[512];
    char rogue_cert[512], rogue_key[512];
} certgen_paths;

/* Write ca.pem, node.pem, node.key, rogue.pem, rogue.key into dir.
 * Returns 0, or -1 (with a message on stderr). */
int certgen_make(const char *dir, certgen_paths *out);

#endif
