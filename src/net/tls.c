/* tls.c - TLS over a socket (OpenSSL 3).  (stage stub) */
#include <stdio.h>

#include "net/net_int.h"

int axn_tls_ctx_new(const ax_link_options *o, int server, void **ctx, char *err, size_t cap)
{
    (void)o;
    (void)server;
    (void)ctx;
    snprintf(err, cap, "TLS not built");
    return AX_ENOTSUP;
}

void axn_tls_ctx_free(void *ctx)
{
    (void)ctx;
}

int axn_tls_attach(axn_conn *c)
{
    (void)c;
    return AX_ENOTSUP;
}
