/* redis_load: the Redis Streams side of the sluice comparison (tests/bench/compare/compare.sh), with hiredis.
 *
 *   redis_load --port N --mode ingest  --key K --records N --value-size V [--conns C] [--pipeline D]
 *       C connections (threads), each sending D pipelined "XADD K * v <V bytes>" per round trip and reading the
 *       D replies; the clock stops when every XADD is acknowledged (with appendfsync always, Redis replies only
 *       after the fsync covering it). The key is deleted first.
 *   redis_load --port N --mode read    --key K [--count 1000]
 *       one connection reads the whole stream with "XREAD COUNT c STREAMS K <last id>" from 0-0 (XLEN first).
 *   redis_load --port N --mode fanout  --key K --subs S --rate R --secs T [--warmup-secs W] [--value-size V]
 *       S subscriber connections each loop on "XREAD BLOCK 0 COUNT 1000 STREAMS K <last id>" (spread over
 *       --threads epoll threads); once all S are blocked in the server, one producer connection XADDs R records/s
 *       for W+T seconds open loop (sent at their scheduled times, acks read asynchronously, pipelined). Each
 *       value carries its scheduled send time; latency = delivery time - scheduled time, so a late producer counts
 *       against the system (no coordinated omission). Records of the first W seconds are not counted.
 *       After the producer, subscribers get --timeout s (default 120) to catch up; what is still undelivered
 *       then is reported as missing= (complete= is the delivered fraction of the counted records).
 *   redis_load --port N --mode latency ... the same as fanout with --subs 1 (the produce->deliver latency row).
 *
 * Output: one line "result sys=redis mode=... key=value ..." (rates per second, MB = 10^6 value bytes,
 * latencies in microseconds). Exit status 1 on any error or missing record. */
#include "cmp_common.h"

#include <hiredis.h>

#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *o_host = "127.0.0.1";
static int o_port = 6379;
static const char *o_mode = "ingest";
static const char *o_key = "bench";
static long o_records = 100000;
static int o_value = 100;
static int o_conns = 4;
static int o_pipeline = 1000;
static int o_count = 1000;
static int o_subs = 1000;
static double o_rate = 1000;
static double o_secs = 10;
static double o_warm = 1;
static int o_threads = 2;
static double o_timeout = 120;

/* ---------------- blocking helpers (ingest, read, control) ---------------- */

static redisContext *bconn(void)
{
    struct timeval tv = { 10, 0 };
    redisContext *c = redisConnectWithTimeout(o_host, o_port, tv);
    if (!c || c->err)
        cmp_die("connect %s:%d: %s", o_host, o_port, c ? c->errstr : "oom");
    return c;
}

static redisReply *bcmd(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (!r)
        cmp_die("redis: %s", c->errstr);
    if (r->type == REDIS_REPLY_ERROR)
        cmp_die("redis: %s", r->str);
    return r;
}

static long long xlen(redisContext *c)
{
    redisReply *r = bcmd(c, "XLEN %s", o_key);
    long long n = r->integer;
    freeReplyObject(r);
    return n;
}

/* ---------------- ingest ---------------- */

struct ing {
    pthread_t th;
    long n;
    long errors;
    redisContext *c;
};
static pthread_barrier_t g_bar;

static void *ingest_thread(void *arg)
{
    struct ing *w = arg;
    char *val = malloc((size_t)o_value);
    cmp_fill(val, (size_t)o_value);
    const char *argv[5] = { "XADD", o_key, "*", "v", val };
    size_t lens[5] = { 4, strlen(o_key), 1, 1, (size_t)o_value };
    pthread_barrier_wait(&g_bar);
    long left = w->n;
    while (left > 0) {
        int k = left < o_pipeline ? (int)left : o_pipeline;
        for (int i = 0; i < k; i++)
            if (redisAppendCommandArgv(w->c, 5, argv, lens) != REDIS_OK)
                cmp_die("append: %s", w->c->errstr);
        for (int i = 0; i < k; i++) {
            redisReply *r;
            if (redisGetReply(w->c, (void **)&r) != REDIS_OK)
                cmp_die("reply: %s", w->c->errstr);
            if (r->type != REDIS_REPLY_STRING)
                w->errors++;
            freeReplyObject(r);
        }
        left -= k;
    }
    free(val);
    return NULL;
}

