/* Accept-header negotiation for the v2 routes (see negotiate.h for the rules and the offers).
 *
 * Accept grammar read here (RFC 9110 §12.5.1): comma-separated media ranges, each "type/subtype" followed
 * by ";"-separated parameters of which only q is used (a missing or unparsable q counts as 1). Ranges
 * longer than 127 bytes match nothing. */
#include "api/http/negotiate.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct sl_offer V2_OFFERS[] = {
    {"application/vnd.kafka.v2+json", 0.9},
    {"application/vnd.kafka+json", 0.8},
    {"application/json", 0.5},
    {"application/vnd.kafka.binary.v2+json", 0.1},
    {"application/vnd.kafka.json.v2+json", 0.1},
    {"application/vnd.kafka.text.v2+json", 0.1},
};
#define N_BASE 3 /* the first three: every v2 route; all six: the record-reading routes */

/* How specifically range (lower-cased) matches type: 3 exact, 2 "type/x", 1 "x/x", 0 not at all. */
static int specificity(const char *range, const char *type)
{
    if (!strcmp(range, "*/*"))
        return 1;
    const char *slash = strchr(type, '/');
    size_t tl = (size_t)(slash - type);
    if (!strncmp(range, type, tl) && !strcmp(range + tl, "/*"))
        return 2;
    return strcmp(range, type) ? 0 : 3;
}

/* Parses one Accept element [p, p+n): its media range into range (lower-cased, trimmed) and its q. */
static bool parse_element(const char *p, size_t n, char *range, size_t cap, double *q)
{
    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    size_t rl = 0;
    while (rl < n && p[rl] != ';' && p[rl] != ' ' && p[rl] != '\t')
        rl++;
    if (rl == 0 || rl >= cap)
        return false;
    for (size_t i = 0; i < rl; i++)
        range[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
    range[rl] = '\0';
    *q = 1.0;
    for (size_t i = rl; i + 2 < n; i++) {
        if (p[i] != ';')
            continue;
        size_t j = i + 1;
        while (j < n && (p[j] == ' ' || p[j] == '\t'))
            j++;
        if (j + 1 < n && (p[j] == 'q' || p[j] == 'Q') && p[j + 1] == '=') {
            char num[16] = {0};
            size_t k = 0;
            for (j += 2; j < n && k + 1 < sizeof num && p[j] != ';' && p[j] != ' '; j++)
                num[k++] = p[j];
            char *end;
            double v = strtod(num, &end);
            if (end != num && v >= 0 && v <= 1)
                *q = v;
        }
    }
    return true;
}

/* q that accept gives type: the q of its most specific matching range, 0 when none matches. */
static double q_for(const char *accept, const char *type)
{
    int best = 0;
    double q = 0;
    for (const char *p = accept; *p;) {
        size_t n = strcspn(p, ",");
        char range[128];
        double eq;
        if (parse_element(p, n, range, sizeof range, &eq)) {
            int s = specificity(range, type);
            if (s > best) {
                best = s;
                q = eq;
            }
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return q;
}

int sl_neg_pick(const char *accept, const struct sl_offer *offers, size_t n)
{
    if (!accept || !accept[strspn(accept, " \t")])
        accept = "*/*";
    int best = -1;
    double best_score = 0;
    for (size_t i = 0; i < n; i++) {
        double score = q_for(accept, offers[i].type) * offers[i].qs;
        if (score > best_score) {
            best_score = score;
            best = (int)i;
        }
    }
    return best;
}

/* v2 routes: /topics..., /consumers..., /brokers... (everything else is v3, ops or the console). */
static bool v2_route(const char *pattern)
{
    static const char *const prefixes[] = {"/topics", "/consumers", "/brokers"};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
        size_t l = strlen(prefixes[i]);
        if (!strncmp(pattern, prefixes[i], l) && (pattern[l] == '\0' || pattern[l] == '/'))
            return true;
    }
    return false;
}

const char *sl_neg_route_type(const char *pattern, const char *accept)
{
    if (!pattern || !v2_route(pattern))
        return NULL;
    size_t pl = strlen(pattern);
    bool reads = pl >= 8 && !strcmp(pattern + pl - 8, "/records");
    int i = sl_neg_pick(accept, V2_OFFERS, reads ? sizeof V2_OFFERS / sizeof *V2_OFFERS : N_BASE);
    return V2_OFFERS[i < 0 ? 0 : i].type;
}
