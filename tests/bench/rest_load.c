/* rest_load: HTTP/1.1 load generator for sluice's REST API (tests/bench/rest_bench.sh drives it).
 *
 *   rest_load --port N --mode produce|single|consume|read|get [options]
 *
 * MODES
 *   produce  POST /topics/{t}, Content-Type application/vnd.kafka.{json|binary}.v2+json, body
 *            {"records":[{"value":"<V bytes>"}, ...]} with --records R records per request. --binary sends
 *            base64 values of V random bytes; --keys K adds "key":"k<n>" (n uniform in 0..K-1) to every record
 *            so the server's murmur2 partitioner is exercised.
 *   single   produce with one record per request (requests/s is the figure).
 *   consume  creates one consumer instance per connection in group --group (POST /consumers/{g}, format
 *            json, auto.offset.reset earliest, auto.commit.enable false), subscribes every instance to the
 *            topic, then long-polls GET .../records?timeout=&max_bytes= with Accept
 *            application/vnd.kafka.json.v2+json until --target-records records have arrived (or --duration
 *            ends). The instances are deleted at the end.
 *   read     the stateless read GET /topics/{t}/partitions/{p}/records?offset=&max_bytes=; connection i
 *            reads partition i % --partitions from offset 0, continues after the last offset it saw, and
 *            starts again at 0 when a read comes back empty (a "wrap").
 *   get      GET --path (e.g. /healthy): the HTTP layer alone.
 *
 * LOAD
 *   --conns N keep-alive connections, spread over --threads T threads, each with its own epoll loop. Closed
 *   loop by default: a connection sends its next request when the previous response has arrived. --rate R is
 *   an open loop: requests are scheduled every T/R seconds on each thread whatever the responses do; a
 *   scheduled request waits for an idle connection if none is free, and its latency is measured from its
 *   scheduled time, so a stalled server shows up in the percentiles (no coordinated omission).
 *   Request bodies are built once, before the clock starts (a pool of 8 distinct bodies, used round-robin).
 *
 * WHAT IS COUNTED
 *   A warm-up of --warmup seconds, then a window of --duration seconds (consume: no warm-up by default; the
 *   window ends early once --target-records have been consumed). A response counts when it completes inside
 *   the window. records: produce = records in 2xx responses minus per-record failures ("error_code" in the
 *   offsets); consume/read = occurrences of "offset": in 2xx bodies (one per record object). MB = 10^6 B of
 *   record values (V bytes each; the decoded size in --binary), body_MB the HTTP response bodies received.
 *   errors = non-2xx responses plus broken connections; every status seen is listed in statuses=.
 *   Latency: per request, send to last response byte (open loop: scheduled time to last byte), in a
 *   log-linear histogram (values exact below 256 ns, then 128 sub-buckets per power of two: < 0.8 % error).
 *
 * OUTPUT: one line of key=value pairs on stdout; diagnostics (the first body of each error status) on
 *   stderr. Exit status 0, 1 on a setup failure (cannot connect, consumer creation failed), 2 bad usage.
 *
 * THREADS: each worker owns its connections and histogram; the only shared state is the stop flag and the
 *   consumed-records counter (atomics). Totals are merged after the workers are joined. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NTEMPLATES 8
#define RBUF_MIN (64u << 10)
#define RBUF_MAX (512u << 20)
#define MAX_STATUS 600
#define SETUP_TIMEOUT_MS 10000

enum mode { M_PRODUCE, M_SINGLE, M_CONSUME, M_READ, M_GET };
static const char *const MODE_NAMES[] = {"produce", "single", "consume", "read", "get"};

struct opts {
    const char *host;
    int port;
    enum mode mode;
    const char *topic;
    unsigned records;    /* per produce request */
    unsigned value_size; /* bytes of each value (decoded) */
    bool binary;
    unsigned keys; /* 0 = keyless */
    unsigned conns;
    unsigned threads;
    double duration, warmup;
    double rate; /* requests/s over all threads; 0 = closed loop */
    const char *group;
    unsigned poll_timeout_ms;
    unsigned max_bytes;
    uint64_t target_records; /* consume/read: stop after this many; 0 = run for --duration */
    unsigned partitions;     /* read */
    const char *path;        /* get */
    const char *label;       /* echoed first on the output line */
};

static struct opts O = {
    .host = "127.0.0.1",
    .mode = M_PRODUCE,
    .topic = "bench",
    .records = 1000,
    .value_size = 100,
    .conns = 8,
    .threads = 1,
    .duration = 5,
    .warmup = -1, /* default depends on the mode */
    .group = "bench",
    .poll_timeout_ms = 1000,
    .max_bytes = 4u << 20,
    .partitions = 1,
    .path = "/healthy",
};

/* ---- time, histogram ---- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define H_SUB_BITS 7
#define H_SUB (1u << H_SUB_BITS)
#define H_N (2 * H_SUB + 56 * H_SUB)

struct hist {
    uint64_t c[H_N];
    uint64_t n, max;
};

static unsigned hist_index(uint64_t v)
{
    if (v < 2 * H_SUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= H_SUB_BITS + 1 */
    unsigned shift = e - H_SUB_BITS;
    unsigned i = 2 * H_SUB + (shift - 1) * H_SUB + (unsigned)((v >> shift) - H_SUB);
    return i < H_N ? i : H_N - 1;
}

/* The middle of bucket i. */
static double hist_value(unsigned i)
{
    if (i < 2 * H_SUB)
        return i;
    unsigned shift = (i - 2 * H_SUB) / H_SUB + 1;
    uint64_t top = H_SUB + (i - 2 * H_SUB) % H_SUB;
    return (double)(top << shift) + (double)((1ull << shift) - 1) / 2.0;
}

