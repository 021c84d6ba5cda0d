/* sluice error codes: one convention for the whole tree.
 *
 * Every fallible function returns int: 0 on success, -errno for an operating-system error, or one of the
 * SL_E* codes below, which live in a reserved negative range so they never collide with -errno. storage/
 * owns -1000 to -1099; server/err.h adds the server layer's codes in -1100 to -1199 and names all of them
 * (sl_error_message), for the layers above storage. The API layer maps every code to an HTTP status and a
 * Confluent error code in one table (api/common/errmap.c).
 *
 * The only other shapes, each said in the function's contract:
 *   - a function whose answer is a count, a size, an index or an fd returns it (>= 0) or a negative code;
 *     a pure lookup with no failure returns the index or -1 ("not found"), as strchr returns NULL;
 *   - an iterator or a step returns 1 (an item / done / changed), 0 (the end / nothing), or a negative code;
 *   - a predicate returns bool;
 *   - a REST check that fails answers the request itself and returns the code it answered with (< 0);
 *   - callbacks handed to a library follow that library's rule (libwebsockets: non-zero closes; recv
 *     wrappers: -1 and errno, as recv(2)).
 *
 * Context: a failure below the API records what failed, errno-style, per thread (sl_errctx_set: "fdatasync
 * /data/t-0/00000000000000000000.log"); the API appends it to the message of a 5xx answer and to the log
 * line it writes for one. A log that failed keeps its own first reason (sl_log_fail_why), since its produces
 * complete on the flusher thread.
 *
 * Retired values, never to be reused: -1014, -1015, -1020, -1021 (moved to server/err.h) and -1017
 * (removed). */
#ifndef SL_STORAGE_ERR_H
#define SL_STORAGE_ERR_H

/* X(name, value, message) */
#define SL_ERRORS(X)                                                              \
    X(SL_ECORRUPT, -1000, "corrupt data")                                          \
    X(SL_EOFFSET, -1001, "offset out of range")                                   \
    X(SL_ETOOBIG, -1002, "record batch too large")                                \
    X(SL_EFAILED, -1003, "log failed after an I/O error; restart required")       \
    X(SL_ENOTOPIC, -1004, "unknown topic")                                        \
    X(SL_ENOPART, -1005, "unknown partition")                                     \
    X(SL_EEXISTS, -1006, "already exists")                                        \
    X(SL_EBADNAME, -1007, "invalid topic name")                                   \
    X(SL_ECONFIG, -1008, "invalid configuration")                                 \
    X(SL_ENOTLEADER, -1009, "not the leader for this partition")                  \
    X(SL_EFENCED, -1010, "fenced by a newer leader epoch")                        \
    X(SL_ESTOPPED, -1011, "shutting down")                                        \
    X(SL_EBADBATCH, -1012, "malformed record batch")                              \
    X(SL_ELIMIT, -1013, "limit exceeded")                                         \
    X(SL_ESTATE, -1016, "illegal state")                                          \
    X(SL_EDAMAGED, -1018, "offsets in a damaged range of the log")              \
    X(SL_EINTERNAL, -1019, "internal topic: clients cannot write, delete or reconfigure it")

enum sl_err {
#define SL_ERR_ENUM(name, value, msg) name = value,
    SL_ERRORS(SL_ERR_ENUM)
#undef SL_ERR_ENUM
};

/* Returns a static, human-readable message for rc (0, -errno, or an SL_E* code). Thread-safe. */
const char *sl_strerror(int rc);

/* Returns the symbolic name ("SL_ECORRUPT", "ENOENT", ...) of rc, for logs. Thread-safe. */
const char *sl_errname(int rc);

/* Records, for this thread, the context of the failure rc that the caller is about to return ("open
 * /data/t-0/x.log": what failed, on which file; ": " and the message of rc are appended unless rc is 0, which
 * takes the text as it is), and returns rc, so that a failure site reads:
 *     return sl_errctx_set(rc, "open %s", path);
 * A later call replaces it. */
int sl_errctx_set(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* This thread's last context ("" when none since sl_errctx_clear): "fdatasync /d/x.log: Input/output error".
 * Valid until the thread's next sl_errctx_set or sl_errctx_clear. */
const char *sl_errctx(void);

/* Forgets this thread's context: the API calls it when it starts a request, so a 5xx never carries the
 * context of an earlier one. */
void sl_errctx_clear(void);

#endif
