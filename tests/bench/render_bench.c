/* render_bench: CPU cost of rendering consumed records as JSON (sl_rec_render, api/codec/records.h), the work behind
 * REST consume, WebSocket catch-up/push and SSE.
 *
 *   render_bench [--case NAME] [--iters N] [--runs R]
 *
 * WHAT IS TIMED
 *   Each case builds, before the clock starts, one in-memory RecordBatch of 1000 records (sl_bb_*, base offset
 *   123456789, increasing timestamps) with 100-byte values of one kind, then renders the whole batch N times
 *   (default 200) with sl_rec_render into one reused output buffer (warm: no buffer growth after the first
 *   render, so allocator noise is left out), R times (default 5); the median run is reported.
 *   Cases: json_obj / json_str (JSON object / JSON string values, json format), binary (random bytes, base64),
 *   text (ASCII prose, text format), each without and with a key (_key: a 12-byte JSON string, 16 random bytes,
 *   a 9-byte string), and json_obj_hdr (key plus two headers: base64 values, escaped keys). The data is seeded
 *   per case, so a case run alone renders the same bytes as in a full run.
 *
 * OUTPUT: one line per case, key=value: ns_per_rec (median run), out_MB_per_s (JSON bytes written, 10^6),
 *   out_B_per_rec, and fnv (FNV-1a of one render's output), so two builds can be checked for identical bytes.
 *
 * Deterministic instruction counts (the primary figure on a shared machine), per case:
 *   valgrind --tool=callgrind --toggle-collect=sl_rec_render --callgrind-out-file=/tmp/cg.out \
 *       build/X/render_bench --case json_obj --iters 20 --runs 1
 *   Ir in the "summary:" line of /tmp/cg.out, divided by (20 + 1) * 1000 (the runs plus the warm-up render
 *   that also checks the output), is instructions per record. */
#include "api/codec/records.h"
#include "storage/batch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NREC 1000
#define VLEN 100

struct bcase {
    const char *name;
    enum sl_fmt fmt;
    int value_kind; /* 0 json object, 1 json string, 2 random bytes, 3 ASCII text */
    bool key;
    bool headers;
};

static const struct bcase cases[] = {
    {"json_obj", SL_FMT_JSON, 0, false, false},   {"json_obj_key", SL_FMT_JSON, 0, true, false},
    {"json_str", SL_FMT_JSON, 1, false, false},   {"json_str_key", SL_FMT_JSON, 1, true, false},
    {"binary", SL_FMT_BINARY, 2, false, false},   {"binary_key", SL_FMT_BINARY, 2, true, false},
    {"text", SL_FMT_TEXT, 3, false, false},       {"text_key", SL_FMT_TEXT, 3, true, false},
    {"json_obj_hdr", SL_FMT_JSON, 0, true, true},
};

static uint64_t rng;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* Writes a VLEN-byte value of the given kind for record i into v. */
static void make_value(int kind, int i, uint8_t *v)
{
    static const char prose[] = "the quick brown fox jumps over the lazy dog while the consumer catches up ";
    char tmp[VLEN + 64];
    int n;
    switch (kind) {
    case 0:
        n = snprintf(tmp, sizeof tmp, "{\"id\":%d,\"user\":\"user-%05d\",\"score\":%d.%d,\"tags\":[\"a\",\"bb\"],"
                                      "\"active\":true,\"note\":\"",
                     i, i % 977, i % 100, i % 10);
        for (; n < VLEN - 2; n++)
            tmp[n] = (char)('a' + (i + n) % 26);
        memcpy(tmp + n, "\"}", 2);
        break;
    case 1:
        tmp[0] = '"';
        for (n = 1; n < VLEN - 1; n++)
            tmp[n] = prose[(i + n) % (sizeof prose - 1)];
        tmp[VLEN - 1] = '"';
        break;
    case 2:
        for (n = 0; n < VLEN; n++)
            tmp[n] = (char)rnd();
        break;
    default:
        for (n = 0; n < VLEN; n++)
            tmp[n] = prose[(i * 7 + n) % (sizeof prose - 1)];
        break;
    }
    memcpy(v, tmp, VLEN);
}

