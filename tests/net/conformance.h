/* conformance.h - what the two files of the conformance suite share
 * (conformance_test.c: delivery and main; conformance_api.c: names,
 * monitors, hooks, schemas). */
#ifndef AXON_CONFORMANCE_H
#define AXON_CONFORMANCE_H

#include "nettest.h"

/* A count to wait for with nt_run: the sink's counter reaches want. */
typedef struct cnt {
    nt_sink *s;
    size_t want;
} cnt;

/* nt_run conditions on a cnt: sequence numbers, pongs, blobs received. */
int got_n(void *arg);
int got_pongs(void *arg);
int got_blobs(void *arg);

/* conformance_api.c */
void test_names(void **state);
void test_names_shutdown(void **state);
void test_monitors(void **state);
void test_demonitor(void **state);
void test_hooks(void **state);
void test_schema_mismatch(void **state);

#endif
