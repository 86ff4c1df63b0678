/* distributed_ring - N processes, one actor each, in a ring: one command
 * starts them all (fork), links them over Unix sockets (or TCP), and sends
 * a token around.
 *
 *   distributed_ring [--procs N] [--laps L] [--tcp BASE_PORT] [--timeout SECONDS]
 *
 * Node i serves its own address and dials node i+1; every node registers
 * its actor as "ring-<i>" and finds the next one with ax_name_resolve().
 * Node 1 injects the token, prints each lap, and after L laps sends a stop
 * token around, which every node forwards before it exits.  The actors
 * are ordinary: ax_send() to an id whose node is another process.
 *
 * Nothing is left behind: the other nodes die with node 1 (Linux's parent
 * death signal), and node 1 gives up with exit status 1 when another node
 * ends with an error or the laps are not done within the timeout (default
 * 30 s). */
#define _GNU_SOURCE /* fork, mkdtemp, clock_gettime, kill under -std=c11 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <time.h>
#include <unistd.h>

#include "axon.h"
#include "axon/node.h"

enum { MSG_TOKEN = 1, MSG_STOP = 2, MSG_GO = 3 };

typedef struct token {
    uint32_t lap;
    uint32_t hops;
} token;

typedef struct node {
    uint32_t id, procs, laps;
    ax_system *sys;
    ax_id next;
    double t0, deadline;
    int stopping, failed;
    uint32_t lap; /* node 1: the lap under way */
    pid_t *kids;  /* node 1: the other nodes' processes, by node id */
} node;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void check(int rc, const char *what)
{
    if (rc) {
        fprintf(stderr, "distributed_ring: %s: %s\n", what, ax_strerror(rc));
        exit(1);
    }
}

static void ring_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    node *n = state;
    if (msg->type == MSG_GO) {
        token t = {1, 0};
        n->t0 = now_s();
        check(ax_send(ctx, n->next, MSG_TOKEN, &t, sizeof t), "send");
    } else if (msg->type == MSG_TOKEN) {
        token t = *(const token *)msg->data;
        t.hops++;
        if (n->id == 1) {
            printf("lap %u: %u hops through %u processes, %.1f us per hop\n", t.lap, t.hops,
                   n->procs, (now_s() - n->t0) * 1e6 / t.hops);
            fflush(stdout);
            if (t.lap == n->laps) {
                ax_send(ctx, n->next, MSG_STOP, NULL, 0);
                return;
            }
            t.lap++;
            n->lap = t.lap;
            t.hops = 0;
            n->t0 = now_s();
        }
        check(ax_send(ctx, n->next, MSG_TOKEN, &t, sizeof t), "send");
    } else if (msg->type == MSG_STOP) {
        if (n->id != 1)
            ax_send(ctx, n->next, MSG_STOP, NULL, 0);
        n->stopping = 1;
    }
}

typedef struct finder {
    node *n;
    ax_id self;
    char name[32];
} finder;

static void on_found(void *arg, int err, ax_id id);

static void retry(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    finder *f = arg;
    check(ax_name_resolve(f->n->sys, f->name, AX_SEC(1), on_found, f), "resolve");
}

static void on_found(void *arg, int err, ax_id id)
{
    finder *f = arg;
    if (err) { /* the next node is not up yet */
        ax_timer_start(ax_system_loop(f->n->sys), AX_MSEC(50), 0, retry, f, NULL);
        return;
    }
    f->n->next = id;
    if (f->n->id == 1) /* give the others a moment to find their next */
        ax_system_schedule(f->n->sys, AX_MSEC(300), ax_id_nil(), f->self, MSG_GO, NULL, 0, NULL);
}

/* Node 1: another node that ended with an error (a node ends with status
 * 0 only after the stop token passed it), or the time is up. */
static int failure(node *n)
{
    for (uint32_t i = 2; i <= n->procs; i++) {
        int st;
        if (n->kids[i] > 0 && waitpid(n->kids[i], &st, WNOHANG) == n->kids[i]) {
            n->kids[i] = 0;
            if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                continue;
            if (WIFSIGNALED(st))
                fprintf(stderr, "distributed_ring: node %u ended early: signal %d\n", i,
                        WTERMSIG(st));
            else
                fprintf(stderr, "distributed_ring: node %u ended early: exit status %d\n", i,
                        WEXITSTATUS(st));
            return 1;
        }
    }
    if (now_s() > n->deadline) {
        fprintf(stderr, "distributed_ring: timed out in lap %u of %u\n", n->lap, n->laps);
        return 1;
    }
    return 0;
}

/* Leave the loop once a stop has passed through and the frame is out. */
static void watch_stop(ax_loop *loop, ax_timer t, void *arg)
{
    (void)t;
    node *n = arg;
    if (n->stopping) {
        ax_loop_stop(loop);
    } else if (n->id == 1 && failure(n)) {
        n->failed = 1;
        ax_loop_stop(loop);
    }
}

