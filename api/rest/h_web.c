/* The web console: GET / (web/index.html), GET /web/{file} and /web/js/{file} (the other files of web/), and
 * GET /web/api/topics, the per-partition log figures the console shows that no public API carries yet (log
 * start and end offsets, high watermark, size on disk).
 *
 * The files are embedded at build time (web/embed.cmake -> gen/web_files.c), so the binary serves exactly the
 * console it was built with and nothing else: a name is looked up in that table, never on the file system, so
 * no path can reach outside it. Every reply carries an ETag (SHA-1 prefix of the file) and Cache-Control:
 * no-cache, so browsers revalidate and get 304 until the next build. These routes are hidden: they are not part
 * of the REST API document (openapi/sluice.yaml). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http/http.h"
#include "api/http/router.h"
#include "server/broker.h"

extern const size_t sl_web_count;
extern const char *const sl_web_paths[];
extern const unsigned char *const sl_web_data[];
extern const size_t sl_web_lens[];
extern const char *const sl_web_etags[];

static const char *content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},   {".svg", "image/svg+xml"},
        {".ico", "image/x-icon"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return "application/octet-stream";
}

/* True when the If-None-Match header lists etag (or is "*"). */
static bool etag_matches(const char *inm, const char *etag)
{
    if (!inm)
        return false;
    if (!strcmp(inm, "*"))
        return true;
    size_t n = strlen(etag);
    for (const char *p = strstr(inm, etag); p; p = strstr(p + 1, etag))
        if (p[n] == '\0' || p[n] == ',' || p[n] == ' ')
            return true;
    return false;
}

static void serve(struct sl_req *req, const char *path)
{
    size_t i = 0;
    while (i < sl_web_count && strcmp(sl_web_paths[i], path))
        i++;
    if (i == sl_web_count) {
        sl_http_reply_error(req, 404, 404, "HTTP 404 Not Found");
        return;
    }
    sl_http_add_header(req, "ETag", sl_web_etags[i]);
    sl_http_add_header(req, "Cache-Control", "no-cache");
    sl_http_add_header(req, "X-Content-Type-Options", "nosniff");
    if (!strcmp(path, "index.html")) /* the console itself: its own scripts only; WebSockets to any port */
        sl_http_add_header(req, "Content-Security-Policy",
                           "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
                           "frame-ancestors 'none'");
    if (etag_matches(sl_http_header(req, "If-None-Match"), sl_web_etags[i])) {
        sl_http_reply_empty(req, 304);
        return;
    }
    /* static data: no copy needed, but reply_copy keeps the reply's ownership rules simple */
    sl_http_reply_copy(req, 200, content_type(path), sl_web_data[i], sl_web_lens[i]);
}

static void on_index(struct sl_req *req)
{
    serve(req, "index.html");
}

static void on_file(struct sl_req *req)
{
    serve(req, sl_http_param(req, "file"));
}

static void on_js_file(struct sl_req *req)
{
    char path[256];
    const char *f = sl_http_param(req, "file");
    if ((size_t)snprintf(path, sizeof path, "js/%s", f) >= sizeof path) {
        sl_http_reply_error(req, 404, 404, "HTTP 404 Not Found");
        return;
    }
    serve(req, path);
}

/* {"topics":[{"name","internal","partitions":[{"partition","log_start_offset","log_end_offset",
 *  "high_watermark","size_bytes","segments","failed"}]}]} */
static void on_topics(struct sl_req *req)
{
    struct sl_broker *b = sl_http_api(req)->broker;
    struct sl_topic_info *ts = NULL;
    size_t n = 0;
    if (sl_broker_topics(b, &ts, &n)) {
        sl_http_reply_error(req, 503, 50003, "Out of memory; retry.");
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *parts = json_array();
        for (int32_t p = 0; p < ts[i].partitions; p++) {
            struct sl_part_info pi;
            if (sl_broker_partition_info(b, ts[i].name, p, &pi))
                continue; /* deleted meanwhile */
            json_array_append_new(parts, json_pack("{s:i, s:I, s:I, s:I, s:I, s:i, s:b}", "partition", (int)p,
                                                   "log_start_offset", (json_int_t)pi.log_start, "log_end_offset",
                                                   (json_int_t)pi.log_end, "high_watermark", (json_int_t)pi.hw,
                                                   "size_bytes", (json_int_t)pi.size_bytes, "segments",
                                                   (int)pi.segments, "failed", (int)pi.failed));
        }
        json_array_append_new(arr, json_pack("{s:s, s:b, s:o}", "name", ts[i].name, "internal", (int)ts[i].internal,
                                             "partitions", parts));
    }
    free(ts);
    sl_http_add_header(req, "Cache-Control", "no-store");
    sl_http_reply_json(req, 200, json_pack("{s:o}", "topics", arr));
}

void sl_h_web_register(struct sl_router *r);
void sl_h_web_register(struct sl_router *r)
{
    static const struct sl_route_ops index_ops = {.handle = on_index}, file_ops = {.handle = on_file},
                                     js_ops = {.handle = on_js_file}, topics_ops = {.handle = on_topics};
    sl_router_add_ops(r, "GET", "/", &index_ops, SL_ROUTE_HIDDEN);
    sl_router_add_ops(r, "GET", "/web/{file}", &file_ops, SL_ROUTE_HIDDEN);
    sl_router_add_ops(r, "GET", "/web/js/{file}", &js_ops, SL_ROUTE_HIDDEN);
    sl_router_add_ops(r, "GET", "/web/api/topics", &topics_ops, SL_ROUTE_HIDDEN);
}
