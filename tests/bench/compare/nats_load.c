/* nats_load: the NATS JetStream side of the sluice comparison (tests/bench/compare/compare.sh), with the NATS C
 * client (libnats). Every stream is created with file storage, one replica, its subject = its name.
 *
 *   nats_load --port N --mode ingest --stream S --records N --value-size V [--conns C] [--window W]
 *       (re)creates stream S, then C connections (threads) each js_PublishAsync their share with at most W
 *       publishes awaiting their ack (jsOptions.PublishAsync.MaxPending); the clock stops when
 *       js_PublishAsyncComplete says every publish is acknowledged (stored by the server).
 *   nats_load --port N --mode read --stream S
 *       reads the whole stream with an ordered consumer (js_Subscribe, Ordered: push, flow control, no acks),
 *       message callback on the library's thread; the clock stops at the last message.
 *   nats_load --port N --mode fanout --stream S --subs K --rate R --secs T [--warmup-secs W] [--sub-conns C]
 *       (re)creates S; K push consumers (ephemeral, DeliverNew, AckNone), spread over C connections (default one
 *       per consumer), delivered by a pool of --threads library threads; then one producer connection
 *       js_PublishAsync's R msgs/s for W+T s open loop at scheduled times. Latency = delivery - scheduled time
 *       (carried in the value). Records of the first W seconds are not counted.
 *       After the producer, consumers get --timeout s to catch up; what is still undelivered then is reported as
 *       missing= (complete= is the delivered fraction of the counted records).
 *   nats_load --port N --mode latency ... the same with one consumer.
 *
 * Output: one line "result sys=nats mode=... key=value ..." (rates per second, MB = 10^6 value bytes, latencies
 * in microseconds). Exit status 1 on any error or missing message. */
#include "cmp_common.h"

#include <nats/nats.h>

#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

static const char *o_host = "127.0.0.1";
static int o_port = 4222;
static const char *o_mode = "ingest";
static const char *o_stream = "BENCH";
static long o_records = 100000;
static int o_value = 100;
static int o_conns = 4;
static int o_window = 10000;
static int o_subs = 1000;
static int o_subconns = 0;
static double o_rate = 1000;
static double o_secs = 10;
static double o_warm = 1;
static int o_threads = 2;
static double o_timeout = 120;

#define CHECK(what, s)                                                                                             \
    do {                                                                                                           \
        natsStatus s_ = (s);                                                                                       \
        if (s_ != NATS_OK)                                                                                         \
            cmp_die("%s: %s (%s)", what, natsStatus_GetText(s_), nats_GetLastError(NULL));                      \
    } while (0)

static volatile long g_async_errors;
static volatile long g_slow;

static void on_conn_err(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure)
{
    __sync_fetch_and_add(&g_slow, 1);
}

static natsConnection *connect_nats(bool global_delivery, bool send_asap)
{
    natsOptions *opts;
    natsConnection *nc;
    char url[128];
    snprintf(url, sizeof url, "nats://%s:%d", o_host, o_port);
    CHECK("options", natsOptions_Create(&opts));
    CHECK("url", natsOptions_SetURL(opts, url));
    CHECK("max pending", natsOptions_SetMaxPendingMsgs(opts, 1000000));
    CHECK("err handler", natsOptions_SetErrorHandler(opts, on_conn_err, NULL));
    if (global_delivery)
        CHECK("global delivery", natsOptions_UseGlobalMessageDelivery(opts, true));
    if (send_asap)
        CHECK("send asap", natsOptions_SetSendAsap(opts, true));
    CHECK("connect", natsConnection_Connect(&nc, opts));
    natsOptions_Destroy(opts);
    return nc;
}

static void on_pub_err(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    __sync_fetch_and_add(&g_async_errors, 1);
}

