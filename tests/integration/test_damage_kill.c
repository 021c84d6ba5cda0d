/* kill -9 at random points, with and without damage on disk, against the real binary (issue 10).
 *
 * Each round, from one seed: two producers send batches of binary records to d-0 (4 KiB segments) and the
 * server is SIGKILLed at a random moment of that traffic; it is started again and SIGKILLed a random few
 * milliseconds later (while it may still be recovering the crashed dir), started once more and checked;
 * more traffic and another SIGKILL; then one kind of damage (none, a byte flipped in a batch, a middle
 * segment deleted, a stray segment-named file), a start killed during recovery, and a last start. After
 * it: every acknowledged record outside the damaged batch or segment reads back at its offset with its
 * value byte for byte; a read in the damaged range gets 422/42209 naming a range inside the damage; no
 * offset of the damaged range is ever served; /ready is not failed; the next produce lands at the end.
 *
 * Damage is made only below the recovery point of partition.ckpt: above it recovery cuts the tail from the
 * first invalid byte (README, recovery rule 1: the crash case; CRC-valid batches of the cut go to
 * quarantine/), so a flipped byte there takes the later batches out of the log by design.
 *
 * Every round prints its seed and data dir; SLUICE_SEED=<n> runs that one round again. A failed round keeps
 * its data dir (Check does not run the teardown of a failed test) and the server's stderr next to it. */
#include <check.h>
#include <curl/curl.h>
#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/sluice_proc.h"
#include "tests/support/testutil.h"

#define BIN "application/vnd.kafka.binary.v2+json"
#define NROUNDS 8
#define NPROD 2
#define MAX_OFF 200000

static struct sl_proc proc;
static char *tmp, *data, *pdir;
static uint32_t base_seed, round_seed;
static uint32_t rnd_state;

/* ---- randomness (xorshift32; every choice of a round comes from its seed) ---- */

static uint32_t xs(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    return *s = x;
}

static uint32_t mix(uint32_t x)
{
    x = (x ^ 61) ^ (x >> 16), x *= 9, x ^= x >> 4, x *= 0x27d4eb2d, x ^= x >> 15;
    return x ? x : 1;
}

/* A number in [lo, hi]. */
static int pick(int lo, int hi)
{
    return lo + (int)(xs(&rnd_state) % (uint32_t)(hi - lo + 1));
}

/* ---- what was acknowledged ---- */

static pthread_mutex_t ack_mu = PTHREAD_MUTEX_INITIALIZER;
static char **acked; /* acked[o]: the base64 value acknowledged at offset o, or NULL; guarded by: ack_mu */
static int64_t acked_max = -1;

static char ack_problem[160]; /* the first bad acknowledgement seen by a producer; guarded by: ack_mu */

/* Called by the producer threads, which must not fail a Check assertion: the main thread checks
 * ack_problem once they are joined. */
static void ack_put(int64_t o, const char *val)
{
    pthread_mutex_lock(&ack_mu);
    if (o < 0 || o >= MAX_OFF || acked[o]) {
        if (!ack_problem[0])
            snprintf(ack_problem, sizeof ack_problem, "offset %" PRId64 " acknowledged %s", o,
                     o < 0 || o >= MAX_OFF ? "(out of the test's range)" : "twice");
    } else {
        acked[o] = strdup(val);
        if (o > acked_max)
            acked_max = o;
    }
    pthread_mutex_unlock(&ack_mu);
}

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

/* ---- producers (own libcurl handles: a transport error is expected once the server is killed) ---- */

#define MAXREC 8
#define MAXRAW 400

struct producer {
    pthread_t th;
    uint32_t rnd;
    char url[128];
    int acks;
};

static atomic_bool stop_traffic;

struct grow {
    char *s;
    size_t n;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct grow *g = ud;
    size_t k = size * nmemb;
    g->s = realloc(g->s, g->n + k + 1);
    memcpy(g->s + g->n, ptr, k);
    g->n += k;
    g->s[g->n] = '\0';
    return k;
}

