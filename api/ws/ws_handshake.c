/* The checks on a WebSocket upgrade request that come before libwebsockets answers it with a 101, and the
 * HTTP refusal when one fails. They run in LWS_CALLBACK_HTTP_CONFIRM_UPGRADE (service thread), while the
 * request is still plain HTTP: a refusal there is a real HTTP response, which a later hook
 * (FILTER_PROTOCOL_CONNECTION, after libwebsockets switched the socket to the ws role) can no longer send.
 *
 * CHECKS, in order
 *   1. Sec-WebSocket-Version must be 13 (RFC 6455 §4.4): else 426 Upgrade Required with
 *      "Sec-WebSocket-Version: 13". libwebsockets 4.1.6 itself accepts any version, or none, and answers 101.
 *   2. Origin (browsers always send it; other clients need not): absent is allowed; present, it must be
 *      in cors.allowed.origins ("*" = any) or be the server's own console origin (sl_ws_origin_allowed); else
 *      403 Forbidden. Without it any web page a user opens could read and produce every topic through the
 *      user's browser, whatever REST's CORS allowlist says.
 * A refusal carries a JSON body {"error_code": status, "message": ...}, like REST errors. */
#include "api/ws/ws_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/logging.h"

/* Splits "host[:port]" / "[v6]:port" at s (len n) into host (copied, brackets dropped) and *port (def when
 * absent). Returns false when malformed. */
static bool split_authority(const char *s, size_t n, char *host, size_t cap, unsigned def, unsigned *port)
{
    const char *hs = s, *he, *colon = NULL;
    if (n && *s == '[') {
        const char *rb = memchr(s, ']', n);
        if (!rb)
            return false;
        hs = s + 1;
        he = rb;
        if (rb + 1 < s + n) {
            if (rb[1] != ':')
                return false;
            colon = rb + 1;
        }
    } else {
        colon = memchr(s, ':', n);
        he = colon ? colon : s + n;
    }
    if (he <= hs || (size_t)(he - hs) >= cap)
        return false;
    memcpy(host, hs, (size_t)(he - hs));
    host[he - hs] = '\0';
    *port = def;
    if (colon) {
        unsigned v = 0;
        const char *p = colon + 1;
        if (p == s + n)
            return false;
        for (; p < s + n; p++) {
            if (*p < '0' || *p > '9' || (v = v * 10 + (unsigned)(*p - '0')) > 65535)
                return false;
        }
        *port = v;
    }
    return true;
}

static bool is_ip_literal(const char *h)
{
    unsigned char a[16];
    return inet_pton(AF_INET, h, a) == 1 || inet_pton(AF_INET6, h, a) == 1;
}

bool sl_ws_origin_allowed(const struct sl_origins *o, const char *origin, const char *host, uint16_t rest_port,
                          const char *advertised_host)
{
    if (!origin)
        return true; /* not a browser */
    if (sl_origins_match(o, origin))
        return true;
    /* The console's own origin: the page came from this server's REST port on the host the socket was opened
     * to. Only for a host that cannot be rebound by a third party's DNS (an IP address, localhost, or the
     * configured advertised.host): a page of evil.example whose name was re-pointed at this server would
     * otherwise pass with Origin http://evil.example:<rest port> and Host evil.example. */
    unsigned def, oport, hport;
    const char *rest;
    if (!strncasecmp(origin, "http://", 7))
        def = 80, rest = origin + 7;
    else if (!strncasecmp(origin, "https://", 8))
        def = 443, rest = origin + 8;
    else
        return false;
    char oh[256], hh[256];
    if (!host || !split_authority(rest, strlen(rest), oh, sizeof oh, def, &oport) ||
        !split_authority(host, strlen(host), hh, sizeof hh, 80, &hport))
        return false;
    if (!rest_port || oport != rest_port || strcasecmp(oh, hh))
        return false;
    return is_ip_literal(hh) || !strcasecmp(hh, "localhost") ||
           (advertised_host && *advertised_host && !strcasecmp(hh, advertised_host));
}

/* Writes an HTTP refusal with a JSON body, then the connection closes. The head is written by hand:
 * lws_add_http_header_status() knows no reason phrase for 426 and, this early, says HTTP/1.0. Returns 1 (the
 * response is written: libwebsockets ends the transaction and, the request counting as HTTP/1.0 for it,
 * closes) or -1 (hang up). */
static int refuse(struct lws *wsi, unsigned status, const char *reason, const char *msg, bool version_hint)
{
    char body[256];
    int bl = snprintf(body, sizeof body, "{\"error_code\":%u,\"message\":\"%s\"}", status, msg);
    unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE;
    size_t cap = sizeof buf - LWS_PRE;
    int n = snprintf((char *)start, cap,
                     "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n"
                     "Connection: close\r\n\r\n%s",
                     status, reason, version_hint ? "Sec-WebSocket-Version: 13\r\n" : "", bl, body);
    if (bl < 0 || (size_t)bl >= sizeof body || n < 0 || (size_t)n >= cap)
        return -1;
    return lws_write(wsi, start, (size_t)n, LWS_WRITE_HTTP_HEADERS) < 0 ? -1 : 1;
}

/* Copies header tok into buf; NULL when absent (or longer than buf). */
static const char *header(struct lws *wsi, enum lws_token_indexes tok, char *buf, int cap)
{
    if (lws_hdr_total_length(wsi, tok) <= 0 || lws_hdr_copy(wsi, buf, cap, tok) < 0)
        return NULL;
    return buf;
}

int sl_ws_confirm_upgrade(struct sl_ws *ws, struct lws *wsi)
{
    char ver[16], origin[512], host[300];
    const char *v = header(wsi, WSI_TOKEN_VERSION, ver, sizeof ver);
    if (!v || strcmp(v, "13")) {
        sl_debug("WebSocket upgrade refused: Sec-WebSocket-Version '%s'", v ? v : "(none)");
        return refuse(wsi, 426, "Upgrade Required",
                      "Unsupported Sec-WebSocket-Version: this server speaks version 13 (RFC 6455).", true);
    }
    const char *o = header(wsi, WSI_TOKEN_ORIGIN, origin, sizeof origin);
    if (!o && lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0)
        o = ""; /* longer than any origin we allow: refused below */
    if (!sl_ws_origin_allowed(&ws->origins, o, header(wsi, WSI_TOKEN_HOST, host, sizeof host), ws->rest_port,
                              ws->cfg->advertised_host)) {
        sl_debug("WebSocket upgrade refused: Origin '%.200s' is not allowed", o);
        return refuse(wsi, 403, "Forbidden", "Origin not allowed: add it to cors.allowed.origins.", false);
    }
    return 0;
}