static jsCtx *jetstream(natsConnection *nc, int window, jsPubAckHandler ack, void *ack_closure)
{
    jsOptions jo;
    jsCtx *js;
    jsOptions_Init(&jo);
    jo.Wait = 30000;
    jo.PublishAsync.MaxPending = window;
    jo.PublishAsync.StallWait = 60000;
    jo.PublishAsync.ErrHandler = on_pub_err;
    jo.PublishAsync.AckHandler = ack;
    jo.PublishAsync.AckHandlerClosure = ack_closure;
    CHECK("jetstream", natsConnection_JetStream(&js, nc, &jo));
    return js;
}

static void create_stream(jsCtx *js)
{
    jsErrCode jerr = 0;
    js_DeleteStream(js, o_stream, NULL, &jerr); /* absent is fine */
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char *subj[1] = { o_stream };
    cfg.Name = o_stream;
    cfg.Subjects = subj;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = 1;
    jsStreamInfo *si = NULL;
    natsStatus s = js_AddStream(&si, js, &cfg, NULL, &jerr);
    if (s != NATS_OK)
        cmp_die("add stream %s: %s (jerr %d, %s)", o_stream, natsStatus_GetText(s), (int)jerr, nats_GetLastError(NULL));
    jsStreamInfo_Destroy(si);
}

static uint64_t stream_msgs(jsCtx *js)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    CHECK("stream info", js_GetStreamInfo(&si, js, o_stream, NULL, &jerr));
    uint64_t n = si->State.Msgs;
    jsStreamInfo_Destroy(si);
    return n;
}

/* ---------------- ingest ---------------- */

struct ing {
    pthread_t th;
    long n;
    natsConnection *nc;
    jsCtx *js;
};
static pthread_barrier_t g_bar;

