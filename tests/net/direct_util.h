/* direct_util.h - helpers shared by the direct-delivery tests
 * (direct_test.c: delivery semantics; direct_end_test.c: ends and other
 * kinds): two systems linked over loopback (nettest.h) with the extra
 * message types registered, a dead-letter log, and a white-box check of
 * whether the current message was handed over in place from a link's
 * buffer (deliver.c, axi_run_now). */
#ifndef AXON_DIRECT_UTIL_H
#define AXON_DIRECT_UTIL_H

#include "nettest.h"

#define MSG_SELF  120u /* u64: a message a handler sends to itself */
#define MSG_ODD12 121u /* 12 bytes, alignment 8: frames of 36 bytes */
#define MSG_ODD20 122u /* 20 bytes, alignment 8: frames of 44 bytes */

/* Was the current message handed over in place from a link's buffer?
 * (The borrowed flag of the current message: actor_int.h, msg_int.h.) */
int is_direct(const ax_ctx *ctx);

/* Register MSG_SELF, MSG_ODD12 and MSG_ODD20 on sys. */
void register_extra(ax_system *sys);

/* nt_pair_open (linked, default options) plus register_extra on both, and
 * wait until the link is up. */
void open_default(nt_pair *p);

/* Dead letters of node 1 (a), as its hook reports them. */
typedef struct dl_log {
    uint64_t n, estale, eclosed, other;
    ax_dead_letter last;
} dl_log;

/* The dead-letter hook that fills a dl_log (arg). */
void record_dl(void *arg, const ax_dead_letter *dl);

/* open_default with a dead-letter hook on a recording into d (zeroed). */
void open_with_dl(nt_pair *p, dl_log *d);

/* Run the pair (the time is only a safety net) until *v reaches want:
 * returns 1 if it did. */
int wait_for(nt_pair *p, const uint64_t *v, uint64_t want);

/* Send the u64s first..last, of the given type, from sys. */
void send_range(ax_system *sys, ax_id from, ax_id to, uint32_t type, uint64_t first, uint64_t last);

/* The u64 at the start of msg's payload. */
uint64_t get_u64(const ax_msg *msg);

#endif
