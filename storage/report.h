/* How storage reports what it did (recovery cuts, retention, failures) to whoever opened it: a level and a
 * message through a callback the caller supplies. storage/ has no logger of its own; the process logger is
 * server/logging.h, which provides one of these (sl_logging_reporter). Kept apart from storage/log.h, which is
 * the partition log, so that "log" means one thing. */
#ifndef SL_STORAGE_REPORT_H
#define SL_STORAGE_REPORT_H

enum sl_level { SL_LEVEL_DEBUG, SL_LEVEL_INFO, SL_LEVEL_WARN, SL_LEVEL_ERROR };

/* A report sink. fn may be called from any thread that calls into storage; fn NULL = silent. */
struct sl_reporter {
    void (*fn)(void *ctx, enum sl_level level, const char *msg);
    void *ctx;
};

#endif
