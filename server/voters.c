/* controller.quorum.voters: the parser and its rules (server/voters.h). */
#include "server/voters.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/err.h"

#define HOST_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"
#define IPV6_CHARS "0123456789abcdefABCDEF:."
#define ENTRY_MAX 300 /* "<10 digits>@[<253>]:<5 digits>" fits; a longer entry is refused as too long */

/* Decimal digits only, value in 0..max. */
static bool parse_decimal(const char *s, size_t n, long long max, long long *out)
{
    if (n == 0 || n > 10)
        return false;
    long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

/* Splits "host:port" or "[v6]:port" (the part after '@') into v->host and v->port. Returns NULL or what is
 * wrong. */
static const char *parse_address(const char *a, struct sl_voter *v)
{
    const char *host = a, *colon;
    size_t hn;
    if (*a == '[') {
        const char *close = strchr(a, ']');
        if (!close)
            return "'[' without ']'";
        host = a + 1;
        hn = (size_t)(close - host);
        if (hn == 0 || strspn(host, IPV6_CHARS) != hn || !memchr(host, ':', hn))
            return "not an IPv6 address in brackets";
        if (close[1] != ':')
            return "no port (expected host:port)";
        colon = close + 1;
    } else {
        colon = strchr(a, ':');
        if (!colon)
            return "no port (expected host:port)";
        if (strchr(colon + 1, ':'))
            return "an IPv6 address must be written in brackets ([::1]:9093)";
        hn = (size_t)(colon - a);
        if (hn == 0)
            return "no host";
        if (hn > 253 || strspn(a, HOST_CHARS) < hn)
            return "not a host name or IP address";
    }
    long long port;
    if (!parse_decimal(colon + 1, strlen(colon + 1), 65535, &port) || port == 0)
        return "port is not a number in 1..65535";
    memcpy(v->host, host, hn);
    v->host[hn] = '\0';
    v->port = (uint16_t)port;
    return NULL;
}

/* Parses one trimmed entry "<id>@<address>". Returns NULL or what is wrong. */
static const char *parse_entry(const char *e, struct sl_voter *v)
{
    const char *at = strchr(e, '@');
    if (!at)
        return "no '@' (expected id@host:port)";
    long long id;
    if (!parse_decimal(e, (size_t)(at - e), INT32_MAX, &id))
        return "id is not a number in 0..2147483647";
    v->id = (int32_t)id;
    return parse_address(at + 1, v);
}

/* Rule 5 for the newest voter, vs->v[vs->n - 1]. Writes the message and returns false on a duplicate. */
static bool unique(const struct sl_voters *vs, char *err, size_t errlen)
{
    const struct sl_voter *last = &vs->v[vs->n - 1];
    for (size_t i = 0; i + 1 < vs->n; i++) {
        const struct sl_voter *o = &vs->v[i];
        if (o->id == last->id) {
            snprintf(err, errlen, "id %ld appears twice", (long)last->id);
            return false;
        }
        if (o->port == last->port && strcasecmp(o->host, last->host) == 0) {
            snprintf(err, errlen, "voters %ld and %ld have the same address %s:%u", (long)o->id, (long)last->id,
                     last->host, (unsigned)last->port);
            return false;
        }
    }
    return true;
}

/* Copies entry number k (1-based) of text, from s to the next ',' or the end, trimmed, into buf. Returns the
 * position after it (at ',' or the end), or NULL when it is empty or too long (err written). */
static const char *next_entry(const char *s, unsigned k, char *buf, size_t cap, char *err, size_t errlen)
{
    const char *end = s + strcspn(s, ",");
    const char *a = s, *b = end;
    while (a < b && (*a == ' ' || *a == '\t'))
        a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
        b--;
    if (a == b) {
        snprintf(err, errlen, "entry %u is empty (expected id@host:port)", k);
        return NULL;
    }
    if ((size_t)(b - a) >= cap) {
        snprintf(err, errlen, "entry %u is too long", k);
        return NULL;
    }
    memcpy(buf, a, (size_t)(b - a));
    buf[b - a] = '\0';
    return end;
}

int sl_voters_parse(const char *text, struct sl_voters *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (*text == '\0')
        return 0;
    const char *s = text;
    for (unsigned k = 1;; k++) {
        char entry[ENTRY_MAX];
        if (!(s = next_entry(s, k, entry, sizeof entry, err, errlen)))
            break;
        if (out->n == SL_VOTERS_MAX) {
            snprintf(err, errlen, "more than %d voters (a quorum of 3 or 5 is the usual choice)", SL_VOTERS_MAX);
            break;
        }
        const char *why = parse_entry(entry, &out->v[out->n++]);
        if (why) {
            snprintf(err, errlen, "entry %u '%s': %s", k, entry, why);
            break;
        }
        if (!unique(out, err, errlen))
            break;
        if (*s == '\0')
            return 0;
        s++; /* the ',' */
    }
    memset(out, 0, sizeof *out);
    return SL_ECONFIG;
}

const struct sl_voter *sl_voters_find(const struct sl_voters *vs, int32_t id)
{
    for (size_t i = 0; i < vs->n; i++)
        if (vs->v[i].id == id)
            return &vs->v[i];
    return NULL;
}