static int run_ingest(void)
{
    redisContext *ctl = bconn();
    freeReplyObject(bcmd(ctl, "DEL %s", o_key));
    struct ing *w = calloc((size_t)o_conns, sizeof *w);
    pthread_barrier_init(&g_bar, NULL, (unsigned)o_conns + 1);
    for (int i = 0; i < o_conns; i++) {
        w[i].n = o_records / o_conns + (i < o_records % o_conns ? 1 : 0);
        w[i].c = bconn();
        pthread_create(&w[i].th, NULL, ingest_thread, &w[i]);
    }
    pthread_barrier_wait(&g_bar);
    uint64_t t0 = cmp_now_ns();
    long errors = 0;
    for (int i = 0; i < o_conns; i++) {
        pthread_join(w[i].th, NULL);
        errors += w[i].errors;
        redisFree(w[i].c);
    }
    double secs = (double)(cmp_now_ns() - t0) / 1e9;
    long long have = xlen(ctl);
    printf("result sys=redis mode=ingest records=%ld value_bytes=%d conns=%d pipeline=%d secs=%.3f rec_per_s=%.0f "
           "MB_per_s=%.2f errors=%ld stored=%lld\n",
           o_records, o_value, o_conns, o_pipeline, secs, (double)o_records / secs,
           (double)o_records * o_value / secs / 1e6, errors, have);
    redisFree(ctl);
    free(w);
    return errors == 0 && have == o_records ? 0 : 1;
}

/* ---------------- read ---------------- */

static int run_read(void)
{
    redisContext *c = bconn();
    long long want = xlen(c);
    char last[64] = "0-0";
    char cnt[16];
    snprintf(cnt, sizeof cnt, "%d", o_count);
    long long got = 0, bytes = 0, bad = 0;
    uint64_t t0 = cmp_now_ns();
    while (got < want) {
        const char *argv[6] = { "XREAD", "COUNT", cnt, "STREAMS", o_key, last };
        redisReply *r = redisCommandArgv(c, 6, argv, NULL);
        if (!r)
            cmp_die("xread: %s", c->errstr);
        if (r->type != REDIS_REPLY_ARRAY || r->elements < 1)
            cmp_die("xread: unexpected reply type %d", r->type);
        redisReply *ents = r->element[0]->element[1];
        for (size_t i = 0; i < ents->elements; i++) {
            redisReply *e = ents->element[i];
            redisReply *f = e->element[1];
            if (f->elements < 2 || f->element[1]->len != (size_t)o_value)
                bad++;
            else
                bytes += (long long)f->element[1]->len;
            got++;
        }
        if (ents->elements == 0)
            cmp_die("xread: empty reply at %s", last);
        redisReply *id = ents->element[ents->elements - 1]->element[0];
        snprintf(last, sizeof last, "%.*s", (int)id->len, id->str);
        freeReplyObject(r);
    }
    double secs = (double)(cmp_now_ns() - t0) / 1e9;
    printf("result sys=redis mode=read records=%lld count=%d secs=%.3f rec_per_s=%.0f MB_per_s=%.2f bad=%lld\n", got,
           o_count, secs, (double)got / secs, (double)bytes / secs / 1e6, bad);
    redisFree(c);
    return bad == 0 ? 0 : 1;
}

/* ---------------- non-blocking connections (fanout, latency) ---------------- */

struct rconn {
    int fd;
    redisReader *rd;
    char *out;
    size_t olen, ocap;
};

