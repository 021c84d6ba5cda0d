/* The REST route table (see router.h): a flat array of pre-split patterns, matched by a linear scan.
 * About 60 routes of a few segments each: a scan costs well under a microsecond, so no trie.
 *
 * INVARIANTS
 *   1. Every pattern starts with '/', has no empty segment, at most SL_ROUTER_MAX_SEGS segments and
 *      SL_ROUTER_MAX_PARAMS parameters; (method, pattern) is unique.
 *   2. The table is only appended to before the server starts (single thread), then read-only. */
#include "api/http/router.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct route {
    const char *method;
    const char *pattern;
    unsigned flags;
    struct sl_route_ops ops;
    size_t nsegs;
    size_t nlit;                          /* literal segments: the specificity */
    char *segs[SL_ROUTER_MAX_SEGS];       /* owned copies; "{name}" stored as the bare name */
    unsigned char is_param[SL_ROUTER_MAX_SEGS];
};

struct module {
    const char *name;
    int (*start)(struct sl_api *api);
    void (*stop)(struct sl_api *api);
    int started;
};

struct sl_router {
    struct route *routes;
    size_t n, cap;
    struct module *mods;
    size_t nmods, capmods;
};

int sl_router_new(struct sl_router **out)
{
    struct sl_router *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    *out = r;
    return 0;
}

void sl_router_free(struct sl_router *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        for (size_t s = 0; s < r->routes[i].nsegs; s++)
            free(r->routes[i].segs[s]);
    free(r->routes);
    free(r->mods);
    free(r);
}

static void die(const char *what, const char *method, const char *pattern)
{
    fprintf(stderr, "sl_router_add %s %s: %s\n", method, pattern, what);
    abort();
}

/* Splits pattern into rt's segments. */
static void split_pattern(struct route *rt)
{
    const char *p = rt->pattern;
    if (*p != '/')
        die("pattern must start with '/'", rt->method, rt->pattern);
    if (!strcmp(p, "/"))
        return; /* the root: no segments, matches the path "/" only (api/rest/h_web.c serves the console there) */
    size_t nparams = 0;
    while (*p == '/') {
        const char *s = p + 1;
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 0)
            die("empty segment", rt->method, rt->pattern);
        if (rt->nsegs == SL_ROUTER_MAX_SEGS)
            die("too many segments", rt->method, rt->pattern);
        size_t i = rt->nsegs++;
        if (s[0] == '{') {
            if (len < 3 || s[len - 1] != '}' || ++nparams > SL_ROUTER_MAX_PARAMS)
                die("bad parameter segment", rt->method, rt->pattern);
            rt->segs[i] = strndup(s + 1, len - 2);
            rt->is_param[i] = 1;
        } else {
            rt->segs[i] = strndup(s, len);
            rt->nlit++;
        }
        if (!rt->segs[i])
            die("out of memory", rt->method, rt->pattern);
        p = s + len;
    }
}

void sl_router_add_ops(struct sl_router *r, const char *method, const char *pattern, const struct sl_route_ops *ops,
                       unsigned flags)
{
    if (!ops || !ops->handle)
        die("no handler", method, pattern);
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->routes[i].method, method) && !strcmp(r->routes[i].pattern, pattern))
            die("duplicate route", method, pattern);
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        struct route *nr = realloc(r->routes, cap * sizeof *nr);
        if (!nr)
            die("out of memory", method, pattern);
        r->routes = nr;
        r->cap = cap;
    }
    struct route *rt = &r->routes[r->n];
    memset(rt, 0, sizeof *rt);
    rt->method = method;
    rt->pattern = pattern;
    rt->flags = flags;
    rt->ops = *ops;
    split_pattern(rt);
    r->n++;
}

void sl_router_add(struct sl_router *r, const char *method, const char *pattern, sl_handler_fn handle)
{
    struct sl_route_ops ops = {.handle = handle};
    sl_router_add_ops(r, method, pattern, &ops, 0);
}

void sl_router_add_module(struct sl_router *r, const char *name, int (*start)(struct sl_api *api),
                          void (*stop)(struct sl_api *api))
{
    if (r->nmods == r->capmods) {
        size_t cap = r->capmods ? r->capmods * 2 : 8;
        struct module *nm = realloc(r->mods, cap * sizeof *nm);
        if (!nm)
            die("out of memory", "module", name);
        r->mods = nm;
        r->capmods = cap;
    }
    r->mods[r->nmods++] = (struct module){.name = name, .start = start, .stop = stop};
}