static void *ingest_thread(void *arg)
{
    struct ing *w = arg;
    char *val = malloc((size_t)o_value);
    cmp_fill(val, (size_t)o_value);
    pthread_barrier_wait(&g_bar);
    for (long i = 0; i < w->n; i++) {
        natsStatus s;
        while ((s = js_PublishAsync(w->js, o_stream, val, o_value, NULL)) == NATS_TIMEOUT) {
        }
        CHECK("publish", s);
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = (int64_t)(o_timeout * 1000);
    CHECK("publish complete", js_PublishAsyncComplete(w->js, &po));
    free(val);
    return NULL;
}

static int run_ingest(void)
{
    natsConnection *ctl = connect_nats(false, false);
    jsCtx *cjs = jetstream(ctl, 1, NULL, NULL);
    create_stream(cjs);
    struct ing *w = calloc((size_t)o_conns, sizeof *w);
    pthread_barrier_init(&g_bar, NULL, (unsigned)o_conns + 1);
    for (int i = 0; i < o_conns; i++) {
        w[i].n = o_records / o_conns + (i < o_records % o_conns ? 1 : 0);
        w[i].nc = connect_nats(false, false);
        w[i].js = jetstream(w[i].nc, o_window, NULL, NULL);
        pthread_create(&w[i].th, NULL, ingest_thread, &w[i]);
    }
    pthread_barrier_wait(&g_bar);
    uint64_t t0 = cmp_now_ns();
    for (int i = 0; i < o_conns; i++)
        pthread_join(w[i].th, NULL);
    double secs = (double)(cmp_now_ns() - t0) / 1e9;
    for (int i = 0; i < o_conns; i++) {
        jsCtx_Destroy(w[i].js);
        natsConnection_Destroy(w[i].nc);
    }
    uint64_t have = stream_msgs(cjs);
    printf("result sys=nats mode=ingest records=%ld value_bytes=%d conns=%d window=%d secs=%.3f rec_per_s=%.0f "
           "MB_per_s=%.2f errors=%ld stored=%llu\n",
           o_records, o_value, o_conns, o_window, secs, (double)o_records / secs,
           (double)o_records * o_value / secs / 1e6, g_async_errors, (unsigned long long)have);
    jsCtx_Destroy(cjs);
    natsConnection_Destroy(ctl);
    return g_async_errors == 0 && have == (uint64_t)o_records ? 0 : 1;
}

/* ---------------- read ---------------- */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static uint64_t g_want, g_got, g_bytes, g_bad;
static uint64_t g_t_last;

static void on_read(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    int len = natsMsg_GetDataLength(msg);
    if (len != o_value)
        g_bad++;
    g_bytes += (uint64_t)len;
    natsMsg_Destroy(msg);
    if (++g_got == g_want) {
        g_t_last = cmp_now_ns();
        pthread_mutex_lock(&g_mu);
        pthread_cond_signal(&g_cv);
        pthread_mutex_unlock(&g_mu);
    }
}

static int run_read(void)
{
    natsConnection *nc = connect_nats(false, false);
    jsCtx *js = jetstream(nc, 1, NULL, NULL);
    g_want = stream_msgs(js);
    if (g_want == 0)
        cmp_die("stream %s is empty", o_stream);
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = o_stream;
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverAll;
    natsSubscription *sub = NULL;
    jsErrCode jerr = 0;
    uint64_t t0 = cmp_now_ns();
    CHECK("ordered subscribe", js_Subscribe(&sub, js, o_stream, on_read, NULL, NULL, &so, &jerr));
    natsSubscription_SetPendingLimits(sub, 1000000, 2000000000);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += (time_t)o_timeout;
    pthread_mutex_lock(&g_mu);
    while (__atomic_load_n(&g_got, __ATOMIC_ACQUIRE) < g_want)
        if (pthread_cond_timedwait(&g_cv, &g_mu, &dl) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&g_mu);
    uint64_t got = __atomic_load_n(&g_got, __ATOMIC_ACQUIRE);
    uint64_t t1 = got >= g_want ? g_t_last : cmp_now_ns();
    double secs = (double)(t1 - t0) / 1e9;
    printf("result sys=nats mode=read records=%llu secs=%.3f rec_per_s=%.0f MB_per_s=%.2f bad=%llu want=%llu "
           "slow_consumer=%ld\n",
           (unsigned long long)got, secs, (double)got / secs, (double)g_bytes / secs / 1e6,
           (unsigned long long)g_bad, (unsigned long long)g_want, g_slow);
    natsSubscription_Destroy(sub);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return got == g_want && g_bad == 0 ? 0 : 1;
}

/* ---------------- fanout / latency ---------------- */

struct dthr { /* one per library delivery thread, found through a thread-local pointer */
    struct cmp_hist *h;
    uint64_t counted, last_ns;
    struct dthr *next;
};
static __thread struct dthr *tl_d;
static struct dthr *g_dthrs;
static volatile uint64_t g_count_from = UINT64_MAX;
static long g_total;

struct fsub {
    natsSubscription *sub;
    volatile long got;
};

static struct dthr *my_dthr(void)
{
    if (!tl_d) {
        tl_d = calloc(1, sizeof *tl_d);
        tl_d->h = cmp_hist_new();
        pthread_mutex_lock(&g_mu);
        tl_d->next = g_dthrs;
        g_dthrs = tl_d;
        pthread_mutex_unlock(&g_mu);
    }
    return tl_d;
}

static void on_fan(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    uint64_t now = cmp_now_ns();
    struct fsub *f = closure;
    struct dthr *d = my_dthr();
    int len = natsMsg_GetDataLength(msg);
    uint64_t ts = cmp_get_ts(natsMsg_GetData(msg), (size_t)len);
    if (len >= 8) { /* flow-control / heartbeat messages carry no data and are handled by the library */
        f->got++;
        if (ts >= g_count_from) {
            cmp_hist_add(d->h, now > ts ? now - ts : 0);
            d->counted++;
            d->last_ns = now;
        }
    }
    natsMsg_Destroy(msg);
}

static struct cmp_hist *g_ack;
static volatile long g_acked, g_ackerr;

static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    uint64_t now = cmp_now_ns();
    if (pae)
        g_ackerr++;
    else {
        uint64_t ts = cmp_get_ts(natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg));
        if (ts >= g_count_from)
            cmp_hist_add(g_ack, now - ts);
    }
    __atomic_add_fetch(&g_acked, 1, __ATOMIC_RELEASE);
    natsMsg_Destroy(msg);
}