static void address(char *buf, size_t cap, const char *dir, int base_port, uint32_t i)
{
    if (base_port)
        snprintf(buf, cap, "127.0.0.1:%d", base_port + (int)i);
    else
        snprintf(buf, cap, "%s/node%u.sock", dir, i);
}

static int run_node(uint32_t id, uint32_t procs, uint32_t laps, const char *dir, int base_port,
                    pid_t *kids, double timeout)
{
    ax_loop *loop;
    ax_system_options so;
    memset(&so, 0, sizeof so);
    so.node_id = id;
    node n = {id, procs, laps, NULL, ax_id_nil(), 0, now_s() + timeout, 0, 0, 1, kids};
    check(ax_loop_new(NULL, &loop), "loop");
    check(ax_system_new(loop, &so, &n.sys), "system");
    check(ax_msg_register_pod(n.sys, MSG_TOKEN, "token", sizeof(token), 4), "register");
    check(ax_msg_register_pod(n.sys, MSG_STOP, "stop", 0, 1), "register");
    check(ax_msg_register_pod(n.sys, MSG_GO, "go", 0, 1), "register");
    finder f = {&n, ax_id_nil(), ""};
    check(ax_spawn(n.sys, ring_recv, &n, NULL, &f.self), "spawn");
    char name[32];
    snprintf(name, sizeof name, "ring-%u", id);
    check(ax_name_register(n.sys, name, f.self), "name");
    ax_link_options lo;
    memset(&lo, 0, sizeof lo);
    lo.secret = "distributed-ring";
    lo.reconnect_min = AX_MSEC(50);
    char addr[128];
    address(addr, sizeof addr, dir, base_port, id);
    char what[160];
    snprintf(what, sizeof what, "serve %s", addr);
    check(ax_serve(n.sys, addr, &lo, NULL), what);
    uint32_t next = id % procs + 1;
    address(addr, sizeof addr, dir, base_port, next);
    check(ax_node_add(n.sys, next, addr, &lo), "node add");
    snprintf(f.name, sizeof f.name, "ring-%u", next);
    check(ax_name_resolve(n.sys, f.name, AX_SEC(1), on_found, &f), "resolve");
    ax_timer_start(loop, AX_MSEC(20), AX_MSEC(20), watch_stop, &n, NULL);
    ax_loop_run(loop);
    ax_system_free(n.sys); /* flushes the last frames, then closes */
    ax_loop_free(loop);
    return n.failed;
}

static void usage(void)
{
    fprintf(stderr, "usage: distributed_ring [--procs 2..64] [--laps L] [--tcp BASE_PORT] "
                    "[--timeout SECONDS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    long procs = 4, laps = 5, base_port = 0, timeout = 30;
    for (int i = 1; i < argc; i += 2) {
        char *end;
        if (i + 1 >= argc)
            usage();
        long v = strtol(argv[i + 1], &end, 10);
        if (*argv[i + 1] == '\0' || *end != '\0')
            usage();
        if (!strcmp(argv[i], "--procs"))
            procs = v;
        else if (!strcmp(argv[i], "--laps"))
            laps = v;
        else if (!strcmp(argv[i], "--tcp"))
            base_port = v;
        else if (!strcmp(argv[i], "--timeout"))
            timeout = v;
        else
            usage();
    }
    if (procs < 2 || procs > 64 || laps < 1 || laps > 1000000 || base_port < 0 ||
        base_port + procs > 65535 || timeout < 1)
        usage();
    char dir[] = "/tmp/distributed_ring-XXXXXX";
    if (!base_port && !mkdtemp(dir)) {
        perror("distributed_ring: mkdtemp");
        return 1;
    }
    pid_t kids[65] = {0}, parent = getpid();
    for (uint32_t i = 2; i <= (uint32_t)procs; i++) {
        kids[i] = fork();
        if (kids[i] < 0) {
            perror("distributed_ring: fork");
            for (uint32_t k = 2; k < i; k++)
                kill(kids[k], SIGKILL);
            return 1;
        }
        if (kids[i] == 0) {
#ifdef __linux__
            prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive node 1 */
#endif
            if (getppid() != parent)
                _exit(1); /* node 1 is gone already */
            return run_node(i, (uint32_t)procs, (uint32_t)laps, dir, (int)base_port, NULL,
                            (double)timeout);
        }
    }
    int rc =
        run_node(1, (uint32_t)procs, (uint32_t)laps, dir, (int)base_port, kids, (double)timeout);
    for (uint32_t i = 2; i <= (uint32_t)procs; i++) {
        int st;
        if (kids[i] <= 0)
            continue;
        /* They leave once the stop token passed; do not wait forever. */
        for (int k = 0; !rc && k < 300 && waitpid(kids[i], &st, WNOHANG) == 0; k++)
            usleep(10000);
        kill(kids[i], SIGKILL);
        waitpid(kids[i], &st, 0);
    }
    if (!base_port) {
        char path[128];
        for (uint32_t i = 1; i <= (uint32_t)procs; i++) { /* a killed node's socket */
            address(path, sizeof path, dir, 0, i);
            unlink(path);
        }
        rmdir(dir);
    }
    return rc;
}
