/* RFC 6455 framing checks that libwebsockets 4.1.6 does not make on the server side.
 *
 * CHECKS
 *   1. A client close frame carries nothing, or a 2-byte code that may be sent on the wire plus an optional
 *      reason (§5.5.1, §7.4.1): a 1-byte payload, or a code such as 1005/1006 (reserved for APIs) or 999, is a
 *      protocol error. libwebsockets 4.1.6 echoed a 1-byte close as it was (codes such as 1005 it already
 *      answered with 1002); sluice answers 1002 and does not echo (LWS_CALLBACK_WS_PEER_INITIATED_CLOSE in
 *      api/ws/ws.c).
 *   2. Every client frame is masked (§5.1). libwebsockets 4.1.6 parses unmasked client frames (and answers an
 *      unmasked ping) and offers no hook before its frame parser, so this one is made below it, on the byte
 *      stream: api/ws/ws_mask.c (sluice's recv()) holds back an unmasked frame and everything after it, and
 *      api/ws/ws.c closes the socket with 1002 (on_unmasked). */
#include "api/ws/ws_int.h"

#include <stdint.h>

bool sl_ws_peer_close_ok(const void *in, size_t len)
{
    if (len == 0)
        return true;
    if (len == 1 || !in)
        return false;
    const uint8_t *p = in;
    unsigned code = (unsigned)p[0] << 8 | p[1];
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}
