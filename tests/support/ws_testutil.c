/* Helpers for the WebSocket and SSE integration tests (see ws_testutil.h). */
#include "tests/support/ws_testutil.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sl_wt_create_topic(struct sl_proc *p, const char *name, int parts)
{
    char *cid = sl_proc_cluster_id(p);
    char path[256], body[512];
    snprintf(path, sizeof path, "/v3/clusters/%s/topics", cid);
    snprintf(body, sizeof body, "{\"topic_name\":\"%s\",\"partitions_count\":%d}", name, parts);
    ck_assert_int_eq(sl_http_json(p, "POST", path, body, NULL), 201);
    free(cid);
}

void sl_wt_produce(struct sl_proc *p, const char *topic, const char *records_json)
{
    char url[512];
    size_t n = strlen(records_json) + 32;
    char *body = malloc(n);
    snprintf(body, n, "{\"records\":%s}", records_json);
    snprintf(url, sizeof url, "%s/topics/%s", p->base, topic);
    struct sl_resp r;
    long st = sl_http_req("POST", url, "application/vnd.kafka.json.v2+json", body, (size_t)-1, NULL, &r);
    ck_assert_msg(st == 200, "produce: %ld %s", st, r.body);
    sl_resp_fini(&r);
    free(body);
}

struct sl_wscl *sl_wt_connect(struct sl_proc *p, const char *path)
{
    struct sl_wscl *c = sl_wscl_connect(p->ws_port, path, NULL, 5000);
    ck_assert_msg(c != NULL, "WebSocket handshake to %s failed", path);
    return c;
}

json_t *sl_wt_next(struct sl_wscl *c, int timeout_ms)
{
    char *s = sl_wscl_recv(c, timeout_ms);
    if (!s)
        return NULL;
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    ck_assert_msg(j != NULL, "not JSON: %.200s", s);
    free(s);
    return j;
}

json_t *sl_wt_records(struct sl_wscl *c, size_t n, int timeout_ms, json_t *other)
{
    json_t *all = json_array();
    int64_t dl = mono_ms() + timeout_ms;
    while (json_array_size(all) < n) {
        int64_t left = dl - mono_ms();
        json_t *m = left > 0 ? sl_wt_next(c, (int)left) : NULL;
        if (!m)
            break;
        if (strcmp(json_string_value(json_object_get(m, "type")), "records") == 0)
            json_array_extend(all, json_object_get(m, "records"));
        else if (other)
            json_array_append(other, m);
        json_decref(m);
    }
    return all;
}

json_t *sl_wt_expect(struct sl_wscl *c, const char *type, int timeout_ms)
{
    int64_t dl = mono_ms() + timeout_ms;
    for (;;) {
        int64_t left = dl - mono_ms();
        json_t *m = left > 0 ? sl_wt_next(c, (int)left) : NULL;
        if (!m)
            return NULL;
        if (strcmp(json_string_value(json_object_get(m, "type")), type) == 0)
            return m;
        json_decref(m);
    }
}