static void hist_add(struct hist *h, uint64_t v)
{
    h->c[hist_index(v)]++;
    h->n++;
    if (v > h->max)
        h->max = v;
}

static void hist_merge(struct hist *into, const struct hist *h)
{
    for (unsigned i = 0; i < H_N; i++)
        into->c[i] += h->c[i];
    into->n += h->n;
    if (h->max > into->max)
        into->max = h->max;
}

static double hist_quantile(const struct hist *h, double q)
{
    if (h->n == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->n + 0.5);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < H_N; i++) {
        seen += h->c[i];
        if (seen >= rank) {
            double v = hist_value(i);
            return v > (double)h->max ? (double)h->max : v;
        }
    }
    return (double)h->max;
}

/* ---- request templates ---- */

struct tmpl {
    char *buf; /* the whole request: head and body */
    size_t len;
    uint32_t records;
    uint64_t payload; /* value bytes (decoded) */
};

struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_need(struct sbuf *b, size_t n)
{
    if (b->len + n + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1)
        cap *= 2;
    b->p = realloc(b->p, cap);
    if (!b->p) {
        fprintf(stderr, "rest_load: out of memory\n");
        exit(1);
    }
    b->cap = cap;
}

static void sb_add(struct sbuf *b, const void *s, size_t n)
{
    sb_need(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sb_str(struct sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_fmt(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_fmt(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    sb_need(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void sb_base64(struct sbuf *b, const uint8_t *in, size_t n)
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    sb_need(b, (n + 2) / 3 * 4);
    char *o = b->p + b->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *o++ = A[v >> 18];
        *o++ = A[(v >> 12) & 63];
        *o++ = A[(v >> 6) & 63];
        *o++ = A[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        *o++ = A[v >> 18];
        *o++ = A[(v >> 12) & 63];
        *o++ = i + 1 < n ? A[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    b->len = (size_t)(o - b->p);
    b->p[b->len] = 0;
}

/* A JSON string of n plain characters, or base64 of n random bytes in --binary. */
static void add_value(struct sbuf *b, size_t n, uint64_t *rng)
{
    static const char ALNUM[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    uint8_t raw[4096];
    sb_add(b, "\"", 1);
    while (n > 0) {
        size_t k = n < sizeof raw / 3 * 3 ? n : sizeof raw / 3 * 3;
        for (size_t i = 0; i < k; i++) {
            uint64_t r = xorshift(rng);
            raw[i] = O.binary ? (uint8_t)r : (uint8_t)ALNUM[r % 62];
        }
        if (O.binary)
            sb_base64(b, raw, k);
        else
            sb_add(b, raw, k);
        n -= k;
    }
    sb_add(b, "\"", 1);
}

static void add_key(struct sbuf *b, uint64_t *rng)
{
    char k[32];
    int n = snprintf(k, sizeof k, "k%" PRIu64, xorshift(rng) % O.keys);
    sb_str(b, "\"key\":");
    if (!O.binary) {
        sb_fmt(b, "\"%s\",", k);
        return;
    }
    sb_add(b, "\"", 1);
    sb_base64(b, (const uint8_t *)k, (size_t)n);
    sb_add(b, "\",", 2);
}

static void build_produce(struct tmpl *t, uint64_t *rng)
{
    struct sbuf body = {0}, req = {0};
    unsigned n = O.mode == M_SINGLE ? 1 : O.records;
    sb_str(&body, "{\"records\":[");
    for (unsigned i = 0; i < n; i++) {
        sb_str(&body, i ? ",{" : "{");
        if (O.keys)
            add_key(&body, rng);
        sb_str(&body, "\"value\":");
        add_value(&body, O.value_size, rng);
        sb_str(&body, "}");
    }
    sb_str(&body, "]}");
    sb_fmt(&req,
           "POST /topics/%s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/vnd.kafka.%s.v2+json\r\n"
           "Accept: application/vnd.kafka.v2+json\r\nContent-Length: %zu\r\n\r\n",
           O.topic, O.host, O.port, O.binary ? "binary" : "json", body.len);
    sb_add(&req, body.p, body.len);
    free(body.p);
    t->buf = req.p;
    t->len = req.len;
    t->records = n;
    t->payload = (uint64_t)n * O.value_size;
}

/* ---- connections and response parsing ---- */

enum pstate { P_HEAD, P_BODY, P_CHUNK_LINE, P_CHUNK_DATA, P_CHUNK_CRLF, P_TRAILER };

struct conn {
    int fd;
    unsigned id; /* 0..conns-1 */
    struct worker *w;
    bool busy;       /* a request is in flight */
    bool want_out;   /* EPOLLOUT registered */
    const char *out; /* the request being sent: a template or small[] */
    size_t out_len, out_off;
    char small[512];
    uint64_t t_start; /* send (closed loop) or scheduled (open loop) time */
    uint32_t req_records;
    uint64_t req_payload;
    unsigned next_tmpl;
    /* receive */
    char *rb;
    size_t rcap, rlen;
    enum pstate ps;
    size_t scan, rpos, out_end, body_start, need;
    int status;
    bool chunked, close_after;
    /* consume / read */
    bool instance;  /* a consumer instance exists for this connection */
    int32_t partition;
    int64_t offset;
};

struct worker {
    pthread_t th;
    unsigned idx;
    int ep;
    struct conn *c;
    unsigned nc;
    struct tmpl *t; /* shared, read-only */
    unsigned nt;
    struct hist h;
    uint64_t requests, records, payload, body_bytes, errors, rec_errors, conn_errors, reconnects, wraps;
    uint64_t status[MAX_STATUS];
    bool shown[MAX_STATUS];
    /* open loop */
    uint64_t *ring;
    size_t ring_cap, ring_head, ring_len, ring_max;
    unsigned *idle;
    unsigned nidle;
    uint64_t missed; /* scheduled, never sent by the end */
};

static atomic_bool stop_all;
static atomic_uint_fast64_t done_total; /* records in the window, for --target-records */
static uint64_t t_start_all, t_window, t_end; /* set before the workers start */
static atomic_uint_fast64_t t_stopped; /* when --target-records was reached; 0 = not yet */
static struct sockaddr_in server_addr;


static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("rest_load: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* Connects c (blocking connect, then non-blocking). Returns 0 or -errno. */
static int conn_open(struct conn *c)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&server_addr, sizeof server_addr) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    if (!c->rb) {
        c->rcap = RBUF_MIN;
        c->rb = malloc(c->rcap);
        if (!c->rb)
            die("out of memory");
    }
    c->fd = fd;
    c->rlen = 0;
    c->ps = P_HEAD;
    c->scan = 0;
    c->busy = false;
    c->want_out = false;
    return 0;
}

static bool header_is(const char *line, size_t n, const char *name)
{
    size_t k = strlen(name);
    return n > k && line[k] == ':' && strncasecmp(line, name, k) == 0;
}

static bool value_has(const char *v, size_t n, const char *word)
{
    size_t k = strlen(word);
    for (size_t i = 0; i + k <= n; i++)
        if (strncasecmp(v + i, word, k) == 0)
            return true;
    return false;
}

/* Status line and the three headers that frame a response. Returns 0 or -1. */
static int parse_head(struct conn *c, size_t head_end)
{
    const char *p = c->rb, *end = c->rb + head_end - 2;
    if (head_end < 14 || memcmp(p, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)p[9]))
        return -1;
    c->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    c->close_after = p[7] == '0';
    c->chunked = false;
    bool has_len = false;
    uint64_t len = 0;
    const char *line = memchr(p, '\n', (size_t)(end - p));
    while (line && line + 1 < end) {
        line++;
        const char *eol = memchr(line, '\r', (size_t)(end - line));
        if (!eol)
            eol = end;
        size_t n = (size_t)(eol - line);
        const char *colon = memchr(line, ':', n);
        const char *v = colon ? colon + 1 : eol;
        size_t vn = (size_t)(eol - v);
        if (header_is(line, n, "content-length")) {
            char *ep;
            len = strtoull(v, &ep, 10);
            has_len = ep != v;
        } else if (header_is(line, n, "transfer-encoding")) {
            c->chunked = value_has(v, vn, "chunked");
        } else if (header_is(line, n, "connection")) {
            if (value_has(v, vn, "close"))
                c->close_after = true;
            else if (value_has(v, vn, "keep-alive"))
                c->close_after = false;
        }
        line = memchr(line, '\n', (size_t)(end - line));
    }
    if (c->status == 204 || c->status == 304 || c->status < 200) {
        c->chunked = false;
        len = 0;
        has_len = true;
    }
    if (!c->chunked && !has_len)
        return -1; /* body delimited by close: never sent by libmicrohttpd to HTTP/1.1 clients */
    c->need = len;
    return 0;
}

/* Advances the response parser over rb[0..rlen). Returns 1 when a whole response is in (body in
 * rb[body_start..out_end), chunked bodies decoded in place; the next response starts at rpos), 0 when more
 * bytes are needed, -1 on a malformed response. */
static int parse(struct conn *c)
{
    for (;;) {
        switch (c->ps) {
        case P_HEAD: {
            size_t from = c->scan > 3 ? c->scan - 3 : 0;
            const char *e = memmem(c->rb + from, c->rlen - from, "\r\n\r\n", 4);
            if (!e) {
                c->scan = c->rlen;
                return c->rlen > (64u << 10) ? -1 : 0;
            }
            size_t head_end = (size_t)(e - c->rb) + 4;
            if (parse_head(c, head_end))
                return -1;
            c->body_start = c->out_end = c->rpos = head_end;
            c->ps = c->chunked ? P_CHUNK_LINE : P_BODY;
            break;
        }
        case P_BODY:
            if (c->rlen - c->body_start < c->need)
                return 0;
            c->out_end = c->rpos = c->body_start + c->need;
            return 1;
        case P_CHUNK_LINE: {
            const char *s = c->rb + c->rpos;
            const char *e = memmem(s, c->rlen - c->rpos, "\r\n", 2);
            if (!e)
                return c->rlen - c->rpos > 1024 ? -1 : 0;
            char *ep;
            unsigned long long n = strtoull(s, &ep, 16);
            if (ep == s)
                return -1;
            c->rpos = (size_t)(e - c->rb) + 2;
            c->need = n;
            c->ps = n ? P_CHUNK_DATA : P_TRAILER;
            break;
        }
        case P_CHUNK_DATA: {
            size_t avail = c->rlen - c->rpos;
            size_t n = avail < c->need ? avail : c->need;
            if (n && c->out_end != c->rpos)
                memmove(c->rb + c->out_end, c->rb + c->rpos, n);
            c->out_end += n;
            c->rpos += n;
            c->need -= n;
            if (c->need)
                return 0;
            c->ps = P_CHUNK_CRLF;
            break;
        }
        case P_CHUNK_CRLF:
            if (c->rlen - c->rpos < 2)
                return 0;
            if (c->rb[c->rpos] != '\r' || c->rb[c->rpos + 1] != '\n')
                return -1;
            c->rpos += 2;
            c->ps = P_CHUNK_LINE;
            break;
        case P_TRAILER: {
            const char *s = c->rb + c->rpos;
            const char *e = memmem(s, c->rlen - c->rpos, "\r\n", 2);
            if (!e)
                return 0;
            c->rpos = (size_t)(e - c->rb) + 2;
            if (e == s)
                return 1;
            break;
        }
        }
    }
}

/* Drops the response just parsed, keeping any bytes after it. */
static void parse_reset(struct conn *c)
{
    size_t left = c->rlen - c->rpos;
    if (left)
        memmove(c->rb, c->rb + c->rpos, left);
    c->rlen = left;
    c->ps = P_HEAD;
    c->scan = 0;
}

/* Reads what the socket has. Returns bytes read, 0 at EOF, -EAGAIN, or -errno. */
static ssize_t conn_read(struct conn *c)
{
    if (c->rcap - c->rlen < RBUF_MIN / 2) {
        if (c->rcap >= RBUF_MAX)
            return -EMSGSIZE;
        char *nb = realloc(c->rb, c->rcap * 2);
        if (!nb)
            return -ENOMEM;
        c->rb = nb;
        c->rcap *= 2;
    }
    ssize_t n = read(c->fd, c->rb + c->rlen, c->rcap - c->rlen);
    if (n < 0)
        return errno == EINTR ? -EAGAIN : -errno;
    c->rlen += (size_t)n;
    return n;
}

/* ---- setup calls (blocking, on a control connection) ---- */

/* Sends one request on c and waits for its response. Returns the HTTP status (body in *body, NUL-terminated,
 * valid until the next call on c) or -errno. */
static int sync_call(struct conn *c, const char *method, const char *path, const char *ctype, const char *body,
                     const char **resp)
{
    struct sbuf r = {0};
    sb_fmt(&r, "%s %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: application/vnd.kafka.v2+json, application/json\r\n",
           method, path, O.host, O.port);
    if (body)
        sb_fmt(&r, "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n%s", ctype, strlen(body), body);
    else
        sb_str(&r, "\r\n");
    size_t off = 0;
    int rc = 0;
    while (off < r.len) {
        ssize_t n = send(c->fd, r.p + off, r.len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = c->fd, .events = POLLOUT};
            if (poll(&pf, 1, SETUP_TIMEOUT_MS) <= 0) {
                rc = -ETIMEDOUT;
                goto out;
            }
            continue;
        }
        if (n < 0 && errno != EINTR) {
            rc = -errno;
            goto out;
        }
        off += n > 0 ? (size_t)n : 0;
    }
    for (;;) {
        int p = parse(c);
        if (p < 0) {
            rc = -EPROTO;
            goto out;
        }
        if (p == 1)
            break;
        ssize_t n = conn_read(c);
        if (n == -EAGAIN) {
            struct pollfd pf = {.fd = c->fd, .events = POLLIN};
            if (poll(&pf, 1, SETUP_TIMEOUT_MS) <= 0) {
                rc = -ETIMEDOUT;
                goto out;
            }
            continue;
        }
        if (n <= 0) {
            rc = n == 0 ? -ECONNRESET : (int)n;
            goto out;
        }
    }
    /* The body is copied to the buffer's start so that it can be NUL-terminated. */
    size_t blen = c->out_end - c->body_start;
    rc = c->status;
    parse_reset(c);
    if (c->rlen)
        die("unexpected bytes after a response on the control connection");
    if (resp) {
        memmove(c->rb, c->rb + (c->out_end - blen), blen);
        c->rb[blen] = 0;
        *resp = c->rb;
    }
out:
    free(r.p);
    return rc;
}

static void consumer_name(char *out, size_t cap, unsigned id)
{
    snprintf(out, cap, "rl-%ld-%u", (long)getpid(), id);
}

static void consumers_create(struct conn *ctl, struct conn *cs, unsigned n)
{
    char path[256], body[512], name[64];
    const char *resp = NULL;
    for (unsigned i = 0; i < n; i++) {
        consumer_name(name, sizeof name, i);
        snprintf(path, sizeof path, "/consumers/%s", O.group);
        snprintf(body, sizeof body,
                 "{\"name\":\"%s\",\"format\":\"json\",\"auto.offset.reset\":\"earliest\","
                 "\"auto.commit.enable\":\"false\"}",
                 name);
        int st = sync_call(ctl, "POST", path, "application/vnd.kafka.v2+json", body, &resp);
        if (st != 200)
            die("POST %s: status %d: %s", path, st, st > 0 ? resp : strerror(-st));
        cs[i].instance = true;
        snprintf(path, sizeof path, "/consumers/%s/instances/%s/subscription", O.group, name);
        snprintf(body, sizeof body, "{\"topics\":[\"%s\"]}", O.topic);
        st = sync_call(ctl, "POST", path, "application/vnd.kafka.v2+json", body, &resp);
        if (st != 204 && st != 200)
            die("POST %s: status %d: %s", path, st, st > 0 ? resp : strerror(-st));
        snprintf(cs[i].small, sizeof cs[i].small,
                 "GET /consumers/%s/instances/%s/records?timeout=%u&max_bytes=%u HTTP/1.1\r\nHost: %s:%d\r\n"
                 "Accept: application/vnd.kafka.json.v2+json\r\n\r\n",
                 O.group, name, O.poll_timeout_ms, O.max_bytes, O.host, O.port);
    }
}

static void consumers_delete(struct conn *ctl, struct conn *cs, unsigned n)
{
    char path[256], name[64];
    unsigned failed = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!cs[i].instance)
            continue;
        consumer_name(name, sizeof name, i);
        snprintf(path, sizeof path, "/consumers/%s/instances/%s", O.group, name);
        int st = sync_call(ctl, "DELETE", path, NULL, NULL, NULL);
        failed += st != 204 && st != 200;
    }
    if (failed)
        fprintf(stderr, "rest_load: %u consumer instance(s) could not be deleted\n", failed);
}

/* ---- the load loop ---- */

static bool in_window(uint64_t t)
{
    return t >= t_window && t < t_end;
}

static uint64_t count_occ(const char *p, size_t n, const char *needle, const char **last)
{
    size_t k = strlen(needle);
    const char *end = p + n;
    uint64_t cnt = 0;
    for (const char *q; (q = memmem(p, (size_t)(end - p), needle, k)) != NULL; p = q + k) {
        cnt++;
        if (last)
            *last = q;
    }
    return cnt;
}

static void set_events(struct worker *w, struct conn *c, bool out)
{
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = out;
}

/* Sends what is left of the request; arms EPOLLOUT when the socket is full. Returns 0 or -errno. */
static int conn_flush(struct worker *w, struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                return -errno;
            if (!c->want_out)
                set_events(w, c, true);
            return 0;
        }
        c->out_off += (size_t)n;
    }
    if (c->want_out)
        set_events(w, c, false);
    return 0;
}

static void conn_fail(struct worker *w, struct conn *c, int why);

/* Starts the next request on c; t_sched is its scheduled time in an open loop, 0 in a closed one. */
static void conn_send(struct worker *w, struct conn *c, uint64_t t_sched)
{
    switch (O.mode) {
    case M_PRODUCE:
    case M_SINGLE: {
        const struct tmpl *t = &w->t[c->next_tmpl++ % w->nt];
        c->out = t->buf;
        c->out_len = t->len;
        c->req_records = t->records;
        c->req_payload = t->payload;
        break;
    }
    case M_READ: {
        int n = snprintf(c->small, sizeof c->small,
                         "GET /topics/%s/partitions/%d/records?offset=%" PRId64 "&max_bytes=%u HTTP/1.1\r\n"
                         "Host: %s:%d\r\nAccept: application/vnd.kafka.json.v2+json\r\n\r\n",
                         O.topic, (int)c->partition, c->offset, O.max_bytes, O.host, O.port);
        c->out = c->small;
        c->out_len = (size_t)n;
        break;
    }
    case M_CONSUME:
    case M_GET:
        c->out = c->small; /* built once at setup */
        c->out_len = strlen(c->small);
        break;
    }
    c->out_off = 0;
    c->busy = true;
    c->t_start = t_sched ? t_sched : now_ns();
    int rc = conn_flush(w, c);
    if (rc)
        conn_fail(w, c, rc);
}

static bool open_loop(void)
{
    return O.rate > 0;
}

static uint64_t ring_pop(struct worker *w)
{
    uint64_t t = w->ring[w->ring_head];
    w->ring_head = (w->ring_head + 1) % w->ring_cap;
    w->ring_len--;
    return t;
}

static void ring_push(struct worker *w, uint64_t t)
{
    if (w->ring_len == w->ring_cap) {
        size_t cap = w->ring_cap ? w->ring_cap * 2 : 1024;
        uint64_t *r = malloc(cap * sizeof *r);
        if (!r)
            die("out of memory");
        for (size_t i = 0; i < w->ring_len; i++)
            r[i] = w->ring[(w->ring_head + i) % w->ring_cap];
        free(w->ring);
        w->ring = r;
        w->ring_cap = cap;
        w->ring_head = 0;
    }
    w->ring[(w->ring_head + w->ring_len) % w->ring_cap] = t;
    w->ring_len++;
    if (w->ring_len > w->ring_max)
        w->ring_max = w->ring_len;
}

/* c has nothing in flight: give it the next request. */
static void conn_next(struct worker *w, struct conn *c)
{
    if (atomic_load_explicit(&stop_all, memory_order_relaxed) || now_ns() >= t_end)
        return;
    if (!open_loop())
        conn_send(w, c, 0);
    else if (w->ring_len)
        conn_send(w, c, ring_pop(w));
    else
        w->idle[w->nidle++] = c->id - w->c[0].id;
}

/* The connection broke (or the server closed it): reconnect; a request that was in flight is an error and
 * is replaced by the next one. */
static void conn_fail(struct worker *w, struct conn *c, int why)
{
    bool was_busy = c->busy;
    if (was_busy && in_window(now_ns())) {
        w->errors++;
        w->conn_errors++;
    }
    epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    if (atomic_load(&stop_all) || now_ns() >= t_end)
        return;
    int rc = conn_open(c);
    if (rc) {
        fprintf(stderr, "rest_load: reconnect after %s failed: %s\n", strerror(-why), strerror(-rc));
        c->fd = -1;
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev);
    w->reconnects++;
    if (was_busy)
        conn_next(w, c); /* an idle connection is already on the idle stack */
}

static void on_response(struct worker *w, struct conn *c)
{
    uint64_t t = now_ns();
    const char *body = c->rb + c->body_start;
    size_t blen = c->out_end - c->body_start;
    int st = c->status;
    bool ok = st >= 200 && st < 300, win = in_window(t);
    uint64_t recs = 0, payload = 0, rec_err = 0;
    if (ok) {
        const char *last = NULL;
        switch (O.mode) {
        case M_PRODUCE:
        case M_SINGLE:
            rec_err = count_occ(body, blen, "\"error_code\"", NULL);
            recs = c->req_records > rec_err ? c->req_records - rec_err : 0;
            payload = recs * O.value_size;
            break;
        case M_CONSUME:
            recs = count_occ(body, blen, "\"offset\":", NULL);
            payload = recs * O.value_size;
            break;
        case M_READ:
            recs = count_occ(body, blen, "\"offset\":", &last);
            payload = recs * O.value_size;
            if (last) {
                c->offset = strtoll(last + 9, NULL, 10) + 1;
            } else {
                c->offset = 0;
                w->wraps++;
            }
            break;
        case M_GET:
            break;
        }
        if (win && O.target_records && atomic_fetch_add(&done_total, recs) + recs >= O.target_records) {
            uint64_t zero = 0;
            atomic_compare_exchange_strong(&t_stopped, &zero, t);
            atomic_store(&stop_all, true);
        }
    }
    if (win) {
        w->requests++;
        hist_add(&w->h, t - c->t_start);
        w->status[st < MAX_STATUS && st >= 0 ? st : 0]++;
        w->body_bytes += blen;
        if (ok) {
            w->records += recs;
            w->payload += payload;
            w->rec_errors += rec_err;
        } else {
            w->errors++;
        }
    }
    if (!ok && st >= 0 && st < MAX_STATUS && !w->shown[st]) {
        w->shown[st] = true;
        fprintf(stderr, "rest_load: status %d: %.*s\n", st, (int)(blen < 300 ? blen : 300), body);
    }
    c->busy = false;
}

static void conn_input(struct worker *w, struct conn *c)
{
    for (;;) {
        ssize_t n = conn_read(c);
        if (n == -EAGAIN)
            return;
        if (n <= 0) {
            conn_fail(w, c, n == 0 ? -ECONNRESET : (int)n);
            return;
        }
        for (;;) {
            int p = parse(c);
            if (p == 0)
                break;
            if (p < 0 || !c->busy) {
                conn_fail(w, c, -EPROTO);
                return;
            }
            bool close_after = c->close_after;
            on_response(w, c);
            parse_reset(c);
            if (close_after) {
                conn_fail(w, c, -ECONNRESET);
                return;
            }
            conn_next(w, c);
            if (c->fd < 0)
                return;
        }
        if (c->rlen < c->rcap)
            return; /* the read did not fill the buffer: the socket is most likely empty */
    }
}

static void wait_events(struct worker *w, struct epoll_event *ev, int max, uint64_t timeout_ns, int *n)
{
    static atomic_bool no_pwait2;
    if (!atomic_load_explicit(&no_pwait2, memory_order_relaxed)) {
        struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000u),
                              .tv_nsec = (long)(timeout_ns % 1000000000u)};
        *n = epoll_pwait2(w->ep, ev, max, &ts, NULL);
        if (*n >= 0 || errno != ENOSYS)
            return;
        atomic_store(&no_pwait2, true);
    }
    *n = epoll_wait(w->ep, ev, max, (int)((timeout_ns + 999999) / 1000000));
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct epoll_event ev[64];
    uint64_t interval = 0, next = 0;
    if (open_loop()) {
        interval = (uint64_t)(1e9 * O.threads / O.rate);
        if (interval == 0)
            interval = 1;
        next = t_start_all + interval * w->idx / O.threads;
        for (unsigned i = w->nc; i-- > 0;)
            if (w->c[i].fd >= 0)
                w->idle[w->nidle++] = i;
    } else {
        for (unsigned i = 0; i < w->nc; i++)
            if (w->c[i].fd >= 0)
                conn_send(w, &w->c[i], 0);
    }
    for (;;) {
        uint64_t now = now_ns();
        if (now >= t_end || atomic_load_explicit(&stop_all, memory_order_relaxed))
            break;
        uint64_t timeout = t_end - now;
        if (timeout > 100000000u)
            timeout = 100000000u;
        if (open_loop()) {
            while (next <= now && next < t_end) {
                ring_push(w, next);
                next += interval;
            }
            while (w->ring_len && w->nidle) {
                struct conn *c = &w->c[w->idle[--w->nidle]];
                if (c->fd >= 0)
                    conn_send(w, c, ring_pop(w));
            }
            if (next < t_end && next - now < timeout)
                timeout = next > now ? next - now : 0;
        }
        int n;
        wait_events(w, ev, 64, timeout, &n);
        if (n < 0 && errno != EINTR)
            die("epoll: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            struct conn *c = ev[i].data.ptr;
            if (c->fd < 0)
                continue;
            uint32_t e = ev[i].events;
            if ((e & EPOLLOUT) && c->busy && c->out_off < c->out_len) {
                int rc = conn_flush(w, c);
                if (rc) {
                    conn_fail(w, c, rc);
                    continue;
                }
            }
            if (e & (EPOLLIN | EPOLLERR | EPOLLHUP))
                conn_input(w, c);
        }
    }
    if (open_loop()) {
        /* Scheduled inside the window but never sent: the server could not keep up. */
        while (w->ring_len) {
            uint64_t t = ring_pop(w);
            w->missed += t >= t_window;
        }
        while (next < t_end) {
            w->missed += next >= t_window;
            next += interval;
        }
    }
    return NULL;
}

