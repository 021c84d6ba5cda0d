/* log_bench: append and read throughput of one partition log (storage/log.h), for the storage targets.
 *
 *   log_bench --dir D --mode sync|async --record-size B --batch N --total-bytes X
 *             [--max-appends K] [--max-secs S] [--inflight W] [--encode]
 *             [--read] [--read-passes P] [--iterate] [--segment-bytes S] [--keep]
 *
 * WHAT IS TIMED
 *   Batches are built before the clock starts (sl_bb_*: N records of B value bytes, null key, no headers),
 *   a small pool of distinct batches appended round-robin; sl_log_append rewrites baseOffset and the epoch in
 *   place, outside the CRC, so a pooled batch can be appended again. Encoding is therefore NOT timed, unless
 *   --encode, which builds every batch inside the timed loop.
 *   sync:  the server's group commit. An appender thread appends; a flusher thread calls sl_log_sync() in a
 *          loop for as long as there is something unacknowledged (it sleeps on a condition variable only when
 *          everything appended is durable). A batch is acknowledged when the durable offset exceeds its last
 *          offset. The clock stops when every batch is acknowledged. --inflight W bounds the unacknowledged
 *          batches (a closed-loop producer; 0 = unbounded, the default).
 *   async: appends on the calling thread, then one sl_log_sync(). Both figures are printed: without the
 *          final sync (rec_per_s, MB_per_s) and with it (*_synced).
 *   --read: after the append phase, sequential sl_log_read from the log start to LEO with max_bytes 1 MiB,
 *          page cache warm, P passes, median pass reported; records are counted from the batch headers and
 *          checked against what was written. --iterate adds passes that also decode every record.
 *
 * OUTPUT: one line per phase, key=value, for scripts (tests/bench/log_bench.sh). bytes and MB (10^6 bytes)
 *   count whole batches as stored in the log (header + encoded records), payload_MB_per_s the values only.
 *   fsyncs is the number of fdatasync calls the log made (counted through a wrapping fileops table).
 *
 * The directory must not exist or be empty; it and its files are removed at the end unless --keep. */
#include "storage/batch.h"
#include "storage/err.h"
#include "storage/fileops.h"
#include "storage/log.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define POOL_MAX 16
#define POOL_BYTES_MAX (64u << 20)
#define READ_MAX_BYTES (1u << 20)

struct opts {
    const char *dir;
    bool sync_mode;
    uint32_t rec_size;
    uint32_t batch;
    uint64_t total_bytes;
    uint64_t max_appends; /* 0 = no bound */
    double max_secs;      /* 0 = no bound */
    uint32_t inflight;    /* 0 = unbounded */
    bool encode;
    bool read;
    int read_passes;
    bool iterate;
    uint64_t segment_bytes;
    bool keep;
};

/* ---- counting file operations ---- */

static struct sl_fileops counting_fops;
static atomic_uint_fast64_t n_fdatasync, n_pwrite, n_pwrite_bytes;

static int cnt_pwrite(int fd, const void *buf, size_t n, uint64_t off)
{
    atomic_fetch_add_explicit(&n_pwrite, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&n_pwrite_bytes, n, memory_order_relaxed);
    return sl_fileops_posix.pwrite(fd, buf, n, off);
}

static int cnt_fdatasync(int fd)
{
    atomic_fetch_add_explicit(&n_fdatasync, 1, memory_order_relaxed);
    return sl_fileops_posix.fdatasync(fd);
}

/* ---- small helpers ---- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static _Noreturn void die(const char *what, int rc)
{
    fprintf(stderr, "log_bench: %s: %s (%s)\n", what, sl_strerror(rc), sl_errname(rc));
    exit(1);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Refuses a non-empty existing directory, so that the cleanup at the end only removes what the log made. */
static void check_dir_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return;
        die(dir, -errno);
    }
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            fprintf(stderr, "log_bench: %s is not empty; give a fresh directory\n", dir);
            exit(2);
        }
    closedir(d);
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
    rmdir(dir);
}

/* ---- batch building ---- */

