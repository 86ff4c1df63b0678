/* ring_dist - the ring across P processes on loopback: one actor per
 * process (node i+1), each forwarding every message to the actor of the
 * next node; B messages of S payload bytes in flight.  Node 1 counts laps
 * (deliveries at node 1) until laps * P >= M hops, like
 * ../shared/peers/c/ring_tcp.c, whose unit this is.
 *
 *   ring_dist --procs P --batch B --payload S --hops M
 *             [--transport tcp|unix|tls|tls-unix] [--runs R] [--busy-poll US]
 *             [--loop-stats 1]
 *
 * It starts the P processes itself (fork; node 1 is this process), links
 * them (node i dials node i+1 and accepts node i-1; TCP on 127.0.0.1 with
 * ephemeral ports, Unix sockets in a temporary directory, TLS with
 * certificates generated at start), waits until every link is up, then
 * injects the B messages at node 1.  Every loop busy-polls for up to US
 * microseconds (ax_loop_options.busy_poll_us; default 50, 0 turns it
 * off) before it sleeps.  It prints one line per run:
 *   ring_dist transport=T procs=P batch=B payload=S busy_poll_us=US hops=M secs=X hops_per_s=H laps_per_s=L
 * and, with --runs > 1, a final "median" line in the same format.  With
 * --loop-stats 1, node 1's loop counters (ax_loop_stats) go to stderr.
 * Children die with the parent (PR_SET_PDEATHSIG) and are always reaped;
 * if any process fails, all are killed and the exit status is 1. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "axon.h"
#include "axon/node.h"
#include "certgen.h"

#define MSG_HOP 1u
#define MAXP 64

typedef struct opts {
    int procs, batch, payload, runs;
    uint64_t hops;
    uint32_t busy_poll_us;
    const char *transport;
    int loop_stats;
} opts;

typedef struct node_state {
    ax_system *sys;
    ax_id next;
    int is_first;
    uint64_t laps, want;
    int done;
    double t1;
} node_state;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "ring_dist: %s\n", what);
    exit(1);
}

static void on_hop(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)msg;
    node_state *ns = state;
    if (ns->is_first && ++ns->laps >= ns->want) {
        if (!ns->done) {
            ns->done = 1;
            ns->t1 = now_s();
            ax_loop_stop(ax_system_loop(ns->sys));
        }
        return;
    }
    ax_forward(ctx, ns->next);
}

static int tls_mode(const char *t)
{
    return strncmp(t, "tls", 3) == 0;
}

static int unix_mode(const char *t)
{
    return strcmp(t, "unix") == 0 || strcmp(t, "tls-unix") == 0;
}

static void link_opts(const opts *o, const certgen_paths *cp, ax_link_options *lo)
{
    memset(lo, 0, sizeof *lo);
    if (tls_mode(o->transport)) {
        lo->flags = AX_LINK_TLS;
        lo->tls_ca_file = cp->ca;
        lo->tls_cert_file = cp->cert;
        lo->tls_key_file = cp->key;
    } else {
        lo->secret = "ring-dist";
    }
    lo->reconnect_min = AX_MSEC(20);
    lo->reconnect_max = AX_MSEC(200);
    lo->timeout = AX_SEC(10);
}

/* Write all of buf or die. */
static void put_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("pipe write");
        p += w;
        n -= (size_t)w;
    }
}

