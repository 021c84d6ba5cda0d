/* cmp_common.h: helpers shared by the peer load generators of tests/bench/compare (redis_load.c, nats_load.c):
 * monotonic clock, open-loop pacing, a latency histogram, value payloads and the result line.
 *
 * Result lines are one line per measurement, "result sys=NAME mode=MODE key=value ...", the format compare.sh
 * parses (like log_bench's). Latencies are in microseconds, rates per second, MB = 10^6 bytes of values. */
#ifndef CMP_COMMON_H
#define CMP_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t cmp_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void cmp_sleep_until_ns(uint64_t t)
{
    struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull), .tv_nsec = (long)(t % 1000000000ull) };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

static inline void cmp_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* Latency histogram: 1 us buckets below 100 ms, 1 ms buckets from 100 ms to 100 s, then one overflow count. */
#define CMP_FINE 100000
#define CMP_COARSE 100000
struct cmp_hist {
    uint64_t fine[CMP_FINE];
    uint64_t coarse[CMP_COARSE];
    uint64_t over, n, max_ns;
    double sum_ns;
};

static inline struct cmp_hist *cmp_hist_new(void)
{
    struct cmp_hist *h = calloc(1, sizeof *h);
    if (!h)
        cmp_die("out of memory");
    return h;
}

static inline void cmp_hist_add(struct cmp_hist *h, uint64_t ns)
{
    uint64_t us = ns / 1000;
    if (us < CMP_FINE)
        h->fine[us]++;
    else if (us / 1000 < CMP_COARSE)
        h->coarse[us / 1000]++;
    else
        h->over++;
    h->n++;
    h->sum_ns += (double)ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

static inline void cmp_hist_merge(struct cmp_hist *into, const struct cmp_hist *h)
{
    for (int i = 0; i < CMP_FINE; i++)
        into->fine[i] += h->fine[i];
    for (int i = 0; i < CMP_COARSE; i++)
        into->coarse[i] += h->coarse[i];
    into->over += h->over;
    into->n += h->n;
    into->sum_ns += h->sum_ns;
    if (h->max_ns > into->max_ns)
        into->max_ns = h->max_ns;
}

/* The q-quantile (0..1) in microseconds: the upper edge of the bucket holding it. */
static inline double cmp_hist_q_us(const struct cmp_hist *h, double q)
{
    if (h->n == 0)
        return 0.0 / 0.0;
    uint64_t want = (uint64_t)(q * (double)h->n);
    if (want >= h->n)
        want = h->n - 1;
    uint64_t seen = 0;
    for (int i = 0; i < CMP_FINE; i++) {
        seen += h->fine[i];
        if (seen > want)
            return (double)(i + 1);
    }
    for (int i = 0; i < CMP_COARSE; i++) {
        seen += h->coarse[i];
        if (seen > want)
            return (double)(i + 1) * 1000.0;
    }
    return (double)h->max_ns / 1000.0;
}

/* Payloads: V bytes, the first 8 the intended send time (ns, CLOCK_MONOTONIC, little endian) when V >= 8, the
 * rest a fixed printable pattern (so every system stores the same bytes). */
static inline void cmp_fill(char *buf, size_t v)
{
    for (size_t i = 0; i < v; i++)
        buf[i] = (char)('a' + (i * 7) % 26);
}

static inline void cmp_put_ts(char *buf, size_t v, uint64_t ts)
{
    if (v >= 8)
        memcpy(buf, &ts, 8);
}

static inline uint64_t cmp_get_ts(const char *buf, size_t v)
{
    uint64_t ts = 0;
    if (v >= 8)
        memcpy(&ts, buf, 8);
    return ts;
}

static inline void cmp_print_lat(const char *prefix, const struct cmp_hist *h)
{
    printf(" %sp50_us=%.0f %sp99_us=%.0f %sp999_us=%.0f %smax_us=%.0f %smean_us=%.1f", prefix,
           cmp_hist_q_us(h, 0.50), prefix, cmp_hist_q_us(h, 0.99), prefix, cmp_hist_q_us(h, 0.999), prefix,
           (double)h->max_ns / 1000.0, prefix, h->n ? h->sum_ns / (double)h->n / 1000.0 : 0.0);
}

#endif
