/* api_test.c - the public links API's argument checks and error codes,
 * listeners (ephemeral ports, stale and live Unix socket files), and
 * allocation failures at every step of setting links up (nothing leaks,
 * nothing crashes). */
#include "nettest.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void secret_opts(ax_link_options *o)
{
    memset(o, 0, sizeof *o);
    o->secret = "s";
}

static void test_errors(void **state)
{
    (void)state;
    tu_env e;
    tu_env_open(&e, NULL, NULL); /* no node id */
    ax_link_options o;
    secret_opts(&o);
    tu_assert_err(ax_node_add(e.sys, 2, "127.0.0.1:1", &o), AX_EINVAL);
    tu_assert_err(ax_serve(e.sys, "127.0.0.1:0", &o, NULL), AX_EINVAL);
    ax_link_stats st;
    tu_ok(ax_node_stats(e.sys, 0, &st)); /* totals of nothing */
    assert_int_equal(st.state, 0);
    tu_assert_err(ax_node_stats(e.sys, 2, &st), AX_ENOENT);
    tu_assert_err(ax_node_remove(e.sys, 2), AX_ENOENT);
    tu_env_close(&e);

    ax_system_options so;
    memset(&so, 0, sizeof so);
    so.node_id = 7;
    tu_env_open(&e, NULL, &so);
    ax_node_set_log(e.sys, NULL, NULL, -1);
    tu_assert_err(ax_node_add(e.sys, 0, "127.0.0.1:1", &o), AX_EINVAL);
    tu_assert_err(ax_node_add(e.sys, 7, "127.0.0.1:1", &o), AX_EINVAL);
    tu_assert_err(ax_node_add(e.sys, 2, "127.0.0.1", &o), AX_EINVAL);
    tu_assert_err(ax_node_add(e.sys, 2, "::1:80", &o), AX_EINVAL);
    tu_assert_err(ax_node_add(e.sys, 2, "[::1]:99999", &o), AX_EINVAL);
    tu_assert_err(ax_node_add(e.sys, 2, "", &o), AX_EINVAL);
    tu_assert_err(ax_node_add(e.sys, 2, "127.0.0.1:1", NULL), AX_EINVAL);
    ax_link_options none;
    memset(&none, 0, sizeof none);
    tu_assert_err(ax_node_add(e.sys, 2, "127.0.0.1:1", &none), AX_EINVAL); /* no auth */
    none.flags = AX_LINK_INSECURE;
    tu_ok(ax_node_add(e.sys, 2, "127.0.0.1:1", &none));
    tu_assert_err(ax_node_add(e.sys, 2, "127.0.0.1:1", &o), AX_EEXIST);
    ax_link_options tls;
    memset(&tls, 0, sizeof tls);
    tls.flags = AX_LINK_TLS;
    tu_assert_err(ax_node_add(e.sys, 3, "127.0.0.1:1", &tls), AX_EINVAL); /* no files */
    tls.tls_ca_file = tls.tls_cert_file = tls.tls_key_file = "/nonexistent.pem";
    tu_assert_err(ax_node_add(e.sys, 3, "127.0.0.1:1", &tls), AX_EINVAL);
    o.flags = 0x100;
    tu_assert_err(ax_node_add(e.sys, 3, "127.0.0.1:1", &o), AX_EINVAL);
    secret_opts(&o);
    o.timeout = -1;
    tu_assert_err(ax_node_add(e.sys, 3, "127.0.0.1:1", &o), AX_EINVAL);
    secret_opts(&o);
    tu_assert_err(ax_node_disconnect(e.sys, 2), AX_ENOROUTE);
    tu_assert_err(ax_node_disconnect(e.sys, 9), AX_ENOENT);
    tu_ok(ax_node_stats(e.sys, 2, &st));
    assert_int_equal(st.node_id, 2);
    assert_int_not_equal(st.state, AX_NODE_UP);
    /* Ids for payloads. */
    ax_id local = {0, 3, 5};
    assert_int_equal(ax_id_global(e.sys, local).node, 7);
    ax_id other = {4, 3, 5};
    assert_int_equal(ax_id_global(e.sys, other).node, 4);
    assert_true(ax_id_is_nil(ax_id_global(e.sys, ax_id_nil())));
    /* Listener ids. */
    char buf[300];
    tu_assert_err(ax_serve_address(e.sys, 99, buf, sizeof buf), AX_ENOENT);
    tu_assert_err(ax_serve_stop(e.sys, 99), AX_ENOENT);
    uint32_t lid;
    tu_ok(ax_serve(e.sys, "127.0.0.1:0", &o, &lid));
    tu_assert_err(ax_serve_address(e.sys, lid, buf, 5), AX_ERANGE);
    tu_ok(ax_serve_address(e.sys, lid, buf, sizeof buf));
    assert_true(strncmp(buf, "127.0.0.1:", 10) == 0 && strcmp(buf, "127.0.0.1:0") != 0);
    /* The same port again is taken. */
    tu_assert_err(ax_serve(e.sys, buf, &o, NULL), AX_EADDRINUSE);
    tu_ok(ax_serve_stop(e.sys, lid));
    tu_assert_err(ax_serve(e.sys, "nohost:80", &o, NULL), AX_EINVAL); /* bind needs numeric */
    tu_ok(ax_node_remove(e.sys, 2));
    tu_assert_err(ax_node_remove(e.sys, 2), AX_ENOENT);
    tu_env_close(&e);
}