/* Builds the case's batch; returns a malloc'd copy in *data / *len. */
static int build(const struct bcase *c, uint8_t **data, size_t *len)
{
    static uint8_t values[NREC][VLEN];
    uint8_t key[32];
    struct sl_header hdr[2] = {
        {{(const uint8_t *)"trace-id", 8}, {(const uint8_t *)"0123456789abcdef", 16}},
        {{(const uint8_t *)"content-\"type\"", 14}, {(const uint8_t *)"application/json", 16}},
    };
    struct sl_batch_builder bb;
    rng = 0x9e3779b97f4a7c15u; /* the same bytes whether the case runs alone or after others */
    sl_bb_init(&bb);
    for (int i = 0; i < NREC; i++) {
        make_value(c->value_kind, i, values[i]);
        struct sl_record r = {.timestamp = 1700000000000 + i * 3, .value = {values[i], VLEN}};
        if (c->key) {
            size_t kl;
            if (c->fmt == SL_FMT_BINARY) {
                for (kl = 0; kl < 16; kl++)
                    key[kl] = (uint8_t)rnd();
            } else {
                kl = (size_t)snprintf((char *)key, sizeof key, c->fmt == SL_FMT_JSON ? "\"user-%04d\"" : "user-%04d",
                                      i % 977);
            }
            r.key = (struct sl_slice){key, kl};
        }
        if (c->headers) {
            r.nheaders = 2;
            r.headers = hdr;
        }
        if (sl_bb_add(&bb, &r))
            return -1;
    }
    struct sl_slice s;
    if (sl_bb_finish(&bb, &s))
        return -1;
    *data = malloc(s.len);
    if (!*data)
        return -1;
    memcpy(*data, s.base, s.len);
    *len = s.len;
    sl_batch_set_base(*data, 123456789);
    sl_bb_fini(&bb);
    return 0;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int render_once(const struct bcase *c, const uint8_t *data, size_t len, struct sl_buf *out)
{
    struct sl_render rd = {.out = out, .fmt = c->fmt, .max_bytes = SIZE_MAX};
    sl_offset_t next;
    out->len = 0;
    int rc = sl_rec_render(&rd, "orders", 3, data, len, 0, &next);
    if (rc == 0 && (rd.count != NREC || next != 123456789 + NREC))
        rc = -1;
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int run_case(const struct bcase *c, int iters, int runs)
{
    uint8_t *data;
    size_t len;
    struct sl_buf out = {0};
    double t[64];
    if (build(c, &data, &len) || render_once(c, data, len, &out)) {
        fprintf(stderr, "%s: build or render failed\n", c->name);
        return 1;
    }
    uint64_t fnv = 0xcbf29ce484222325u;
    for (size_t i = 0; i < out.len; i++)
        fnv = (fnv ^ out.base[i]) * 0x100000001b3u;
    for (int r = 0; r < runs; r++) {
        double t0 = now_ns();
        for (int i = 0; i < iters; i++)
            if (render_once(c, data, len, &out))
                return 1;
        t[r] = now_ns() - t0;
    }
    qsort(t, (size_t)runs, sizeof t[0], cmp_double);
    double med = t[runs / 2], per = med / ((double)iters * NREC);
    printf("case=%s ns_per_rec=%.1f out_MB_per_s=%.1f out_B_per_rec=%zu fnv=%016" PRIx64 "\n", c->name, per,
           (double)out.len * iters / (med / 1e9) / 1e6, out.len / NREC, fnv);
    sl_buf_fini(&out);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    const char *only = NULL;
    int iters = 200, runs = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--case"))
            only = argv[i + 1];
        else if (!strcmp(argv[i], "--iters"))
            iters = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--runs"))
            runs = atoi(argv[i + 1]);
    }
    if (iters < 1 || runs < 1 || runs > 64) {
        fprintf(stderr, "usage: render_bench [--case NAME] [--iters N >= 1] [--runs 1..64]\n");
        return 2;
    }
    int rc = 0, found = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (!only || !strcmp(only, cases[i].name)) {
            found++;
            rc |= run_case(&cases[i], iters, runs);
        }
    if (!found) {
        fprintf(stderr, "no case named %s\n", only);
        return 2;
    }
    return rc;
}
