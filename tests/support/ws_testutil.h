/* Helpers shared by the WebSocket and SSE integration tests: topics and records over REST, and reading
 * pushed frames. Test code only; failures abort with Check assertions. */
#ifndef SL_TESTS_WS_TESTUTIL_H
#define SL_TESTS_WS_TESTUTIL_H

#include <jansson.h>

#include "tests/support/sluice_proc.h"
#include "tests/support/ws_client.h"

/* Creates topic name with parts partitions (v3 API). */
void sl_wt_create_topic(struct sl_proc *p, const char *name, int parts);
/* POSTs a v2 JSON-format body ({"records":[...]}, the records array given as JSON text) to /topics/{t};
 * asserts 200. */
void sl_wt_produce(struct sl_proc *p, const char *topic, const char *records_json);
/* Connects to the server's WebSocket port at path; asserts the handshake. */
struct sl_wscl *sl_wt_connect(struct sl_proc *p, const char *path);
/* The next message, parsed (the caller decrefs), or NULL after timeout_ms. */
json_t *sl_wt_next(struct sl_wscl *c, int timeout_ms);
/* Reads "records" frames (skipping other types, which go to *other when not NULL as a JSON array) until n
 * records arrived or timeout_ms passed; returns a JSON array of the records (the caller decrefs). */
json_t *sl_wt_records(struct sl_wscl *c, size_t n, int timeout_ms, json_t *other);
/* Reads messages until one of the given type arrives (others are dropped); NULL after timeout_ms. */
json_t *sl_wt_expect(struct sl_wscl *c, const char *type, int timeout_ms);

#endif
