/* error.c - ax_strerror / ax_errname from the one AX_ERRNO_MAP table, and
 * the single place where OS errno values become axon codes. */
#include <errno.h>

#include "axon/common.h"
#include "base/base.h"

const char *ax_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define X(name, val, msg)                                                                          \
    case val:                                                                                      \
        return msg;
        AX_ERRNO_MAP(X)
#undef X
    }
    return "unknown error";
}

const char *ax_errname(int err)
{
    switch (err) {
    case 0:
        return "AX_OK";
#define X(name, val, msg)                                                                          \
    case val:                                                                                      \
        return "AX_" #name;
        AX_ERRNO_MAP(X)
#undef X
    }
    return "AX_EUNKNOWN";
}

int axi_translate_errno(int e)
{
    switch (e) {
    case 0:
        return 0;
    case ENOMEM:
        return AX_ENOMEM;
    case EINVAL:
        return AX_EINVAL;
    case EBADF:
        return AX_EBADF;
    case EEXIST:
        return AX_EEXIST;
    case ENOENT:
        return AX_ENOENT;
    case EAGAIN:
        return AX_EAGAIN;
    case ETIMEDOUT:
        return AX_ETIMEDOUT;
    case EBUSY:
        return AX_EBUSY;
    case ENOTSUP:
        return AX_ENOTSUP;
    case ECANCELED:
        return AX_ECANCELED;
    case ECONNREFUSED:
        return AX_ECONNREFUSED;
    case ECONNRESET:
        return AX_ECONNRESET;
    case EPIPE:
        return AX_EPIPE;
    case EADDRINUSE:
        return AX_EADDRINUSE;
    case EPROTO:
        return AX_EPROTO;
    default:
        return AX_ESYS;
    }
}