static int run_fanout(bool latency_mode)
{
    if (latency_mode)
        o_subs = 1;
    int nconn = o_subconns > 0 ? o_subconns : o_subs;
    if (nconn > o_subs)
        nconn = o_subs;
    CHECK("delivery pool", nats_SetMessageDeliveryPoolSize(o_threads));
    natsConnection *pc = connect_nats(false, true);
    g_ack = cmp_hist_new();
    jsCtx *pjs = jetstream(pc, 1000000, on_ack, NULL);
    create_stream(pjs);
    g_total = (long)((o_warm + o_secs) * o_rate);

    natsConnection **sc = calloc((size_t)nconn, sizeof *sc);
    jsCtx **sjs = calloc((size_t)nconn, sizeof *sjs);
    for (int i = 0; i < nconn; i++) {
        sc[i] = connect_nats(true, false);
        sjs[i] = jetstream(sc[i], 1, NULL, NULL);
    }
    struct fsub *subs = calloc((size_t)o_subs, sizeof *subs);
    for (int i = 0; i < o_subs; i++) {
        jsSubOptions so;
        jsSubOptions_Init(&so);
        so.Stream = o_stream;
        so.Config.DeliverPolicy = js_DeliverNew;
        so.Config.AckPolicy = js_AckNone;
        jsErrCode jerr = 0;
        natsStatus s = js_Subscribe(&subs[i].sub, sjs[i % nconn], o_stream, on_fan, &subs[i], NULL, &so, &jerr);
        if (s != NATS_OK)
            cmp_die("subscribe %d: %s (jerr %d, %s)", i, natsStatus_GetText(s), (int)jerr, nats_GetLastError(NULL));
        natsSubscription_SetPendingLimits(subs[i].sub, 1000000, 1000000000);
    }
    for (int i = 0; i < nconn; i++)
        CHECK("flush", natsConnection_Flush(sc[i]));

    char *val = malloc((size_t)o_value);
    cmp_fill(val, (size_t)o_value);
    uint64_t t0 = cmp_now_ns() + 2000000;
    g_count_from = t0 + (uint64_t)(o_warm * 1e9);
    long pubfail = 0;
    for (long i = 0; i < g_total; i++) {
        uint64_t ts = t0 + (uint64_t)((double)i * 1e9 / o_rate);
        cmp_sleep_until_ns(ts);
        cmp_put_ts(val, (size_t)o_value, ts);
        if (js_PublishAsync(pjs, o_stream, val, o_value, NULL) != NATS_OK)
            pubfail++;
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = (int64_t)(o_timeout * 1000);
    natsStatus cs = js_PublishAsyncComplete(pjs, &po);
    uint64_t end = cmp_now_ns() + (uint64_t)(o_timeout * 1e9);
    for (;;) {
        long done = 0;
        for (int k = 0; k < o_subs; k++)
            done += subs[k].got >= g_total;
        if (done == o_subs || cmp_now_ns() > end)
            break;
        usleep(5000);
    }
    usleep(20000);
    struct cmp_hist *h = cmp_hist_new();
    uint64_t counted = 0, last = 0;
    pthread_mutex_lock(&g_mu);
    for (struct dthr *d = g_dthrs; d; d = d->next) {
        cmp_hist_merge(h, d->h);
        counted += d->counted;
        if (d->last_ns > last)
            last = d->last_ns;
    }
    pthread_mutex_unlock(&g_mu);
    long long missing = 0;
    for (int k = 0; k < o_subs; k++)
        missing += g_total - subs[k].got;
    uint64_t expect = (uint64_t)(o_secs * o_rate) * (uint64_t)o_subs;
    double win = last > g_count_from ? (double)(last - g_count_from) / 1e9 : 0;
    if (win < o_secs)
        win = o_secs;
    printf("result sys=nats mode=%s subs=%d sub_conns=%d rate=%.0f secs=%.1f value_bytes=%d deliveries=%llu "
           "deliveries_per_s=%.0f complete=%.4f",
           latency_mode ? "latency" : "fanout", o_subs, nconn, o_rate, o_secs, o_value, (unsigned long long)counted,
           (double)counted / win, expect ? (double)counted / (double)expect : 0);
    cmp_print_lat("", h);
    cmp_print_lat("ack_", g_ack);
    printf(" missing=%lld ack_errors=%ld publish_failed=%ld slow_consumer=%ld\n", missing, g_ackerr, pubfail, g_slow);
    /* fan-out: undelivered records at the end of the drain time are reported, not an error (see redis_load) */
    int rc = g_ackerr == 0 && pubfail == 0 && cs == NATS_OK && counted > 0 && !(latency_mode && missing) ? 0 : 1;
    /* the stream and its consumers go with it; connections close without unsubscribing one by one */
    jsErrCode jerr = 0;
    js_DeleteStream(pjs, o_stream, NULL, &jerr);
    for (int i = 0; i < nconn; i++)
        natsConnection_Close(sc[i]);
    return rc;
}

static void usage(void)
{
    fputs("usage: nats_load [--host H] [--port N] --mode ingest|read|fanout|latency [--stream S]\n"
          "  ingest:  --records N --value-size V --conns C --window W\n"
          "  fanout:  --subs K --sub-conns C --rate R --secs T --warmup-secs W --threads N --value-size V\n"
          "  latency: --rate R --secs T --warmup-secs W --value-size V\n"
          "  --timeout SECS  bound on waiting for acks and deliveries (default 120)\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "host", 1, 0, 'H' },      { "port", 1, 0, 'p' },       { "mode", 1, 0, 'm' },   { "stream", 1, 0, 'k' },
        { "records", 1, 0, 'n' },   { "value-size", 1, 0, 'v' }, { "conns", 1, 0, 'c' },  { "window", 1, 0, 'd' },
        { "subs", 1, 0, 's' },      { "sub-conns", 1, 0, 'S' },  { "rate", 1, 0, 'r' },   { "secs", 1, 0, 't' },
        { "warmup-secs", 1, 0, 'w' }, { "threads", 1, 0, 'T' }, { "timeout", 1, 0, 'o' }, { "help", 0, 0, 'h' },
        { 0, 0, 0, 0 }
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'H': o_host = optarg; break;
        case 'p': o_port = atoi(optarg); break;
        case 'm': o_mode = optarg; break;
        case 'k': o_stream = optarg; break;
        case 'n': o_records = atol(optarg); break;
        case 'v': o_value = atoi(optarg); break;
        case 'c': o_conns = atoi(optarg); break;
        case 'd': o_window = atoi(optarg); break;
        case 's': o_subs = atoi(optarg); break;
        case 'S': o_subconns = atoi(optarg); break;
        case 'r': o_rate = atof(optarg); break;
        case 't': o_secs = atof(optarg); break;
        case 'w': o_warm = atof(optarg); break;
        case 'T': o_threads = atoi(optarg); break;
        case 'o': o_timeout = atof(optarg); break;
        default: usage();
        }
    }
    if (o_conns < 1 || o_window < 1 || o_value < 8 || o_subs < 1 || o_rate <= 0 || o_threads < 1)
        usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    int rc;
    if (!strcmp(o_mode, "ingest"))
        rc = run_ingest();
    else if (!strcmp(o_mode, "read"))
        rc = run_read();
    else if (!strcmp(o_mode, "fanout"))
        rc = run_fanout(false);
    else if (!strcmp(o_mode, "latency"))
        rc = run_fanout(true);
    else
        usage();
    fflush(stdout);
    _exit(rc); /* skip tearing down hundreds of subscriptions and library threads */
}