/* Sends one batch; on HTTP 200 records the offsets given. Returns false when the server is gone. */
static bool produce_batch(struct producer *pr, CURL *c)
{
    char vals[MAXREC][MAXRAW * 4 / 3 + 8], body[MAXREC * (MAXRAW * 4 / 3 + 32) + 32];
    int n = 1 + (int)(xs(&pr->rnd) % MAXREC);
    size_t len = (size_t)snprintf(body, sizeof body, "{\"records\":[");
    for (int i = 0; i < n; i++) {
        uint8_t raw[MAXRAW];
        size_t rl = 1 + xs(&pr->rnd) % MAXRAW;
        for (size_t k = 0; k < rl; k++)
            raw[k] = (uint8_t)xs(&pr->rnd);
        b64(raw, rl, vals[i]);
        len += (size_t)snprintf(body + len, sizeof body - len, "%s{\"value\":\"%s\"}", i ? "," : "", vals[i]);
    }
    snprintf(body + len, sizeof body - len, "]}");
    struct grow resp = {0};
    struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: " BIN);
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, pr->url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    long st = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    curl_slist_free_all(hl);
    bool ok = rc == CURLE_OK && st == 200;
    json_t *j = ok ? json_loads(resp.s, 0, NULL) : NULL;
    json_t *offs = json_object_get(j, "offsets");
    for (size_t i = 0; ok && i < json_array_size(offs) && i < (size_t)n; i++) {
        json_t *o = json_object_get(json_array_get(offs, i), "offset");
        if (json_is_integer(o)) {
            ack_put(json_integer_value(o), vals[i]);
            pr->acks++;
        }
    }
    json_decref(j);
    free(resp.s);
    return ok;
}

static void *producer_main(void *arg)
{
    struct producer *pr = arg;
    CURL *c = curl_easy_init();
    while (!atomic_load(&stop_traffic) && produce_batch(pr, c))
        ;
    curl_easy_cleanup(c);
    return NULL;
}

/* Produces from NPROD threads for a random 80-500 ms, then SIGKILLs the server in the middle of it. */
static void traffic_then_kill(void)
{
    struct producer pr[NPROD];
    atomic_store(&stop_traffic, false);
    for (int i = 0; i < NPROD; i++) {
        memset(&pr[i], 0, sizeof pr[i]);
        pr[i].rnd = mix(xs(&rnd_state));
        snprintf(pr[i].url, sizeof pr[i].url, "%s/topics/d/partitions/0", proc.base);
        ck_assert_int_eq(pthread_create(&pr[i].th, NULL, producer_main, &pr[i]), 0);
    }
    int ms = pick(80, 500);
    usleep((useconds_t)ms * 1000);
    sl_proc_kill(&proc);
    atomic_store(&stop_traffic, true);
    int acks = 0;
    for (int i = 0; i < NPROD; i++) {
        pthread_join(pr[i].th, NULL);
        acks += pr[i].acks;
    }
    ck_assert_msg(!ack_problem[0], "%s", ack_problem);
    fprintf(stderr, "  killed after %d ms of traffic (%d records acknowledged in it)\n", ms, acks);
}

/* Starts the server and SIGKILLs it 0-40 ms later, maybe before it listens, while it recovers. */
static void launch_then_kill(void)
{
    sl_proc_launch(&proc);
    int ms = pick(0, 40);
    usleep((useconds_t)ms * 1000);
    sl_proc_kill(&proc);
    char *log = sl_proc_stderr(&proc);
    fprintf(stderr, "  killed %d ms after a start, %s\n", ms,
            strstr(log, "sluice listening") ? "once it listened" : "before it listened");
    free(log);
}

/* ---- damage ---- */

struct range {
    int64_t from, to; /* [from, to); from == to: none */
};
static struct range dmg;
static char stray[64]; /* the name of the stray file made, "" when none */

static int segments(int64_t *bases, int max)
{
    struct dirent **v;
    int cnt = scandir(pdir, &v, NULL, alphasort), k = 0;
    ck_assert_int_ge(cnt, 0);
    for (int i = 0; i < cnt; i++) {
        size_t l = strlen(v[i]->d_name);
        if (l == 24 && !strcmp(v[i]->d_name + 20, ".log") && k < max)
            bases[k++] = strtoll(v[i]->d_name, NULL, 10);
        free(v[i]);
    }
    free(v);
    return k;
}

