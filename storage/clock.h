/* The clock seam: every "what time is it" of storage/ and server/ goes through one of these tables, so a test
 * can run a broker (or three in one process) on a clock it moves by hand, as storage/fileops.h does for files.
 *
 * Two clocks, never mixed: wall time (milliseconds since the Unix epoch: record timestamps, segment.ms and
 * retention.ms ages, topic creation times, quarantine names) and monotonic time (an arbitrary origin that
 * never goes back: durations, latencies, timeouts). mono_ns is the same monotonic clock in nanoseconds, for
 * latencies below a millisecond (the flusher's fsync histogram starts at 64 us).
 *
 * THREADS: every function may be called from any thread at any time; a fake clock must be thread-safe too.
 * A table passed to a constructor (sl_broker_open, sl_log_cfg.clock) is borrowed and must outlive the object. */
#ifndef SL_STORAGE_CLOCK_H
#define SL_STORAGE_CLOCK_H

#include <stdint.h>
#include <time.h>

struct sl_clock {
    int64_t (*wall_ms)(const struct sl_clock *c); /* ms since 1970-01-01T00:00:00Z */
    int64_t (*mono_ms)(const struct sl_clock *c); /* ms, monotonic */
    int64_t (*mono_ns)(const struct sl_clock *c); /* ns, monotonic (same clock as mono_ms) */
    void *ctx;                                    /* for a fake clock's state; NULL in sl_clock_posix */
};

/* The real thing: CLOCK_REALTIME and CLOCK_MONOTONIC. */
extern const struct sl_clock sl_clock_posix;

static inline int64_t sl_clock_wall_ms(const struct sl_clock *c)
{
    return c->wall_ms(c);
}

static inline int64_t sl_clock_mono_ms(const struct sl_clock *c)
{
    return c->mono_ms(c);
}

static inline int64_t sl_clock_mono_ns(const struct sl_clock *c)
{
    return c->mono_ns(c);
}

/* ---- condition-variable deadlines: always the real clocks (a condition variable cannot wait on a fake one);
 * ms >= 0 and at_ms >= 0 ---- */

/* The absolute CLOCK_REALTIME time ms milliseconds from now, for pthread_cond_timedwait on a default
 * condition variable. */
void sl_clock_deadline(struct timespec *ts, int64_t ms);
/* The absolute CLOCK_MONOTONIC time ms milliseconds from now, for pthread_cond_timedwait on a condition
 * variable initialized with pthread_condattr_setclock(CLOCK_MONOTONIC) (its waits ignore wall-clock steps). */
void sl_clock_deadline_mono(struct timespec *ts, int64_t ms);
/* The timespec of the absolute time at_ms, in milliseconds of the clock the condition variable waits on:
 * sl_clock_posix's mono_ms for a CLOCK_MONOTONIC one (a deadline kept as mono_ms() + timeout), its wall_ms
 * for a default one. */
void sl_clock_deadline_at(struct timespec *ts, int64_t at_ms);

#endif
