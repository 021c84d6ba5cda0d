/* Process logging: one line per event on stderr, "2026-11-24T19:00:00.123Z INFO  message".
 * Thread-safe (one write(2) per line). The level threshold is process-wide, set once at start. */
#ifndef SL_SERVER_LOGGING_H
#define SL_SERVER_LOGGING_H

#include "storage/report.h" /* enum sl_level, struct sl_reporter */

/* Parses "debug|info|warn|error" into *out. Returns 0 or SL_ECONFIG. */
int sl_logging_parse_level(const char *s, enum sl_level *out);
void sl_logging_set_level(enum sl_level lvl);
void sl_logging_write(enum sl_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A struct sl_reporter that forwards storage's reports here. */
struct sl_reporter sl_logging_reporter(void);

#define sl_debug(...) sl_logging_write(SL_LEVEL_DEBUG, __VA_ARGS__)
#define sl_info(...) sl_logging_write(SL_LEVEL_INFO, __VA_ARGS__)
#define sl_warn(...) sl_logging_write(SL_LEVEL_WARN, __VA_ARGS__)
#define sl_error(...) sl_logging_write(SL_LEVEL_ERROR, __VA_ARGS__)

#endif