static void rc_open(struct rconn *rc)
{
    memset(rc, 0, sizeof *rc);
    rc->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (rc->fd < 0)
        cmp_die("socket: %s", strerror(errno));
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o_port) };
    inet_pton(AF_INET, o_host, &sa.sin_addr);
    if (connect(rc->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        cmp_die("connect %s:%d: %s", o_host, o_port, strerror(errno));
    int one = 1;
    setsockopt(rc->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(rc->fd, F_SETFL, fcntl(rc->fd, F_GETFL) | O_NONBLOCK);
    rc->rd = redisReaderCreate();
}

static void rc_close(struct rconn *rc)
{
    if (rc->fd >= 0)
        close(rc->fd);
    rc->fd = -1;
    if (rc->rd)
        redisReaderFree(rc->rd);
    rc->rd = NULL;
    free(rc->out);
    rc->out = NULL;
}

static void rc_cmd(struct rconn *rc, int argc, const char **argv, const size_t *lens)
{
    char *cmd;
    int n = redisFormatCommandArgv(&cmd, argc, argv, lens);
    if (n < 0)
        cmp_die("format");
    if (rc->olen + (size_t)n > rc->ocap) {
        rc->ocap = (rc->olen + (size_t)n) * 2;
        rc->out = realloc(rc->out, rc->ocap);
    }
    memcpy(rc->out + rc->olen, cmd, (size_t)n);
    rc->olen += (size_t)n;
    free(cmd);
}

/* Writes what it can; 0 or -1 on a broken connection. */
static int rc_flush(struct rconn *rc)
{
    size_t off = 0;
    while (off < rc->olen) {
        ssize_t w = write(rc->fd, rc->out + off, rc->olen - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            return -1;
        }
        off += (size_t)w;
    }
    memmove(rc->out, rc->out + off, rc->olen - off);
    rc->olen -= off;
    return 0;
}

/* Reads what is available into the reply parser: 0, or -1 when the connection closed. */
static int rc_fill(struct rconn *rc)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(rc->fd, buf, sizeof buf);
        if (n > 0) {
            if (redisReaderFeed(rc->rd, buf, (size_t)n) != REDIS_OK)
                return -1;
            if (n < (ssize_t)sizeof buf)
                return 0;
            continue;
        }
        if (n == 0)
            return -1;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN ? 0 : -1;
    }
}

static redisReply *rc_reply(struct rconn *rc)
{
    void *r = NULL;
    if (redisReaderGetReply(rc->rd, &r) != REDIS_OK)
        cmp_die("protocol error: %s", rc->rd->errstr);
    return r;
}

/* ---------------- fanout / latency ---------------- */

struct sub {
    struct rconn rc;
    char last[64];
    long got;
};

struct subth {
    pthread_t th;
    int first, n;
    struct cmp_hist *h;
    uint64_t counted, last_ns;
    int failed;
};

static struct sub *g_subs;
static long g_total;                  /* records the producer sends */
static volatile uint64_t g_count_from; /* scheduled times before this are warm-up, not counted */
static volatile int g_stop;
static char g_cnt[16] = "1000";

static void sub_xread(struct sub *s)
{
    const char *argv[8] = { "XREAD", "BLOCK", "0", "COUNT", g_cnt, "STREAMS", o_key, s->last };
    rc_cmd(&s->rc, 8, argv, NULL);
    if (rc_flush(&s->rc) < 0)
        cmp_die("subscriber write: %s", strerror(errno));
}

static void *sub_thread(void *arg)
{
    struct subth *t = arg;
    int ep = epoll_create1(0);
    for (int i = t->first; i < t->first + t->n; i++) {
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &g_subs[i] };
        epoll_ctl(ep, EPOLL_CTL_ADD, g_subs[i].rc.fd, &ev);
    }
    int open = t->n;
    struct epoll_event evs[256];
    while (open > 0 && !g_stop) {
        int n = epoll_wait(ep, evs, 256, 100);
        for (int k = 0; k < n; k++) {
            struct sub *s = evs[k].data.ptr;
            if (rc_fill(&s->rc) < 0) {
                t->failed++;
                epoll_ctl(ep, EPOLL_CTL_DEL, s->rc.fd, NULL);
                open--;
                continue;
            }
            redisReply *r;
            bool again = false;
            while ((r = rc_reply(&s->rc)) != NULL) {
                uint64_t now = cmp_now_ns();
                if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1) {
                    redisReply *ents = r->element[0]->element[1];
                    for (size_t i = 0; i < ents->elements; i++) {
                        redisReply *f = ents->element[i]->element[1];
                        if (f->elements < 2)
                            continue;
                        uint64_t ts = cmp_get_ts(f->element[1]->str, f->element[1]->len);
                        s->got++;
                        if (ts >= g_count_from) {
                            cmp_hist_add(t->h, now > ts ? now - ts : 0);
                            t->counted++;
                            t->last_ns = now;
                        }
                    }
                    if (ents->elements) {
                        redisReply *id = ents->element[ents->elements - 1]->element[0];
                        snprintf(s->last, sizeof s->last, "%.*s", (int)id->len, id->str);
                    }
                } else if (r->type == REDIS_REPLY_ERROR) {
                    cmp_die("subscriber: %s", r->str);
                }
                freeReplyObject(r);
                again = true;
            }
            if (again) {
                if (s->got < g_total)
                    sub_xread(s);
                else {
                    epoll_ctl(ep, EPOLL_CTL_DEL, s->rc.fd, NULL);
                    open--;
                }
            }
        }
    }
    close(ep);
    return NULL;
}

