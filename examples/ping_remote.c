/* ping_remote - ping an actor that lives in another process.
 *
 *   ping_remote                   start a pong process, ping it, print round trips
 *   ping_remote pong ADDR         be node 2 at ADDR, with an actor named "pong"
 *   ping_remote ping ADDR [N]     be node 1: link to ADDR, find "pong", ping N times
 *
 * ADDR is "host:port", "[v6]:port" or a Unix socket path.  Both sides need
 * the same shared secret: $AXON_SECRET, or "axon-example".  The code is the
 * same as for a local actor: ax_send() to an id, ax_reply() to the sender;
 * the id just has another node in it.  ax_name_resolve() finds the actor
 * by name on the linked node.
 *
 * The pinger gives up with exit status 1 when "pong" cannot be found
 * within 10 s (a wrong secret, nobody at ADDR) or stops answering for 5 s;
 * the pong process started by the one-command form dies with it. */
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

enum { MSG_PING = 1, MSG_PONG = 2, MSG_GO = 3 };

typedef struct ping_msg {
    uint64_t seq;
    int64_t sent_ns;
} ping_msg;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void check(int rc, const char *what)
{
    if (rc) {
        fprintf(stderr, "ping_remote: %s: %s\n", what, ax_strerror(rc));
        exit(1);
    }
}

static void options(ax_link_options *lo)
{
    memset(lo, 0, sizeof *lo);
    const char *s = getenv("AXON_SECRET");
    lo->secret = s && *s ? s : "axon-example";
    lo->reconnect_min = AX_MSEC(100);
}

static void make_system(uint32_t node, ax_loop **loop, ax_system **sys)
{
    ax_system_options so;
    memset(&so, 0, sizeof so);
    so.node_id = node;
    check(ax_loop_new(NULL, loop), "loop");
    check(ax_system_new(*loop, &so, sys), "system");
    check(ax_msg_register_pod(*sys, MSG_PING, "ping", sizeof(ping_msg), 8), "register");
    check(ax_msg_register_pod(*sys, MSG_PONG, "pong", sizeof(ping_msg), 8), "register");
    check(ax_msg_register_pod(*sys, MSG_GO, "go", 0, 1), "register");
}

/* ---- node 2: the pong actor ------------------------------------------- */

static void pong(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    if (msg->type == MSG_PING)
        ax_reply(ctx, MSG_PONG, msg->data, msg->size); /* back to a remote sender */
}

static volatile sig_atomic_t stop_pong;

static void on_term(int sig)
{
    (void)sig;
    stop_pong = 1;
}

static void check_stop(ax_loop *loop, ax_timer t, void *arg)
{
    (void)t;
    (void)arg;
    if (stop_pong)
        ax_loop_stop(loop);
}

static int run_pong(const char *addr)
{
    ax_loop *loop;
    ax_system *sys;
    make_system(2, &loop, &sys);
    ax_id id;
    check(ax_spawn(sys, pong, NULL, NULL, &id), "spawn");
    check(ax_name_register(sys, "pong", id), "name");
    ax_link_options lo;
    options(&lo);
    check(ax_serve(sys, addr, &lo, NULL), "serve");
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    ax_timer_start(loop, AX_MSEC(50), AX_MSEC(50), check_stop, NULL, NULL);
    ax_loop_run(loop);
    ax_system_free(sys);
    ax_loop_free(loop);
    return 0;
}

/* ---- node 1: the pinger ------------------------------------------------- */

#define FIND_WITHIN_NS   10000000000LL /* "pong" found within 10 s */
#define ANSWER_WITHIN_NS 5000000000LL  /* and each pong within 5 s */

typedef struct pinger {
    ax_system *sys;
    ax_id target;
    uint64_t n, done;
    int64_t *rtt;
    int64_t last_progress; /* when "pong" was found or answered last */
    int found, failed, last_err;
    const char *addr;
} pinger;

static void send_ping(ax_ctx *ctx, pinger *p)
{
    ping_msg m = {p->done, now_ns()};
    check(ax_send(ctx, p->target, MSG_PING, &m, sizeof m), "send");
}

static void pinger_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    pinger *p = state;
    if (msg->type == MSG_GO) {
        send_ping(ctx, p);
    } else if (msg->type == MSG_PONG) {
        const ping_msg *m = msg->data;
        p->last_progress = now_ns();
        p->rtt[p->done++] = p->last_progress - m->sent_ns;
        if (p->done < p->n)
            send_ping(ctx, p);
        else
            ax_loop_stop(ax_system_loop(p->sys));
    }
}

typedef struct lookup {
    pinger *p;
    ax_id self;
} lookup;

static void on_resolved(void *arg, int err, ax_id id);

