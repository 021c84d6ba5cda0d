/* libFuzzer harness: what a WebSocket client controls before and after the handshake -- the target path and
 * query arguments (sl_ws_target_parse: api/ws/ws_url.c; sl_from_parse: api/common/from.c) and a producer's message, which
 * sl_wsp_message (api/ws/ws_produce.c) parses with sl_rec_parse_v2 in the target's format and whose "id" it
 * echoes raw into the ack.
 *
 * INPUT: lines separated by LF: the path, then up to 8 query arguments ("name=value"), then an empty line;
 * the rest is one client message.
 *
 * CHECKS
 *   1. sl_ws_target_parse returns 0, -ENOENT, SL_EBADNAME or -EINVAL; on failure err is a non-empty
 *      message; on success the target is consistent: a valid topic name that is the path's, the kind its
 *      suffix, partition -1 or >= 0, a group within its limit, max_in_flight >= 0.
 *   2. sl_from_parse round trip: a parsed "from" printed back ("latest", "earliest", N, "time:N") parses to
 *      the same kind and value.
 *   3. Producer messages: an error is 4xx/5xx; a body that is not a JSON object fails; an "id" that is kept
 *      is exactly one JSON value (the ack would otherwise not be JSON), equal to jansson's "id" member
 *      (duplicate "id" members: both take the last). */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <string.h>

#include "api/codec/records.h"
#include "api/ws/ws.h"
#include "storage/err.h"
#include "storage/topicmeta.h"
#include "tests/fuzz/fuzz_check.h"

#define MAX_ARGS 8

static void check_from(const struct sl_from *f)
{
    char text[48];
    struct sl_from g;
    if (f->kind == SL_FROM_LATEST || f->kind == SL_FROM_EARLIEST)
        snprintf(text, sizeof text, "%s", f->kind == SL_FROM_LATEST ? "latest" : "earliest");
    else
        snprintf(text, sizeof text, "%s%" PRId64, f->kind == SL_FROM_TIME ? "time:" : "", f->value);
    FUZZ_CHECK(f->value >= 0 && sl_from_parse(text, &g) == 0 && g.kind == f->kind && g.value == f->value,
               "from does not round-trip through '%s'", text);
}

static void check_target(const char *path, const struct sl_ws_target *t)
{
    size_t n = strlen(t->topic);
    FUZZ_CHECK(n > 0 && n <= SL_TOPIC_NAME_MAX && sl_topic_name_valid(t->topic), "topic '%s'", t->topic);
    FUZZ_CHECK(strncmp(path, "/ws/v1/topics/", 14) == 0 && strncmp(path + 14, t->topic, n) == 0, "topic not the path's");
    const char *rest = path + 14 + n;
    FUZZ_CHECK(t->kind == SL_WS_PRODUCE ? strcmp(rest, "/produce") == 0 : (*rest == '\0' || strcmp(rest, "/") == 0),
               "kind %d for the path suffix '%s'", (int)t->kind, rest);
    FUZZ_CHECK(t->partition >= -1 && strlen(t->group) <= SL_GROUP_NAME_MAX && t->max_in_flight >= 0, "fields");
    check_from(&t->from);
}

static void check_message(const char *msg, size_t len, enum sl_fmt fmt)
{
    struct sl_rec_req r;
    struct sl_rec_err err = {0};
    sl_rec_req_init(&r);
    int rc = sl_rec_parse_v2(&r, msg, len, fmt, 1700000000000, 100, &err);
    FUZZ_CHECK(rc == 0 || (err.status >= 400 && err.status < 600), "rc %d status %u", rc, err.status);
    FUZZ_CHECK(r.object || rc != 0, "a body that is not an object was accepted");
    if (r.id.base) {
        FUZZ_CHECK(sl_json_valid(r.id.base, r.id.len), "id is not one JSON value: %.*s", (int)r.id.len,
                   (const char *)r.id.base);
        json_t *body = json_loadb(msg, len, 0, NULL), *mine = json_loadb((const char *)r.id.base, r.id.len,
                                                                          JSON_DECODE_ANY, NULL);
        FUZZ_CHECK(!body || json_equal(mine, json_object_get(body, "id")), "id is not the message's id");
        json_decref(body);
        json_decref(mine);
    }
    sl_rec_req_fini(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    memcpy(in, data, size);
    in[size] = '\0';
    char *lines[1 + MAX_ARGS], *p = in, *msg = NULL;
    size_t nl = 0;
    while (nl < 1 + MAX_ARGS) {
        char *lf = memchr(p, '\n', size - (size_t)(p - in));
        lines[nl++] = p;
        if (!lf)
            break;
        *lf = '\0';
        p = lf + 1;
        if (nl > 1 && lines[nl - 1][0] == '\0') { /* the empty line: the message follows */
            nl--;
            msg = p;
            break;
        }
    }
    struct sl_ws_target t;
    char err[256] = "";
    int rc = sl_ws_target_parse(lines[0], (const char *const *)lines + 1, nl - 1, &t, err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == SL_EBADNAME || rc == -EINVAL, "rc %d", rc);
    FUZZ_CHECK(rc == 0 || (err[0] && memchr(err, '\0', sizeof err)), "no error message for rc %d", rc);
    if (rc == 0)
        check_target(lines[0], &t);
    if (msg) /* the message in the target's format (json when the target failed) */
        check_message(msg, size - (size_t)(msg - in), rc == 0 ? t.fmt : SL_FMT_JSON);
    free(in);
    return 0;
}
