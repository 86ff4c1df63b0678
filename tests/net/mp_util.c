/* mp_util.c - see mp_util.h. */
#include "mp_util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


int tls_mode(void)
{
    return nt_transport == NT_TLS || nt_transport == NT_TLS_UNIX;
}

static void child_auth_args(char **argv, int *k, char *tlsarg, size_t cap)
{
    if (tls_mode()) {
        const certgen_paths *c = nt_get_certs();
        snprintf(tlsarg, cap, "%s:%s:%s", c->ca, c->cert, c->key);
        argv[(*k)++] = "--tls";
        argv[(*k)++] = tlsarg;
    } else {
        argv[(*k)++] = "--secret";
        argv[(*k)++] = SECRET;
    }
}

/* Start node `node` serving `serve` (NULL: a fresh address); fills c. */
void spawn_node(child *c, uint32_t node, const char *serve, const char *log)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    char nodebuf[16], fdbuf[16], servebuf[300], tlsarg[1600];
    snprintf(nodebuf, sizeof nodebuf, "%u", node);
    snprintf(fdbuf, sizeof fdbuf, "%d", fds[1]);
    if (serve)
        snprintf(servebuf, sizeof servebuf, "%s", serve);
    else
        nt_serve_addr(servebuf, sizeof servebuf);
    char *argv[20];
    int k = 0;
    argv[k++] = NODE_PROC;
    argv[k++] = "--node";
    argv[k++] = nodebuf;
    argv[k++] = "--serve";
    argv[k++] = servebuf;
    argv[k++] = "--ready-fd";
    argv[k++] = fdbuf;
    child_auth_args(argv, &k, tlsarg, sizeof tlsarg);
    if (log) {
        argv[k++] = "--log";
        argv[k++] = (char *)log;
    }
    argv[k] = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(fds[0]);
        execv(NODE_PROC, argv);
        _exit(127);
    }
    close(fds[1]);
    memset(c, 0, sizeof *c);
    c->pid = pid;
    c->node = node;
    if (log)
        snprintf(c->log, sizeof c->log, "%s", log);
    struct pollfd pf = {fds[0], POLLIN, 0};
    size_t got = 0;
    while (got < sizeof c->addr - 1) {
        if (poll(&pf, 1, 10000) <= 0)
            fail_msg("node %u did not report its address", node);
        ssize_t r = read(fds[0], c->addr + got, sizeof c->addr - 1 - got);
        if (r <= 0)
            fail_msg("node %u exited before serving", node);
        got += (size_t)r;
        if (c->addr[got - 1] == '\n')
            break;
    }
    c->addr[got - 1] = '\0';
    close(fds[0]);
}

void reap(child *c, int sig)
{
    if (c->pid <= 0)
        return;
    kill(c->pid, sig);
    int st;
    waitpid(c->pid, &st, 0);
    c->pid = 0;
}

/* ---- this process: node 1 ---------------------------------------------- */


env E;

static void on_dl(void *arg, const ax_dead_letter *dl)
{
    env *e = arg;
    e->dl_total++;
    if (dl->reason == AX_ELOST)
        e->dl_lost++;
    if (dl->reason == AX_ELINKFULL)
        e->dl_full++;
}

static void quiet(void *arg, int level, const char *line)
{
    (void)arg;
    if (getenv("NT_VERBOSE"))
        fprintf(stderr, "[node 1 %d] %s\n", level, line);
}

int env_setup(void **state)
{
    (void)state;
    memset(&E, 0, sizeof E);
    tu_ok(ax_loop_new(NULL, &E.loop));
    ax_system_options so;
    memset(&so, 0, sizeof so);
    so.node_id = 1;
    so.on_dead_letter = on_dl;
    so.dead_letter_arg = &E;
    tu_ok(ax_system_new(E.loop, &so, &E.sys));
    ax_node_set_log(E.sys, quiet, NULL, AX_LOG_INFO);
    tu_ok(mp_register_types(E.sys));
    memset(&E.lo, 0, sizeof E.lo);
    if (tls_mode()) {
        const certgen_paths *c = nt_get_certs();
        E.lo.flags = AX_LINK_TLS;
        E.lo.tls_ca_file = c->ca;
        E.lo.tls_cert_file = c->cert;
        E.lo.tls_key_file = c->key;
    } else {
        E.lo.secret = SECRET;
    }
    E.lo.reconnect_min = AX_MSEC(50);
    E.lo.reconnect_max = AX_MSEC(300);
    E.lo.heartbeat = AX_MSEC(200);
    E.lo.timeout = AX_SEC(2);
    return 0;
}

int env_teardown(void **state)
{
    (void)state;
    tu_ok(ax_system_free(E.sys));
    tu_ok(ax_loop_free(E.loop));
    return 0;
}

int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int run_until(int (*cond)(void *), void *arg, int ms)
{
    int64_t end = now_ms() + ms;
    while (!cond || !cond(arg)) {
        if (now_ms() > end)
            return cond ? 0 : 1;
        ax_loop_step(E.loop, AX_MSEC(5));
    }
    return 1;
}

int up2(void *arg)
{
    return nt_node_up(E.sys, *(uint32_t *)arg);
}

void link_to(child *c)
{
    tu_ok(ax_node_add(E.sys, c->node, c->addr, &E.lo));
    assert_true(run_until(up2, &c->node, 10000));
}


static void on_resolved(void *arg, int err, ax_id id)
{
    resolved *r = arg;
    r->calls++;
    r->err = err;
    r->id = id;
}

static int answered(void *arg)
{
    return ((resolved *)arg)->calls > 0;
}

ax_id resolve(const char *name, int want_err)
{
    resolved r = {0, 0, {0, 0, 0}};
    tu_ok(ax_name_resolve(E.sys, name, AX_SEC(5), on_resolved, &r));
    assert_true(run_until(answered, &r, 6000));
    tu_assert_err(r.err, want_err);
    return r.id;
}

/* A local actor that collects replies: PONG, ACK, STATS_REP, DOWN. */

void coll_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)ctx;
    coll *c = state;
    if (msg->type == MP_PONG)
        c->pongs++;
    else if (msg->type == MP_ACK) {
        c->acks++;
        memcpy(&c->last_ack, msg->data, 8);
    } else if (msg->type == MP_STATS_REP) {
        memcpy(&c->stats, msg->data, sizeof c->stats);
        c->have_stats = 1;
    } else if (msg->type == AX_MSG_DOWN) {
        c->downs++;
        memcpy(&c->down, msg->data, sizeof c->down);
    }
}

int has_pongs(void *arg)
{
    return ((coll *)arg)->pongs > 0;
}

int has_stats(void *arg)
{
    return ((coll *)arg)->have_stats;
}

int has_downs(void *arg)
{
    coll *c = arg;
    return c->downs > 0;
}

/* The totals of node `node`'s links, asked over the link. */
ax_link_stats remote_stats(coll *c, ax_id cid)
{
    ax_id st = resolve("stats", 0);
    c->have_stats = 0;
    tu_ok(ax_system_send(E.sys, cid, st, MP_STATS, NULL, 0));
    assert_true(run_until(has_stats, c, 5000));
    return c->stats;
}
