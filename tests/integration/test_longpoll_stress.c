/* Long polls and SSE streams whose deadlines and disconnects race with the flusher firing their watches
 * (issue 11: a heap use-after-free — sl_broker_unwatch returned while a fire still ran, and the fire then
 * resumed a request that had been answered and freed). Against the real binary of the sanitizer build: two
 * producers, eight stateless readers at the end offset with timeouts of 1-30 ms, and two SSE clients that
 * hang up after 5-50 ms, for STRESS_SECONDS. Under ASan a late fire aborts the server; the test then sees a
 * failed request or an unclean exit. The seed is printed; SLUICE_SEED=<n> replays the timings. */
#include <check.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/support/sluice_proc.h"
#include "tests/support/testutil.h"

#define STRESS_SECONDS 8
#define READERS 8
#define PRODUCERS 2
#define SSE_CLIENTS 2
#define BIN "application/vnd.kafka.binary.v2+json"

static struct sl_proc proc;
static _Atomic bool stop;
static _Atomic long failures, polls, sse_rounds, produced;
static unsigned seed;

static void *producer(void *arg)
{
    (void)arg;
    char url[256];
    snprintf(url, sizeof url, "%s/topics/t/partitions/0", proc.base);
    while (!atomic_load(&stop)) {
        long st;
        sl_http("POST", url, BIN, "{\"records\":[{\"value\":\"c3RyZXNz\"}]}", &st, NULL);
        if (st != 200)
            atomic_fetch_add(&failures, 1);
        else
            atomic_fetch_add(&produced, 1);
    }
    return NULL;
}

static long long end_offset(void)
{
    json_t *j;
    if (sl_http_json(&proc, "GET", "/topics/t/partitions/0/offsets", NULL, &j) != 200)
        return -1;
    long long end = (long long)json_integer_value(json_object_get(j, "end_offset"));
    json_decref(j);
    return end;
}

static void *reader(void *arg)
{
    unsigned r = seed ^ (unsigned)(uintptr_t)arg * 2654435761u;
    long long off = end_offset();
    while (!atomic_load(&stop)) {
        char path[256];
        snprintf(path, sizeof path, "/topics/t/partitions/0/records?offset=%lld&timeout=%d", off,
                 1 + (int)(rand_r(&r) % 30));
        char url[512];
        snprintf(url, sizeof url, "%s%s", proc.base, path);
        const char *hdrs[] = {"Accept: " BIN, NULL};
        struct sl_resp resp;
        long st = sl_http_req("GET", url, NULL, NULL, 0, hdrs, &resp);
        json_t *j = st == 200 ? sl_resp_json(&resp) : NULL;
        sl_resp_fini(&resp);
        if (!json_is_array(j)) {
            atomic_fetch_add(&failures, 1);
            fprintf(stderr, "reader: GET %s -> %ld\n", path, st);
        } else if (json_array_size(j)) {
            json_t *last = json_array_get(j, json_array_size(j) - 1);
            off = (long long)json_integer_value(json_object_get(last, "offset")) + 1;
        }
        json_decref(j);
        atomic_fetch_add(&polls, 1);
    }
    return NULL;
}

static size_t discard(char *p, size_t sz, size_t n, void *u)
{
    (void)p;
    (void)u;
    return sz * n;
}

/* Opens the SSE stream and hangs up after a few ms (curl's timeout), over and over. */
static void *sse_client(void *arg)
{
    unsigned r = seed ^ (unsigned)(uintptr_t)arg * 40503u;
    char url[256];
    snprintf(url, sizeof url, "%s/sse/v1/topics/t", proc.base);
    CURL *c = curl_easy_init();
    while (c && !atomic_load(&stop)) {
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5L + (long)(rand_r(&r) % 46));
        CURLcode cc = curl_easy_perform(c);
        long st = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
        if (cc != CURLE_OPERATION_TIMEDOUT && !(cc == CURLE_OK && st == 200)) {
            atomic_fetch_add(&failures, 1);
            fprintf(stderr, "sse: %s (status %ld)\n", curl_easy_strerror(cc), st);
        }
        atomic_fetch_add(&sse_rounds, 1);
    }
    curl_easy_cleanup(c);
    return NULL;
}

START_TEST(long_poll_deadlines_and_hangups_racing_with_fires)
{
    const char *env = getenv("SLUICE_SEED");
    seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
    fprintf(stderr, "test_longpoll_stress: seed=%u (SLUICE_SEED=%u replays)\n", seed, seed);
    sl_proc_start(&proc, NULL, NULL);
    char *cid = sl_proc_cluster_id(&proc), path[256];
    snprintf(path, sizeof path, "/v3/clusters/%s/topics", cid);
    ck_assert_int_eq(sl_http_json(&proc, "POST", path, "{\"topic_name\":\"t\",\"partitions_count\":1}", NULL), 201);
    free(cid);
    pthread_t th[PRODUCERS + READERS + SSE_CLIENTS];
    size_t n = 0;
    for (int i = 0; i < PRODUCERS; i++)
        pthread_create(&th[n++], NULL, producer, NULL);
    for (int i = 0; i < READERS; i++)
        pthread_create(&th[n++], NULL, reader, (void *)(uintptr_t)(i + 1));
    for (int i = 0; i < SSE_CLIENTS; i++)
        pthread_create(&th[n++], NULL, sse_client, (void *)(uintptr_t)(i + 1));
    for (int s = 0; s < STRESS_SECONDS && sl_proc_alive(&proc); s++)
        { struct timespec ts = {1, 0}; nanosleep(&ts, NULL); }
    atomic_store(&stop, true);
    for (size_t i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    fprintf(stderr, "test_longpoll_stress: %ld produces, %ld polls, %ld SSE connections, %ld failures\n",
            atomic_load(&produced), atomic_load(&polls), atomic_load(&sse_rounds), atomic_load(&failures));
    ck_assert_msg(sl_proc_alive(&proc), "the server died (seed %u); its stderr has the sanitizer report", seed);
    ck_assert_int_eq(atomic_load(&failures), 0);
    ck_assert_int_gt(atomic_load(&polls), 100);
    ck_assert_int_gt(atomic_load(&produced), 100);
    sl_proc_stop(&proc); /* asserts a clean exit: ASan reports exit non-zero */
    sl_proc_free(&proc);
}
END_TEST

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    Suite *s = suite_create("longpoll_stress");
    TCase *tc = tcase_create("longpoll_stress");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, long_poll_deadlines_and_hangups_racing_with_fires);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
