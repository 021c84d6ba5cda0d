/* The process logger: one line per event on stderr, "2026-11-24T19:00:00.123Z INFO  message\n".
 *
 * INVARIANTS
 *   1. Each line is formatted into a stack buffer and written with a single write(2), so lines from different
 *      threads never interleave (stderr is a pipe or a tty; writes up to PIPE_BUF are atomic on a pipe).
 *   2. A message longer than the buffer is truncated and ends in "...\n"; a line always ends in '\n'.
 *   3. The level threshold is the one process-wide global; it is atomic so it may be read on any thread while
 *      main sets it at start. */
#include "server/logging.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "storage/err.h"

#define LINE_MAX_BYTES 4096

static atomic_int threshold = SL_LEVEL_INFO; /* atomic; written by sl_logging_set_level */

static const char *const level_names[] = {
    [SL_LEVEL_DEBUG] = "DEBUG",
    [SL_LEVEL_INFO] = "INFO ",
    [SL_LEVEL_WARN] = "WARN ",
    [SL_LEVEL_ERROR] = "ERROR",
};

int sl_logging_parse_level(const char *s, enum sl_level *out)
{
    static const struct {
        const char *name;
        enum sl_level lvl;
    } names[] = {
        {"debug", SL_LEVEL_DEBUG}, {"info", SL_LEVEL_INFO},   {"warn", SL_LEVEL_WARN},
        {"warning", SL_LEVEL_WARN}, {"error", SL_LEVEL_ERROR},
    };
    if (!s)
        return SL_ECONFIG;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].lvl;
            return 0;
        }
    }
    return SL_ECONFIG;
}

void sl_logging_set_level(enum sl_level lvl)
{
    atomic_store_explicit(&threshold, (int)lvl, memory_order_relaxed);
}

/* Writes the "YYYY-MM-DDTHH:MM:SS.mmmZ LEVEL " prefix into buf; returns its length. */
static size_t format_prefix(char *buf, size_t cap, enum sl_level lvl)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L, level_names[lvl]);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

static void write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* nowhere left to report a failing stderr */
        p += w;
        n -= (size_t)w;
    }
}

static void vlog(enum sl_level lvl, const char *fmt, va_list ap)
{
    if ((int)lvl < atomic_load_explicit(&threshold, memory_order_relaxed))
        return;
    if ((int)lvl < SL_LEVEL_DEBUG || lvl > SL_LEVEL_ERROR)
        lvl = SL_LEVEL_ERROR;
    char buf[LINE_MAX_BYTES];
    size_t len = format_prefix(buf, sizeof buf, lvl);
    size_t room = sizeof buf - len - 1; /* keep one byte for '\n' */
    int n = vsnprintf(buf + len, room + 1, fmt, ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > room) {
        len += room;
        memcpy(buf + len - 3, "...", 3);
    } else {
        len += (size_t)n;
    }
    while (len > 0 && buf[len - 1] == '\n') /* callers may end with "\n"; one is enough */
        len--;
    buf[len++] = '\n';
    write_all(buf, len);
}

void sl_logging_write(enum sl_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(lvl, fmt, ap);
    va_end(ap);
}

static void on_storage_report(void *ctx, enum sl_level level, const char *msg)
{
    sl_logging_write(level, "%s", msg);
}

struct sl_reporter sl_logging_reporter(void)
{
    return (struct sl_reporter){.fn = on_storage_report, .ctx = NULL};
}
