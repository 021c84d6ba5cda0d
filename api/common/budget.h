/* The process-wide budget of buffered client bytes: request bodies held by the REST layer and WebSocket
 * messages being reassembled or queued, all connections together. A connection takes bytes before it
 * buffers them and gives them back when it frees them; when a take would pass the limit it fails, and the
 * caller refuses the request clearly (REST: 503 with error_code 50301; WebSocket: close 4503) instead of
 * growing. Per-connection limits stay where they are (rest.max.body.bytes, ws message limits): this one
 * bounds their sum (buffer.memory.max.bytes).
 *
 * THREADS: every function is callable from any thread (atomics); sl_budget_init runs before traffic. */
#ifndef SL_API_BUDGET_H
#define SL_API_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sets the limit (bytes; 0 = unlimited) and forgets what was taken (start-up and tests). */
void sl_budget_init(uint64_t limit);
/* Takes n bytes: true, or false (nothing taken) when used + n would pass the limit. */
bool sl_budget_take(size_t n);
/* Gives back n bytes taken before. */
void sl_budget_give(size_t n);
/* Bytes taken now, the limit, and how many takes were refused since start (for /metrics). */
uint64_t sl_budget_used(void);
uint64_t sl_budget_limit(void);
uint64_t sl_budget_refusals(void);

#endif