struct gen {
    struct sl_batch_builder bb;
    uint8_t *value; /* rec_size random bytes, rotated per record */
    uint64_t seed;
    int64_t ts;
};

static void gen_init(struct gen *g, uint32_t rec_size)
{
    sl_bb_init(&g->bb);
    g->value = malloc(rec_size * 2 + 1);
    if (!g->value)
        die("malloc", -ENOMEM);
    g->seed = 0x9e3779b97f4a7c15u;
    for (uint32_t i = 0; i < rec_size * 2 + 1; i++)
        g->value[i] = (uint8_t)xorshift(&g->seed);
    g->ts = 1700000000000;
}

static void gen_fini(struct gen *g)
{
    sl_bb_fini(&g->bb);
    free(g->value);
}

/* Builds one batch of o->batch records; the view is valid until the next call on g. */
static struct sl_slice gen_batch(struct gen *g, const struct opts *o)
{
    sl_bb_reset(&g->bb);
    for (uint32_t i = 0; i < o->batch; i++) {
        struct sl_record r = {0};
        r.timestamp = g->ts++;
        r.value.base = g->value + xorshift(&g->seed) % (o->rec_size + 1);
        r.value.len = o->rec_size;
        int rc = sl_bb_add(&g->bb, &r);
        if (rc)
            die("sl_bb_add", rc);
    }
    struct sl_slice s;
    int rc = sl_bb_finish(&g->bb, &s);
    if (rc)
        die("sl_bb_finish", rc);
    return s;
}

/* Where the next batch to append comes from: a prebuilt pool, or (--encode) the builder itself. */
struct source {
    const struct opts *o;
    struct gen g;
    uint8_t *pool[POOL_MAX];
    size_t pool_len[POOL_MAX];
    uint32_t npool;
    uint8_t *scratch; /* --encode: the builder's output copied here only if it is not writable in place */
    size_t scratch_cap;
};

static void source_init(struct source *s, const struct opts *o, uint64_t nbatches)
{
    memset(s, 0, sizeof *s);
    s->o = o;
    gen_init(&s->g, o->rec_size);
    struct sl_slice first = gen_batch(&s->g, o);
    uint64_t fit = POOL_BYTES_MAX / first.len;
    s->npool = (uint32_t)(fit < 1 ? 1 : fit > POOL_MAX ? POOL_MAX : fit);
    if (s->npool > nbatches)
        s->npool = (uint32_t)nbatches;
    if (o->encode)
        s->npool = 0;
    for (uint32_t i = 0; i < s->npool; i++) {
        struct sl_slice b = i ? gen_batch(&s->g, o) : first;
        s->pool[i] = malloc(b.len);
        if (!s->pool[i])
            die("malloc", -ENOMEM);
        memcpy(s->pool[i], b.base, b.len);
        s->pool_len[i] = b.len;
    }
}

static void source_fini(struct source *s)
{
    for (uint32_t i = 0; i < s->npool; i++)
        free(s->pool[i]);
    free(s->scratch);
    gen_fini(&s->g);
}

static uint8_t *source_next(struct source *s, uint64_t i, size_t *len)
{
    if (s->npool) {
        *len = s->pool_len[i % s->npool];
        return s->pool[i % s->npool];
    }
    struct sl_slice b = gen_batch(&s->g, s->o);
    *len = b.len;
    if (b.base == s->g.bb.buf.base)
        return s->g.bb.buf.base;
    if (s->scratch_cap < b.len) {
        free(s->scratch);
        s->scratch = malloc(b.len);
        if (!s->scratch)
            die("malloc", -ENOMEM);
        s->scratch_cap = b.len;
    }
    memcpy(s->scratch, b.base, b.len);
    return s->scratch;
}

/* ---- the run ---- */

struct run {
    const struct opts *o;
    struct sl_log *log;
    struct source src;
    uint64_t nbatches;       /* planned */
    uint64_t done_batches;   /* appended, once the appender finished */
    uint64_t records, bytes; /* appended */
    uint64_t t_start, t_appended, t_end;
    uint64_t sync_calls;