static void retry(ax_loop *loop, ax_timer t, void *arg)
{
    (void)loop;
    (void)t;
    lookup *lk = arg;
    check(ax_name_resolve(lk->p->sys, "pong", AX_SEC(2), on_resolved, lk), "resolve");
}

static void on_resolved(void *arg, int err, ax_id id)
{
    lookup *lk = arg;
    if (err) { /* not linked yet, or not registered yet: try again */
        lk->p->last_err = err;
        if (!lk->p->failed)
            ax_timer_start(ax_system_loop(lk->p->sys), AX_MSEC(100), 0, retry, lk, NULL);
        return;
    }
    printf("found \"pong\" at node %u (index %u)\n", id.node, id.index);
    lk->p->target = id;
    lk->p->found = 1;
    lk->p->last_progress = now_ns();
    ax_system_send(lk->p->sys, ax_id_nil(), lk->self, MSG_GO, NULL, 0);
}

/* Give up rather than wait forever: no "pong" to be found (the link's log
 * lines say why), or no answer for a while. */
static void watchdog(ax_loop *loop, ax_timer t, void *arg)
{
    (void)t;
    pinger *p = arg;
    int64_t quiet = now_ns() - p->last_progress;
    if (!p->found && quiet > FIND_WITHIN_NS) {
        fprintf(stderr, "ping_remote: no \"pong\" at %s within %lld s (last lookup: %s)\n", p->addr,
                FIND_WITHIN_NS / 1000000000LL, ax_strerror(p->last_err));
    } else if (p->found && quiet > ANSWER_WITHIN_NS) {
        fprintf(stderr, "ping_remote: \"pong\" stopped answering after %llu of %llu pings\n",
                (unsigned long long)p->done, (unsigned long long)p->n);
    } else {
        return;
    }
    p->failed = 1;
    ax_loop_stop(loop);
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int run_ping(const char *addr, uint64_t n)
{
    ax_loop *loop;
    ax_system *sys;
    make_system(1, &loop, &sys);
    ax_link_options lo;
    options(&lo);
    check(ax_node_add(sys, 2, addr, &lo), "node add");
    pinger p = {sys,      ax_id_nil(), n, 0, calloc(n ? n : 1, sizeof(int64_t)),
                now_ns(), 0,           0, 0, addr};
    lookup lk = {&p, ax_id_nil()};
    check(ax_spawn(sys, pinger_recv, &p, NULL, &lk.self), "spawn");
    check(ax_name_resolve(sys, "pong", AX_SEC(2), on_resolved, &lk), "resolve");
    check(ax_timer_start(loop, AX_MSEC(100), AX_MSEC(100), watchdog, &p, NULL), "timer");
    int64_t t0 = now_ns();
    ax_loop_run(loop);
    double secs = (double)(now_ns() - t0) / 1e9;
    qsort(p.rtt, p.done, sizeof *p.rtt, cmp64);
    if (p.done) {
        printf("%llu pings in %.2f s: round trip median %.1f us, p99 %.1f us, max %.1f us\n",
               (unsigned long long)p.done, secs, p.rtt[p.done / 2] / 1e3,
               p.rtt[p.done * 99 / 100] / 1e3, p.rtt[p.done - 1] / 1e3);
    }
    ax_link_stats st;
    ax_node_stats(sys, 2, &st);
    printf("link: %llu frames out, %llu in, %llu bytes out\n", (unsigned long long)st.frames_out,
           (unsigned long long)st.frames_in, (unsigned long long)st.bytes_out);
    free(p.rtt);
    ax_system_free(sys);
    ax_loop_free(loop);
    return p.done == n && !p.failed ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "pong") == 0)
        return run_pong(argv[2]);
    if (argc >= 3 && argc <= 4 && strcmp(argv[1], "ping") == 0) {
        char *end = NULL;
        unsigned long long n = argc > 3 ? strtoull(argv[3], &end, 10) : 10000;
        if (n >= 1 && n <= 100000000 && (!end || (*end == '\0' && end != argv[3])))
            return run_ping(argv[2], n);
    }
    if (argc != 1) {
        fprintf(stderr, "usage: ping_remote [pong ADDR | ping ADDR [N]]\n");
        return 2;
    }
    /* Both sides from one command: a pong process on a Unix socket. */
    char dir[] = "/tmp/ping_remote-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char addr[64];
    snprintf(addr, sizeof addr, "%s/pong.sock", dir);
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        perror("ping_remote: fork");
        rmdir(dir);
        return 1;
    }
    if (pid == 0) {
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the pinger */
#endif
        if (getppid() != parent)
            _exit(1);
        return run_pong(addr);
    }
    int rc = run_ping(addr, 10000);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    rmdir(dir);
    return rc;
}
