/* nettest.h - helpers for the links tests: two systems on two loops in one
 * thread (so one can be frozen while the other runs), the transports the
 * conformance suite runs against, test certificates, collector actors. */
#ifndef AXON_NETTEST_H
#define AXON_NETTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/testutil.h"
#include "axon/node.h"
#include "certgen.h"

enum {
    NT_TCP = 0,
    NT_UNIX = 1,
    NT_TLS = 2,     /* TLS over TCP */
    NT_TLS_UNIX = 3 /* TLS over a Unix socket */
};

extern int nt_transport;
/* "tcp", "unix", "tls", "tls-unix" -> NT_*; exits on anything else. */
void nt_parse_transport(int argc, char **argv);
const char *nt_transport_name(void);

/* A fresh temporary directory (removed by nt_cleanup). */
const char *nt_tmpdir(void);
void nt_cleanup(void);

/* The address to serve on for the current transport ("127.0.0.1:0" or a
 * Unix path in the temp dir, unique per call). */
void nt_serve_addr(char *buf, size_t cap);

/* Link options for the current transport: a secret, or TLS with the test
 * certificates (generated once per process into nt_tmpdir()). */
void nt_options(ax_link_options *o);

/* The test certificates (certgen.h), generated once per process into
 * nt_tmpdir(). */
const certgen_paths *nt_get_certs(void);

/* Two systems, node 1 (a) and node 2 (b), on two loops. */
typedef struct nt_pair {
    ax_loop *la, *lb;
    ax_system *a, *b;
    char addr[512];
    uint32_t listener;
    int log_quiet;
} nt_pair;

/* Open both systems (node ids 1 and 2); `a` serves, `b` adds node 1 at
 * a's address (when link is non-zero). */
void nt_pair_open(nt_pair *p, int link, const ax_link_options *oa, const ax_link_options *ob);
/* The same with `a`'s system options taken from sa (its node_id is set
 * to 1), e.g. for a dead-letter hook; sa NULL: defaults. */
void nt_pair_open_with(nt_pair *p, int link, const ax_link_options *oa, const ax_link_options *ob,
                       const ax_system_options *sa);
/* nt_pair_open, not linked, with nt_options() (returned in o) on both
 * sides. */
void nt_pair_open_plain(nt_pair *p, ax_link_options *o);
/* nt_pair_open, linked, with nt_options() on both sides. */
void nt_pair_open_linked(nt_pair *p);
/* nt_pair_open_linked, then wait until the link is up on both sides. */
void nt_pair_open_up(nt_pair *p);
void nt_pair_close(nt_pair *p);
/* Step both loops (no waiting) until cond(arg) or ms elapse: returns 1 if
 * the condition holds.  freeze_a/freeze_b leave that loop alone. */
int nt_run(nt_pair *p, int (*cond)(void *), void *arg, int ms);
int nt_run_frozen(nt_pair *p, int freeze_a, int freeze_b, int (*cond)(void *), void *arg, int ms);
/* Step both for ms. */
void nt_spin(nt_pair *p, int ms);

/* The pair's log: the last line, how many lines, how many named a schema
 * mismatch, how many were warnings or errors, how many said a peer closed
 * its link on purpose ("closed the link") or that a link was lost. */
extern char nt_last_log[512];
extern int nt_log_lines, nt_schema_lines, nt_warn_lines, nt_bye_lines, nt_lost_lines;

/* Is node `node` up as seen from sys? */
int nt_node_up(ax_system *sys, uint32_t node);
/* Monotonic milliseconds. */
int64_t nt_now_ms(void);
/* ax_node_stats(sys, node), which must succeed (node 0: the totals). */
ax_link_stats nt_link_stats(ax_system *sys, uint32_t node);
/* The system's dead-letter count (ax_system_stats). */
uint64_t nt_dead_letters(ax_system *sys);
/* Is the transport a Unix-domain socket (with or without TLS)? */
int nt_is_unix(void);
/* Send the u64 v as NT_MSG_SEQ from sys (no sender), which must succeed. */
void nt_send_seq(ax_system *sys, ax_id to, uint64_t v);
/* Link options with only the transport's authentication (secret or TLS
 * files) set: every other field takes its default. */
void nt_auth_only(ax_link_options *o);
/* The pair's link is up on both sides, on its first connection, and no
 * frame was refused (nothing closed it). */
void nt_assert_link_intact(nt_pair *p);
/* An ax_name_resolve answer, as nt_on_resolved records it (arg: an
 * nt_resolved); nt_got_answer is an nt_run condition on it. */
typedef struct nt_resolved {
    int calls;
    int err;
    ax_id id;
} nt_resolved;
void nt_on_resolved(void *arg, int err, ax_id id);
int nt_got_answer(void *arg);
/* The monitors held on local actor id (white box: its monitor list, an
 * axi_monitor chain; NULL when none). */
const void *nt_watchers(ax_system *sys, ax_id id);

/* Is the pair's link up on both sides (arg: an nt_pair)? */
int nt_pair_up(void *pair);
/* id with its node set to node (an id as another node names it). */
ax_id nt_remote(ax_id id, uint32_t node);

/* A collector actor: records the u64 sequence numbers it receives (in a
 * message type MSG_SEQ) and any other message's type. */
#define NT_MSG_SEQ  100u /* u64 */
#define NT_MSG_BLOB 101u /* varsize bytes */
#define NT_MSG_PING 102u /* u64; the echo actor replies NT_MSG_PONG */
#define NT_MSG_PONG 103u /* u64 */

typedef struct nt_sink {
    uint64_t *seqs;
    size_t n, cap;
    uint64_t blobs, blob_bytes, blob_bad;
    uint64_t downs;
    ax_down last_down;
    uint64_t pongs;
    ax_id last_sender;
    int in_order; /* all seqs so far strictly increasing by one from the first */
} nt_sink;

void nt_register_types(ax_system *sys);
ax_id nt_spawn_sink(ax_system *sys, nt_sink *s);
ax_id nt_spawn_echo(ax_system *sys);
void nt_sink_free(nt_sink *s);
/* Fill/check a blob whose bytes derive from its length. */
void nt_blob_fill(unsigned char *p, size_t n);
int nt_blob_ok(const unsigned char *p, size_t n);

#endif
