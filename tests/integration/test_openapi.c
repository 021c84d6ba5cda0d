/* openapi/sluice.yaml and the router agree: every route is documented and every documented operation is
 * routed. Path parameters are compared by position only ("/topics/{t}" == "/topics/{topic_name}").
 * The document is read with a small line parser: path keys are the two-space-indented keys under `paths:`,
 * operations the four-space-indented get/post/put/patch/delete keys under them. */
#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common/errmap.h"
#include "api/http/router.h"
#include "server/err.h"

#define MAX_OPS 512

struct op {
    char method[8];
    char path[256]; /* normalized */
};

/* "/a/{x}/b" -> "/a/{}/b" */
static void normalize(const char *in, char *out, size_t n)
{
    size_t o = 0;
    for (const char *p = in; *p && o + 3 < n; p++) {
        if (*p == '{') {
            out[o++] = '{';
            out[o++] = '}';
            while (*p && *p != '}')
                p++;
            if (!*p)
                break;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

static size_t doc_ops(struct op *ops)
{
    const char *dir = getenv("SLUICE_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/openapi/sluice.yaml", dir ? dir : ".");
    FILE *f = fopen(path, "r");
    ck_assert_msg(f, "cannot open %s", path);
    char line[4096], cur[256] = "";
    bool in_paths = false;
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        if (!isspace((unsigned char)line[0]) && line[0] != '#' && line[0] != '\n') {
            in_paths = !strncmp(line, "paths:", 6);
            continue;
        }
        if (!in_paths)
            continue;
        if (!strncmp(line, "  /", 3)) {
            char *end = strstr(line, ":\n");
            ck_assert_msg(end, "unexpected path line: %s", line);
            *end = '\0';
            normalize(line + 2, cur, sizeof cur);
            continue;
        }
        static const char *const methods[] = {"get", "post", "put", "patch", "delete"};
        for (size_t m = 0; m < 5; m++) {
            size_t l = strlen(methods[m]);
            if (!strncmp(line, "    ", 4) && !strncmp(line + 4, methods[m], l) && line[4 + l] == ':') {
                ck_assert_int_lt(n, MAX_OPS);
                for (size_t k = 0; k <= l; k++)
                    ops[n].method[k] = (char)toupper((unsigned char)methods[m][k]);
                snprintf(ops[n].path, sizeof ops[n].path, "%s", cur);
                n++;
            }
        }
    }
    fclose(f);
    return n;
}

static size_t router_ops(struct op *ops)
{
    struct sl_router *r;
    ck_assert_int_eq(sl_router_new(&r), 0);
    sl_routes_register_all(r);
    size_t n = 0;
    for (size_t i = 0; i < sl_router_count(r); i++) {
        const char *m, *p;
        unsigned flags;
        sl_router_route(r, i, &m, &p, &flags);
        if (flags & SL_ROUTE_HIDDEN)
            continue;
        ck_assert_int_lt(n, MAX_OPS);
        snprintf(ops[n].method, sizeof ops[n].method, "%s", m);
        normalize(p, ops[n].path, sizeof ops[n].path);
        n++;
    }
    sl_router_free(r);
    return n;
}

static bool has(const struct op *ops, size_t n, const struct op *o)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(ops[i].method, o->method) && !strcmp(ops[i].path, o->path))
            return true;
    return false;
}

START_TEST(every_route_is_documented_and_every_documented_operation_routed)
{
    static struct op doc[MAX_OPS], rt[MAX_OPS];
    size_t nd = doc_ops(doc), nr = router_ops(rt);
    ck_assert_int_gt(nd, 10);
    ck_assert_int_gt(nr, 10);
    char missing[8192] = "";
    size_t off = 0;
    for (size_t i = 0; i < nr; i++)
        if (!has(doc, nd, &rt[i]) && off < sizeof missing)
            off += (size_t)snprintf(missing + off, sizeof missing - off, "  routed, not documented: %s %s\n",
                                    rt[i].method, rt[i].path);
    for (size_t i = 0; i < nd; i++)
        if (!has(rt, nr, &doc[i]) && off < sizeof missing)
            off += (size_t)snprintf(missing + off, sizeof missing - off, "  documented, not routed: %s %s\n",
                                    doc[i].method, doc[i].path);
    ck_assert_msg(off == 0, "router and openapi/sluice.yaml disagree:\n%s", missing);
}
END_TEST

