/* Private to the shim: picks the libgpiod API generation from the installed header. */
#ifndef ITP_INTERNAL_H
#define ITP_INTERNAL_H

#define _GNU_SOURCE
#include <errno.h>
#include <gpiod.h>
#include <stdint.h>

#include "itp_gpio.h"

#ifdef GPIOD_LINE_BULK_MAX_LINES
#define ITP_GPIOD_API 1
#else
#define ITP_GPIOD_API 2
#endif

/* Records a failure of `call` with the current errno; returns -1. */
static inline int itp_fail(itp_status *st, const char *call, const char *detail, int64_t index)
{
    int err = errno ? errno : EIO;
    if (st) {
        st->err = err;
        st->call = call;
        st->detail = detail;
        st->index = index;
    }
    errno = err;
    return -1;
}

/* Records a failure with an explicit errno; returns -1. */
static inline int itp_fail_errno(itp_status *st, int err, const char *call, const char *detail,
                                 int64_t index)
{
    errno = err;
    return itp_fail(st, call, detail, index);
}

/* Monotonic now in ns, for EINTR retries that keep the caller's deadline. */
int64_t itp_now_ns(void);

/* Copies a possibly NULL C string into a fixed buffer, truncating. */
void itp_copy_name(char dst[ITP_NAME_MAX], const char *src);

#endif
