/* A full disk against the real binary (issue 10). The data dir lives on a 2 MiB tmpfs mounted by the test
 * (CI runs as root; without root the test fails and says so), most of it taken by a filler file. Records are
 * produced until the disk is full; the produce that meets ENOSPC gets 500/50002 with a JSON error body,
 * the partition turns read-only and is reported by /ready (503, the partition and the reason) and /metrics
 * (sluice_partition_failed 1), every acknowledged record stays readable at its offset, byte for byte, and
 * other requests are served. Killed with SIGKILL on the full disk, the server starts again read-only (one
 * log line naming the partition) and serves the same; once the filler is deleted, a restart makes the
 * partition writable with nothing lost. A topic created on the full disk gets a JSON error, no crash.
 *
 * The server's stderr goes to <tmp>/data.stderr, off the tmpfs (data is a symlink into it), so the log
 * lines written while the disk is full are kept. */
#include <check.h>
#include <sched.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "tests/support/sluice_proc.h"
#include "tests/support/testutil.h"

#define BIN "application/vnd.kafka.binary.v2+json"
#define RAW 3000           /* bytes of each record value */
#define FREE_KEPT (320 << 10) /* what the filler leaves free on the tmpfs */
#define MAX_RECS 1000

static struct sl_proc proc;
static char *tmp, *mnt, *data, *filler, *cid;
static bool mounted;
static int nacked; /* records 0..nacked-1 were acknowledged at offsets 0..nacked-1 */

static void b64(const uint8_t *in, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? a[v & 63] : '=';
    }
    out[o] = '\0';
}

/* The base64 value of record i (distinct per record). out holds 4 * RAW / 3 + 4 bytes. */
static void value_of(int i, char *out)
{
    uint8_t raw[RAW];
    uint32_t x = 2654435761u * (uint32_t)(i + 1);
    for (size_t k = 0; k < RAW; k++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        raw[k] = (uint8_t)x;
    }
    b64(raw, RAW, out);
}

/* Mounts the tmpfs in a mount namespace of this test process (and the servers it starts), so that a test
 * that fails, whose teardown Check does not run, leaves no mount behind: the namespace goes with the last
 * of its processes, which Check kills with the test's process group. */
static void mount_tmpfs(void)
{
    ck_assert_msg(mkdir(mnt, 0755) == 0, "mkdir %s: %s", mnt, strerror(errno));
    const char *step = "unshare(CLONE_NEWNS)";
    int rc = unshare(CLONE_NEWNS);
    if (rc == 0) {
        step = "mount --make-rprivate /";
        rc = mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    }
    if (rc == 0) {
        step = "mount -t tmpfs -o size=2m";
        rc = mount("tmpfs", mnt, "tmpfs", 0, "size=2m,mode=0755");
    }
    if (rc != 0)
        ck_abort_msg("test_diskfull needs root to mount a 2 MiB tmpfs (CI runs as root; euid here is %d): %s %s: %s",
                     (int)geteuid(), step, mnt, strerror(errno));
    mounted = true;
}

static void setup(void)
{
    tmp = sl_test_tmpdir();
    mnt = sl_test_path(tmp, "mnt");
    data = sl_test_path(tmp, "data");
    filler = sl_test_path(mnt, "filler");
    mount_tmpfs();
    char *real = sl_test_path(mnt, "data");
    ck_assert(mkdir(real, 0755) == 0);
    ck_assert(symlink(real, data) == 0);
    free(real);
    static const char *const extra[] = {"--set", "segment.bytes=65536", NULL};
    sl_proc_start(&proc, data, extra);
    cid = sl_proc_cluster_id(&proc);
    char path[256];
    snprintf(path, sizeof path, "/v3/clusters/%s/topics", cid);
    ck_assert_int_eq(sl_http_json(&proc, "POST", path, "{\"topic_name\":\"d\",\"partitions_count\":1}", NULL), 201);
    nacked = 0;
}

static void teardown(void)
{
    sl_proc_free(&proc);
    if (mounted && umount2(mnt, MNT_DETACH) != 0)
        fprintf(stderr, "umount %s: %s\n", mnt, strerror(errno));
    mounted = false;
    sl_test_rmrf(tmp);
    free(cid);
    free(filler);
    free(data);
    free(mnt);
    free(tmp);
}

