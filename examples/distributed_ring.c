/* distributed_ring - N processes, one actor each, in a ring: one command
 * starts them all (fork), links them over Unix sockets (or TCP), and sends
 * a token around.
 *
 *   distributed_ring [--procs N] [--laps L] [--tcp BASE_PORT]
 *
 * Node i serves its own address and dials node i+1; every node registers
 * its actor as "ring-<i>" and finds the next one with ax_name_resolve().
 * Node 1 injects the token, prints each lap, and after L laps sends a stop
 * token around, which every node forwards before it exits.  The actors
 * are ordinary: ax_send() to an id whose node is another process. */
#define _GNU_SOURCE /* fork, mkdtemp, clock_gettime, kill under -std=c11 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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
    double t0;
    int stopping;
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
        ax_system_schedule(f->n->sys, AX_MSEC(300), ax_id_nil(), f->self, MSG_GO, NULL, 0,
                           NULL);
}

/* Leave the loop once a stop has passed through and the frame is out. */
static void watch_stop(ax_loop *loop, ax_timer t, void *arg)
{
    (void)t;
    node *n = arg;
    if (n->stopping)
        ax_loop_stop(loop);
}

static void address(char *buf, size_t cap, const char *dir, int base_port, uint32_t i)
{
    if (base_port)
        snprintf(buf, cap, "127.0.0.1:%d", base_port + (int)i);
    else
        snprintf(buf, cap, "%s/node%u.sock", dir, i);
}

static int run_node(uint32_t id, uint32_t procs, uint32_t laps, const char *dir, int base_port)
{
    ax_loop *loop;
    ax_system_options so;
    memset(&so, 0, sizeof so);
    so.node_id = id;
    node n = {id, procs, laps, NULL, ax_id_nil(), 0, 0};
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
    check(ax_serve(n.sys, addr, &lo, NULL), "serve");
    uint32_t next = id % procs + 1;
    address(addr, sizeof addr, dir, base_port, next);
    check(ax_node_add(n.sys, next, addr, &lo), "node add");
    snprintf(f.name, sizeof f.name, "ring-%u", next);
    check(ax_name_resolve(n.sys, f.name, AX_SEC(1), on_found, &f), "resolve");
    ax_timer_start(loop, AX_MSEC(20), AX_MSEC(20), watch_stop, &n, NULL);
    ax_loop_run(loop);
    ax_system_free(n.sys); /* flushes the last frames, then closes */
    ax_loop_free(loop);
    return 0;
}

int main(int argc, char **argv)
{
    uint32_t procs = 4, laps = 5;
    int base_port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--procs"))
            procs = (uint32_t)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--laps"))
            laps = (uint32_t)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--tcp"))
            base_port = atoi(argv[i + 1]);
    }
    if (procs < 2 || procs > 64 || laps < 1) {
        fprintf(stderr, "usage: distributed_ring [--procs 2..64] [--laps L] [--tcp BASE_PORT]\n");
        return 2;
    }
    char dir[] = "/tmp/distributed_ring-XXXXXX";
    if (!base_port && !mkdtemp(dir))
        return 1;
    pid_t kids[64];
    for (uint32_t i = 2; i <= procs; i++) {
        kids[i] = fork();
        if (kids[i] == 0)
            return run_node(i, procs, laps, dir, base_port);
    }
    int rc = run_node(1, procs, laps, dir, base_port);
    for (uint32_t i = 2; i <= procs; i++) {
        int st;
        /* They leave once the stop token passed; do not wait forever. */
        for (int k = 0; k < 300 && waitpid(kids[i], &st, WNOHANG) == 0; k++)
            usleep(10000);
        kill(kids[i], SIGKILL);
        waitpid(kids[i], &st, 0);
    }
    if (!base_port)
        rmdir(dir);
    return rc;
}
