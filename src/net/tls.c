/* tls.c - TLS over a socket (OpenSSL 3), for TCP and Unix links alike.
 *
 * Mutual authentication: each side presents its certificate and requires
 * one from the peer that chains to the configured CA.  Names in the
 * certificates are not checked: nodes are told apart by node id in the
 * axon handshake, and the CA decides who may join.  TLS 1.2 or later; no
 * session tickets, no renegotiation.
 *
 * OpenSSL talks to the socket through a small BIO of ours that uses
 * send(MSG_NOSIGNAL)/recv, so a peer that vanished is an error, never a
 * SIGPIPE (the library must not touch process-wide signal settings).
 * Writes take the link's blocks one SSL_write each (partial writes
 * enabled, buffers allowed to move between retries, as the queue keeps
 * unsent bytes unchanged); data already decrypted counts as pending input
 * for the loop. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "net/net_int.h"

typedef struct tls_ctx {
    SSL_CTX *ssl;
    BIO_METHOD *bio;
} tls_ctx;

/* ---- the socket BIO --------------------------------------------------- */

static int bio_write(BIO *b, const char *buf, int len)
{
    int fd = (int)(intptr_t)BIO_get_data(b);
    BIO_clear_retry_flags(b);
    for (;;) {
        ssize_t w = send(fd, buf, (size_t)len, MSG_NOSIGNAL);
        if (w >= 0)
            return (int)w;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_write(b);
        return -1;
    }
}

static int bio_read(BIO *b, char *buf, int len)
{
    int fd = (int)(intptr_t)BIO_get_data(b);
    BIO_clear_retry_flags(b);
    for (;;) {
        ssize_t r = recv(fd, buf, (size_t)len, 0);
        if (r >= 0)
            return (int)r;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_read(b);
        return -1;
    }
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static int bio_destroy(BIO *b)
{
    (void)b;
    return 1;
}

/* ---- contexts --------------------------------------------------------- */

static void last_error(char *err, size_t cap, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[200] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    snprintf(err, cap, "%s%s%s", what, e ? ": " : "", buf);
    ERR_clear_error();
}

void axn_tls_ctx_free(void *p)
{
    tls_ctx *t = p;
    if (!t)
        return;
    SSL_CTX_free(t->ssl);
    BIO_meth_free(t->bio);
    OPENSSL_free(t);
}

int axn_tls_ctx_new(const ax_link_options *o, int server, void **out, char *err, size_t cap)
{
    if (!o->tls_ca_file || !o->tls_cert_file || !o->tls_key_file) {
        snprintf(err, cap, "TLS needs tls_ca_file, tls_cert_file and tls_key_file");
        return AX_EINVAL;
    }
    tls_ctx *t = OPENSSL_zalloc(sizeof *t);
    if (!t)
        return AX_ENOMEM;
    t->ssl = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    t->bio = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "axon socket");
    if (!t->ssl || !t->bio) {
        last_error(err, cap, "cannot make a TLS context");
        axn_tls_ctx_free(t);
        return AX_ENOMEM;
    }
    BIO_meth_set_write(t->bio, bio_write);
    BIO_meth_set_read(t->bio, bio_read);
    BIO_meth_set_ctrl(t->bio, bio_ctrl);
    BIO_meth_set_create(t->bio, bio_create);
    BIO_meth_set_destroy(t->bio, bio_destroy);
    SSL_CTX *c = t->ssl;
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    /* AES-128-GCM first: with AES-NI the cheapest AEAD per byte, and links
     * move many bytes. */
    SSL_CTX_set_ciphersuites(c, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                                "TLS_CHACHA20_POLY1305_SHA256");
    if (SSL_CTX_use_certificate_chain_file(c, o->tls_cert_file) != 1) {
        last_error(err, cap, "cannot load tls_cert_file");
        axn_tls_ctx_free(t);
        return AX_EINVAL;
    }
    if (SSL_CTX_use_PrivateKey_file(c, o->tls_key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(c) != 1) {
        last_error(err, cap, "cannot load tls_key_file (or it does not match the certificate)");
        axn_tls_ctx_free(t);
        return AX_EINVAL;
    }
    if (SSL_CTX_load_verify_locations(c, o->tls_ca_file, NULL) != 1) {
        last_error(err, cap, "cannot load tls_ca_file");
        axn_tls_ctx_free(t);
        return AX_EINVAL;
    }
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    *out = t;
    return 0;
}

/* ---- the transport ---------------------------------------------------- */

int axn_tls_attach(axn_conn *c)
{
    tls_ctx *t = c->cfg->ssl_ctx;
    SSL *ssl = SSL_new(t->ssl);
    BIO *b = ssl ? BIO_new(t->bio) : NULL;
    if (!ssl || !b) {
        last_error(c->err_text, sizeof c->err_text, "cannot make a TLS session");
        SSL_free(ssl);
        return AX_ENOMEM;
    }
    BIO_set_data(b, (void *)(intptr_t)c->fd);
    SSL_set_bio(ssl, b, b);
    if (c->dialer)
        SSL_set_connect_state(ssl);
    else
        SSL_set_accept_state(ssl);
    c->ssl = ssl;
    c->ops = &axn_tls_ops;
    return 0;
}

/* Map an SSL result: AX_EAGAIN with c->want set, 0 for a clean end of
 * stream (reads), or an error with c->err_text filled. */
static int tls_result(axn_conn *c, int ret)
{
    SSL *ssl = c->ssl;
    int e = SSL_get_error(ssl, ret);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        c->want = AX_READABLE;
        return AX_EAGAIN;
    case SSL_ERROR_WANT_WRITE:
        c->want = AX_WRITABLE;
        return AX_EAGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        if (errno == 0 || errno == ECONNRESET || errno == EPIPE) {
            ERR_clear_error();
            return 0; /* the peer closed: an end of stream */
        }
        snprintf(c->err_text, sizeof c->err_text, "%s", strerror(errno));
        ERR_clear_error();
        return AX_ESYS;
    default: {
        long v = SSL_get_verify_result(ssl);
        if (v != X509_V_OK) {
            snprintf(c->err_text, sizeof c->err_text, "peer certificate rejected: %s",
                     X509_verify_cert_error_string(v));
            ERR_clear_error();
            return AX_EINVAL; /* an authentication failure */
        }
        last_error(c->err_text, sizeof c->err_text, "TLS");
        return AX_ESYS;
    }
    }
}