static char *seg_path(int64_t base, const char *ext)
{
    char name[64];
    snprintf(name, sizeof name, "%020" PRId64 "%s", base, ext);
    return sl_test_path(pdir, name);
}

static int64_t recovery_point(void)
{
    char *p = sl_test_path(pdir, "partition.ckpt"), line[128];
    FILE *f = fopen(p, "r");
    free(p);
    long long rp = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "recovery_point %lld", &rp) == 1)
            break;
    if (f)
        fclose(f);
    return rp;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Flips one byte inside the records of a random batch of the segment at base that ends at or below rp;
 * dmg = its offsets. */
static void flip_in(int64_t base, int64_t rp)
{
    char *p = seg_path(base, ".log");
    FILE *f = fopen(p, "r+b");
    ck_assert_ptr_nonnull(f);
    long starts[4096];
    int n = 0;
    uint8_t h[61];
    for (long pos = 0; n < 4096 && fseek(f, pos, SEEK_SET) == 0 && fread(h, 1, sizeof h, f) == sizeof h;) {
        if (be64(h) + (int64_t)be32(h + 23) + 1 <= rp)
            starts[n++] = pos;
        pos += 12 + (long)be32(h + 8);
    }
    ck_assert_int_gt(n, 0);
    long at = starts[pick(0, n - 1)];
    ck_assert(fseek(f, at, SEEK_SET) == 0 && fread(h, 1, sizeof h, f) == sizeof h);
    long len = 12 + (long)be32(h + 8);
    long pos = at + 61 + pick(0, (int)(len - 62)); /* the records: covered by the CRC */
    ck_assert(fseek(f, pos, SEEK_SET) == 0);
    int c = fgetc(f);
    ck_assert(fseek(f, pos, SEEK_SET) == 0);
    fputc(c ^ (1 << pick(0, 7)), f);
    fclose(f);
    dmg.from = be64(h);
    dmg.to = dmg.from + (int64_t)be32(h + 23) + 1;
    fprintf(stderr, "  flipped a byte at %s:%ld, batch [%" PRId64 ", %" PRId64 ")\n", p, pos, dmg.from, dmg.to);
    free(p);
}

static void stray_file(const int64_t *bases, int nseg)
{
    int64_t b = bases[pick(0, nseg - 1)] + 1;
    char *p = seg_path(b, ".log");
    if (access(p, F_OK) == 0) { /* a one-batch segment: choose a name no segment has */
        free(p);
        p = seg_path(b + MAX_OFF, ".log");
    }
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    for (int i = 0, n = pick(1, 300); i < n; i++)
        fputc((int)xs(&rnd_state), f);
    fclose(f);
    fprintf(stderr, "  stray file %s\n", p);
    snprintf(stray, sizeof stray, "%s", strrchr(p, '/') + 1);
    free(p);
}

/* One kind of damage, chosen by the round's seed, only where the checkpoint says the bytes were synced. */
static void damage(void)
{
    int64_t bases[4096];
    int nseg = segments(bases, 4096);
    int64_t rp = recovery_point();
    int below = 0; /* segments i < below lie wholly below the recovery point and are not the last */
    while (below + 1 < nseg && bases[below + 1] <= rp)
        below++;
    int low = 0; /* segments i < low start below it (the last one may too) */
    while (low < nseg && bases[low] < rp)
        low++;
    dmg.from = dmg.to = 0;
    stray[0] = '\0';
    int kind = (int)(round_seed % 4); /* consecutive seeds: every kind in every run */
    fprintf(stderr, "  %d segments, recovery point %" PRId64 ", damage kind %d\n", nseg, rp, kind);
    if ((kind == 1 && low == 0) || (kind == 2 && below == 0))
        kind = 3;
    if (kind == 1) {
        flip_in(bases[pick(0, low - 1)], rp);
    } else if (kind == 2) {
        int i = below > 2 ? pick(1, below - 1) : 0; /* a middle one when there is one */
        char *p = seg_path(bases[i], ".log");
        ck_assert(unlink(p) == 0);
        fprintf(stderr, "  deleted %s\n", p);
        free(p);
        dmg.from = bases[i];
        dmg.to = bases[i + 1];
    } else if (kind == 3 && nseg > 0) {
        stray_file(bases, nseg);
    }
}

