/* sl_strerror and sl_errname: storage's table of error messages; sl_errctx: the per-thread failure context
 * (see err.h). */
#include "storage/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Per thread, as errno: the context is written and read on the thread that failed. */
static _Thread_local char errctx[256];

const char *sl_strerror(int rc)
{
    if (rc == 0)
        return "success";
    switch (rc) {
#define SL_ERR_MSG(name, value, msg) \
    case name:                       \
        return msg;
        SL_ERRORS(SL_ERR_MSG)
#undef SL_ERR_MSG
    default:
        break;
    }
    if (rc < 0 && rc > -1000)
        return strerror(-rc); /* glibc strerror is thread-safe for known codes */
    return "unknown error";
}

const char *sl_errname(int rc)
{
    switch (rc) {
#define SL_ERR_NAME(name, value, msg) \
    case name:                        \
        return #name;
        SL_ERRORS(SL_ERR_NAME)
#undef SL_ERR_NAME
    default:
        break;
    }
    if (rc == 0)
        return "OK";
    if (rc < 0 && rc > -1000) {
        const char *n = strerrorname_np(-rc);
        return n ? n : "E?";
    }
    return "E?";
}

int sl_errctx_set(int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(errctx, sizeof errctx, fmt, ap);
    va_end(ap);
    if (rc && n >= 0 && (size_t)n < sizeof errctx)
        snprintf(errctx + n, sizeof errctx - (size_t)n, ": %s", sl_strerror(rc));
    return rc;
}

const char *sl_errctx(void)
{
    return errctx;
}

void sl_errctx_clear(void)
{
    errctx[0] = '\0';
}