static int get_all(int fd, void *buf, size_t n, int ms)
{
    char *p = buf;
    while (n) {
        struct pollfd pf = {fd, POLLIN, 0};
        int r = poll(&pf, 1, ms);
        if (r <= 0)
            return -1;
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

typedef struct addr_msg {
    char addr[MAXP][256];
} addr_msg;

/* One node of the ring: serve, report the address, learn the others,
 * link, report ready, then (node 1) run the measurement. */
static double run_node(const opts *o, int idx, const certgen_paths *cp, const char *dir, int up_fd,
                       int down_fd, addr_msg *addrs)
{
    ax_loop *loop;
    ax_system *sys;
    ax_system_options so;
    memset(&so, 0, sizeof so);
    so.node_id = (uint32_t)idx + 1;
    ax_loop_options lopt;
    memset(&lopt, 0, sizeof lopt);
    lopt.busy_poll_us = o->busy_poll_us;
    if (ax_loop_new(&lopt, &loop) || ax_system_new(loop, &so, &sys))
        die("loop/system");
    /* The end of a run kills processes mid-stream: not worth a warning. */
    ax_node_set_log(sys, NULL, NULL, AX_LOG_ERROR);
    if (ax_msg_register_pod(sys, MSG_HOP, "hop", (uint32_t)o->payload, 1))
        die("register");
    node_state ns;
    memset(&ns, 0, sizeof ns);
    ns.sys = sys;
    ns.is_first = idx == 0;
    ns.want = (o->hops + (uint64_t)o->procs - 1) / (uint64_t)o->procs;
    ax_id self;
    if (ax_spawn(sys, on_hop, &ns, NULL, &self))
        die("spawn");
    ax_link_options lo;
    link_opts(o, cp, &lo);
    char addr[256];
    if (unix_mode(o->transport))
        snprintf(addr, sizeof addr, "%s/n%d.sock", dir, idx + 1);
    else
        snprintf(addr, sizeof addr, "127.0.0.1:0");
    uint32_t lid;
    if (ax_serve(sys, addr, &lo, &lid))
        die("serve");
    char bound[256];
    memset(bound, 0, sizeof bound);
    if (ax_serve_address(sys, lid, bound, sizeof bound))
        die("serve address");
    put_all(up_fd, bound, sizeof bound);
    if (get_all(down_fd, addrs, sizeof *addrs, 30000))
        die("no address table");
    int nx = (idx + 1) % o->procs;
    if (ax_node_add(sys, (uint32_t)nx + 1, addrs->addr[nx], &lo))
        die("node add");
    /* The next actor is the first one spawned there: index 0, cookie 1. */
    ns.next.node = (uint32_t)nx + 1;
    ns.next.index = self.index;
    ns.next.cookie = self.cookie;
    /* Ready once our outgoing link and the incoming one are up. */
    int pv = (idx + o->procs - 1) % o->procs;
    double deadline = now_s() + 30;
    for (;;) {
        ax_link_stats a, b;
        if (ax_node_stats(sys, (uint32_t)nx + 1, &a) == 0 && a.state == AX_NODE_UP &&
            ax_node_stats(sys, (uint32_t)pv + 1, &b) == 0 && b.state == AX_NODE_UP)
            break;
        if (now_s() > deadline)
            die("links did not come up");
        ax_loop_step(loop, AX_MSEC(5));
    }
    put_all(up_fd, "R", 1);
    double secs = 0;
    if (idx == 0) {
        char go;
        if (get_all(down_fd, &go, 1, 30000))
            die("no start");
        char *payload = calloc(1, (size_t)o->payload + 1);
        double t0 = now_s();
        for (int i = 0; i < o->batch; i++) {
            int rc = ax_system_send(sys, ax_id_nil(), ns.next, MSG_HOP, payload, (size_t)o->payload);
            if (rc) {
                fprintf(stderr, "ring_dist: inject: %s\n", ax_strerror(rc));
                exit(1);
            }
        }
        free(payload);
        while (!ns.done)
            ax_loop_run(loop);
        secs = ns.t1 - t0;
        ax_loop_counters lc;
        if (o->loop_stats && ax_loop_stats(loop, &lc) == 0)
            fprintf(stderr,
                    "ring_dist node 1 loop: turns=%llu waits=%llu busy_polls=%llu "
                    "busy_hits=%llu busy_contended=%llu\n",
                    (unsigned long long)lc.turns, (unsigned long long)lc.waits,
                    (unsigned long long)lc.busy_polls, (unsigned long long)lc.busy_hits,
                    (unsigned long long)lc.busy_contended);
    } else {
        /* Run until the parent kills us. */
        for (;;)
            ax_loop_run(loop);
    }
    ax_system_free(sys);
    ax_loop_free(loop);
    return secs;
}

static pid_t kids[MAXP];
static int nkids;

/* Read n bytes from a child, giving up when any child has died (so a
 * failed node never leaves the others running) or after ms. */
static int from_child(int fd, void *buf, size_t n, int ms)
{
    char *p = buf;
    for (int waited = 0; n > 0;) {
        struct pollfd pf = {fd, POLLIN, 0};
        int r = poll(&pf, 1, 100);
        if (r > 0) {
            ssize_t k = read(fd, p, n);
            if (k <= 0)
                return -1;
            p += k;
            n -= (size_t)k;
            continue;
        }
        for (int i = 0; i < nkids; i++) {
            int st;
            if (kids[i] > 0 && waitpid(kids[i], &st, WNOHANG) == kids[i]) {
                fprintf(stderr, "ring_dist: node process %d ended early (status %d)\n",
                        (int)kids[i], st);
                kids[i] = 0;
                return -1;
            }
        }
        if ((waited += 100) >= ms)
            return -1;
    }
    return 0;
}

/* A node process told to end exits at once (its profile, when it runs
 * under valgrind, is written on the way out). */
static void on_term(int sig)
{
    (void)sig;
    _exit(0);
}

/* End every child: politely first when the run went well (SIGTERM, up to
 * 2 s), then SIGKILL, so nothing is ever left behind. */
static void kill_all_how(int polite)
{
    if (polite) {
        for (int i = 0; i < nkids; i++)
            if (kids[i] > 0)
                kill(kids[i], SIGTERM);
        for (int ms = 0; ms < 2000; ms += 10) {
            int left = 0;
            for (int i = 0; i < nkids; i++)
                if (kids[i] > 0 && waitpid(kids[i], NULL, WNOHANG) == kids[i])
                    kids[i] = 0;
                else if (kids[i] > 0)
                    left = 1;
            if (!left)
                break;
            usleep(10000);
        }
    }
    for (int i = 0; i < nkids; i++)
        if (kids[i] > 0)
            kill(kids[i], SIGKILL);
    for (int i = 0; i < nkids; i++)
        if (kids[i] > 0)
            waitpid(kids[i], NULL, 0);
    nkids = 0;
}

static void kill_all(void)
{
    kill_all_how(0);
}

static double one_run(const opts *o, const certgen_paths *cp, const char *dir)
{
    int up[MAXP][2], down[MAXP][2];
    for (int i = 0; i < o->procs; i++)
        if (pipe(up[i]) || pipe(down[i]))
            die("pipe");
    nkids = 0;
    for (int i = 1; i < o->procs; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            kill_all();
            die("fork");
        }
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            signal(SIGTERM, on_term);
            if (getppid() == 1)
                _exit(1);
            addr_msg am;
            run_node(o, i, cp, dir, up[i][1], down[i][0], &am);
            _exit(0);
        }
        kids[nkids++] = pid;
    }
    /* Node 1 in this process: but first collect every node's address. */
    pid_t me = fork();
    if (me < 0) {
        kill_all();
        die("fork");
    }
    if (me == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        signal(SIGTERM, on_term);
        addr_msg am;
        double secs = run_node(o, 0, cp, dir, up[0][1], down[0][0], &am);
        put_all(up[0][1], &secs, sizeof secs);
        _exit(0);
    }
    kids[nkids++] = me;
    for (int i = 0; i < o->procs; i++) {
        close(up[i][1]); /* the children's ends */
        close(down[i][0]);
    }
    addr_msg am;
    memset(&am, 0, sizeof am);
    for (int i = 0; i < o->procs; i++) {
        if (from_child(up[i][0], am.addr[i], sizeof am.addr[i], 30000)) {
            kill_all();
            die("a node did not report its address");
        }
    }
    for (int i = 0; i < o->procs; i++)
        put_all(down[i][1], &am, sizeof am);
    for (int i = 0; i < o->procs; i++) {
        char r;
        if (from_child(up[i][0], &r, 1, 60000) || r != 'R') {
            kill_all();
            die("a node did not get ready");
        }
    }
    put_all(down[0][1], "G", 1);
    double secs = 0;
    if (from_child(up[0][0], &secs, sizeof secs, 600000)) {
        kill_all();
        die("node 1 failed");
    }
    kill_all_how(1);
    for (int i = 0; i < o->procs; i++) {
        close(up[i][0]);
        close(down[i][1]);
    }
    return secs;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void print_line(const opts *o, const char *label, double secs)
{
    uint64_t laps = (o->hops + (uint64_t)o->procs - 1) / (uint64_t)o->procs;
    double hops = (double)laps * o->procs;
    printf("%stransport=%s procs=%d batch=%d payload=%d busy_poll_us=%u hops=%llu secs=%.3f "
           "hops_per_s=%.0f laps_per_s=%.0f\n",
           label, o->transport, o->procs, o->batch, o->payload, o->busy_poll_us,
           (unsigned long long)o->hops, secs,
           hops / secs, (double)laps / secs);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    opts o = {.procs = 2, .batch = 1024, .runs = 1, .hops = 20000000, .busy_poll_us = 50,
              .transport = "tcp"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            die("missing value");
        if (strcmp(a, "--procs") == 0)
            o.procs = atoi(v);
        else if (strcmp(a, "--batch") == 0)
            o.batch = atoi(v);
        else if (strcmp(a, "--payload") == 0)
            o.payload = atoi(v);
        else if (strcmp(a, "--hops") == 0)
            o.hops = strtoull(v, NULL, 10);
        else if (strcmp(a, "--transport") == 0)
            o.transport = v;
        else if (strcmp(a, "--runs") == 0)
            o.runs = atoi(v);
        else if (strcmp(a, "--busy-poll") == 0)
            o.busy_poll_us = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--loop-stats") == 0)
            o.loop_stats = atoi(v);
        else
            die("usage: ring_dist --procs P --batch B --payload S --hops M "
                "[--transport tcp|unix|tls|tls-unix] [--runs R] [--busy-poll US] "
                "[--loop-stats 0|1]");
        i++;
    }
    if (o.procs < 2 || o.procs > MAXP || o.batch < 1 || o.payload < 0 || o.hops == 0 ||
        o.runs < 1 || o.runs > 99 || o.busy_poll_us > AX_LOOP_BUSY_POLL_MAX)
        die("bad arguments");
    if (strcmp(o.transport, "tcp") && strcmp(o.transport, "unix") && strcmp(o.transport, "tls") &&
        strcmp(o.transport, "tls-unix"))
        die("unknown transport");
    signal(SIGPIPE, SIG_IGN);
    char dir[] = "/tmp/ring_dist-XXXXXX";
    if (!mkdtemp(dir))
        die("mkdtemp");
    certgen_paths cp;
    memset(&cp, 0, sizeof cp);
    if (tls_mode(o.transport) && certgen_make(dir, &cp))
        die("certificates");
    double secs[99];
    for (int r = 0; r < o.runs; r++) {
        secs[r] = one_run(&o, &cp, dir);
        print_line(&o, "ring_dist ", secs[r]);
    }
    if (o.runs > 1) {
        qsort(secs, (size_t)o.runs, sizeof secs[0], cmp_double);
        print_line(&o, "ring_dist median ", secs[o.runs / 2]);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "ring_dist: could not remove %s\n", dir);
    return 0;
}