    /* sync mode */
    sl_offset_t *last_off;      /* per batch; written by the appender before it publishes 'appended' */
    uint64_t *t_app;            /* per batch append time */
    uint64_t *lat;              /* per batch ack latency; written by the flusher */
    atomic_uint_fast64_t appended; /* batches appended; release by the appender */
    atomic_uint_fast64_t acked;    /* batches acknowledged; release by the flusher */
    atomic_bool app_done;
    atomic_bool flusher_idle, appender_waiting;
    pthread_mutex_t mu;
    pthread_cond_t more_cv, acked_cv;
};

static bool out_of_time(const struct run *r, uint64_t i)
{
    if (r->o->max_secs <= 0 || (i & 255))
        return false;
    return (double)(now_ns() - r->t_start) / 1e9 > r->o->max_secs;
}

static void wake(pthread_mutex_t *mu, pthread_cond_t *cv, atomic_bool *waiting)
{
    if (atomic_load(waiting)) {
        pthread_mutex_lock(mu);
        pthread_cond_signal(cv);
        pthread_mutex_unlock(mu);
    }
}

static void *on_append_thread(void *arg)
{
    struct run *r = arg;
    const struct opts *o = r->o;
    uint64_t i;
    for (i = 0; i < r->nbatches && !out_of_time(r, i); i++) {
        if (o->inflight && i - atomic_load_explicit(&r->acked, memory_order_acquire) >= o->inflight) {
            pthread_mutex_lock(&r->mu);
            atomic_store(&r->appender_waiting, true);
            while (i - atomic_load(&r->acked) >= o->inflight)
                pthread_cond_wait(&r->acked_cv, &r->mu);
            atomic_store(&r->appender_waiting, false);
            pthread_mutex_unlock(&r->mu);
        }
        size_t len;
        uint8_t *b = source_next(&r->src, i, &len);
        sl_offset_t first, last;
        int rc = sl_log_append(r->log, b, len, 0, &first, &last);
        if (rc)
            die("sl_log_append", rc);
        r->last_off[i] = last;
        r->t_app[i] = now_ns();
        r->records += (uint64_t)(last - first + 1);
        r->bytes += len;
        atomic_store(&r->appended, i + 1);
        wake(&r->mu, &r->more_cv, &r->flusher_idle);
    }
    r->done_batches = i;
    r->t_appended = now_ns();
    atomic_store(&r->app_done, true);
    wake(&r->mu, &r->more_cv, &r->flusher_idle);
    return NULL;
}

static void *on_flush_thread(void *arg)
{
    struct run *r = arg;
    uint64_t acked = 0;
    for (;;) {
        bool done = atomic_load(&r->app_done);
        uint64_t napp = atomic_load(&r->appended);
        if (acked == napp) {
            if (done)
                break;
            pthread_mutex_lock(&r->mu);
            atomic_store(&r->flusher_idle, true);
            while (atomic_load(&r->appended) == acked && !atomic_load(&r->app_done))
                pthread_cond_wait(&r->more_cv, &r->mu);
            atomic_store(&r->flusher_idle, false);
            pthread_mutex_unlock(&r->mu);
            continue;
        }
        uint64_t before_sync = napp;
        sl_offset_t durable;
        int rc = sl_log_sync(r->log, &durable);
        if (rc)
            die("sl_log_sync", rc);
        r->sync_calls++;
        uint64_t t = now_ns();
        napp = atomic_load(&r->appended);
        uint64_t before = acked;
        while (acked < napp && r->last_off[acked] < durable) {
            r->lat[acked] = t - r->t_app[acked];
            acked++;
        }
        if (acked < before_sync) {
            fprintf(stderr, "log_bench: sl_log_sync returned durable %" PRId64 ", not covering offset %" PRId64
                    " appended before it\n", durable, r->last_off[before_sync - 1]);
            exit(1);
        }
        if (acked != before) {
            atomic_store(&r->acked, acked);
            wake(&r->mu, &r->acked_cv, &r->appender_waiting);
        }
    }
    r->t_end = now_ns();
    return NULL;
}

