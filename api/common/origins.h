/* An origin allowlist: cors.allowed.origins parsed once, shared by REST (CORS headers) and the WebSocket
 * handshake (api/ws/ws_handshake.c). Comma-separated, spaces around entries ignored, "*" = any origin.
 *
 * THREADS: init/fini by the owner at start/stop; sl_origins_match from any thread in between (read-only). */
#ifndef SL_API_ORIGINS_H
#define SL_API_ORIGINS_H

#include <stdbool.h>

struct sl_origins {
    char **list; /* owned, NULL-terminated; NULL when empty after fini */
    bool any;    /* "*" was listed */
};

/* Parses csv into o. Returns 0 or -ENOMEM (o is then empty and needs no fini). */
int sl_origins_init(struct sl_origins *o, const char *csv);
void sl_origins_fini(struct sl_origins *o);
/* Whether origin (not NULL) is listed, case-insensitively and exactly, or "*" was. */
bool sl_origins_match(const struct sl_origins *o, const char *origin);

#endif
