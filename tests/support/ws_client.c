/* Blocking WebSocket test client on the libwebsockets client API (see ws_client.h). */
#include "tests/support/ws_client.h"

#include <check.h>
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct msg {
    struct msg *next;
    size_t len;
    char text[];
};

struct sl_wscl {
    struct lws_context *ctx;
    struct lws *wsi;
    bool established, failed, closed;
    int close_code;
    char ext[256];
    char *rx;
    size_t rxlen, rxcap;
    struct msg *head, *tail;
    lws_sorted_usec_list_t tick; /* bounds each lws_service wait */
    unsigned char *tx; /* LWS_PRE + txlen, pending */
    size_t txlen;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void push_msg(struct sl_wscl *c)
{
    struct msg *m = malloc(sizeof *m + c->rxlen + 1);
    ck_assert_ptr_nonnull(m);
    m->next = NULL;
    m->len = c->rxlen;
    memcpy(m->text, c->rx, c->rxlen);
    m->text[c->rxlen] = '\0';
    if (c->tail)
        c->tail->next = m;
    else
        c->head = m;
    c->tail = m;
    c->rxlen = 0;
}

static void on_rx(struct sl_wscl *c, struct lws *wsi, const void *in, size_t len)
{
    if (c->rxlen + len + 1 > c->rxcap) {
        c->rxcap = (c->rxlen + len + 1) * 2;
        c->rx = realloc(c->rx, c->rxcap);
        ck_assert_ptr_nonnull(c->rx);
    }
    memcpy(c->rx + c->rxlen, in, len);
    c->rxlen += len;
    if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi))
        push_msg(c);
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
    struct sl_wscl *c = lws_container_of(sul, struct sl_wscl, tick);
    lws_sul_schedule(c->ctx, 0, &c->tick, on_tick, 20 * LWS_US_PER_MS);
}

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct lws_context *cx = lws_get_context(wsi);
    struct sl_wscl *c = cx ? lws_context_user(cx) : NULL;
    if (!c)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
        if (lws_hdr_copy(wsi, c->ext, sizeof c->ext, WSI_TOKEN_EXTENSIONS) < 0)
            c->ext[0] = '\0';
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->established = true;
        break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        c->failed = c->closed = true;
        c->wsi = NULL;
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        on_rx(c, wsi, in, len);
        break;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2)
            c->close_code = ((const unsigned char *)in)[0] << 8 | ((const unsigned char *)in)[1];
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (c->tx) {
            int n = lws_write(wsi, c->tx + LWS_PRE, c->txlen, LWS_WRITE_TEXT);
            free(c->tx);
            c->tx = NULL;
            if (n < 0)
                return -1;
        }
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        c->closed = true;
        c->wsi = NULL;
        break;
    default:
        break;
    }
    return 0;
}

static struct lws_protocols protocols[] = {
    {"sluice.v1", cb, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static const struct lws_extension exts[] = {
    {"permessage-deflate", lws_extension_callback_pm_deflate, "permessage-deflate; client_max_window_bits"},
    {NULL, NULL, NULL},
};

struct sl_wscl *sl_wscl_connect(uint16_t port, const char *path, const struct sl_wscl_opts *opts, int timeout_ms)
{
    struct sl_wscl *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.user = c;
    info.options = LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    info.fd_limit_per_thread = 64;
    if (opts && opts->deflate)
        info.extensions = exts;
    c->ctx = lws_create_context(&info);
    ck_assert_ptr_nonnull(c->ctx);
    lws_sul_schedule(c->ctx, 0, &c->tick, on_tick, 20 * LWS_US_PER_MS);
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = c->ctx;
    ci.address = "127.0.0.1";
    ci.port = port;
    ci.path = path;
    ci.host = "127.0.0.1";
    ci.origin = NULL; /* a service, not a browser: no Origin header (libwebsockets would send http://<origin>) */
    ci.protocol = NULL;
    ci.pwsi = &c->wsi;
    if (!lws_client_connect_via_info(&ci)) {
        sl_wscl_free(c);
        return NULL;
    }
    int64_t dl = now_ms() + timeout_ms;
    while (!c->established && !c->closed && now_ms() < dl)
        lws_service(c->ctx, 0);
    if (!c->established) {
        sl_wscl_free(c);
        return NULL;
    }
    return c;
}

void sl_wscl_service(struct sl_wscl *c, int ms)
{
    int64_t dl = now_ms() + ms;
    while (!c->closed && now_ms() < dl)
        lws_service(c->ctx, 0);
}

int sl_wscl_send(struct sl_wscl *c, const char *text)
{
    if (c->closed || !c->wsi)
        return -1;
    size_t n = strlen(text);
    c->tx = malloc(LWS_PRE + n);
    ck_assert_ptr_nonnull(c->tx);
    memcpy(c->tx + LWS_PRE, text, n);
    c->txlen = n;
    lws_callback_on_writable(c->wsi);
    int64_t dl = now_ms() + 10000;
    while (c->tx && !c->closed && now_ms() < dl)
        lws_service(c->ctx, 0);
    return c->tx ? -1 : 0;
}

char *sl_wscl_recv(struct sl_wscl *c, int timeout_ms)
{
    int64_t dl = now_ms() + timeout_ms;
    if (!c->head && !c->closed)
        lws_service(c->ctx, 0); /* at least once, also with timeout 0 */
    while (!c->head && !c->closed && now_ms() < dl)
        lws_service(c->ctx, 0);
    struct msg *m = c->head;
    if (!m)
        return NULL;
    c->head = m->next;
    if (!c->head)
        c->tail = NULL;
    char *s = malloc(m->len + 1);
    memcpy(s, m->text, m->len + 1);
    free(m);
    return s;
}

bool sl_wscl_wait_closed(struct sl_wscl *c, int timeout_ms)
{
    sl_wscl_service(c, timeout_ms);
    return c->closed;
}

bool sl_wscl_closed(const struct sl_wscl *c)
{
    return c->closed;
}

int sl_wscl_close_code(const struct sl_wscl *c)
{
    return c->close_code;
}

const char *sl_wscl_extensions(const struct sl_wscl *c)
{
    return c->ext;
}

void sl_wscl_free(struct sl_wscl *c)
{
    if (!c)
        return;
    if (c->ctx) {
        lws_sul_cancel(&c->tick);
        lws_context_destroy(c->ctx);
    }
    while (c->head) {
        struct msg *m = c->head;
        c->head = m->next;
        free(m);
    }
    free(c->tx);
    free(c->rx);
    free(c);
}