static void run_sync(struct run *r)
{
    r->last_off = malloc(r->nbatches * sizeof *r->last_off);
    r->t_app = malloc(r->nbatches * sizeof *r->t_app);
    r->lat = malloc(r->nbatches * sizeof *r->lat);
    if (!r->last_off || !r->t_app || !r->lat)
        die("malloc", -ENOMEM);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->more_cv, NULL);
    pthread_cond_init(&r->acked_cv, NULL);
    pthread_t app, fl;
    r->t_start = now_ns();
    if (pthread_create(&fl, NULL, on_flush_thread, r) || pthread_create(&app, NULL, on_append_thread, r))
        die("pthread_create", -EAGAIN);
    pthread_join(app, NULL);
    pthread_join(fl, NULL);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->more_cv);
    pthread_cond_destroy(&r->acked_cv);
}

static void run_async(struct run *r)
{
    uint64_t i;
    r->t_start = now_ns();
    for (i = 0; i < r->nbatches && !out_of_time(r, i); i++) {
        size_t len;
        uint8_t *b = source_next(&r->src, i, &len);
        sl_offset_t first, last;
        int rc = sl_log_append(r->log, b, len, 0, &first, &last);
        if (rc)
            die("sl_log_append", rc);
        r->records += (uint64_t)(last - first + 1);
        r->bytes += len;
    }
    r->done_batches = i;
    r->t_appended = now_ns();
    sl_offset_t durable;
    int rc = sl_log_sync(r->log, &durable);
    if (rc)
        die("sl_log_sync", rc);
    r->sync_calls = 1;
    r->t_end = now_ns();
    if ((uint64_t)durable != r->records) {
        fprintf(stderr, "log_bench: durable %" PRId64 " after the final sync, expected %" PRIu64 "\n", durable,
                r->records);
        exit(1);
    }
}

static double pct_us(uint64_t *v, uint64_t n, double p)
{
    if (n == 0)
        return 0;
    uint64_t k = (uint64_t)(p * (double)(n - 1) + 0.5);
    return (double)v[k] / 1e3;
}

static void report_append(const struct run *r)
{
    const struct opts *o = r->o;
    double secs = (double)(r->t_end - r->t_start) / 1e9;
    double payload = (double)r->records * o->rec_size;
    printf("mode=%s rec=%u batch=%u encode=%d records=%" PRIu64 " batches=%" PRIu64 " bytes=%" PRIu64
           " secs=%.6f rec_per_s=%.0f MB_per_s=%.2f payload_MB_per_s=%.2f fsyncs=%" PRIu64
           " sync_calls=%" PRIu64 " pwrites=%" PRIu64 " pwrite_bytes=%" PRIu64 " segments=%u",
           o->sync_mode ? "sync" : "async", o->rec_size, o->batch, o->encode, r->records, r->done_batches,
           r->bytes, secs, (double)r->records / secs, (double)r->bytes / secs / 1e6, payload / secs / 1e6,
           (uint64_t)atomic_load(&n_fdatasync), r->sync_calls, (uint64_t)atomic_load(&n_pwrite),
           (uint64_t)atomic_load(&n_pwrite_bytes), sl_log_segment_count(r->log));
    if (o->sync_mode) {
        qsort(r->lat, r->done_batches, sizeof *r->lat, cmp_u64);
        printf(" inflight=%u ack_p50_us=%.1f ack_p99_us=%.1f ack_max_us=%.1f", o->inflight,
               pct_us(r->lat, r->done_batches, 0.5), pct_us(r->lat, r->done_batches, 0.99),
               pct_us(r->lat, r->done_batches, 1.0));
    } else {
        double s0 = (double)(r->t_appended - r->t_start) / 1e9;
        printf(" secs_nosync=%.6f rec_per_s_nosync=%.0f MB_per_s_nosync=%.2f final_sync_secs=%.6f", s0,
               (double)r->records / s0, (double)r->bytes / s0 / 1e6, secs - s0);
    }
    printf("\n");
}

