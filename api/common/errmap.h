/* FOLDER api/common/: what every front end shares and that depends on no other api/ folder: the error table
 * (this file), the buffered-bytes budget (budget.c), origin allowlists (origins.c), the `from` query value
 * (from.c) and the process's own resource usage (procstat.c).
 *
 * The one table that maps sluice error codes (storage/err.h) and -errno to an HTTP status, a Confluent
 * error_code and a default message. Every code that appears here is listed in openapi/sluice.yaml.
 *
 * THREADS: read-only tables; any thread. */
#ifndef SL_API_ERRMAP_H
#define SL_API_ERRMAP_H

#include <stddef.h>

struct sl_errmap {
    unsigned status;   /* HTTP status */
    int error_code;    /* Confluent error_code */
    const char *message; /* default message, e.g. "Topic not found." */
};

/* The mapping for rc (an SL_E* code or -errno; 0 is not an error and maps to 500). Never NULL. */
const struct sl_errmap *sl_errmap_get(int rc);

/* m's message, followed for a 5xx by what failed when it is known (context non-empty): "Log failed after an
 * I/O error; restart required. (fdatasync in /data/t-0: Input/output error)", as every 5xx answer says it
 * (api/http/http.h). Written into buf (cap bytes) when there is a context; returns buf or m->message. */
const char *sl_errmap_message(const struct sl_errmap *m, const char *context, char *buf, size_t cap);

#endif
