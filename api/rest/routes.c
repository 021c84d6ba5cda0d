/* Every handler file's routes, in one list. Add one declaration and one call per handler file. */
#include "api/http/router.h"

void sl_h_ops_register(struct sl_router *r);
void sl_h_topics_register(struct sl_router *r);
void sl_h_admin_register(struct sl_router *r);
void sl_h_replicas_register(struct sl_router *r);
void sl_h_broker_configs_register(struct sl_router *r);
void sl_h_produce_register(struct sl_router *r);
void sl_h_consumers_register(struct sl_router *r);
void sl_h_records_register(struct sl_router *r);
void sl_h_groups_register(struct sl_router *r);
void sl_h_sse_register(struct sl_router *r);
void sl_h_web_register(struct sl_router *r);

void sl_routes_register_all(struct sl_router *r)
{
    sl_h_ops_register(r);
    sl_h_topics_register(r);
    sl_h_admin_register(r);
    sl_h_replicas_register(r);
    sl_h_broker_configs_register(r);
    sl_h_produce_register(r);
    sl_h_consumers_register(r);
    sl_h_records_register(r);
    sl_h_groups_register(r);
    sl_h_sse_register(r);
    sl_h_web_register(r);
}