static long blocked_clients(redisContext *c)
{
    redisReply *r = bcmd(c, "INFO clients");
    const char *p = strstr(r->str, "blocked_clients:");
    long n = p ? atol(p + 16) : -1;
    freeReplyObject(r);
    return n;
}

static int run_fanout(bool latency_mode)
{
    if (latency_mode)
        o_subs = 1;
    snprintf(g_cnt, sizeof g_cnt, "%d", o_count);
    redisContext *ctl = bconn();
    freeReplyObject(bcmd(ctl, "DEL %s", o_key));
    long base_blocked = blocked_clients(ctl);
    g_total = (long)((o_warm + o_secs) * o_rate);
    g_count_from = UINT64_MAX;
    g_subs = calloc((size_t)o_subs, sizeof *g_subs);
    for (int i = 0; i < o_subs; i++) {
        rc_open(&g_subs[i].rc);
        strcpy(g_subs[i].last, "0-0");
        sub_xread(&g_subs[i]);
    }
    /* every subscriber blocked in the server before the first record */
    uint64_t wait_end = cmp_now_ns() + 30000000000ull;
    while (blocked_clients(ctl) < base_blocked + o_subs) {
        if (cmp_now_ns() > wait_end)
            cmp_die("only %ld of %d subscribers blocked", blocked_clients(ctl) - base_blocked, o_subs);
        usleep(10000);
    }
    int nth = o_threads < o_subs ? o_threads : o_subs;
    struct subth *th = calloc((size_t)nth, sizeof *th);
    for (int i = 0, first = 0; i < nth; i++) {
        th[i].n = o_subs / nth + (i < o_subs % nth ? 1 : 0);
        th[i].first = first;
        first += th[i].n;
        th[i].h = cmp_hist_new();
        pthread_create(&th[i].th, NULL, sub_thread, &th[i]);
    }

    /* producer: open loop, pipelined */
    struct rconn p;
    rc_open(&p);
    char *val = malloc((size_t)o_value);
    cmp_fill(val, (size_t)o_value);
    uint64_t *sched = malloc(sizeof(uint64_t) * (size_t)g_total);
    struct cmp_hist *ack = cmp_hist_new();
    const char *argv[5] = { "XADD", o_key, "*", "v", val };
    size_t lens[5] = { 4, strlen(o_key), 1, 1, (size_t)o_value };
    uint64_t t0 = cmp_now_ns() + 2000000;
    g_count_from = t0 + (uint64_t)(o_warm * 1e9);
    uint64_t hard_end = t0 + (uint64_t)((o_warm + o_secs + o_timeout) * 1e9);
    long i = 0, acked = 0, ackerr = 0;
    while (acked < g_total) {
        uint64_t now = cmp_now_ns();
        if (now > hard_end)
            break;
        while (i < g_total) {
            uint64_t ts = t0 + (uint64_t)((double)i * 1e9 / o_rate);
            if (ts > now)
                break;
            cmp_put_ts(val, (size_t)o_value, ts);
            rc_cmd(&p, 5, argv, lens);
            sched[i++] = ts;
        }
        if (rc_flush(&p) < 0)
            cmp_die("producer write: %s", strerror(errno));
        if (rc_fill(&p) < 0)
            cmp_die("producer connection closed");
        redisReply *r;
        while ((r = rc_reply(&p)) != NULL) {
            uint64_t t = cmp_now_ns();
            if (r->type != REDIS_REPLY_STRING)
                ackerr++;
            if (sched[acked] >= g_count_from)
                cmp_hist_add(ack, t - sched[acked]);
            acked++;
            freeReplyObject(r);
        }
        now = cmp_now_ns();
        uint64_t next = i < g_total ? t0 + (uint64_t)((double)i * 1e9 / o_rate) : now + 10000000;
        if (next > now) {
            struct pollfd pf = { .fd = p.fd, .events = POLLIN | (p.olen ? POLLOUT : 0) };
            struct timespec to = { .tv_sec = 0, .tv_nsec = (long)(next - now > 10000000 ? 10000000 : next - now) };
            ppoll(&pf, 1, &to, NULL);
        }
    }
    uint64_t prod_end = cmp_now_ns();
    /* the subscribers finish once they have every record, or at the time bound */
    uint64_t sub_end = prod_end + (uint64_t)(o_timeout * 1e9);
    for (;;) {
        long done = 0;
        for (int k = 0; k < o_subs; k++)
            done += g_subs[k].got >= g_total;
        if (done == o_subs || cmp_now_ns() > sub_end)
            break;
        usleep(5000);
    }
    g_stop = 1;
    struct cmp_hist *h = cmp_hist_new();
    uint64_t counted = 0, last = 0;
    int failed = 0;
    for (int k = 0; k < nth; k++) {
        pthread_join(th[k].th, NULL);
        cmp_hist_merge(h, th[k].h);
        counted += th[k].counted;
        failed += th[k].failed;
        if (th[k].last_ns > last)
            last = th[k].last_ns;
    }
    long long missing = 0;
    for (int k = 0; k < o_subs; k++)
        missing += g_total - g_subs[k].got;
    uint64_t expect = (uint64_t)(o_secs * o_rate) * (uint64_t)o_subs;
    double win = last > g_count_from ? (double)(last - g_count_from) / 1e9 : 0;
    if (win < o_secs)
        win = o_secs;
    printf("result sys=redis mode=%s subs=%d rate=%.0f secs=%.1f value_bytes=%d deliveries=%llu "
           "deliveries_per_s=%.0f complete=%.4f",
           latency_mode ? "latency" : "fanout", o_subs, o_rate, o_secs, o_value, (unsigned long long)counted,
           (double)counted / win, expect ? (double)counted / (double)expect : 0);
    cmp_print_lat("", h);
    cmp_print_lat("ack_", ack);
    printf(" missing=%lld ack_errors=%ld failed_conns=%d\n", missing, ackerr, failed);
    for (int k = 0; k < o_subs; k++)
        rc_close(&g_subs[k].rc);
    rc_close(&p);
    redisFree(ctl);
    /* fan-out: records still undelivered when the drain time is up are reported (missing=, complete=), not an
     * error: a system that falls behind shows it in deliveries/s and latency. The latency row must be whole. */
    if (ackerr || failed || acked != g_total || counted == 0)
        return 1;
    return latency_mode && missing ? 1 : 0;
}

