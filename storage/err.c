/* sl_strerror and sl_errname: the one table of sluice error messages (see err.h). */
#include "storage/err.h"

#include <string.h>

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