static int tls_start(axn_conn *c)
{
    ERR_clear_error();
    int ret = SSL_do_handshake(c->ssl);
    if (ret == 1)
        return 0;
    int rc = tls_result(c, ret);
    if (rc == 0) {
        snprintf(c->err_text, sizeof c->err_text, "connection closed during the TLS handshake");
        return AX_ESYS;
    }
    return rc;
}

static long tls_read(axn_conn *c, void *buf, size_t cap)
{
    size_t n = 0;
    ERR_clear_error();
    int ret = SSL_read_ex(c->ssl, buf, cap, &n);
    if (ret == 1)
        return (long)n;
    return tls_result(c, ret);
}

static long tls_writev(axn_conn *c, const struct iovec *iov, int n)
{
    /* With partial writes enabled SSL_write returns after each record:
     * keep going until everything is taken or the socket is full. */
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        const char *p = iov[i].iov_base;
        size_t left = iov[i].iov_len;
        while (left > 0) {
            size_t w = 0;
            ERR_clear_error();
            int ret = SSL_write_ex(c->ssl, p, left, &w);
            if (ret == 1) {
                total += w;
                p += w;
                left -= w;
                continue;
            }
            int rc = tls_result(c, ret);
            if (total > 0 && rc == AX_EAGAIN)
                return (long)total; /* the rest is offered again */
            if (rc == 0) {
                snprintf(c->err_text, sizeof c->err_text, "connection closed");
                return AX_ESYS;
            }
            return rc;
        }
    }
    return (long)total;
}

static int tls_pending(const axn_conn *c)
{
    return c->ssl && SSL_has_pending(c->ssl);
}

static void tls_close(axn_conn *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
}

const axn_stream_ops axn_tls_ops = {"tls", tls_start, tls_read, tls_writev, tls_pending,
                                    tls_close};