/* Fills the tmpfs with the filler file until only about FREE_KEPT bytes are left. */
static void fill_disk(void)
{
    struct statvfs sv;
    ck_assert(statvfs(mnt, &sv) == 0);
    uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize;
    ck_assert_msg(avail > FREE_KEPT, "only %" PRIu64 " bytes free on the tmpfs", avail);
    uint64_t left = avail - FREE_KEPT;
    int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert(fd >= 0);
    static const char zero[65536];
    while (left) {
        size_t k = left < sizeof zero ? (size_t)left : sizeof zero;
        ssize_t w = write(fd, zero, k);
        ck_assert_msg(w > 0, "writing the filler: %s", strerror(errno));
        left -= (uint64_t)w;
    }
    close(fd);
}

/* POST one record (record i) to d-0; returns the status, *j the JSON body. */
static char last_body[512]; /* the start of the last produce reply, for failure messages */

static long produce_one(int i, json_t **j)
{
    static char body[RAW * 2 + 64];
    char val[RAW * 2], url[256];
    value_of(i, val);
    snprintf(body, sizeof body, "{\"records\":[{\"value\":\"%s\"}]}", val);
    snprintf(url, sizeof url, "%s/topics/d/partitions/0", proc.base);
    struct sl_resp r;
    long st = sl_http_req("POST", url, BIN, body, (size_t)-1, NULL, &r);
    *j = sl_resp_json(&r);
    snprintf(last_body, sizeof last_body, "%s", r.body);
    sl_resp_fini(&r);
    return st;
}

static void expect_json_error(long st, json_t *j, long want_status, int want_code)
{
    ck_assert_int_eq(st, want_status);
    ck_assert_msg(j && json_is_object(j), "the %ld reply has no JSON body: \"%s\"", st, last_body);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "error_code")), want_code);
    const char *msg = json_string_value(json_object_get(j, "message"));
    ck_assert_msg(msg && *msg, "the %ld reply has no message", st);
}

static bool has_line(const char *log, const char *a, const char *b, const char *c);

/* A 5xx says what failed after its message (api/http/http.h): the partition's directory and the errno. */
static void expect_context(json_t *j)
{
    const char *msg = json_string_value(json_object_get(j, "message"));
    ck_assert_msg(msg && strstr(msg, "/d-0") && strstr(msg, "No space left on device"),
                  "the 500 message does not say what failed: %s", msg ? msg : "(none)");
}

/* Produces records until one is refused; that one must be the documented SL_EFAILED / -ENOSPC reply
 * (api/common/errmap.c: 500, error_code 50002, a JSON error body, what failed in its message). */
static void produce_until_full(void)
{
    json_t *j = NULL;
    long st = 0;
    for (; nacked < MAX_RECS; nacked++) {
        st = produce_one(nacked, &j);
        if (st != 200)
            break;
        json_t *o = json_array_get(json_object_get(j, "offsets"), 0);
        ck_assert_msg(json_integer_value(json_object_get(o, "error_code")) == 0, "per-record error for %d", nacked);
        ck_assert_int_eq(json_integer_value(json_object_get(o, "offset")), nacked);
        json_decref(j);
    }
    ck_assert_msg(nacked < MAX_RECS, "%d records of %d bytes went onto a full 2 MiB tmpfs", nacked, RAW);
    ck_assert_int_gt(nacked, 10);
    expect_json_error(st, j, 500, 50002);
    expect_context(j);
    json_decref(j);
    /* The failed state is sticky: the next produce is refused the same way, not half-written. */
    st = produce_one(nacked, &j);
    expect_json_error(st, j, 500, 50002);
    expect_context(j);
    json_decref(j);
    /* and the operator reads the same in the log */
    char *log = sl_proc_stderr(&proc);
    ck_assert_msg(has_line(log, "WARN", "answered 500", "No space left on device"),
                  "no WARN line for the 500 answer in the server's log:\n%s", log);
    free(log);
}

/* Reads d-0 from offset 0 to its end: exactly the records 0..nacked-1 (and, with extra, one more after),
 * each at its offset with its value, byte for byte. */
