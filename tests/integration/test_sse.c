/* Server-Sent Events on the REST port against the real binary: records arrive as events whose id encodes
 * every partition's position; a reconnect with Last-Event-ID resumes exactly (nothing lost, nothing
 * repeated); group streams split partitions; bad requests are answered before the stream starts. */
#include <arpa/inet.h>
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/ws_testutil.h"

static struct sl_proc proc;

static void setup(void)
{
    sl_proc_start(&proc, NULL, NULL);
    sl_wt_create_topic(&proc, "s", 2);
}

static void teardown(void)
{
    sl_proc_free(&proc);
}

struct stream {
    int fd;
    char raw[1 << 16];
    size_t rawlen;
    char body[1 << 16];
    size_t bodylen, used;
    bool headers_done;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sse_open(struct stream *st, const char *path, const char *last_id)
{
    memset(st, 0, sizeof *st);
    st->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(proc.rest_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(st->fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n%s%s%s\r\n", path,
                     last_id ? "Last-Event-ID: " : "", last_id ? last_id : "", last_id ? "\r\n" : "");
    ck_assert_int_eq(write(st->fd, req, (size_t)n), n);
}

/* Moves complete chunks from raw to body. */
static void dechunk(struct stream *st)
{
    if (!st->headers_done) {
        char *e = memmem(st->raw, st->rawlen, "\r\n\r\n", 4);
        if (!e)
            return;
        ck_assert_msg(strncmp(st->raw, "HTTP/1.1 200", 12) == 0, "status: %.40s", st->raw);
        size_t hl = (size_t)(e + 4 - st->raw);
        memmove(st->raw, st->raw + hl, st->rawlen - hl);
        st->rawlen -= hl;
        st->headers_done = true;
    }
    for (;;) {
        char *crlf = memmem(st->raw, st->rawlen, "\r\n", 2);
        if (!crlf)
            return;
        size_t sz = strtoul(st->raw, NULL, 16), hl = (size_t)(crlf + 2 - st->raw);
        if (st->rawlen < hl + sz + 2)
            return;
        memcpy(st->body + st->bodylen, st->raw + hl, sz);
        st->bodylen += sz;
        memmove(st->raw, st->raw + hl + sz + 2, st->rawlen - hl - sz - 2);
        st->rawlen -= hl + sz + 2;
    }
}

/* The next event's data (parsed) and id (copied into id), or NULL after timeout_ms. */
static json_t *sse_next(struct stream *st, char *id, size_t idlen, int timeout_ms)
{
    int64_t dl = mono_ms() + timeout_ms;
    for (;;) {
        st->body[st->bodylen] = '\0';
        char *ev = st->body + st->used, *end = strstr(ev, "\n\n");
        if (end) {
            st->used = (size_t)(end + 2 - st->body);
            char *d = strstr(ev, "data: "), *i = strstr(ev, "id: ");
            ck_assert(d && i && d < end && i < end);
            snprintf(id, idlen, "%.*s", (int)strcspn(i + 4, "\n"), i + 4);
            *strchr(d, '\n') = '\0';
            json_t *j = json_loads(d + 6, 0, NULL);
            ck_assert_msg(j != NULL, "bad event data: %.200s", d + 6);
            return j;
        }
        int left = (int)(dl - mono_ms());
        struct pollfd p = {.fd = st->fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) <= 0)
            return NULL;
        ssize_t n = read(st->fd, st->raw + st->rawlen, sizeof st->raw - st->rawlen);
        if (n <= 0)
            return NULL;
        st->rawlen += (size_t)n;
        dechunk(st);
    }
}

/* Reads events until n records; appends "p:o" of each record to seen; returns the last id. */
static void read_records(struct stream *st, int n, char *seen, char *last_id)
{
    int got = 0;
    while (got < n) {
        json_t *m = sse_next(st, last_id, 128, 5000);
        ck_assert_msg(m != NULL, "only %d of %d records", got, n);
        ck_assert_str_eq(json_string_value(json_object_get(m, "type")), "records");
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(m, "records"), i, r) {
            sprintf(seen + strlen(seen), "%d:%d ", (int)json_integer_value(json_object_get(r, "partition")),
                    (int)json_integer_value(json_object_get(r, "offset")));
            got++;
        }
        json_decref(m);
    }
}

START_TEST(events_carry_records_and_last_event_id_resumes_exactly)
{
    sl_wt_produce(&proc, "s", "[{\"value\":1,\"partition\":0},{\"value\":2,\"partition\":1},{\"value\":3,\"partition\":0}]");
    struct stream st;
    char seen[4096] = "", id[128], first_id[128];
    sse_open(&st, "/sse/v1/topics/s?from=earliest", NULL);
    json_t *m = sse_next(&st, first_id, sizeof first_id, 5000);
    ck_assert_ptr_nonnull(m);
    ck_assert(strchr(first_id, ':') && strchr(first_id, ','));
    json_decref(m);
    read_records(&st, 1, seen, id); /* the other partition's event */
    sl_wt_produce(&proc, "s", "[{\"value\":4,\"partition\":1}]"); /* pushed live */
    strcpy(seen, "");
    read_records(&st, 1, seen, id);
    ck_assert_str_eq(seen, "1:1 ");
    ck_assert_str_eq(id, "0:2,1:2");
    close(st.fd);
    /* resume after the first event only: exactly what came after it, nothing else */
    sl_wt_produce(&proc, "s", "[{\"value\":5,\"partition\":0}]");
    sse_open(&st, "/sse/v1/topics/s?from=earliest", first_id);
    strcpy(seen, "");
    int expect = strcmp(first_id, "0:2,1:0") == 0 ? 3 : 4; /* first event was partition 0 (2 records) or 1 */
    read_records(&st, expect, seen, id);
    ck_assert_str_eq(id, "0:3,1:2");
    char idbuf[128];
    ck_assert_ptr_null(sse_next(&st, idbuf, sizeof idbuf, 300));
    close(st.fd);
}
END_TEST

START_TEST(bad_sse_requests_and_groups)
{
    struct sl_resp r;
    char url[256];
    snprintf(url, sizeof url, "%s/sse/v1/topics/none", proc.base);
    ck_assert_int_eq(sl_http_req("GET", url, NULL, NULL, 0, NULL, &r), 404);
    sl_resp_fini(&r);
    snprintf(url, sizeof url, "%s/sse/v1/topics/s?from=never", proc.base);
    ck_assert_int_eq(sl_http_req("GET", url, NULL, NULL, 0, NULL, &r), 400);
    sl_resp_fini(&r);
    /* a group stream reads its assignment: alone, both partitions */
    sl_wt_produce(&proc, "s", "[{\"value\":1,\"partition\":0},{\"value\":2,\"partition\":1}]");
    struct stream st;
    char seen[512] = "", id[128];
    sse_open(&st, "/sse/v1/topics/s?from=earliest&group=sg", NULL);
    read_records(&st, 2, seen, id);
    ck_assert(strstr(seen, "0:0") && strstr(seen, "1:0"));
    close(st.fd);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sse");
    TCase *tc = tcase_create("sse");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, events_carry_records_and_last_event_id_resumes_exactly);
    tcase_add_test(tc, bad_sse_requests_and_groups);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