/* Reads $SLUICE_SOURCE_DIR/rel into a new NUL-terminated buffer; NULL when it cannot be opened. */
static char *slurp_source(const char *rel)
{
    const char *dir = getenv("SLUICE_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : ".", rel);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    char *s = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(s);
    size_t n = fread(s, 1, (size_t)len, f);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* "| code | status |" is in the document's error table, and code in the Error schema's enum. */
static void assert_documented(const char *doc, unsigned status, int code, const char *what)
{
    char needle[64];
    snprintf(needle, sizeof needle, "| %d | %u |", code, status);
    ck_assert_msg(strstr(doc, needle), "%s: %u/%d is not in the document's error table", what, status, code);
    const char *e = strstr(doc, "enum: [400,"), *end = e ? strchr(e, ']') : NULL;
    ck_assert_ptr_nonnull(end);
    char list[1024] = " "; /* " 400 404 ... 50302 " */
    size_t n = 1;
    for (const char *c = e + strlen("enum: ["); c < end && n + 2 < sizeof list; c++)
        list[n++] = *c == ',' ? ' ' : *c;
    list[n++] = ' ';
    list[n] = '\0';
    snprintf(needle, sizeof needle, " %d ", code);
    ck_assert_msg(strstr(list, needle), "%s: error_code %d is not in the Error schema's enum", what, code);
}

START_TEST(error_codes_of_the_map_are_documented)
{
    char *doc = slurp_source("openapi/sluice.yaml");
    ck_assert_ptr_nonnull(doc);
    /* every code the error map can produce */
    static const int rcs[] = {
#define RC(name, value, msg) name,
        SL_ERRORS(RC) SL_SERVER_ERRORS(RC)
#undef RC
        -ENOMEM, -EAGAIN, -ENOSPC, -EINVAL, -ETIMEDOUT, -EIO};
    for (size_t i = 0; i < sizeof rcs / sizeof rcs[0]; i++) {
        const struct sl_errmap *m = sl_errmap_get(rcs[i]);
        assert_documented(doc, m->status, m->error_code, sl_error_name(rcs[i]));
    }
    free(doc);
}
END_TEST

/* Checks every literal sl_http_reply_error(req, STATUS, CODE, ...) in the .c files of api/<sub>/ against the
 * error table of doc. Returns how many it checked. */
static int check_reply_errors(const char *doc, const char *sub)
{
    const char *dir = getenv("SLUICE_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/api/%s", dir ? dir : ".", sub);
    DIR *d = opendir(path);
    ck_assert_msg(d != NULL, "cannot open %s", path);
    int seen = 0;
    for (struct dirent *de; (de = readdir(d));) {
        size_t len = strlen(de->d_name);
        if (len < 3 || strcmp(de->d_name + len - 2, ".c"))
            continue;
        char rel[512];
        snprintf(rel, sizeof rel, "api/%s/%s", sub, de->d_name);
        char *src = slurp_source(rel);
        for (const char *p = src; p && (p = strstr(p, "sl_http_reply_error(")); p++) {
            const char *a = strchr(p, ',');
            char *end;
            long status = a ? strtol(a + 1, &end, 10) : 0;
            if (!a || end == a + 1 || *end != ',')
                continue; /* a status held in a variable */
            long code = strtol(end + 1, &end, 10);
            if (*end != ',')
                continue;
            char what[600];
            snprintf(what, sizeof what, "%s: sl_http_reply_error(_, %ld, %ld", rel, status, code);
            assert_documented(doc, (unsigned)status, (int)code, what);
            seen++;
        }
        free(src);
    }
    closedir(d);
    return seen;
}

/* Every literal sl_http_reply_error(req, STATUS, CODE, ...) in the handlers is in the error table. */
START_TEST(error_codes_the_handlers_write_are_documented)
{
    char *doc = slurp_source("openapi/sluice.yaml");
    ck_assert_ptr_nonnull(doc);
    static const char *const subs[] = {"common", "codec", "http", "rest", "ws"};
    int seen = 0;
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        seen += check_reply_errors(doc, subs[i]);
    ck_assert_int_gt(seen, 20);
    free(doc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("openapi");
    TCase *tc = tcase_create("consistency");
    tcase_add_test(tc, every_route_is_documented_and_every_documented_operation_routed);
    tcase_add_test(tc, error_codes_of_the_map_are_documented);
    tcase_add_test(tc, error_codes_the_handlers_write_are_documented);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