static void check_all_readable(int extra)
{
    char url[256], val[RAW * 2];
    const char *hdrs[] = {"Accept: " BIN, NULL};
    int off = 0;
    while (off < nacked + extra) {
        snprintf(url, sizeof url, "%s/topics/d/partitions/0/records?offset=%d&max_bytes=200000", proc.base, off);
        struct sl_resp r;
        long st = sl_http_req("GET", url, NULL, NULL, 0, hdrs, &r);
        json_t *j = sl_resp_json(&r);
        ck_assert_msg(st == 200 && json_array_size(j) > 0, "read at %d of %d: %ld %s", off, nacked, st, r.body);
        sl_resp_fini(&r);
        for (size_t i = 0; i < json_array_size(j) && off < nacked + extra; i++, off++) {
            json_t *rec = json_array_get(j, i);
            ck_assert_int_eq(json_integer_value(json_object_get(rec, "offset")), off);
            value_of(off, val);
            const char *got = json_string_value(json_object_get(rec, "value"));
            ck_assert_msg(got && !strcmp(got, val), "record %d differs from what was acknowledged", off);
        }
        json_decref(j);
    }
}

static bool metric_has(const char *line)
{
    char url[256];
    struct sl_resp r;
    snprintf(url, sizeof url, "%s/metrics", proc.base);
    ck_assert_int_eq(sl_http_req("GET", url, NULL, NULL, 0, NULL, &r), 200);
    bool has = strstr(r.body, line) != NULL;
    sl_resp_fini(&r);
    return has;
}

/* /ready is 503 naming d-0 and a reason; /metrics says sluice_partition_failed 1. */
static void check_reported_failed(const char *reason_part)
{
    json_t *j;
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/ready", NULL, &j), 503);
    ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "failed partitions");
    /* On a restart on the full disk, the partitions of __consumer_offsets are read-only too. */
    json_t *f = json_object_get(j, "failed_partitions"), *p = NULL;
    for (size_t i = 0; i < json_array_size(f) && !p; i++) {
        json_t *e = json_array_get(f, i);
        if (!strcmp(json_string_value(json_object_get(e, "topic")), "d") &&
            json_integer_value(json_object_get(e, "partition")) == 0)
            p = e;
    }
    ck_assert_msg(p, "d-0 is not among the failed partitions of /ready");
    const char *why = json_string_value(json_object_get(p, "reason"));
    ck_assert_msg(why && strstr(why, reason_part), "reason \"%s\" does not say \"%s\"", why ? why : "",
                  reason_part);
    json_decref(j);
    ck_assert_msg(metric_has("sluice_partition_failed{topic=\"d\",partition=\"0\"} 1"),
                  "/metrics has no sluice_partition_failed{topic=\"d\",partition=\"0\"} 1");
}

static void check_reported_ready(void)
{
    json_t *j;
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/ready", NULL, &j), 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "failed_partitions")), 0);
    json_decref(j);
    ck_assert(!metric_has("sluice_partition_failed{topic=\"d\",partition=\"0\"} 1"));
}

/* Requests that need no disk space are still served. */
static void check_serving(void)
{
    json_t *j;
    char path[256];
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/healthy", NULL, NULL), 200);
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/v1/info", NULL, NULL), 200);
    snprintf(path, sizeof path, "/v3/clusters/%s/topics/d/partitions/0", cid);
    ck_assert_int_eq(sl_http_json(&proc, "GET", path, NULL, &j), 200);
    ck_assert(json_is_true(json_object_get(json_object_get(j, "health"), "failed")));
    json_decref(j);
    ck_assert_int_eq(sl_http_json(&proc, "GET", "/topics", NULL, &j), 200);
    ck_assert(json_is_array(j));
    json_decref(j);
}

/* True when one line of log holds all of a, b and c. */
static bool has_line(const char *log, const char *a, const char *b, const char *c)
{
    for (const char *l = log; *l;) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        if (memmem(l, n, a, strlen(a)) && memmem(l, n, b, strlen(b)) && memmem(l, n, c, strlen(c)))
            return true;
        l += n + (e != NULL);
    }
    return false;
}

