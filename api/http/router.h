/* The REST route table: method + path pattern -> handler.
 *
 * Patterns are '/'-separated segments, each a literal ("topics", "records:batch", "configs:alter") or a
 * parameter ("{t}"), which matches one non-empty path segment and is read with sl_http_param(req, "t").
 * When several patterns match a path, the one with the most literal segments wins. A path that matches no
 * pattern is answered 404 {"error_code":404,"message":"HTTP 404 Not Found"}; a path that matches with another
 * method 405 {"error_code":405,"message":"HTTP 405 Method Not Allowed"} with an Allow header. HEAD matches
 * the GET routes (libmicrohttpd sends the headers of the GET reply without its body), except those flagged
 * SL_ROUTE_NO_HEAD: a GET with side effects, whose HEAD would consume records or open a stream unseen.
 *
 * Each handler file exposes `void sl_h_<name>_register(struct sl_router *r)` that adds its routes (h2o style);
 * api/rest/routes.c calls them all (sl_routes_register_all).
 *
 * THREADS: routes and modules are added by sl_rest_start's thread before the server starts; afterwards the
 * table is read-only and sl_router_match is called from every pool thread. */
#ifndef SL_API_ROUTER_H
#define SL_API_ROUTER_H

#include <stddef.h>

#include "api/http/http.h"

/* Called once the whole body has arrived (or at once when there is none). Must reply or suspend. */
typedef void (*sl_handler_fn)(struct sl_req *req);
/* Streaming-body mode: called for each chunk of the request body as it arrives (data is valid for the call
 * only). Return 0 to go on, or non-zero to stop: the rest of the body is drained unseen and the route's
 * handle still runs at the end (remember the failure in the request's user data and reply there). */
typedef int (*sl_body_fn)(struct sl_req *req, const char *data, size_t len);

struct sl_route_ops {
    /* Optional: first call, headers known, no body read yet. May reply (e.g. 415 on a wrong Content-Type),
     * then neither body nor handle run and the body is never read. Must not suspend. */
    sl_handler_fn begin;
    /* Optional: when set, the body is streamed to it instead of buffered, and the body-size limit
     * (rest.max.body.bytes) does not apply: the handler enforces its own limits. */
    sl_body_fn body;
    /* Required. */
    sl_handler_fn handle;
};

struct sl_router;

/* Route flags. */
#define SL_ROUTE_HIDDEN 0x1u  /* not in sl_router_routes (not part of the public API document) */
#define SL_ROUTE_NO_HEAD 0x2u /* a GET with side effects: HEAD is 405 (see above) */
/* A POST whose chunked HTTP/1.1 body may be served as a stream, outside libmicrohttpd, when it is the first
 * request of its connection: the front hands such a connection to its stream taker (api/http/front.h). */
#define SL_ROUTE_STREAM 0x4u

/* Creates an empty router. Returns 0 and *out or -ENOMEM. */
int sl_router_new(struct sl_router **out);
void sl_router_free(struct sl_router *r);

/* Adds a route with a buffered body. method is "GET", "POST", "PUT", "PATCH", "DELETE"; pattern as above.
 * Both strings must be static (string literals). Aborts on a malformed pattern or a duplicate
 * (method, pattern): these are programming errors found by every test run. */
void sl_router_add(struct sl_router *r, const char *method, const char *pattern, sl_handler_fn handle);
/* Same, with the full set of callbacks; ops is copied. flags: SL_ROUTE_*. */
void sl_router_add_ops(struct sl_router *r, const char *method, const char *pattern, const struct sl_route_ops *ops,
                       unsigned flags);

/* A module: per-server state that handler files need beyond what sl_rest_start is given (e.g. the consumer-lag
 * source of /metrics). start runs in sl_rest_start before the daemon starts, in the order added; a
 * non-zero return fails the start (stop of the modules already started runs). stop runs in sl_rest_stop after
 * the daemon has stopped (no request runs any more), in reverse order. Either may be NULL. */
void sl_router_add_module(struct sl_router *r, const char *name, int (*start)(struct sl_api *api),
                          void (*stop)(struct sl_api *api));
/* Runs the start hooks. Returns 0 or the first failure (the started ones are stopped again). */
int sl_router_modules_start(struct sl_router *r, struct sl_api *api);
/* Runs the stop hooks of the started modules, in reverse order. */
void sl_router_modules_stop(struct sl_router *r, struct sl_api *api);

/* Maximum number of path parameters in one pattern and of segments in one path. */
#define SL_ROUTER_MAX_PARAMS 8
#define SL_ROUTER_MAX_SEGS 16

/* The result of a match. Parameter values point into the caller's path copy. */
struct sl_route_match {
    int route;                     /* index of the route, or -1 */
    const struct sl_route_ops *ops;
    const char *pattern;           /* the matched route's pattern */
    unsigned flags;                /* the matched route's SL_ROUTE_* flags */
    size_t nparams;
    const char *names[SL_ROUTER_MAX_PARAMS];
    const char *values[SL_ROUTER_MAX_PARAMS];
};
enum sl_router_result { SL_ROUTE_FOUND, SL_ROUTE_NOT_FOUND, SL_ROUTE_BAD_METHOD };
/* Matches method + path. path is modified in place (segments are NUL-terminated) and must outlive m.
 * On SL_ROUTE_BAD_METHOD, allow (if not NULL, allowlen bytes) gets the allowed methods ("GET, POST"). */
enum sl_router_result sl_router_match(const struct sl_router *r, const char *method, char *path,
                                      struct sl_route_match *m, char *allow, size_t allowlen);
/* The value of parameter name ("t" for "{t}") in m, or NULL. */
const char *sl_route_param(const struct sl_route_match *m, const char *name);

/* Number of routes, and route i's method and pattern (static strings) and flags; for /metrics and the
 * OpenAPI consistency test. */
size_t sl_router_count(const struct sl_router *r);
void sl_router_route(const struct sl_router *r, size_t i, const char **method, const char **pattern,
                     unsigned *flags);

/* Adds every route of every handler file (api/rest/routes.c). */
void sl_routes_register_all(struct sl_router *r);

#endif
