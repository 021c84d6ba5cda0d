/* Head checks for requests libmicrohttpd parsed (api/http/http_guard.h).
 *
 * libmicrohttpd keeps every header field, repeated ones included, and MHD_get_connection_values_n walks them
 * in order: each is fed to the framing check. The head's size is estimated from what libmicrohttpd kept
 * (method, path, query arguments, fields) with the fewest separators the syntax allows ("k:v" LF, "&k=v");
 * the path and arguments are percent-decoded there. So the estimate never exceeds the size on the wire: a
 * kept-alive head is refused no earlier than the front would refuse it as a first head, and at the latest
 * once its decoded content passes 8 KiB. A field name with whitespace, which the front refuses on a first request, is
 * refused here too (libmicrohttpd 0.9.75 accepts it). */
#include "api/http/http_guard.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "api/http/http_int.h"
#include "api/http/refuse.h"

struct scan {
    struct sl_http1_framing fr;
    size_t bytes;
    bool bad_name; /* whitespace in a field name (RFC 9112 §5.1: 400); libmicrohttpd keeps such fields */
};

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                                const char *value, size_t value_size)
{
    struct scan *s = cls;
    s->bytes += key_size + value_size + 2; /* at least "name:value\n", or "&name=value" */
    if (kind != MHD_HEADER_KIND)
        return MHD_YES;
    sl_http1_framing_field(&s->fr, key, key_size, value, value_size);
    if (memchr(key, ' ', key_size) || memchr(key, '\t', key_size))
        s->bad_name = true;
    return MHD_YES;
}

static int refuse(struct sl_req *req, enum sl_refusal why)
{
    const struct sl_refuse_answer *a = sl_refuse_get(why);
    sl_http_add_header(req, "Connection", "close");
    sl_http_reply_error(req, a->status, a->error_code, "%s", a->message);
    return -EPROTO;
}

int sl_http_guard_head(struct sl_req *req, const char *version)
{
    if (!req->conn)
        return 0;
    /* "METHOD SP path SP HTTP/1.1 LF" and the final LF */
    struct scan s = {.bytes = strlen(req->method) + 1 + strlen(req->path) + 1 + strlen("HTTP/1.1\n\n")};
    MHD_get_connection_values_n(req->conn, MHD_HEADER_KIND | MHD_GET_ARGUMENT_KIND, on_field, &s);
    int minor = version && !strcmp(version, MHD_HTTP_VERSION_1_0) ? 0 : 1; /* libmicrohttpd took only 1.x */
    if (s.bad_name)
        return refuse(req, SL_REFUSE_MALFORMED);
    if (!sl_http1_framing_ok(&s.fr, minor))
        return refuse(req, SL_REFUSE_FRAMING);
    if (s.bytes > SL_REFUSE_HEAD_MAX)
        return refuse(req, SL_REFUSE_TOO_LARGE);
    return 0;
}