/* ---- checks ---- */

static bool in_dmg(int64_t o)
{
    return o >= dmg.from && o < dmg.to;
}

static long read_at(int64_t off, json_t **j)
{
    char url[256];
    struct sl_resp r;
    snprintf(url, sizeof url, "%s/topics/d/partitions/0/records?offset=%" PRId64 "&max_bytes=262144", proc.base,
             off);
    const char *hdrs[] = {"Accept: " BIN, NULL};
    long st = sl_http_req("GET", url, NULL, NULL, 0, hdrs, &r);
    *j = sl_resp_json(&r);
    sl_resp_fini(&r);
    return st;
}

/* A 422 at off: 42209, naming a range [a, b) that holds off and lies inside the damage. Returns b. */
static int64_t expect_damaged(int64_t off, json_t *j)
{
    ck_assert_int_eq(json_integer_value(json_object_get(j, "error_code")), 42209);
    const char *msg = json_string_value(json_object_get(j, "message"));
    const char *br = msg ? strchr(msg, '[') : NULL;
    long long a, b;
    ck_assert_msg(br && sscanf(br, "[%lld, %lld)", &a, &b) == 2, "42209 message names no range: %s",
                  msg ? msg : "");
    ck_assert_msg(a <= off && off < b, "read at %" PRId64 " answered by the range [%lld, %lld)", off, a, b);
    ck_assert_msg(in_dmg(a) && in_dmg(b - 1), "damaged range [%lld, %lld) outside the damage [%" PRId64 ", %" PRId64
                  ")", a, b, dmg.from, dmg.to);
    return b;
}

/* Reads d-0 from 0 to its high watermark. Returns the end. */
static int64_t check_log(void)
{
    int64_t off = 0, skipped = 0;
    for (;;) {
        json_t *j;
        long st = read_at(off, &j);
        if (st == 422) {
            int64_t to = expect_damaged(off, j);
            skipped += to - off;
            off = to;
            json_decref(j);
            continue;
        }
        ck_assert_msg(st == 200 && json_is_array(j), "read at %" PRId64 ": %ld", off, st);
        size_t n = json_array_size(j);
        for (size_t i = 0; i < n; i++, off++) {
            json_t *rec = json_array_get(j, i);
            int64_t o = json_integer_value(json_object_get(rec, "offset"));
            ck_assert_msg(o == off, "read gave offset %" PRId64 " where %" PRId64 " was next", o, off);
            ck_assert_msg(!in_dmg(o), "offset %" PRId64 " of the damaged batch was served", o);
            const char *got = json_string_value(json_object_get(rec, "value"));
            if (o <= acked_max && acked[o])
                ck_assert_msg(got && !strcmp(got, acked[o]), "offset %" PRId64 " differs from what was acknowledged",
                              o);
        }
        json_decref(j);
        if (n == 0)
            break;
    }
    for (int64_t o = 0; o <= acked_max; o++)
        ck_assert_msg(!acked[o] || in_dmg(o) || o < off, "acknowledged offset %" PRId64 " is past the end %" PRId64,
                      o, off);
    if (skipped)
        fprintf(stderr, "  %" PRId64 " offsets in damaged ranges, end %" PRId64 "\n", skipped, off);
    return off;
}

/* Every acknowledged offset of the damage reads as 422/42209. */
static void check_damage_unreadable(void)
{
    for (int64_t o = dmg.from; o < dmg.to && o <= acked_max; o++) {
        if (!acked[o])
            continue;
        json_t *j;
        long st = read_at(o, &j);
        ck_assert_msg(st == 422, "read at damaged offset %" PRId64 ": %ld", o, st);
        expect_damaged(o, j);
        json_decref(j);
    }
}

