/* sl_error_message and sl_error_name: the server's codes, then storage's (see err.h). */
#include "server/err.h"

const char *sl_error_message(int rc)
{
    switch (rc) {
#define SL_SERVER_ERR_MSG(name, value, msg) \
    case name:                              \
        return msg;
        SL_SERVER_ERRORS(SL_SERVER_ERR_MSG)
#undef SL_SERVER_ERR_MSG
    default:
        return sl_strerror(rc);
    }
}

const char *sl_error_name(int rc)
{
    switch (rc) {
#define SL_SERVER_ERR_NAME(name, value, msg) \
    case name:                               \
        return #name;
        SL_SERVER_ERRORS(SL_SERVER_ERR_NAME)
#undef SL_SERVER_ERR_NAME
    default:
        return sl_errname(rc);
    }
}