static void test_unix_files(void **state)
{
    (void)state;
    ax_system_options so;
    memset(&so, 0, sizeof so);
    so.node_id = 1;
    tu_env e;
    tu_env_open(&e, NULL, &so);
    ax_link_options o;
    secret_opts(&o);
    char path[512];
    snprintf(path, sizeof path, "%s/files.sock", nt_tmpdir());
    /* A stale file (nobody listens) is replaced. */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un un;
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    snprintf(un.sun_path, sizeof un.sun_path, "%.100s", path);
    assert_int_equal(bind(fd, (struct sockaddr *)&un, sizeof un), 0);
    close(fd);
    assert_int_equal(access(path, F_OK), 0);
    uint32_t lid;
    tu_ok(ax_serve(e.sys, path, &o, &lid));
    /* A live one is not. */
    tu_assert_err(ax_serve(e.sys, path, &o, NULL), AX_EADDRINUSE);
    /* Stopping removes the file. */
    tu_ok(ax_serve_stop(e.sys, lid));
    assert_int_not_equal(access(path, F_OK), 0);
    /* Abstract sockets leave no file. */
    char abs[64];
    snprintf(abs, sizeof abs, "@axon-test-%d", (int)getpid());
    tu_ok(ax_serve(e.sys, abs, &o, &lid));
    char buf[128];
    tu_ok(ax_serve_address(e.sys, lid, buf, sizeof buf));
    assert_string_equal(buf, abs);
    tu_env_close(&e);
}

static void on_res(void *arg, int err, ax_id id)
{
    (void)err;
    (void)id;
    (*(int *)arg)++;
}

/* Every allocation of setting up a listener, a link, a connection and a
 * name query may fail: the calls fail cleanly and nothing leaks. */
static void test_alloc_failures(void **state)
{
    (void)state;
    int succeeded = 0;
    for (uint64_t fail = 1; fail < 400 && !succeeded; fail++) {
        tu_alloc ta;
        tu_alloc_init(&ta);
        ax_system_options so;
        memset(&so, 0, sizeof so);
        so.node_id = 1;
        tu_env e;
        tu_env_open(&e, &ta.a, &so);
        ax_node_set_log(e.sys, NULL, NULL, -1);
        nt_register_types(e.sys);
        ta.fail_at = ta.allocs + ta.reallocs + fail;
        ax_link_options o;
        secret_opts(&o);
        o.reconnect_min = AX_MSEC(1);
        uint32_t lid;
        int rc = ax_serve(e.sys, "127.0.0.1:0", &o, &lid);
        char addr[300] = "";
        if (rc == 0)
            rc = ax_serve_address(e.sys, lid, addr, sizeof addr);
        if (rc == 0)
            rc = ax_node_add(e.sys, 2, addr, &o); /* dials ourselves: refused (our id) */
        ax_id to = {2, 0, 1};
        uint64_t v = 1;
        if (rc == 0)
            rc = ax_system_send(e.sys, ax_id_nil(), to, NT_MSG_SEQ, &v, 8);
        int calls = 0;
        if (rc == 0)
            rc = ax_name_resolve(e.sys, "x", AX_MSEC(50), on_res, &calls);
        for (int i = 0; i < 20; i++)
            ax_loop_step(e.loop, AX_MSEC(1));
        if (rc == 0 && ta.fail_at > ta.allocs + ta.reallocs)
            succeeded = 1;
        tu_ok(ax_system_free(e.sys));
        assert_true(calls <= 1); /* exactly once if it was accepted (ECLOSED at the latest) */
        if (rc == 0)
            assert_int_equal(calls, 1);
        tu_ok(ax_loop_free(e.loop));
        assert_int_equal(ta.live_bytes, 0);
        assert_int_equal(ta.live_blocks, 0);
    }
    assert_true(succeeded);
}

static void nop(void *state, ax_ctx *ctx, const ax_msg *msg)
{
    (void)state;
    (void)ctx;
    (void)msg;
}

typedef struct res {
    int calls, err;
    ax_id id;
} res;

static void on_res2(void *arg, int err, ax_id id)
{
    res *r = arg;
    r->calls++;
    r->err = err;
    r->id = id;
}

static void test_local_names(void **state)
{
    (void)state;
    tu_env e;
    tu_env_open(&e, NULL, NULL); /* no node id: the local registry only */
    ax_id id;
    tu_ok(ax_spawn(e.sys, nop, NULL, NULL, &id));
    tu_ok(ax_name_register(e.sys, "a", id));
    res ra = {0, 0, {0, 0, 0}}, rb = {0, 0, {0, 0, 0}};
    tu_ok(ax_name_resolve(e.sys, "a", AX_SEC(1), on_res2, &ra));
    tu_ok(ax_name_resolve(e.sys, "b", AX_SEC(1), on_res2, &rb));
    assert_int_equal(ra.calls + rb.calls, 0);
    tu_assert_err(ax_name_resolve(e.sys, "", AX_SEC(1), on_res2, &rb), AX_EINVAL);
    tu_assert_err(ax_name_resolve(e.sys, "a", -5, on_res2, &rb), AX_EINVAL);
    tu_assert_err(ax_name_resolve(e.sys, "a", AX_SEC(1), NULL, NULL), AX_EINVAL);
    ax_loop_step(e.loop, 0);
    assert_int_equal(ra.calls, 1);
    tu_ok(ra.err);
    assert_true(ax_id_eq(ra.id, id));
    assert_int_equal(rb.calls, 1);
    tu_assert_err(rb.err, AX_ENOENT);
    /* Pending at shutdown: answered AX_ECLOSED. */
    res rc = {0, 0, {0, 0, 0}};
    tu_ok(ax_name_resolve(e.sys, "a", AX_SEC(1), on_res2, &rc));
    tu_env_close(&e);
    assert_int_equal(rc.calls, 1);
    tu_assert_err(rc.err, AX_ECLOSED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_unix_files),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_local_names),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nt_cleanup();
    return rc;
}
