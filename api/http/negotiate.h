/* Content negotiation on the v2 routes, as the Confluent REST Proxy (Jersey) does it: the reply type --
 * successes and errors alike -- is the offer with the highest q(client) x qs(server), where q comes from the
 * most specific media range of Accept that matches the offer (type/subtype, then type/x, then x/x) and
 * qs is the server's preference. Offers on every v2 route (Confluent's Versions.java):
 *   application/vnd.kafka.v2+json qs=0.9, application/vnd.kafka+json qs=0.8, application/json qs=0.5;
 * on the record-reading routes also the embedded formats, application/vnd.kafka.{binary,json,text}.v2+json
 * qs=0.1 (so they are chosen only when Accept names them). No Accept, or one no offer satisfies, gives
 * application/vnd.kafka.v2+json (where Jersey would answer 406: sluice stays lenient, see README).
 * v3 and the operational routes are not negotiated: they answer application/json.
 *
 * THREADS: pure functions; any thread. */
#ifndef SL_API_NEGOTIATE_H
#define SL_API_NEGOTIATE_H

#include <stddef.h>

struct sl_offer {
    const char *type; /* lower-case "type/subtype" */
    double qs;        /* server preference, (0, 1] */
};

/* The index of the best offer for accept (NULL or "" = any), or -1 when every offer has q = 0 there.
 * Ties go to the earlier offer. */
int sl_neg_pick(const char *accept, const struct sl_offer *offers, size_t n);

/* The reply type for a request to route pattern with Accept header accept: a static string, or NULL when
 * the route is not a v2 route (its replies are application/json). */
const char *sl_neg_route_type(const char *pattern, const char *accept);

#endif