/* ---- main ---- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: rest_load --port N [--host 127.0.0.1] [--mode produce|single|consume|read|get]\n"
            "  [--topic T] [--records R] [--value-size B] [--binary] [--keys K]\n"
            "  [--conns N] [--threads T] [--duration S] [--warmup S] [--rate REQ_PER_S]\n"
            "  [--group G] [--poll-timeout MS] [--max-bytes B] [--target-records N] [--partitions P]\n"
            "  [--path /healthy] [--label L]\n"
            "Prints one key=value line; see the comment at the top of tests/bench/rest_load.c.\n");
}

static unsigned long parse_num(const char *name, const char *v, unsigned long lo, unsigned long hi)
{
    char *e;
    errno = 0;
    unsigned long x = strtoul(v, &e, 10);
    if (errno || e == v || *e || x < lo || x > hi) {
        fprintf(stderr, "rest_load: --%s must be an integer in %lu..%lu\n", name, lo, hi);
        exit(2);
    }
    return x;
}

static double parse_dbl(const char *name, const char *v)
{
    char *e;
    double x = strtod(v, &e);
    if (e == v || *e || x < 0) {
        fprintf(stderr, "rest_load: --%s must be a number >= 0\n", name);
        exit(2);
    }
    return x;
}

static void parse_args(int argc, char **argv)
{
    static const struct option L[] = {
        {"host", 1, 0, 'H'},         {"port", 1, 0, 'p'},         {"mode", 1, 0, 'm'},
        {"topic", 1, 0, 't'},        {"records", 1, 0, 'r'},      {"value-size", 1, 0, 'v'},
        {"binary", 0, 0, 'b'},       {"keys", 1, 0, 'k'},         {"conns", 1, 0, 'c'},
        {"threads", 1, 0, 'T'},      {"duration", 1, 0, 'd'},     {"warmup", 1, 0, 'w'},
        {"rate", 1, 0, 'R'},         {"group", 1, 0, 'g'},        {"poll-timeout", 1, 0, 'o'},
        {"max-bytes", 1, 0, 'M'},    {"target-records", 1, 0, 'n'}, {"partitions", 1, 0, 'P'},
        {"path", 1, 0, 'u'},         {"label", 1, 0, 'l'},        {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "h", L, NULL)) != -1) {
        switch (ch) {
        case 'H': O.host = optarg; break;
        case 'p': O.port = (int)parse_num("port", optarg, 1, 65535); break;
        case 'm': {
            bool found = false;
            for (unsigned i = 0; i < sizeof MODE_NAMES / sizeof MODE_NAMES[0]; i++)
                if (strcmp(optarg, MODE_NAMES[i]) == 0) {
                    O.mode = (enum mode)i;
                    found = true;
                }
            if (!found) {
                usage(stderr);
                exit(2);
            }
            break;
        }
        case 't': O.topic = optarg; break;
        case 'r': O.records = (unsigned)parse_num("records", optarg, 1, 1000000); break;
        case 'v': O.value_size = (unsigned)parse_num("value-size", optarg, 0, 1u << 24); break;
        case 'b': O.binary = true; break;
        case 'k': O.keys = (unsigned)parse_num("keys", optarg, 0, 1u << 30); break;
        case 'c': O.conns = (unsigned)parse_num("conns", optarg, 1, 100000); break;
        case 'T': O.threads = (unsigned)parse_num("threads", optarg, 1, 64); break;
        case 'd': O.duration = parse_dbl("duration", optarg); break;
        case 'w': O.warmup = parse_dbl("warmup", optarg); break;
        case 'R': O.rate = parse_dbl("rate", optarg); break;
        case 'g': O.group = optarg; break;
        case 'o': O.poll_timeout_ms = (unsigned)parse_num("poll-timeout", optarg, 0, 3600000); break;
        case 'M': O.max_bytes = (unsigned)parse_num("max-bytes", optarg, 1, 1u << 30); break;
        case 'n': O.target_records = parse_num("target-records", optarg, 0, ULONG_MAX); break;
        case 'P': O.partitions = (unsigned)parse_num("partitions", optarg, 1, 1u << 20); break;
        case 'u': O.path = optarg; break;
        case 'l': O.label = optarg; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (!O.port || optind != argc) {
        usage(stderr);
        exit(2);
    }
    if (O.warmup < 0)
        O.warmup = O.mode == M_CONSUME ? 0 : 1;
    if (O.threads > O.conns)
        O.threads = O.conns;
}

static double cpu_secs(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static void sleep_until(uint64_t t)
{
    for (uint64_t now; (now = now_ns()) < t;) {
        struct timespec ts = {.tv_sec = (time_t)((t - now) / 1000000000u), .tv_nsec = (long)((t - now) % 1000000000u)};
        nanosleep(&ts, NULL);
        if (atomic_load(&stop_all))
            return;
    }
}

/* Opens the load connections (and, for consume, the control connection and the instances) and deals them
 * to the workers in contiguous runs. */
