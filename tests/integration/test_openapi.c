/* openapi/sluice.yaml and the router agree: every route is documented and every documented operation is
 * routed. Path parameters are compared by position only ("/topics/{t}" == "/topics/{topic_name}").
 * The document is read with a small line parser: path keys are the two-space-indented keys under `paths:`,
 * operations the four-space-indented get/post/put/patch/delete keys under them. */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/errmap.h"
#include "api/router.h"
#include "storage/err.h"

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

START_TEST(error_codes_of_the_map_are_documented)
{
    const char *dir = getenv("SLUICE_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/openapi/sluice.yaml", dir ? dir : ".");
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    static char doc[1 << 20];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    doc[n] = '\0';
    fclose(f);
    /* every code the error map can produce */
    static const int rcs[] = {
#define RC(name, value, msg) name,
        SL_ERRORS(RC)
#undef RC
        -ENOMEM, -EAGAIN, -ENOSPC, -EINVAL, -ETIMEDOUT, -EIO};
    for (size_t i = 0; i < sizeof rcs / sizeof rcs[0]; i++) {
        const struct sl_errmap *m = sl_errmap_get(rcs[i]);
        char needle[64];
        snprintf(needle, sizeof needle, "| %d | %u |", m->error_code, m->status);
        ck_assert_msg(strstr(doc, needle), "%s maps to %u/%d, which is not in the document's error table",
                      sl_errname(rcs[i]), m->status, m->error_code);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("openapi");
    TCase *tc = tcase_create("consistency");
    tcase_add_test(tc, every_route_is_documented_and_every_documented_operation_routed);
    tcase_add_test(tc, error_codes_of_the_map_are_documented);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
