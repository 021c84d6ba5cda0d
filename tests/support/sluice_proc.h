/* Integration-test helpers: run the real sluice binary and talk HTTP to it with libcurl. Test code only.
 *
 * The binary is $SLUICE_BIN (set by ctest). It is started with
 *   --data-dir <dir> --rest-port 0 --ws-port 0 --rest-bind 127.0.0.1 <extra args>
 * its stderr goes to <dir>.stderr, and sl_proc_start waits (deadline) for the line
 *   sluice listening rest_port=<N> ws_port=<M>
 * Failures abort the test with a Check assertion (ck_abort_msg), so callers need no error paths. */
#ifndef SL_TESTS_SLUICE_PROC_H
#define SL_TESTS_SLUICE_PROC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sl_proc {
    pid_t pid;
    char *data_dir;      /* owned */
    char *stderr_path;   /* owned */
    uint16_t rest_port;
    uint16_t ws_port;
    char base[64];       /* "http://127.0.0.1:<rest_port>" */
    char *extra[32];     /* owned copies of the extra args, NULL-terminated, reused by sl_proc_restart */
};

/* Starts sluice on data_dir (NULL: a fresh temp dir, removed by sl_proc_free) with the extra args (NULL-
 * terminated list; may be NULL) and waits up to 20 s for the listening line. */
void sl_proc_start(struct sl_proc *p, const char *data_dir, const char *const *extra);
/* SIGTERM and wait (20 s); asserts a clean exit (status 0). */
void sl_proc_stop(struct sl_proc *p);
/* SIGKILL and reap. */
void sl_proc_kill(struct sl_proc *p);
/* Stops cleanly (or kills when hard) and starts again on the same data dir with the same args. */
void sl_proc_restart(struct sl_proc *p, bool hard);
/* Stops the process if running and frees p (removing a temp data dir it created). */
/* Starts a stopped p again on the same data dir and ports' settings (a test damages the files between). */
void sl_proc_start_again(struct sl_proc *p);
/* Like sl_proc_start_again, without waiting for the listening line: the caller may kill the process while
 * it is still recovering its data dir (and reaps it with sl_proc_kill). */
void sl_proc_launch(struct sl_proc *p);
void sl_proc_free(struct sl_proc *p);
/* True while the process is running (not reaped). */
bool sl_proc_alive(struct sl_proc *p);
/* The number in field name of /proc/<pid>/status ("VmRSS" in kB, "Threads"); aborts the test when absent. */
long sl_proc_status(pid_t pid, const char *name);
/* The captured stderr so far, malloc'd. */
char *sl_proc_stderr(struct sl_proc *p);

/* One HTTP response. */
struct sl_resp {
    long status;
    char *body;          /* malloc'd, NUL-terminated ("" when none) */
    size_t len;
    char *headers;       /* malloc'd raw response headers ("Name: value\r\n"...) */
};
void sl_resp_fini(struct sl_resp *r);
/* A response header's value (case-insensitive name) copied into buf; NULL when absent. */
const char *sl_resp_header(const struct sl_resp *r, const char *name, char *buf, size_t buflen);
/* Parses the body as JSON (NULL when it is not); the caller decrefs. */
json_t *sl_resp_json(const struct sl_resp *r);

/* Performs method url with body (may be NULL; len = strlen when (size_t)-1) and content_type (may be
 * NULL), extra headers ("Name: value", NULL-terminated list; may be NULL), timeout 30 s. Aborts the test on
 * a transport error. Returns the status. */
long sl_http_req(const char *method, const char *url, const char *content_type, const char *body, size_t len,
                 const char *const *headers, struct sl_resp *out);
/* Shorthand: method url with a body and content type; *status and *resp_body (malloc'd; may be NULL to
 * ignore). */
void sl_http(const char *method, const char *url, const char *content_type, const char *body, long *status,
             char **resp_body);
/* Shorthand for JSON APIs: method p->base + path, body sent as application/json (or no body when NULL);
 * returns the status, *out gets the parsed JSON body (NULL when not JSON; may be NULL to ignore). */
long sl_http_json(struct sl_proc *p, const char *method, const char *path, const char *body, json_t **out);

/* Runs $SLUICE_BIN with args (NULL-terminated, at most 30) until it exits, its stdout and stderr into *out
 * (malloc'd, at most 64 KiB). Returns the exit status, or 1000 + the signal that ended it. */
int sl_proc_run(const char *const *args, char **out);

/* The cluster id from GET /v1/info, malloc'd. */
char *sl_proc_cluster_id(struct sl_proc *p);

#endif
