/* sl_clock_posix: the clock seam's real clocks (contract in clock.h). */
#include "storage/clock.h"

static int64_t ts_ms(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

static int64_t px_wall_ms(const struct sl_clock *c)
{
    (void)c;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts_ms(&ts);
}

static int64_t px_mono_ms(const struct sl_clock *c)
{
    (void)c;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts_ms(&ts);
}

static int64_t px_mono_ns(const struct sl_clock *c)
{
    (void)c;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const struct sl_clock sl_clock_posix = {
    .wall_ms = px_wall_ms,
    .mono_ms = px_mono_ms,
    .mono_ns = px_mono_ns,
    .ctx = NULL,
};

/* Adds ms (>= 0) to a normalized *ts; the result is normalized (tv_nsec < 1e9). */
static void add_ms(struct timespec *ts, int64_t ms)
{
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

void sl_clock_deadline(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    add_ms(ts, ms);
}

void sl_clock_deadline_mono(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    add_ms(ts, ms);
}

void sl_clock_deadline_at(struct timespec *ts, int64_t at_ms)
{
    ts->tv_sec = (time_t)(at_ms / 1000);
    ts->tv_nsec = (long)(at_ms % 1000) * 1000000;
}