/* /ready is 200, "degraded" naming d-0 when a range was damaged (the reads above have found it). */
static void check_serving(int64_t end)
{
    json_t *j;
    long st = sl_http_json(&proc, "GET", "/ready", NULL, &j);
    ck_assert_msg(st == 200, "/ready %ld", st);
    if (dmg.from < dmg.to && dmg.from <= acked_max) {
        ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "degraded");
        json_t *d = json_array_get(json_object_get(j, "damaged_partitions"), 0);
        ck_assert_str_eq(json_string_value(json_object_get(d, "topic")), "d");
    }
    json_decref(j);
    char url[256];
    snprintf(url, sizeof url, "%s/topics/d/partitions/0", proc.base);
    char *body;
    sl_http("POST", url, BIN, "{\"records\":[{\"value\":\"bmV3\"}]}", &st, &body);
    ck_assert_msg(st == 200, "produce after the round: %ld %s", st, body);
    j = json_loads(body, 0, NULL);
    free(body);
    int64_t o = json_integer_value(json_object_get(json_array_get(json_object_get(j, "offsets"), 0), "offset"));
    json_decref(j);
    ck_assert_msg(o == end, "the next produce went to %" PRId64 ", the end was %" PRId64, o, end);
    ck_assert_int_eq(read_at(o, &j), 200);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(j, 0), "value")), "bmV3");
    json_decref(j);
}

/* ---- the rounds ---- */

static void setup(void)
{
    static const char *const extra[] = {"--set", "segment.bytes=4096", NULL};
    tmp = sl_test_tmpdir();
    data = sl_test_path(tmp, "data");
    pdir = sl_test_path(data, "d-0");
    acked = calloc(MAX_OFF, sizeof *acked);
    acked_max = -1;
    sl_proc_start(&proc, data, extra);
    char path[256], *cid = sl_proc_cluster_id(&proc);
    snprintf(path, sizeof path, "/v3/clusters/%s/topics", cid);
    ck_assert_int_eq(sl_http_json(&proc, "POST", path, "{\"topic_name\":\"d\",\"partitions_count\":1}", NULL), 201);
    free(cid);
}

static void teardown(void)
{
    sl_proc_free(&proc);
    sl_test_rmrf(tmp);
    for (int64_t o = 0; o <= acked_max; o++)
        free(acked[o]);
    free(acked);
    free(pdir);
    free(data);
    free(tmp);
}

START_TEST(acknowledged_records_survive_kills_at_random_points_and_damage_is_a_reported_hole)
{
    uint32_t seed = round_seed = base_seed + (uint32_t)_i;
    rnd_state = mix(seed);
    fprintf(stderr, "damage_kill round %d: SLUICE_SEED=%u replays it; data dir %s (kept if it fails)\n", _i, seed,
            data);
    dmg.from = dmg.to = 0;
    traffic_then_kill();
    launch_then_kill();
    sl_proc_start_again(&proc);
    check_log();
    traffic_then_kill();
    damage();
    launch_then_kill();
    sl_proc_start_again(&proc);
    int64_t end = check_log();
    check_damage_unreadable();
    if (stray[0]) {
        char q[128];
        snprintf(q, sizeof q, "quarantine/%s", stray);
        char *p = sl_test_path(pdir, q);
        ck_assert_msg(access(p, F_OK) == 0, "the stray file is not in %s", p);
        free(p);
    }
    check_serving(end);
}
END_TEST

static Suite *damage_kill_suite(int rounds)
{
    Suite *s = suite_create("damage_kill");
    TCase *tc = tcase_create("damage_kill");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, acknowledged_records_survive_kills_at_random_points_and_damage_is_a_reported_hole, 0,
                        rounds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *e = getenv("SLUICE_SEED");
    const char *n = getenv("SLUICE_ROUNDS"); /* more rounds, for a soak run by hand */
    int rounds = n && atoi(n) > 0 ? atoi(n) : NROUNDS;
    if (e && *e) {
        base_seed = (uint32_t)strtoul(e, NULL, 10);
        rounds = 1;
    } else {
        base_seed = (uint32_t)time(NULL) * 2654435761u ^ (uint32_t)getpid();
    }
    /* sluice takes every SLUICE_* variable as a configuration key and refuses unknown ones. */
    unsetenv("SLUICE_SEED");
    unsetenv("SLUICE_ROUNDS");
    fprintf(stderr, "damage_kill: %d round(s) from seed %u\n", rounds, base_seed);
    SRunner *sr = srunner_create(damage_kill_suite(rounds));
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
