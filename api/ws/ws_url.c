/* Parsing of a WebSocket target: the path and the query arguments of ws://host/ws/v1/topics/{topic}?... .
 * Pure functions: no sockets, no broker. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ws/ws.h"
#include "storage/err.h"
#include "storage/topicmeta.h"

static int parse_path(const char *path, struct sl_ws_target *t, char *err, size_t errlen)
{
    static const char prefix[] = "/ws/v1/topics/";
    if (strncmp(path, prefix, sizeof prefix - 1) != 0) {
        snprintf(err, errlen, "No such endpoint: %.100s", path);
        return -ENOENT;
    }
    const char *name = path + sizeof prefix - 1;
    const char *slash = strchr(name, '/');
    size_t n = slash ? (size_t)(slash - name) : strlen(name);
    t->kind = SL_WS_CONSUME;
    if (slash && strcmp(slash, "/produce") == 0)
        t->kind = SL_WS_PRODUCE;
    else if (slash && slash[1] != '\0') {
        snprintf(err, errlen, "No such endpoint: %.100s", path);
        return -ENOENT;
    }
    if (n == 0 || n > SL_TOPIC_NAME_MAX) {
        snprintf(err, errlen, "Invalid topic name.");
        return SL_EBADNAME;
    }
    memcpy(t->topic, name, n);
    t->topic[n] = '\0';
    if (!sl_topic_name_valid(t->topic)) {
        snprintf(err, errlen, "Invalid topic name '%s'.", t->topic);
        return SL_EBADNAME;
    }
    return 0;
}

/* Applies one name=value argument. Returns 0 or -EINVAL with err filled. */
static int apply_arg(struct sl_ws_target *t, const char *name, size_t nlen, const char *v, char *err, size_t errlen)
{
#define IS(lit) (nlen == sizeof lit - 1 && memcmp(name, lit, nlen) == 0)
    int rc = 0;
    if (IS("from")) {
        rc = sl_from_parse(v, &t->from);
        t->from_set = true;
    } else if (IS("partition")) {
        int64_t p = 0;
        rc = sl_parse_i64(v, 0, INT32_MAX, &p);
        t->partition = (int32_t)p;
    } else if (IS("group")) {
        size_t gl = strlen(v);
        rc = gl == 0 || gl > SL_GROUP_NAME_MAX ? -EINVAL : 0;
        if (rc == 0)
            memcpy(t->group, v, gl + 1);
    } else if (IS("format")) {
        rc = sl_rec_format_from_name(v, &t->fmt) ? -EINVAL : 0;
    } else if (IS("max_in_flight")) {
        rc = sl_parse_i64(v, 1, INT32_MAX, &t->max_in_flight);
    } else if (IS("mode")) {
        rc = strcmp(v, "pull") == 0 ? 0 : strcmp(v, "push") == 0 ? 0 : -EINVAL;
        t->pull = strcmp(v, "pull") == 0;
    }
    if (rc)
        snprintf(err, errlen, "Invalid value for query parameter '%.*s': '%.60s'.", (int)nlen, name, v);
    return rc;
#undef IS
}

int sl_ws_target_parse(const char *path, const char *const *args, size_t nargs, struct sl_ws_target *out, char *err,
                       size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->from.kind = SL_FROM_LATEST;
    out->partition = -1;
    out->fmt = SL_FMT_JSON;
    int rc = parse_path(path, out, err, errlen);
    for (size_t i = 0; rc == 0 && i < nargs; i++) {
        const char *eq = strchr(args[i], '=');
        size_t nlen = eq ? (size_t)(eq - args[i]) : strlen(args[i]);
        rc = apply_arg(out, args[i], nlen, eq ? eq + 1 : "", err, errlen);
    }
    return rc;
}