/* One pass over the whole log; returns the seconds it took. */
static double read_pass(struct run *r, bool iterate, uint64_t *records_out, uint64_t *bytes_out)
{
    struct sl_buf buf = {0};
    uint64_t records = 0, bytes = 0, value_bytes = 0;
    sl_offset_t from = sl_log_start(r->log), leo = sl_log_end(r->log);
    uint64_t t0 = now_ns();
    while (from < leo) {
        buf.len = 0;
        int rc = sl_log_read(r->log, from, READ_MAX_BYTES, INT64_MAX, &buf);
        if (rc)
            die("sl_log_read", rc);
        if (buf.len == 0) {
            fprintf(stderr, "log_bench: sl_log_read returned nothing at %" PRId64 " < LEO %" PRId64 "\n", from,
                    leo);
            exit(1);
        }
        const uint8_t *p = buf.base, *end = buf.base + buf.len;
        while (p < end) {
            struct sl_batch_hdr h;
            rc = sl_batch_hdr_decode(p, (size_t)(end - p), &h);
            size_t size = (size_t)h.length + SL_BATCH_LOG_OVERHEAD;
            if (rc || h.length < 0 || size > (size_t)(end - p))
                die("read: batch framing", rc ? rc : SL_ECORRUPT);
            sl_offset_t last = h.base_offset + h.last_offset_delta;
            if (last >= from) {
                records += (uint64_t)h.count;
                bytes += size;
                from = last + 1;
            }
            if (iterate) {
                struct sl_batch_iter it;
                struct sl_record rec;
                if ((rc = sl_batch_iter_init(&it, p, size)))
                    die("sl_batch_iter_init", rc);
                while ((rc = sl_batch_iter_next(&it, &rec)) == 1)
                    value_bytes += rec.value.len;
                if (rc)
                    die("sl_batch_iter_next", rc);
            }
            p += size;
        }
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    sl_buf_fini(&buf);
    if (iterate && value_bytes != records * r->o->rec_size) {
        fprintf(stderr, "log_bench: iterated %" PRIu64 " value bytes, expected %" PRIu64 "\n", value_bytes,
                records * r->o->rec_size);
        exit(1);
    }
    *records_out = records;
    *bytes_out = bytes;
    return secs;
}

static void run_read(struct run *r, bool iterate)
{
    int n = r->o->read_passes;
    double secs[64];
    uint64_t records = 0, bytes = 0;
    for (int i = 0; i < n; i++) {
        secs[i] = read_pass(r, iterate, &records, &bytes);
        if (records != r->records || bytes != r->bytes) {
            fprintf(stderr, "log_bench: read %" PRIu64 " records / %" PRIu64 " bytes, wrote %" PRIu64 " / %" PRIu64
                    "\n", records, bytes, r->records, r->bytes);
            exit(1);
        }
    }
    qsort(secs, (size_t)n, sizeof *secs, cmp_double);
    double med = secs[n / 2];
    printf("mode=%s rec=%u batch=%u records=%" PRIu64 " bytes=%" PRIu64 " passes=%d secs=%.6f rec_per_s=%.0f "
           "MB_per_s=%.2f min_pass_secs=%.6f max_pass_secs=%.6f\n",
           iterate ? "read_iter" : "read", r->o->rec_size, r->o->batch, records, bytes, n, med,
           (double)records / med, (double)bytes / med / 1e6, secs[0], secs[n - 1]);
}

/* ---- arguments ---- */

static void usage(void)
{
    fprintf(stderr,
            "usage: log_bench --dir D --mode sync|async --record-size B --batch N --total-bytes X\n"
            "         [--max-appends K] [--max-secs S] [--inflight W] [--encode]\n"
            "         [--read] [--read-passes P] [--iterate] [--segment-bytes S] [--keep]\n"
            "  --total-bytes counts record values (B * records); suffixes k, m, g (powers of 1024).\n");
    exit(2);
}

static uint64_t parse_size(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        usage();
    switch (*end) {
    case 'k': case 'K': v <<= 10; end++; break;
    case 'm': case 'M': v <<= 20; end++; break;
    case 'g': case 'G': v <<= 30; end++; break;
    default: break;
    }
    if (*end)
        usage();
    return v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'd'},         {"mode", required_argument, NULL, 'm'},
        {"record-size", required_argument, NULL, 'r'}, {"batch", required_argument, NULL, 'b'},
        {"total-bytes", required_argument, NULL, 't'}, {"max-appends", required_argument, NULL, 'n'},
        {"max-secs", required_argument, NULL, 's'},    {"inflight", required_argument, NULL, 'w'},
        {"encode", no_argument, NULL, 'e'},            {"read", no_argument, NULL, 'R'},
        {"read-passes", required_argument, NULL, 'p'}, {"iterate", no_argument, NULL, 'i'},
        {"segment-bytes", required_argument, NULL, 'S'}, {"keep", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0},
    };
    const char *mode = NULL;
    memset(o, 0, sizeof *o);
    o->rec_size = 1024;
    o->batch = 1000;
    o->total_bytes = 256u << 20;
    o->read_passes = 3;
    o->segment_bytes = 1u << 30;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o->dir = optarg; break;
        case 'm': mode = optarg; break;
        case 'r': o->rec_size = (uint32_t)parse_size(optarg); break;
        case 'b': o->batch = (uint32_t)parse_size(optarg); break;
        case 't': o->total_bytes = parse_size(optarg); break;
        case 'n': o->max_appends = parse_size(optarg); break;
        case 's': o->max_secs = atof(optarg); break;
        case 'w': o->inflight = (uint32_t)parse_size(optarg); break;
        case 'e': o->encode = true; break;
        case 'R': o->read = true; break;
        case 'p': o->read_passes = atoi(optarg); break;
        case 'i': o->iterate = true; break;
        case 'S': o->segment_bytes = parse_size(optarg); break;
        case 'k': o->keep = true; break;
        default: usage();
        }
    }
    if (optind != argc || !o->dir || !mode || o->batch == 0 || o->read_passes < 1 || o->read_passes > 64)
        usage();
    if (!strcmp(mode, "sync"))
        o->sync_mode = true;
    else if (strcmp(mode, "async"))
        usage();
}