static void setup(struct conn *cs, struct worker *ws, struct conn *ctl, struct tmpl *t, unsigned nt)
{
    for (unsigned i = 0; i < O.conns; i++) {
        cs[i].id = i;
        cs[i].fd = -1;
        cs[i].partition = (int32_t)(i % O.partitions);
        cs[i].next_tmpl = i; /* connections start on different bodies */
        int rc = conn_open(&cs[i]);
        if (rc)
            die("connect %s:%d: %s", O.host, O.port, strerror(-rc));
        if (O.mode == M_GET)
            snprintf(cs[i].small, sizeof cs[i].small, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", O.path, O.host,
                     O.port);
    }
    if (O.mode == M_CONSUME) {
        int rc = conn_open(ctl);
        if (rc)
            die("connect %s:%d: %s", O.host, O.port, strerror(-rc));
        consumers_create(ctl, cs, O.conns);
    }
    unsigned per = O.conns / O.threads, extra = O.conns % O.threads, at = 0;
    for (unsigned i = 0; i < O.threads; i++) {
        struct worker *w = &ws[i];
        w->idx = i;
        w->c = &cs[at];
        w->nc = per + (i < extra);
        at += w->nc;
        w->t = t;
        w->nt = nt;
        w->idle = calloc(w->nc, sizeof *w->idle);
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        if (w->ep < 0 || !w->idle)
            die("epoll_create1: %s", strerror(errno));
        for (unsigned j = 0; j < w->nc; j++) {
            w->c[j].w = w;
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &w->c[j]};
            if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->c[j].fd, &ev))
                die("epoll_ctl: %s", strerror(errno));
        }
    }
}