static void usage(void)
{
    fputs("usage: redis_load [--host H] [--port N] --mode ingest|read|fanout|latency [--key K]\n"
          "  ingest:  --records N --value-size V --conns C --pipeline D\n"
          "  read:    --count C\n"
          "  fanout:  --subs S --rate R --secs T --warmup-secs W --threads N --value-size V\n"
          "  latency: --rate R --secs T --warmup-secs W --value-size V\n"
          "  --timeout SECS  extra time allowed after the run for stragglers (default 120)\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "host", 1, 0, 'H' },     { "port", 1, 0, 'p' },     { "mode", 1, 0, 'm' },    { "key", 1, 0, 'k' },
        { "records", 1, 0, 'n' },  { "value-size", 1, 0, 'v' }, { "conns", 1, 0, 'c' }, { "pipeline", 1, 0, 'd' },
        { "count", 1, 0, 'C' },    { "subs", 1, 0, 's' },     { "rate", 1, 0, 'r' },    { "secs", 1, 0, 't' },
        { "warmup-secs", 1, 0, 'w' }, { "threads", 1, 0, 'T' }, { "timeout", 1, 0, 'o' }, { "help", 0, 0, 'h' },
        { 0, 0, 0, 0 }
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'H': o_host = optarg; break;
        case 'p': o_port = atoi(optarg); break;
        case 'm': o_mode = optarg; break;
        case 'k': o_key = optarg; break;
        case 'n': o_records = atol(optarg); break;
        case 'v': o_value = atoi(optarg); break;
        case 'c': o_conns = atoi(optarg); break;
        case 'd': o_pipeline = atoi(optarg); break;
        case 'C': o_count = atoi(optarg); break;
        case 's': o_subs = atoi(optarg); break;
        case 'r': o_rate = atof(optarg); break;
        case 't': o_secs = atof(optarg); break;
        case 'w': o_warm = atof(optarg); break;
        case 'T': o_threads = atoi(optarg); break;
        case 'o': o_timeout = atof(optarg); break;
        default: usage();
        }
    }
    if (o_conns < 1 || o_pipeline < 1 || o_value < 8 || o_subs < 1 || o_rate <= 0 || o_threads < 1)
        usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(o_mode, "ingest"))
        return run_ingest();
    if (!strcmp(o_mode, "read"))
        return run_read();
    if (!strcmp(o_mode, "fanout"))
        return run_fanout(false);
    if (!strcmp(o_mode, "latency"))
        return run_fanout(true);
    usage();
}
