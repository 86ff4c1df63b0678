/* node_proc.c - a node process for the multi-process tests.
 *
 *   net_node_proc --node N --serve ADDR --ready-fd FD
 *                 [--secret S | --tls CA:CERT:KEY | --insecure]
 *                 [--peer M=ADDR]... [--log FILE] [--timeout-ms T]
 *
 * Serves ADDR, writes its bound address and a newline to FD, links to
 * each --peer, and runs until SIGTERM (or a STOP_NODE message).  Actors,
 * spawned in this order so their ids are the same in every run:
 *   "sink"   appends every MP_SEQ value it gets to FILE (one write each,
 *            so the log survives kill -9), replies MP_ACK to MP_SYNC
 *   "echo"   replies MP_PONG to MP_PING (with the same payload)
 *   "victim" stops on MP_STOP
 *   "stats"  replies MP_STATS_REP (the ax_link_stats totals) to MP_STATS
 *   "silent" never replies (for ask timeouts)
 * SIGUSR1 closes every link's connection (they reconnect): a link flap
 * seen from this side. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "axon.h"
#include "axon/node.h"
#include "mp_types.h"

static volatile sig_atomic_t got_term, got_usr1;
static int log_fd = -1;
static ax_system *g_sys;

static void on_signal(int sig)
{
    if (sig == SIGTERM || sig == SIGINT)
        got_term = 1;
    else if (sig == SIGUSR1)
        got_usr1 = 1;
}

static void sink_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    if (msg->type == MP_SEQ && log_fd >= 0) {
        uint64_t v;
        memcpy(&v, msg->data, 8);
        char line[32];
        int n = snprintf(line, sizeof line, "%llu\n", (unsigned long long)v);
        if (write(log_fd, line, (size_t)n) != n)
            _exit(3);
    } else if (msg->type == MP_SYNC) {
        ax_reply(ctx, MP_ACK, msg->data, 8);
    }
}

static void echo_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    if (msg->type == MP_PING)
        ax_reply(ctx, MP_PONG, msg->data, 8);
    else if (msg->type == MP_STOP_NODE)
        got_term = 1;
}

static void victim_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    if (msg->type == MP_STOP)
        ax_stop(ctx);
}

static void stats_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    if (msg->type == MP_STATS) {
        ax_link_stats st;
        ax_node_stats(ax_ctx_system(ctx), 0, &st);
        ax_reply(ctx, MP_STATS_REP, &st, sizeof st);
    }
}

static void silent_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    (void)ctx;
    (void)msg;
}

static void tick(ax_loop *loop, ax_timer t, void *arg)
{
    (void)t;
    (void)arg;
    if (got_term) {
        ax_loop_stop(loop);
        return;
    }
    if (got_usr1) {
        got_usr1 = 0;
        for (uint32_t n = 1; n < 64; n++)
            (void)ax_node_disconnect(g_sys, n);
    }
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "node_proc: %s: %s\n", what, ax_strerror(rc));
    exit(2);
}

int main(int argc, char **argv)
{
    uint32_t node = 0;
    const char *serve = NULL, *log_path = NULL;
    int ready_fd = -1;
    ax_link_options lo;
    memset(&lo, 0, sizeof lo);
    lo.reconnect_min = AX_MSEC(50);
    lo.reconnect_max = AX_MSEC(500);
    lo.heartbeat = AX_MSEC(200);
    lo.timeout = AX_SEC(2);
    char tls_buf[1600];
    const char *peers[16];
    int npeers = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--node"))
            node = (uint32_t)atoi(v);
        else if (!strcmp(a, "--serve"))
            serve = v;
        else if (!strcmp(a, "--ready-fd"))
            ready_fd = atoi(v);
        else if (!strcmp(a, "--secret"))
            lo.secret = v;
        else if (!strcmp(a, "--insecure"))
            lo.flags |= AX_LINK_INSECURE, i--;
        else if (!strcmp(a, "--tls")) {
            snprintf(tls_buf, sizeof tls_buf, "%s", v);
            char *c1 = strchr(tls_buf, ':');
            char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
            if (!c2)
                die("--tls CA:CERT:KEY", AX_EINVAL);
            *c1 = *c2 = '\0';
            lo.flags |= AX_LINK_TLS;
            lo.tls_ca_file = tls_buf;
            lo.tls_cert_file = c1 + 1;
            lo.tls_key_file = c2 + 1;
        } else if (!strcmp(a, "--peer") && npeers < 16)
            peers[npeers++] = v;
        else if (!strcmp(a, "--log"))
            log_path = v;
        else if (!strcmp(a, "--timeout-ms"))
            lo.timeout = AX_MSEC(atoi(v));
        else
            die(a, AX_EINVAL);
    }
    if (!node || !serve)
        die("--node and --serve are required", AX_EINVAL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    if (log_path) {
        log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (log_fd < 0)
            die("log", AX_ESYS);
    }
    ax_loop *loop;
    ax_system_options so;
    memset(&so, 0, sizeof so);
    so.node_id = node;
    int rc = ax_loop_new(NULL, &loop);
    if (rc || (rc = ax_system_new(loop, &so, &g_sys)))
        die("system", rc);
    ax_node_set_log(g_sys, NULL, NULL, getenv("NT_VERBOSE") ? AX_LOG_INFO : AX_LOG_ERROR);
    if ((rc = mp_register_types(g_sys)))
        die("types", rc);
    static const char *const names[] = {"sink", "echo", "victim", "stats", "silent"};
    ax_receive_fn fns[] = {sink_recv, echo_recv, victim_recv, stats_recv, silent_recv};
    for (int i = 0; i < 5; i++) {
        ax_id id;
        if ((rc = ax_spawn(g_sys, fns[i], NULL, NULL, &id)) ||
            (rc = ax_name_register(g_sys, names[i], id)))
            die("spawn", rc);
    }
    uint32_t lid;
    if ((rc = ax_serve(g_sys, serve, &lo, &lid)))
        die("serve", rc);
    for (int i = 0; i < npeers; i++) {
        char buf[300];
        snprintf(buf, sizeof buf, "%s", peers[i]);
        char *eq = strchr(buf, '=');
        if (!eq)
            die("--peer M=ADDR", AX_EINVAL);
        *eq = '\0';
        if ((rc = ax_node_add(g_sys, (uint32_t)atoi(buf), eq + 1, &lo)))
            die("node add", rc);
    }
    if (ready_fd >= 0) {
        char bound[300];
        ax_serve_address(g_sys, lid, bound, sizeof bound - 1);
        size_t n = strlen(bound);
        bound[n++] = '\n';
        if (write(ready_fd, bound, n) != (ssize_t)n)
            die("ready", AX_ESYS);
        close(ready_fd);
    }
    ax_timer t;
    ax_timer_start(loop, AX_MSEC(10), AX_MSEC(10), tick, NULL, &t);
    ax_loop_run(loop);
    ax_system_free(g_sys);
    ax_loop_free(loop);
    return 0;
}
