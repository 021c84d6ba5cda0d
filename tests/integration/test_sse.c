/* Server-Sent Events on the REST port against the real binary: records arrive as events whose id encodes
 * every partition's position; a reconnect with Last-Event-ID resumes exactly (nothing lost, nothing
 * repeated), also for a from=latest stream cut before any record (the initial position event); a silent
 * stream gets a ": heartbeat" comment every sse.heartbeat.ms; group streams split partitions; bad requests
 * are answered before the stream starts. */
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

#define HEARTBEAT_MS 500

static void setup(void)
{
    static const char *const extra[] = {"--set", "sse.heartbeat.ms=500", NULL};
    sl_proc_start(&proc, NULL, extra);
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

/* Reads more of the stream into body; false on timeout or EOF. */
static bool sse_fill(struct stream *st, int64_t deadline)
{
    int left = (int)(deadline - mono_ms());
    struct pollfd p = {.fd = st->fd, .events = POLLIN};
    if (left <= 0 || poll(&p, 1, left) <= 0)
        return false;
    ssize_t n = read(st->fd, st->raw + st->rawlen, sizeof st->raw - st->rawlen);
    if (n <= 0)
        return false;
    st->rawlen += (size_t)n;
    dechunk(st);
    return true;
}

/* The value of field name ("data", "id", "event") in one event block, copied into out; false if absent. */
static bool field(const char *ev, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    for (const char *l = ev; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] ? 1 : 0))
        if (strncmp(l, name, nl) == 0 && l[nl] == ':') {
            const char *v = l + nl + 1 + (l[nl + 1] == ' ');
            snprintf(out, outlen, "%.*s", (int)strcspn(v, "\n"), v);
            return true;
        }
    return false;
}

/* The next event with data (comments skipped): its data parsed, its event name (default "message") into
 * name, its id into id ("" when none). NULL after timeout_ms. */
static json_t *sse_event(struct stream *st, char *name, char *id, size_t idlen, int timeout_ms)
{
    int64_t dl = mono_ms() + timeout_ms;
    for (;;) {
        st->body[st->bodylen] = '\0';
        char *ev = st->body + st->used, *end = strstr(ev, "\n\n");
        if (end) {
            st->used = (size_t)(end + 2 - st->body);
            *end = '\0';
            static char data[1 << 16];
            if (!field(ev, "data", data, sizeof data))
                continue; /* a comment (heartbeat) */
            if (!field(ev, "event", name, 32))
                strcpy(name, "message");
            if (!field(ev, "id", id, idlen))
                id[0] = '\0';
            json_t *j = json_loads(data, 0, NULL);
            ck_assert_msg(j != NULL, "bad event data: %.200s", data);
            return j;
        }
        if (!sse_fill(st, dl))
            return NULL;
    }
}

/* The next records event (position events skipped) and its id, or NULL after timeout_ms. */
static json_t *sse_next(struct stream *st, char *id, size_t idlen, int timeout_ms)
{
    char name[32];
    for (;;) {
        json_t *j = sse_event(st, name, id, idlen, timeout_ms);
        if (!j || strcmp(name, "records") == 0) {
            ck_assert(!j || id[0]);
            return j;
        }
        json_decref(j);
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

/* A from=latest stream tells its start position before any record: a client cut then (a proxy) that
 * reconnects with that Last-Event-ID gets exactly what was produced in between. */
START_TEST(latest_stream_cut_before_any_record_resumes_from_its_start)
{
    sl_wt_produce(&proc, "s", "[{\"value\":0,\"partition\":0}]"); /* before the stream: never delivered */
    struct stream st;
    char name[32], id[128], seen[512] = "";
    sse_open(&st, "/sse/v1/topics/s?from=latest", NULL);
    json_t *m = sse_event(&st, name, id, sizeof id, 2000);
    ck_assert_msg(m != NULL, "no event with an id before any record");
    ck_assert_str_eq(name, "position");
    ck_assert_str_eq(id, "0:1,1:0");
    ck_assert_str_eq(json_string_value(json_object_get(m, "type")), "position");
    json_decref(m);
    close(st.fd);
    sl_wt_produce(&proc, "s", "[{\"value\":1,\"partition\":0},{\"value\":2,\"partition\":1},{\"value\":3,\"partition\":1}]");
    sse_open(&st, "/sse/v1/topics/s?from=latest", id);
    read_records(&st, 3, seen, id);
    ck_assert_msg(strstr(seen, "0:1 ") && strstr(seen, "1:0 ") && strstr(seen, "1:1 ") && strlen(seen) == 12,
                  "records after the reconnect: %s", seen);
    ck_assert_str_eq(id, "0:2,1:2");
    char idbuf[128];
    ck_assert_ptr_null(sse_next(&st, idbuf, sizeof idbuf, 300)); /* nothing twice */
    close(st.fd);
}
END_TEST

/* A stream with nothing to send gets ": heartbeat" within sse.heartbeat.ms, again and again. */
START_TEST(silent_stream_gets_a_heartbeat_within_the_interval)
{
    struct stream st;
    sse_open(&st, "/sse/v1/topics/s?from=latest", NULL);
    int64_t t0 = mono_ms();
    for (int beat = 1; beat <= 3; beat++) {
        int64_t dl = t0 + beat * HEARTBEAT_MS + 400; /* scheduling slack */
        for (;;) {
            st.body[st.bodylen] = '\0';
            char *hb = strstr(st.body + st.used, ": heartbeat\n\n");
            if (hb) {
                st.used = (size_t)(hb + 13 - st.body);
                break;
            }
            ck_assert_msg(sse_fill(&st, dl), "heartbeat %d not within %d ms of the previous", beat, HEARTBEAT_MS);
        }
        int64_t at = mono_ms() - t0;
        ck_assert_msg(at >= (beat - 1) * HEARTBEAT_MS + HEARTBEAT_MS / 2, "heartbeat %d early, at %lld ms", beat,
                      (long long)at);
    }
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
    tcase_add_test(tc, latest_stream_cut_before_any_record_resumes_from_its_start);
    tcase_add_test(tc, silent_stream_gets_a_heartbeat_within_the_interval);
    tcase_add_test(tc, bad_sse_requests_and_groups);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
