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
 *
 * System calls, not the cipher, were what made TLS links slow: OpenSSL
 * writes every record (at most 16 KiB) with its own send and, without
 * read-ahead, reads every record with two recv calls (header, body).  So:
 *   - the BIO appends records to the connection's tx buffer; a flush
 *     encrypts the link's queue into it and writes it with one send per
 *     AXN_TLS_TX_BATCH bytes (bytes the socket does not take stay there,
 *     and the connection waits for writable: axn_conn_tx_held);
 *   - read-ahead with a AXN_TLS_RX_BUF buffer: one recv takes several
 *     records, which SSL_read then decrypts without touching the socket.
 * Data already buffered counts as pending input for the loop. */
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

/* Encrypted bytes written with one send, at most (a flush of a long queue
 * sends every this many bytes, so the buffer stays bounded). */
#define AXN_TLS_TX_BATCH (256u * 1024u)
/* OpenSSL's read buffer with read-ahead: a few records per recv.  Each
 * TLS connection, authenticated or not, costs this much once it reads. */
#define AXN_TLS_RX_BUF (64u * 1024u)

/* Write what c->tx holds: 0 all written, AX_EAGAIN the socket is full
 * (the rest stays), or AX_ESYS (c->tx_err and c->err_text say why; errno
 * is the send's). */
static int tx_flush(axn_conn *c)
{
    while (c->tx_pos < c->tx_len) {
        ssize_t w = send(c->fd, c->tx + c->tx_pos, c->tx_len - c->tx_pos, MSG_NOSIGNAL);
        if (w >= 0) {
            c->tx_pos += (size_t)w;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return AX_EAGAIN;
        int e = errno;
        snprintf(c->err_text, sizeof c->err_text, "%s", strerror(e));
        c->tx_err = AX_ESYS;
        errno = e;
        return AX_ESYS;
    }
    c->tx_pos = c->tx_len = 0;
    return 0;
}

static int bio_write(BIO *b, const char *buf, int len)
{
    axn_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (c->tx_err) {
        errno = EPIPE;
        return -1;
    }
    size_t n = (size_t)len;
    if (c->tx_len + n > c->tx_cap && c->tx_pos > 0) {
        memmove(c->tx, c->tx + c->tx_pos, c->tx_len - c->tx_pos);
        c->tx_len -= c->tx_pos;
        c->tx_pos = 0;
    }
    if (c->tx_len + n > c->tx_cap) {
        size_t ncap = c->tx_cap ? c->tx_cap : 16 * 1024;
        while (ncap < c->tx_len + n)
            ncap *= 2;
        char *nb = axi_realloc(c->net->alloc, c->tx, c->tx_cap, ncap);
        if (!nb) {
            errno = ENOMEM;
            return -1;
        }
        c->tx = nb;
        c->tx_cap = ncap;
    }
    memcpy(c->tx + c->tx_len, buf, n);
    c->tx_len += n;
    /* Outside a flush (handshake, alerts): out at once.  A full socket
     * keeps the bytes; the connection then waits for writable. */
    if (!c->tx_batch && tx_flush(c) == AX_ESYS)
        return -1;
    return len;
}

static int bio_read(BIO *b, char *buf, int len)
{
    axn_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    for (;;) {
        ssize_t r = recv(c->fd, buf, (size_t)len, 0);
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
    /* Buffers are kept (no SSL_MODE_RELEASE_BUFFERS): a busy link would
     * free and allocate them on every read and write. */
    SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(c, 1);
    SSL_CTX_set_default_read_buffer_len(c, AXN_TLS_RX_BUF);
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
    BIO_set_data(b, c);
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
    int rc = tx_flush(c);
    if (rc == AX_EAGAIN) {
        c->want = AX_WRITABLE;
        return AX_EAGAIN;
    }
    if (rc)
        return rc;
    ERR_clear_error();
    int ret = SSL_do_handshake(c->ssl);
    if (ret == 1) {
        if (axn_conn_tx_held(c)) {
            /* Our last handshake message is still to be written. */
            c->want = AX_WRITABLE;
            return AX_EAGAIN;
        }
        return 0;
    }
    rc = tls_result(c, ret);
    if (rc == 0) {
        snprintf(c->err_text, sizeof c->err_text, "connection closed during the TLS handshake");
        return AX_ESYS;
    }
    if (rc == AX_EAGAIN && axn_conn_tx_held(c))
        c->want = AX_WRITABLE; /* first write what we have, then read */
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
    if (c->tx_err)
        return c->tx_err;
    /* Records from the last flush first: the stream stays in order. */
    int rc = tx_flush(c);
    if (rc == AX_EAGAIN) {
        c->want = AX_WRITABLE;
        return AX_EAGAIN;
    }
    if (rc)
        return rc;
    /* With partial writes enabled SSL_write returns after each record:
     * keep going until everything is taken or the socket is full. */
    size_t total = 0;
    int blocked = 0, err = 0;
    c->tx_batch = 1;
    for (int i = 0; i < n && !blocked && !err; i++) {
        const char *p = iov[i].iov_base;
        size_t left = iov[i].iov_len;
        while (left > 0) {
            if (c->tx_len - c->tx_pos >= AXN_TLS_TX_BATCH) {
                rc = tx_flush(c);
                if (rc == AX_EAGAIN) {
                    c->want = AX_WRITABLE;
                    blocked = 1;
                    break;
                }
                if (rc) {
                    err = rc;
                    break;
                }
            }
            size_t w = 0;
            ERR_clear_error();
            int ret = SSL_write_ex(c->ssl, p, left, &w);
            if (ret == 1) {
                total += w;
                p += w;
                left -= w;
                continue;
            }
            rc = tls_result(c, ret);
            if (rc == AX_EAGAIN) {
                blocked = 1;
            } else if (rc == 0) {
                snprintf(c->err_text, sizeof c->err_text, "connection closed");
                err = AX_ESYS;
            } else {
                err = rc;
            }
            break;
        }
    }
    c->tx_batch = 0;
    if (!err) {
        /* One send for everything encrypted; what the socket does not
         * take is held (the caller sees axn_conn_tx_held). */
        rc = tx_flush(c);
        if (rc != 0 && rc != AX_EAGAIN)
            err = rc;
    }
    if (err)
        return err;
    if (total == 0 && blocked)
        return AX_EAGAIN;
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
    axi_free(c->net->alloc, c->tx, c->tx_cap);
    c->tx = NULL;
    c->tx_len = c->tx_pos = c->tx_cap = 0;
}

const axn_stream_ops axn_tls_ops = {"tls", tls_start, tls_read, tls_writev, tls_pending,
                                    tls_close};
