/* v3 produce, independent of the transport: concatenated JSON records (or records:batch entries) -> batches
 * -> sl_broker_produce, and one delivery report per record, in order. Used by the libmicrohttpd handlers
 * (api/rest/h_produce.c) and by the raw streaming connection (api/rest/produce_stream.c).
 *
 * REPORTS: one per record, numbered in arrival order. A report is ready once its record is durable (or
 * written, in async), or at once when the record failed to parse or to fit. Reports are formatted strictly
 * in order; a formatted report is dropped, so a long stream keeps only the reports not yet sent.
 *
 * LIFETIME: the transport owns the struct and frees it with sl_v3p_free once no produce is pending
 * (sl_v3p_pending() == 0) or once it holds no hook reference any more: every produce in flight calls
 * hooks.hold before it is issued and hooks.release after its done callback has touched the state for the
 * last time, so a transport that frees the state in the final release is safe.
 *
 * THREADS: sl_v3p_feed/_end/_take/_submit and sl_v3p_format run on one thread at a time (the transport's);
 * the produce done callbacks run on the flusher thread and call hooks.wake. Report fields are guarded by mu.
 *
 * ERRORS: parse failures become failed reports (400 Malformed JSON, 413 Record too large, 404 unknown
 * partition) and never stop the reports that come before them. A framing error (text that cannot start a
 * JSON object) adds one failed report and stops parsing: the rest of the body is ignored. */
#ifndef SL_API_V3PRODUCE_H
#define SL_API_V3PRODUCE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/http/http.h"
#include "api/codec/records.h"
#include "storage/topicmeta.h"
#include "storage/types.h"

/* One record's delivery report. guarded by: sl_v3p.mu once produced. */
struct sl_v3rep {
    int32_t partition;
    sl_offset_t offset;
    int64_t ts;
    int ktype, vtype;
    size_t ksize, vsize;
    bool has_key, has_value;
    bool ready;
    unsigned status; /* 200, or the error's status */
    int code;        /* error_code (Confluent v3: the HTTP status) */
    bool in_data;    /* a data error (sl_rec_err.in_data): the single-record form answers it 200 */
    char *msg;       /* owned; error message */
    char *id;        /* records:batch entry id (owned) */
};

struct sl_v3hooks {
    void (*hold)(void *arg);    /* a produce is about to be issued */
    void (*release)(void *arg); /* its done callback finished with the state */
    void (*wake)(void *arg);    /* a report may have become ready (flusher thread) */
    void *arg;
};

struct sl_v3p {
    struct sl_api *api;
    struct sl_v3hooks hooks;
    char topic[SL_TOPIC_NAME_MAX + 1];
    char cluster[64];
    int32_t parts;
    struct sl_partitioner *pt; /* the broker's (sl_v3p_target) */
    size_t max_bytes;
    pthread_mutex_t mu;
    /* Reports are numbered from 0 in arrival order; reps[k] is report first + k, for first <= k < total. */
    struct sl_v3rep *reps; /* guarded by: mu */
    size_t first, total, cap; /* guarded by: mu; total is also read unlocked by the transport thread */
    size_t pending;        /* guarded by: mu; batches in flight */
    size_t sent;           /* transport thread; reports formatted: the next one to format */
    struct sl_buf in;      /* transport thread; unparsed body bytes */
    size_t charged;        /* transport thread; bytes of in.cap taken from the budget (api/common/budget.h) */
    bool stop_parsing;     /* transport thread; a framing error ended the body */
    bool ended;            /* transport thread; sl_v3p_end was called */
};

/* Allocates the state (hooks copied). Returns NULL on allocation failure. */
struct sl_v3p *sl_v3p_new(struct sl_api *api, const struct sl_v3hooks *hooks);
void sl_v3p_free(struct sl_v3p *p);

/* Checks the target of POST /v3/clusters/{cid}/topics/{t}/records[:batch]: the cluster id, a JSON content
 * type (ctype_json), the topic. Returns 0 and fills p's topic/limits, or an error with *e set (the answer):
 * -ENOENT (404: another cluster), -EPROTONOSUPPORT (415), or the broker's code (SL_ENOTOPIC: 40401,
 * SL_EINTERNAL: 403, ...). */
int sl_v3p_target(struct sl_v3p *p, const char *cid, const char *topic, bool ctype_json, struct sl_rec_err *e);

/* Streaming body: appends len bytes and produces every complete JSON object in it. Returns true once parsing
 * stopped (a framing error); the caller may then discard the rest of the body. */
bool sl_v3p_feed(struct sl_v3p *p, const char *data, size_t len);
/* The body ended: what is left unparsed becomes a failed report. */
void sl_v3p_end(struct sl_v3p *p);
/* True while a record has begun but is not complete (unparsed bytes other than whitespace are buffered).
 * Transport thread. */
bool sl_v3p_partial(const struct sl_v3p *p);
/* Records seen so far (complete JSON objects, each with its report). Transport thread. */
size_t sl_v3p_records(const struct sl_v3p *p);
/* The body cannot be read on (e.g. broken chunked framing): one failed report with status and msg, then
 * the body ends. */
void sl_v3p_abort(struct sl_v3p *p, unsigned status, const char *msg);

/* records:batch: parses one entry's JSON text into a new report (id may be NULL) and an item of r. */
void sl_v3p_take(struct sl_v3p *p, struct sl_rec_req *r, const char *text, size_t len, const char *id);
/* The same for a record already parsed (records:batch): o is borrowed (r keeps a reference). */
void sl_v3p_take_json(struct sl_v3p *p, struct sl_rec_req *r, json_t *o, const char *id);
/* Marks report i failed (before submit). */
void sl_v3p_fail(struct sl_v3p *p, size_t i, unsigned status, int code, const char *msg);
/* Produces r's items, whose reports start at report number base. */
void sl_v3p_submit(struct sl_v3p *p, struct sl_rec_req *r, size_t base);

/* Batches in flight. Any thread. */
size_t sl_v3p_pending(struct sl_v3p *p);
/* True once the body ended, nothing is in flight and every report was formatted. */
bool sl_v3p_done(struct sl_v3p *p);
/* True when report number i (not yet formatted) is ready. */
bool sl_v3p_ready(struct sl_v3p *p, size_t i);

/* Appends the ready reports that follow the last one formatted, in order, to out, while out holds fewer than
 * want bytes. single: the one-record form (no trailing newline); otherwise each report ends in '\n'. Returns
 * the number of reports appended. */
size_t sl_v3p_format(struct sl_v3p *p, struct sl_buf *out, size_t want, bool single);
/* The HTTP status of report i, in the single-record form: its own status, except 200 for a data error
 * (in_data), with the error in the body, as the Confluent REST Proxy's ProduceActionIntegrationTest
 * (produceBinaryWithInvalidData_throwsBadRequest) expects. */
unsigned sl_v3p_status(struct sl_v3p *p, size_t i);

#endif