int sl_router_modules_start(struct sl_router *r, struct sl_api *api)
{
    for (size_t i = 0; i < r->nmods; i++) {
        int rc = r->mods[i].start ? r->mods[i].start(api) : 0;
        if (rc) {
            sl_router_modules_stop(r, api);
            return rc;
        }
        r->mods[i].started = 1;
    }
    return 0;
}

void sl_router_modules_stop(struct sl_router *r, struct sl_api *api)
{
    for (size_t i = r->nmods; i-- > 0;) {
        if (r->mods[i].started && r->mods[i].stop)
            r->mods[i].stop(api);
        r->mods[i].started = 0;
    }
}

/* Splits path in place into segs; returns the count, or -1 when there are too many or it is malformed.
 * A trailing '/' is ignored ("/topics/" == "/topics"); empty inner segments never match. */
static int split_path(char *path, char **segs)
{
    int n = 0;
    if (*path != '/')
        return -1;
    char *p = path;
    while (*p == '/') {
        *p++ = '\0';
        if (*p == '\0')
            break; /* trailing slash */
        if (n == SL_ROUTER_MAX_SEGS)
            return -1;
        segs[n++] = p;
        while (*p && *p != '/')
            p++;
        if (*p == '/' && p[1] == '/')
            return -1;
    }
    return n;
}

static bool route_matches(const struct route *rt, char **segs, int n)
{
    if ((size_t)n != rt->nsegs)
        return false;
    for (int i = 0; i < n; i++)
        if (!rt->is_param[i] && strcmp(rt->segs[i], segs[i]))
            return false;
    return true;
}

static void fill_match(const struct route *rt, int idx, char **segs, struct sl_route_match *m)
{
    m->route = idx;
    m->ops = &rt->ops;
    m->pattern = rt->pattern;
    m->flags = rt->flags;
    m->nparams = 0;
    for (size_t i = 0; i < rt->nsegs; i++)
        if (rt->is_param[i]) {
            m->names[m->nparams] = rt->segs[i];
            m->values[m->nparams++] = segs[i];
        }
}

const char *sl_route_param(const struct sl_route_match *m, const char *name)
{
    for (size_t i = 0; i < m->nparams; i++)
        if (!strcmp(m->names[i], name))
            return m->values[i];
    return NULL;
}

enum sl_router_result sl_router_match(const struct sl_router *r, const char *method, char *path,
                                      struct sl_route_match *m, char *allow, size_t allowlen)
{
    char *segs[SL_ROUTER_MAX_SEGS];
    memset(m, 0, sizeof *m);
    m->route = -1;
    int n = split_path(path, segs);
    if (n < 0)
        return SL_ROUTE_NOT_FOUND;
    int best = -1, any = -1;
    bool head = strcmp(method, "HEAD") == 0;
    for (size_t i = 0; i < r->n; i++) {
        const struct route *rt = &r->routes[i];
        if (!route_matches(rt, segs, n))
            continue;
        if (any < 0 || rt->nlit > r->routes[any].nlit)
            any = (int)i;
        if (strcmp(rt->method, head ? "GET" : method) || (head && (rt->flags & SL_ROUTE_NO_HEAD)))
            continue;
        if (best < 0 || rt->nlit > r->routes[best].nlit)
            best = (int)i;
    }
    if (best >= 0 && r->routes[best].nlit >= r->routes[any].nlit) {
        fill_match(&r->routes[best], best, segs, m);
        return SL_ROUTE_FOUND;
    }
    if (any < 0)
        return SL_ROUTE_NOT_FOUND;
    if (allow && allowlen) {
        /* the methods of every route with the winning pattern */
        size_t off = 0;
        allow[0] = '\0';
        for (size_t i = 0; i < r->n; i++) {
            const struct route *rt = &r->routes[i];
            bool with_head = !strcmp(rt->method, "GET") && !(rt->flags & SL_ROUTE_NO_HEAD);
            if (!strcmp(rt->pattern, r->routes[any].pattern) && off < allowlen)
                off += (size_t)snprintf(allow + off, allowlen - off, "%s%s%s", off ? ", " : "", rt->method,
                                        with_head ? ", HEAD" : "");
        }
    }
    return SL_ROUTE_BAD_METHOD;
}

size_t sl_router_count(const struct sl_router *r)
{
    return r->n;
}

void sl_router_route(const struct sl_router *r, size_t i, const char **method, const char **pattern,
                     unsigned *flags)
{
    *method = r->routes[i].method;
    *pattern = r->routes[i].pattern;
    if (flags)
        *flags = r->routes[i].flags;
}
