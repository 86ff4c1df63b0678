/* nettest.c - see nettest.h. */
#include "nettest.h"

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actor/actor_int.h" /* nt_watchers: an actor's monitor list */

int nt_transport = NT_TCP;
static char tmpdir[256];
static int certs_made;
static certgen_paths certs;
static int addr_seq;

void nt_parse_transport(int argc, char **argv)
{
    const char *t = argc > 1 ? argv[1] : "tcp";
    if (strcmp(t, "tcp") == 0)
        nt_transport = NT_TCP;
    else if (strcmp(t, "unix") == 0)
        nt_transport = NT_UNIX;
    else if (strcmp(t, "tls") == 0)
        nt_transport = NT_TLS;
    else if (strcmp(t, "tls-unix") == 0)
        nt_transport = NT_TLS_UNIX;
    else {
        fprintf(stderr, "unknown transport %s\n", t);
        exit(2);
    }
}

const char *nt_transport_name(void)
{
    static const char *const names[] = {"tcp", "unix", "tls", "tls-unix"};
    return names[nt_transport];
}

const char *nt_tmpdir(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/axon-net-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(2);
        }
    }
    return tmpdir;
}

void nt_cleanup(void)
{
    if (!tmpdir[0])
        return;
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char p[600];
            snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(tmpdir);
    tmpdir[0] = '\0';
}

void nt_serve_addr(char *buf, size_t cap)
{
    if (nt_transport == NT_UNIX || nt_transport == NT_TLS_UNIX)
        snprintf(buf, cap, "%s/n%d.sock", nt_tmpdir(), addr_seq++);
    else
        snprintf(buf, cap, "127.0.0.1:0");
}

const certgen_paths *nt_get_certs(void)
{
    if (!certs_made) {
        if (certgen_make(nt_tmpdir(), &certs) != 0) {
            fprintf(stderr, "cannot make test certificates\n");
            exit(2);
        }
        certs_made = 1;
    }
    return &certs;
}

void nt_options(ax_link_options *o)
{
    memset(o, 0, sizeof *o);
    if (nt_transport == NT_TLS || nt_transport == NT_TLS_UNIX) {
        const certgen_paths *c = nt_get_certs();
        o->flags = AX_LINK_TLS;
        o->tls_ca_file = c->ca;
        o->tls_cert_file = c->cert;
        o->tls_key_file = c->key;
    } else {
        o->secret = "conformance-secret";
    }
    o->reconnect_min = AX_MSEC(20);
    o->reconnect_max = AX_MSEC(200);
    o->heartbeat = AX_MSEC(100);
    o->timeout = AX_SEC(3);
}

char nt_last_log[512];
int nt_schema_lines;
int nt_log_lines;
int nt_warn_lines, nt_bye_lines, nt_lost_lines;

static void quiet_log(void *arg, int level, const char *line)
{
    (void)arg;
    snprintf(nt_last_log, sizeof nt_last_log, "%s", line);
    nt_log_lines++;
    if (strstr(line, "schema mismatch"))
        nt_schema_lines++;
    if (level <= AX_LOG_WARN)
        nt_warn_lines++;
    if (strstr(line, "closed the link"))
        nt_bye_lines++;
    if (strstr(line, " lost ("))
        nt_lost_lines++;
    if (getenv("NT_VERBOSE"))
        fprintf(stderr, "[%d] %s\n", level, line);
}

void nt_pair_open(nt_pair *p, int link, const ax_link_options *oa, const ax_link_options *ob)
{
    nt_pair_open_with(p, link, oa, ob, NULL);
}