START_TEST(produce_until_full_refuses_with_50002_and_keeps_every_acknowledged_record)
{
    fill_disk();
    produce_until_full();
    /* v3 produce (one record with a Content-Length: the reply is its report) is refused the same way. */
    char path[256];
    snprintf(path, sizeof path, "/v3/clusters/%s/topics/d/records", cid);
    json_t *j;
    long st = sl_http_json(&proc, "POST", path, "{\"partition_id\":0,\"value\":{\"type\":\"BINARY\",\"data\":\"YQ==\"}}",
                           &j);
    ck_assert_int_eq(st, 500);
    ck_assert_msg(j && json_is_string(json_object_get(j, "message")), "the v3 500 reply is not a JSON error");
    /* the same 50002 as v2 and openapi's ServerError (a v3 delivery report once carried 500) */
    ck_assert_int_eq(json_integer_value(json_object_get(j, "error_code")), 50002);
    expect_context(j);
    json_decref(j);
    check_all_readable(0);
    check_reported_failed("No space left");
    check_serving();
    ck_assert(sl_proc_alive(&proc));
    /* A clean stop on the full disk exits 0, and the next start serves the same. */
    sl_proc_stop(&proc);
    sl_proc_start_again(&proc);
    check_all_readable(0);
    check_reported_failed("No space left");
}
END_TEST

START_TEST(killed_on_a_full_disk_it_restarts_read_only_then_writable_once_space_is_freed)
{
    fill_disk();
    produce_until_full();
    sl_proc_kill(&proc);
    sl_proc_start_again(&proc); /* still full: must start, not exit on a checkpoint write */
    char *log = sl_proc_stderr(&proc);
    ck_assert_msg(has_line(log, "ERROR", "/data/d-0 ", "read-only: "),
                  "no ERROR line saying that d-0 is read-only in the server's log:\n%s", log);
    free(log);
    check_all_readable(0);
    check_reported_failed("No space left");
    check_serving();
    json_t *j;
    long st = produce_one(nacked, &j);
    expect_json_error(st, j, 500, 50002);
    json_decref(j);

    sl_proc_kill(&proc);
    ck_assert(unlink(filler) == 0);
    sl_proc_start_again(&proc);
    check_reported_ready();
    check_all_readable(0);
    ck_assert_int_eq(produce_one(nacked, &j), 200); /* the next record goes right after the last acknowledged */
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(json_object_get(j, "offsets"), 0), "offset")),
                     nacked);
    json_decref(j);
    check_all_readable(1);
    /* A clean stop and start keeps it all. */
    sl_proc_stop(&proc);
    sl_proc_start_again(&proc);
    check_reported_ready();
    check_all_readable(1);
}
END_TEST

START_TEST(a_topic_created_on_a_full_disk_gets_a_json_error_and_the_server_goes_on)
{
    fill_disk();
    produce_until_full();
    char path[256];
    snprintf(path, sizeof path, "/v3/clusters/%s/topics", cid);
    json_t *j;
    long st = sl_http_json(&proc, "POST", path, "{\"topic_name\":\"fresh\",\"partitions_count\":2}", &j);
    ck_assert_msg(st >= 400 && st < 600, "creating a topic on a full disk answered %ld", st);
    ck_assert_msg(j && json_integer_value(json_object_get(j, "error_code")) > 0 &&
                      json_is_string(json_object_get(j, "message")),
                  "the %ld reply is not a JSON error", st);
    json_decref(j);
    ck_assert(sl_proc_alive(&proc));
    check_serving();
    check_all_readable(0);
    /* It was not half-created: the topic is unknown, and the name can be used once there is space. */
    snprintf(path, sizeof path, "/v3/clusters/%s/topics/fresh", cid);
    ck_assert_int_eq(sl_http_json(&proc, "GET", path, NULL, NULL), 404);
    sl_proc_kill(&proc); /* what the failed create left on disk does not stop a start */
    sl_proc_start_again(&proc);
    ck_assert_int_eq(sl_http_json(&proc, "GET", path, NULL, NULL), 404);
    check_all_readable(0);
    ck_assert(unlink(filler) == 0);
    snprintf(path, sizeof path, "/v3/clusters/%s/topics", cid);
    ck_assert_int_eq(sl_http_json(&proc, "POST", path, "{\"topic_name\":\"fresh\",\"partitions_count\":2}", NULL),
                     201);
}
END_TEST

static Suite *diskfull_suite(void)
{
    Suite *s = suite_create("diskfull");
    TCase *tc = tcase_create("diskfull");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, produce_until_full_refuses_with_50002_and_keeps_every_acknowledged_record);
    tcase_add_test(tc, killed_on_a_full_disk_it_restarts_read_only_then_writable_once_space_is_freed);
    tcase_add_test(tc, a_topic_created_on_a_full_disk_gets_a_json_error_and_the_server_goes_on);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(diskfull_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