static void totals(const struct worker *ws, struct worker *tot, struct hist *h)
{
    for (unsigned i = 0; i < O.threads; i++) {
        const struct worker *w = &ws[i];
        hist_merge(h, &w->h);
        tot->requests += w->requests;
        tot->records += w->records;
        tot->payload += w->payload;
        tot->body_bytes += w->body_bytes;
        tot->errors += w->errors;
        tot->rec_errors += w->rec_errors;
        tot->conn_errors += w->conn_errors;
        tot->reconnects += w->reconnects;
        tot->wraps += w->wraps;
        tot->missed += w->missed;
        tot->ring_max = w->ring_max > tot->ring_max ? w->ring_max : tot->ring_max;
        for (unsigned s = 0; s < MAX_STATUS; s++)
            tot->status[s] += w->status[s];
    }
}

static void report(const struct worker *tot, const struct hist *h, double secs, double gen_cpu)
{
    char statuses[512] = "";
    size_t sl = 0;
    for (unsigned s = 0; s < MAX_STATUS && sl < sizeof statuses - 32; s++)
        if (tot->status[s])
            sl += (size_t)snprintf(statuses + sl, sizeof statuses - sl, "%s%u:%" PRIu64, sl ? "," : "", s,
                                   tot->status[s]);
    if (O.label)
        printf("label=%s ", O.label);
    printf("mode=%s format=%s conns=%u threads=%u records_per_req=%u value_bytes=%u keys=%u rate=%.0f "
           "secs=%.3f requests=%" PRIu64 " records=%" PRIu64 " errors=%" PRIu64 " rec_errors=%" PRIu64
           " conn_errors=%" PRIu64 " req_per_s=%.0f rec_per_s=%.0f MB_per_s=%.2f body_MB_per_s=%.2f"
           " p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f gen_cpu=%.2f",
           MODE_NAMES[O.mode], O.binary ? "binary" : "json", O.conns, O.threads,
           O.mode == M_SINGLE ? 1 : (O.mode == M_PRODUCE ? O.records : 0), O.value_size, O.keys, O.rate, secs,
           tot->requests, tot->records, tot->errors, tot->rec_errors, tot->conn_errors, tot->requests / secs,
           tot->records / secs, tot->payload / secs / 1e6, tot->body_bytes / secs / 1e6,
           hist_quantile(h, 0.50) / 1e3, hist_quantile(h, 0.90) / 1e3, hist_quantile(h, 0.99) / 1e3,
           hist_quantile(h, 0.999) / 1e3, (double)h->max / 1e3, gen_cpu);
    if (open_loop())
        printf(" missed=%" PRIu64 " backlog_max=%zu", tot->missed, tot->ring_max);
    if (O.mode == M_READ)
        printf(" wraps=%" PRIu64, tot->wraps);
    if (tot->reconnects)
        printf(" reconnects=%" PRIu64, tot->reconnects);
    printf(" statuses=%s\n", sl ? statuses : "none");
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    server_addr.sin_family = AF_INET;
    server_addr.sin_port = htons((uint16_t)O.port);
    if (inet_pton(AF_INET, O.host, &server_addr.sin_addr) != 1)
        die("--host must be an IPv4 address");

    /* Templates first: nothing is built once the clock runs. */
    struct tmpl t[NTEMPLATES];
    unsigned nt = 0;
    uint64_t rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
    if (O.mode == M_PRODUCE || O.mode == M_SINGLE)
        for (; nt < NTEMPLATES; nt++)
            build_produce(&t[nt], &rng);

    struct conn *cs = calloc(O.conns, sizeof *cs);
    struct worker *ws = calloc(O.threads, sizeof *ws);
    struct conn ctl = {.fd = -1};
    if (!cs || !ws)
        die("out of memory");
    setup(cs, ws, &ctl, t, nt);

    t_start_all = now_ns();
    t_window = t_start_all + (uint64_t)(O.warmup * 1e9);
    t_end = t_window + (uint64_t)(O.duration * 1e9);
    for (unsigned i = 0; i < O.threads; i++)
        if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i]))
            die("pthread_create failed");
    sleep_until(t_window);
    double cpu0 = cpu_secs();
    uint64_t c0 = now_ns();
    for (unsigned i = 0; i < O.threads; i++)
        pthread_join(ws[i].th, NULL);
    double cpu = cpu_secs() - cpu0;
    uint64_t c1 = now_ns();

    uint64_t stopped = atomic_load(&t_stopped);
    uint64_t end = stopped && stopped < t_end ? stopped : t_end;
    struct hist *h = calloc(1, sizeof *h);
    struct worker *tot = calloc(1, sizeof *tot);
    if (!h || !tot)
        die("out of memory");
    totals(ws, tot, h);

    /* Close the load connections before deleting instances: a long poll may still be parked on them. */
    for (unsigned i = 0; i < O.conns; i++)
        if (cs[i].fd >= 0)
            close(cs[i].fd);
    if (O.mode == M_CONSUME)
        consumers_delete(&ctl, cs, O.conns);
    report(tot, h, (double)(end - t_window) / 1e9, c1 > c0 ? cpu / ((double)(c1 - c0) / 1e9) : 0);

    for (unsigned i = 0; i < nt; i++)
        free(t[i].buf);
    for (unsigned i = 0; i < O.conns; i++)
        free(cs[i].rb);
    for (unsigned i = 0; i < O.threads; i++) {
        free(ws[i].idle);
        free(ws[i].ring);
        close(ws[i].ep);
    }
    free(ctl.rb);
    if (ctl.fd >= 0)
        close(ctl.fd);
    free(h);
    free(tot);
    free(cs);
    free(ws);
    return 0;
}