void nt_pair_open_with(nt_pair *p, int link, const ax_link_options *oa, const ax_link_options *ob,
                       const ax_system_options *sa)
{
    memset(p, 0, sizeof *p);
    ax_loop_options lo = {.backend = tu_backend, .allocator = NULL};
    tu_ok(ax_loop_new(&lo, &p->la));
    tu_ok(ax_loop_new(&lo, &p->lb));
    ax_system_options so;
    if (sa)
        so = *sa;
    else
        memset(&so, 0, sizeof so);
    so.node_id = 1;
    tu_ok(ax_system_new(p->la, &so, &p->a));
    memset(&so, 0, sizeof so);
    so.node_id = 2;
    tu_ok(ax_system_new(p->lb, &so, &p->b));
    ax_node_set_log(p->a, quiet_log, NULL, AX_LOG_INFO);
    ax_node_set_log(p->b, quiet_log, NULL, AX_LOG_INFO);
    nt_register_types(p->a);
    nt_register_types(p->b);
    char addr[512];
    nt_serve_addr(addr, sizeof addr);
    tu_ok(ax_serve(p->a, addr, oa, &p->listener));
    tu_ok(ax_serve_address(p->a, p->listener, p->addr, sizeof p->addr));
    if (link)
        tu_ok(ax_node_add(p->b, 1, p->addr, ob));
}

void nt_pair_open_plain(nt_pair *p, ax_link_options *o)
{
    nt_options(o);
    nt_pair_open(p, 0, o, o);
}

void nt_pair_open_linked(nt_pair *p)
{
    ax_link_options o;
    nt_options(&o);
    nt_pair_open(p, 1, &o, &o);
}

void nt_pair_open_up(nt_pair *p)
{
    nt_pair_open_linked(p);
    assert_true(nt_run(p, nt_pair_up, p, 5000));
}

void nt_pair_close(nt_pair *p)
{
    tu_ok(ax_system_free(p->a));
    tu_ok(ax_system_free(p->b));
    tu_ok(ax_loop_free(p->la));
    tu_ok(ax_loop_free(p->lb));
}

int64_t nt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int nt_run_frozen(nt_pair *p, int freeze_a, int freeze_b, int (*cond)(void *), void *arg, int ms)
{
    int64_t end = nt_now_ms() + ms;
    for (;;) {
        if (cond && cond(arg))
            return 1;
        if (nt_now_ms() > end)
            return cond ? 0 : 1;
        if (!freeze_a)
            ax_loop_step(p->la, 0);
        if (!freeze_b)
            ax_loop_step(p->lb, 0);
    }
}

int nt_run(nt_pair *p, int (*cond)(void *), void *arg, int ms)
{
    return nt_run_frozen(p, 0, 0, cond, arg, ms);
}

void nt_spin(nt_pair *p, int ms)
{
    nt_run_frozen(p, 0, 0, NULL, NULL, ms);
}

int nt_node_up(ax_system *sys, uint32_t node)
{
    ax_link_stats st;
    return ax_node_stats(sys, node, &st) == 0 && st.state == AX_NODE_UP;
}

int nt_pair_up(void *pair)
{
    nt_pair *p = pair;
    return nt_node_up(p->b, 1) && nt_node_up(p->a, 2);
}

ax_id nt_remote(ax_id id, uint32_t node)
{
    id.node = node;
    return id;
}

void nt_register_types(ax_system *sys)
{
    tu_ok(ax_msg_register_pod(sys, NT_MSG_SEQ, "seq", 8, 8));
    tu_ok(ax_msg_register_pod(sys, NT_MSG_PING, "ping", 8, 8));
    tu_ok(ax_msg_register_pod(sys, NT_MSG_PONG, "pong", 8, 8));
    ax_msg_type t;
    memset(&t, 0, sizeof t);
    t.id = NT_MSG_BLOB;
    t.name = "blob";
    t.flags = AX_MSG_F_VARSIZE;
    tu_ok(ax_msg_register(sys, &t));
}

void nt_blob_fill(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)((i * 31u + n) & 0xFF);
}

int nt_blob_ok(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)((i * 31u + n) & 0xFF))
            return 0;
    return 1;
}

