/* Shared pieces of the v3 shapes and route checks (see api/rest/v3links.h). */
#include "api/rest/v3links.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/err.h"

json_t *sl_v3_link(struct sl_req *req, const char *fmt, ...)
{
    char path[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    struct sl_api *api = sl_http_api(req);
    return json_sprintf("%s/v3/clusters/%s%s", sl_api_base_url(api), sl_broker_cluster_id(api->broker), path);
}

json_t *sl_v3_related(json_t *url)
{
    return json_pack("{s:o}", "related", url);
}

json_t *sl_v3_metadata(json_t *self, const char *crn_fmt, ...)
{
    char crn[1024];
    va_list ap;
    va_start(ap, crn_fmt);
    vsnprintf(crn, sizeof crn, crn_fmt, ap);
    va_end(ap);
    return json_pack("{s:o, s:s}", "self", self, "resource_name", crn);
}

json_t *sl_v3_list(const char *kind, json_t *self, json_t *data)
{
    return json_pack("{s:s, s:{s:o, s:n}, s:o}", "kind", kind, "metadata", "self", self, "next", "data", data);
}

const char *sl_v3_cid(struct sl_req *req)
{
    return sl_broker_cluster_id(sl_http_api(req)->broker);
}

int sl_v3_check_cluster(struct sl_req *req)
{
    const char *c = sl_http_param(req, "cid");
    if (c && !strcmp(c, sl_v3_cid(req)))
        return 0;
    sl_http_reply_error(req, 404, 404, "Cluster '%s' not found.", c ? c : "");
    return -ENOENT;
}

int sl_v3_load_topic(struct sl_req *req, struct sl_topic_info *ti)
{
    if (sl_v3_check_cluster(req))
        return -ENOENT;
    const char *t = sl_http_param(req, "t");
    int rc = sl_topic_name_valid(t) ? sl_broker_topic_info(sl_http_api(req)->broker, t, ti) : SL_ENOTOPIC;
    if (rc == SL_ENOTOPIC)
        sl_http_reply_rc(req, rc, "Topic '%s' not found.", t);
    else if (rc)
        sl_http_reply_rc(req, rc, NULL);
    return rc;
}

int sl_v3_load_partition(struct sl_req *req, struct sl_topic_info *ti, int32_t *p)
{
    if (sl_v3_load_topic(req, ti) || sl_http_param_partition(req, "p", p))
        return -ENOENT;
    if (*p < ti->partitions)
        return 0;
    sl_http_reply_rc(req, SL_ENOPART, "Partition %d of topic '%s' not found.", (int)*p, ti->name);
    return SL_ENOPART;
}

int sl_v3_load_broker(struct sl_req *req, const char *name, int32_t *id)
{
    if (sl_v3_check_cluster(req))
        return -ENOENT;
    const char *s = sl_http_param(req, name);
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (s && *s && !*end && !errno && v >= 0 && v <= INT32_MAX &&
        sl_broker_known(sl_http_api(req)->broker, (int32_t)v)) {
        *id = (int32_t)v;
        return 0;
    }
    sl_http_reply_error(req, 404, 404, "Broker '%s' not found.", s ? s : "");
    return -ENOENT;
}
