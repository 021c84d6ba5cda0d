/* HEAD on every GET route of the router (issue 12: it was 405): the same status and Content-Type as the GET,
 * and no body; the two GET routes with side effects (consumer records, SSE) answer 405 with Allow: GET and
 * consume nothing. Path parameters are filled with resources that exist. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http/router.h"
#include "tests/support/sluice_proc.h"

static struct sl_proc proc;
static char *cid;

/* Fills pattern's {params} with existing resources. */
static void fill(const char *pattern, char *out, size_t cap)
{
    static const char *const vals[][2] = {{"cid", NULL}, {"id", "1"},       {"t", "keep"},     {"name", "retention.ms"},
                                          {"p", "0"},    {"g", "hg"},       {"i", "hi"},       {"topic", "keep"},
                                          {"file", "sluice.js"}, {"b", "1"},  {"c", "hi"}};
    size_t o = 0;
    for (const char *s = pattern; *s && o + 1 < cap;) {
        if (*s != '{') {
            out[o++] = *s++;
            continue;
        }
        const char *e = strchr(s, '}');
        const char *v = "x";
        for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++)
            if (strlen(vals[k][0]) == (size_t)(e - s - 1) && !strncmp(s + 1, vals[k][0], (size_t)(e - s - 1)))
                v = vals[k][1] ? vals[k][1] : cid;
        if (strstr(pattern, "/web/js/"))
            v = "api.js";
        if (strstr(pattern, "/brokers/{id}/configs/{name}") && !strncmp(s, "{name}", 6))
            v = "log.retention.ms";
        o += (size_t)snprintf(out + o, cap - o, "%s", v);
        s = e + 1;
    }
    out[o < cap ? o : cap - 1] = '\0';
}

START_TEST(head_answers_like_get_without_a_body)
{
    sl_proc_start(&proc, NULL, NULL);
    cid = sl_proc_cluster_id(&proc);
    char path[256];
    snprintf(path, sizeof path, "/v3/clusters/%s/topics", cid);
    ck_assert_int_eq(sl_http_json(&proc, "POST", path, "{\"topic_name\":\"keep\",\"partitions_count\":1}", NULL), 201);
    ck_assert_int_eq(sl_http_json(&proc, "POST", "/consumers/hg",
                                  "{\"name\":\"hi\",\"format\":\"binary\",\"auto.offset.reset\":\"earliest\"}", NULL), 200);
    ck_assert_int_eq(sl_http_json(&proc, "POST", "/consumers/hg/instances/hi/subscription", "{\"topics\":[\"keep\"]}",
                                  NULL), 204);
    ck_assert_int_eq(sl_http_json(&proc, "POST", "/topics/keep", "{\"records\":[{\"value\":\"YQ==\"}]}", NULL), 200);
    struct sl_router *r;
    ck_assert_int_eq(sl_router_new(&r), 0);
    sl_routes_register_all(r);
    int checked = 0, refused = 0;
    for (size_t i = 0; i < sl_router_count(r); i++) {
        const char *m, *p;
        unsigned flags;
        sl_router_route(r, i, &m, &p, &flags);
        if (strcmp(m, "GET"))
            continue;
        char url[512], ct_get[128] = "", ct_head[128] = "", allow[64];
        size_t n = (size_t)snprintf(url, sizeof url, "%s", proc.base);
        fill(p, url + n, sizeof url - n);
        struct sl_resp g, h;
        long sh = sl_http_req("HEAD", url, NULL, NULL, 0, NULL, &h);
        if (flags & SL_ROUTE_NO_HEAD) {
            ck_assert_msg(sh == 405, "HEAD %s: %ld, want 405", url, sh);
            ck_assert_str_eq(sl_resp_header(&h, "Allow", allow, sizeof allow), "GET");
            refused++;
            sl_resp_fini(&h);
            continue;
        }
        long sg = sl_http_req("GET", url, NULL, NULL, 0, NULL, &g);
        ck_assert_msg(sg == sh, "HEAD %s: %ld, GET %ld", url, sh, sg);
        /* a partition's reassignment is 404 while none is in progress, which on one node is always */
        bool none = strstr(p, "/partitions/{p}/reassignment") != NULL;
        ck_assert_msg(sg != 405 && (sg != 404) == !none, "GET %s: %ld (the test's parameters do not exist?)", url, sg);
        ck_assert_msg(h.len == 0, "HEAD %s sent a body", url);
        sl_resp_header(&g, "Content-Type", ct_get, sizeof ct_get);
        sl_resp_header(&h, "Content-Type", ct_head, sizeof ct_head);
        ck_assert_msg(!strcmp(ct_get, ct_head), "HEAD %s: Content-Type '%s', GET '%s'", url, ct_head, ct_get);
        checked++;
        sl_resp_fini(&g);
        sl_resp_fini(&h);
    }
    sl_router_free(r);
    ck_assert_int_ge(checked, 30);
    ck_assert_int_eq(refused, 2);
    /* the refused HEAD consumed nothing: the consumer's first read still gets the record */
    struct sl_resp x;
    char url[512], allow[64];
    const char *acc[] = {"Accept: application/vnd.kafka.binary.v2+json", NULL};
    snprintf(url, sizeof url, "%s/consumers/hg/instances/hi/records?timeout=3000", proc.base);
    ck_assert_int_eq(sl_http_req("GET", url, NULL, NULL, 0, acc, &x), 200);
    ck_assert_msg(strstr(x.body, "\"offset\":0"), "records: %s", x.body);
    sl_resp_fini(&x);
    /* the 405 lists HEAD where it is served */
    snprintf(url, sizeof url, "%s/healthy", proc.base);
    ck_assert_int_eq(sl_http_req("DELETE", url, NULL, NULL, 0, NULL, &x), 405);
    ck_assert_str_eq(sl_resp_header(&x, "Allow", allow, sizeof allow), "GET, HEAD");
    sl_resp_fini(&x);
    free(cid);
    sl_proc_free(&proc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rest_head");
    TCase *tc = tcase_create("head");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, head_answers_like_get_without_a_body);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