int main(int argc, char **argv)
{
    struct opts o;
    parse_args(argc, argv, &o);
    check_dir_empty(o.dir);

    struct run *r = calloc(1, sizeof *r);
    if (!r)
        die("calloc", -ENOMEM);
    r->o = &o;
    uint64_t per_batch = (uint64_t)o.rec_size * o.batch;
    r->nbatches = per_batch ? o.total_bytes / per_batch : o.total_bytes;
    if (r->nbatches == 0)
        r->nbatches = 1;
    if (o.max_appends && r->nbatches > o.max_appends)
        r->nbatches = o.max_appends;
    source_init(&r->src, &o, r->nbatches);

    counting_fops = sl_fileops_posix;
    counting_fops.pwrite = cnt_pwrite;
    counting_fops.fdatasync = cnt_fdatasync;
    struct sl_log_cfg cfg;
    sl_log_cfg_defaults(&cfg, o.dir);
    cfg.fops = &counting_fops;
    cfg.segment_bytes = o.segment_bytes;
    int rc = sl_log_open(&cfg, &r->log);
    if (rc)
        die("sl_log_open", rc);
    atomic_store(&n_fdatasync, 0);
    atomic_store(&n_pwrite, 0);
    atomic_store(&n_pwrite_bytes, 0);

    if (o.sync_mode)
        run_sync(r);
    else
        run_async(r);
    if ((uint64_t)sl_log_end(r->log) != r->records) {
        fprintf(stderr, "log_bench: LEO %" PRId64 " after %" PRIu64 " records\n", sl_log_end(r->log), r->records);
        exit(1);
    }
    report_append(r);
    fflush(stdout);

    if (o.read) {
        run_read(r, false);
        if (o.iterate)
            run_read(r, true);
    }
    rc = sl_log_close(r->log);
    if (rc)
        die("sl_log_close", rc);
    if (!o.keep)
        remove_dir(o.dir);
    source_fini(&r->src);
    free(r->last_off);
    free(r->t_app);
    free(r->lat);
    free(r);
    return 0;
}