static void sink_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    nt_sink *s = state;
    s->last_sender = ax_sender(ctx);
    switch (msg->type) {
    case NT_MSG_SEQ: {
        uint64_t v;
        memcpy(&v, msg->data, 8);
        if (s->n == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 1024;
            s->seqs = realloc(s->seqs, s->cap * sizeof *s->seqs);
        }
        if (s->n == 0)
            s->in_order = 1;
        else if (v != s->seqs[s->n - 1] + 1)
            s->in_order = 0;
        s->seqs[s->n++] = v;
        break;
    }
    case NT_MSG_BLOB:
        s->blobs++;
        s->blob_bytes += msg->size;
        if (!nt_blob_ok(msg->data, msg->size))
            s->blob_bad++;
        break;
    case NT_MSG_PONG:
        s->pongs++;
        break;
    case AX_MSG_DOWN:
        s->downs++;
        memcpy(&s->last_down, msg->data, sizeof s->last_down);
        break;
    default:
        break;
    }
}

ax_id nt_spawn_sink(ax_system *sys, nt_sink *s)
{
    memset(s, 0, sizeof *s);
    ax_id id;
    tu_ok(ax_spawn(sys, sink_recv, s, NULL, &id));
    return id;
}

static void echo_recv(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    if (msg->type == NT_MSG_PING)
        ax_reply(ctx, NT_MSG_PONG, msg->data, 8);
}

ax_id nt_spawn_echo(ax_system *sys)
{
    ax_id id;
    tu_ok(ax_spawn(sys, echo_recv, NULL, NULL, &id));
    return id;
}

void nt_sink_free(nt_sink *s)
{
    free(s->seqs);
    s->seqs = NULL;
}

ax_link_stats nt_link_stats(ax_system *sys, uint32_t node)
{
    ax_link_stats st;
    tu_ok(ax_node_stats(sys, node, &st));
    return st;
}

uint64_t nt_dead_letters(ax_system *sys)
{
    ax_stats st;
    ax_system_stats(sys, &st);
    return st.dead_letters;
}

int nt_is_unix(void)
{
    return nt_transport == NT_UNIX || nt_transport == NT_TLS_UNIX;
}

void nt_send_seq(ax_system *sys, ax_id to, uint64_t v)
{
    tu_ok(ax_system_send(sys, ax_id_nil(), to, NT_MSG_SEQ, &v, sizeof v));
}

void nt_auth_only(ax_link_options *o)
{
    ax_link_options full;
    nt_options(&full);
    memset(o, 0, sizeof *o);
    o->flags = full.flags;
    o->secret = full.secret;
    o->tls_ca_file = full.tls_ca_file;
    o->tls_cert_file = full.tls_cert_file;
    o->tls_key_file = full.tls_key_file;
}

const void *nt_watchers(ax_system *sys, ax_id id)
{
    const axi_actor *a = axi_actor_lookup(sys, id);
    assert_non_null(a);
    return a->ext ? a->ext->monitors : NULL;
}

void nt_assert_link_intact(nt_pair *p)
{
    ax_link_stats sa = nt_link_stats(p->a, 2), sb = nt_link_stats(p->b, 1);
    assert_int_equal(sa.state, AX_NODE_UP);
    assert_int_equal(sb.state, AX_NODE_UP);
    assert_int_equal(sa.connects, 1);
    assert_int_equal(sb.connects, 1);
    assert_int_equal(sa.disconnects, 0);
    assert_int_equal(sb.disconnects, 0);
    assert_int_equal(sa.bad_frames, 0);
    assert_int_equal(sb.bad_frames, 0);
    assert_int_equal(sa.heartbeat_timeouts + sb.heartbeat_timeouts, 0);
}

void nt_on_resolved(void *arg, int err, ax_id id)
{
    nt_resolved *r = arg;
    r->calls++;
    r->err = err;
    r->id = id;
}

int nt_got_answer(void *arg)
{
    return ((const nt_resolved *)arg)->calls > 0;
}
