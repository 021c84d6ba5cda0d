/* WebSocket fan-out load generator: many sockets from one process (raw sockets + epoll, a minimal client:
 * handshake, unmasked server frames, masked acks and pongs).
 *
 *   ws_fanout fanout  <rest_port> <ws_port> <topic> <subscribers> <seconds>   deliveries/s (producer flat out)
 *   ws_fanout latency <rest_port> <ws_port> <topic> <subscribers> <seconds> <records/s>  p50/p99/p99.9
 *   ws_fanout catchup <rest_port> <ws_port> <topic> <records> [passes]      fills once, then one socket
 *                                                                             reads it all, 'passes' times
 *   ws_fanout idle    <rest_port> <ws_port> <topic> <connections> <server pid> KB per idle connection
 *
 * Records are produced over REST (v2 json) by a second thread. In latency mode the producer is open loop:
 * a batch of max(1, min(100, rate / 1000)) records is due every batch / rate seconds (it sleeps until then,
 * never spins), and each record carries the batch's scheduled time (CLOCK_MONOTONIC ns), so a producer or
 * server that falls behind shows up as latency instead of silently lowering the rate (no coordinated
 * omission). A batch goes out at its time on an idle keep-alive connection of a pool (a new one is opened
 * when every open one still waits for its reply; at most PRODUCER_CONNS, default 16, from the environment),
 * so one slow reply delays its own batch only, as redis_load's pipelined XADDs and nats_load's asynchronous
 * publishes do. With one connection (PRODUCER_CONNS=1) every batch waits for the previous reply, so in
 * `sync` a run of slow fsyncs (another program's disk traffic) held back every later record: one run in five
 * had p99.9 = 86 ms instead of ~5 ms. 'late' counts batches sent more than 1 ms after their time (all pool
 * connections busy). The other modes send one request at a time on one connection. Every socket acks each frame
 * ({"type":"ack"}). Prints one line per run, with the CPU used during the measured window: the server
 * (WS_SERVER_PID in the environment), this process's reader thread (all sockets) and producer thread, each
 * in % of one core. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int fd;
    bool up;
    uint8_t *buf;
    size_t len, cap;
};

static uint16_t rest_port, ws_port;
static const char *topic;
static atomic_bool producing;
static atomic_uint_fast64_t produced;
static atomic_uint_fast64_t late;     /* batches sent more than 1 ms after their scheduled time */
static atomic_int_fast64_t producer_cpu_ns; /* the producer thread's CPU time, published as it goes */
static uint64_t *ack_lat;             /* producer: scheduled time -> HTTP response, per batch */
static size_t nack, capack;
static atomic_bool ack_sampling;
static double rate; /* records/s, 0 = as fast as possible */
static int fill_batch = 100; /* records per request when rate is 0 */
static uint64_t *lat;
static size_t nlat, caplat;
static uint64_t sample_every = 1, sample_seq; /* latency of every sample_every-th record (subscribers / 100) */
static uint64_t seen_during_open; /* records that arrived while handshakes were pumped */
static uint64_t frames;           /* record frames received */
static const char *server_pid;    /* WS_SERVER_PID, for its CPU share */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* utime + stime of a process in ns (-1 when unknown). */
static int64_t proc_cpu_ns(const char *pid)
{
    char path[64], line[1024];
    if (!pid)
        return -1;
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    unsigned long long ut = 0, st = 0;
    char *p = fgets(line, sizeof line, f) ? strrchr(line, ')') : NULL;
    fclose(f);
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (int64_t)((ut + st) * (1000000000ull / (unsigned long long)sysconf(_SC_CLK_TCK)));
}

/* Busy (non-idle, non-iowait) CPU time of the whole machine in ns, from /proc/stat. */
static int64_t box_busy_ns(void)
{
    unsigned long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");
    int n = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                       &v[6], &v[7]) : 0;
    if (f)
        fclose(f);
    if (n < 8)
        return -1;
    unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    return (int64_t)(busy * (1000000000ull / (unsigned long long)sysconf(_SC_CLK_TCK)));
}

static int dial(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) {
        perror("connect");
        exit(1);
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* One HTTP request on fd (keep-alive); returns the status. */
static int http(int fd, const char *method, const char *path, const char *body)
{
    static char resp[65536];
    char head[512];
    size_t bl = body ? strlen(body) : 0;
    int n = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.kafka.json.v2+json\r\n"
                     "Content-Length: %zu\r\n\r\n", method, path, bl);
    if (write(fd, head, (size_t)n) != n || (bl && write(fd, body, bl) != (ssize_t)bl))
        return -1;
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, resp + got, sizeof resp - 1 - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
        resp[got] = '\0';
        char *e = strstr(resp, "\r\n\r\n"), *cl = strcasestr(resp, "Content-Length: ");
        if (e && cl && got >= (size_t)(e + 4 - resp) + strtoul(cl + 16, NULL, 10))
            return atoi(resp + 9);
    }
}

/* One connection of the latency-mode producer pool. */
struct pconn {
    int fd;
    bool busy;     /* a request is out, its reply not complete */
    int64_t sched; /* the scheduled time of that request */
    int per;       /* its records */
    size_t len;
    char buf[16384];
};

/* Reads a busy connection's reply. Returns 1 complete (200), 0 not yet, -1 failed. */
static int pconn_read(struct pconn *pc)
{
    ssize_t r = read(pc->fd, pc->buf + pc->len, sizeof pc->buf - 1 - pc->len);
    if (r <= 0)
        return -1;
    pc->len += (size_t)r;
    pc->buf[pc->len] = '\0';
    char *e = strstr(pc->buf, "\r\n\r\n"), *cl = strcasestr(pc->buf, "Content-Length: ");
    if (!e || !cl || pc->len < (size_t)(e + 4 - pc->buf) + strtoul(cl + 16, NULL, 10))
        return pc->len + 1 < sizeof pc->buf ? 0 : -1;
    pc->len = 0;
    pc->busy = false;
    return atoi(pc->buf + 9) == 200 ? 1 : -1;
}

/* Waits for replies on the busy connections until 'until' (ns, CLOCK_MONOTONIC; 0: until one completes or
 * 10 ms passed). Counts what completes. */
static void pool_wait(struct pconn *pc, int npc, int64_t until)
{
    struct pollfd pf[64];
    int idx[64], n = 0;
    for (int i = 0; i < npc; i++)
        if (pc[i].busy) {
            pf[n] = (struct pollfd){.fd = pc[i].fd, .events = POLLIN};
            idx[n++] = i;
        }
    int64_t left = until ? until - now_ns() : 10000000;
    if (left < 0)
        left = 0;
    if (n == 0) {
        struct timespec ts = {.tv_sec = until / 1000000000, .tv_nsec = until % 1000000000};
        if (until)
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
        return;
    }
    struct timespec to = {.tv_sec = left / 1000000000, .tv_nsec = left % 1000000000};
    if (ppoll(pf, (nfds_t)n, &to, NULL) <= 0)
        return;
    for (int k = 0; k < n; k++) {
        struct pconn *c = &pc[idx[k]];
        if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        int r = pconn_read(c);
        if (r < 0) {
            fprintf(stderr, "produce failed\n");
            exit(1);
        }
        if (r == 1) {
            if (atomic_load(&ack_sampling) && nack < capack)
                ack_lat[nack++] = (uint64_t)(now_ns() - c->sched);
            atomic_fetch_add(&produced, (uint64_t)c->per);
        }
    }
}

/* Latency mode: every batch at its scheduled time, on an idle connection of the pool. */
static void produce_open_loop(const char *path, char *body, int per)
{
    const char *env = getenv("PRODUCER_CONNS");
    int max = env ? atoi(env) : 16, npc = 0;
    if (max < 1 || max > 64)
        max = 16;
    struct pconn *pc = calloc((size_t)max, sizeof *pc);
    char head[512];
    int64_t start = now_ns();
    uint64_t sent = 0;
    while (atomic_load(&producing)) {
        int64_t due = start + (int64_t)((double)sent / rate * 1e9);
        struct pconn *c = NULL;
        for (;;) {
            int64_t t = now_ns();
            for (int i = 0; i < npc && !c; i++)
                if (!pc[i].busy)
                    c = &pc[i];
            if (!c && npc < max && t >= due) {
                c = &pc[npc++];
                c->fd = dial(rest_port);
            }
            if (c && t >= due)
                break;
            c = NULL;
            pool_wait(pc, npc, t < due ? due : 0);
            atomic_store(&producer_cpu_ns, thread_cpu_ns());
        }
        if (now_ns() - due > 1000000)
            atomic_fetch_add(&late, 1);
        size_t len = (size_t)sprintf(body, "{\"records\":[");
        for (int i = 0; i < per; i++)
            len += (size_t)sprintf(body + len, "%s{\"value\":{\"t\":%lld,\"pad\":\"%064d\"}}", i ? "," : "",
                                   (long long)due, 0);
        len += (size_t)sprintf(body + len, "]}");
        int n = snprintf(head, sizeof head, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: "
                         "application/vnd.kafka.json.v2+json\r\nContent-Length: %zu\r\n\r\n", path, len);
        if (write(c->fd, head, (size_t)n) != n || write(c->fd, body, len) != (ssize_t)len) {
            fprintf(stderr, "produce failed\n");
            exit(1);
        }
        c->busy = true;
        c->sched = due;
        c->per = per;
        sent += (uint64_t)per;
        atomic_store(&producer_cpu_ns, thread_cpu_ns());
    }
    for (int64_t end = now_ns() + 5000000000; now_ns() < end;) { /* let the last replies arrive */
        bool any = false;
        for (int i = 0; i < npc; i++)
            any |= pc[i].busy;
        if (!any)
            break;
        pool_wait(pc, npc, 0);
    }
    for (int i = 0; i < npc; i++)
        close(pc[i].fd);
    free(pc);
}

static void *producer(void *arg)
{
    char path[300], *body = malloc(1000 * 128 + 64);
    snprintf(path, sizeof path, "/topics/%s", topic);
    int per = rate <= 0 ? fill_batch : rate < 1000 ? 1 : rate < 100000 ? (int)(rate / 1000) : 100;
    if (rate > 0) {
        produce_open_loop(path, body, per);
        free(body);
        return NULL;
    }
    int fd = dial(rest_port);
    while (atomic_load(&producing)) { /* flat out: one request at a time */
        int64_t t = now_ns();
        size_t len = (size_t)sprintf(body, "{\"records\":[");
        for (int i = 0; i < per; i++)
            len += (size_t)sprintf(body + len, "%s{\"value\":{\"t\":%lld,\"pad\":\"%064d\"}}", i ? "," : "", (long long)t, 0);
        sprintf(body + len, "]}");
        if (http(fd, "POST", path, body) != 200) {
            fprintf(stderr, "produce failed\n");
            exit(1);
        }
        if (atomic_load(&ack_sampling) && nack < capack)
            ack_lat[nack++] = (uint64_t)(now_ns() - t);
        atomic_fetch_add(&produced, (uint64_t)per);
        atomic_store(&producer_cpu_ns, thread_cpu_ns());
    }
    free(body);
    close(fd);
    return NULL;
}

static void ws_send(int fd, uint8_t opcode, const char *p, size_t n)
{
    uint8_t f[256] = {(uint8_t)(0x80 | opcode), (uint8_t)(0x80 | n)};
    memset(f + 2, 0, 4); /* mask 0: payload unchanged */
    memcpy(f + 6, p, n);
    if (write(fd, f, 6 + n) < 0)
        return;
}

static void ws_open(struct conn *c, const char *path)
{
    c->fd = dial(ws_port);
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path);
    if (write(c->fd, req, (size_t)n) != n)
        exit(1);
    c->cap = 1 << 20;
    c->buf = malloc(c->cap);
}

/* Counts records of one text message; records latency samples when asked. */
static uint64_t on_message(const uint8_t *p, size_t n, bool sample)
{
    uint64_t k = 0;
    const uint8_t *q = p, *e = p + n;
    int64_t now = sample ? now_ns() : 0;
    while ((q = memmem(q, (size_t)(e - q), "{\"t\":", 5))) {
        k++;
        q += 5;
        if (sample && ++sample_seq % sample_every == 0 && nlat < caplat)
            lat[nlat++] = (uint64_t)(now - strtoll((const char *)q, NULL, 10));
    }
    return k;
}

/* Parses complete frames in c->buf. Returns records seen. */
static uint64_t parse(struct conn *c, bool sample)
{
    uint64_t k = 0;
    size_t at = 0;
    if (!c->up) {
        uint8_t *e = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (!e)
            return 0;
        at = (size_t)(e + 4 - c->buf);
        c->up = true;
    }
    while (c->len - at >= 2) {
        uint8_t *h = c->buf + at, op = h[0] & 15;
        uint64_t pl = h[1] & 127;
        size_t hl = 2;
        if (pl == 126) {
            if (c->len - at < 4) break;
            pl = (uint64_t)h[2] << 8 | h[3];
            hl = 4;
        } else if (pl == 127) {
            if (c->len - at < 10) break;
            pl = 0;
            for (int i = 0; i < 8; i++) pl = pl << 8 | h[2 + i];
            hl = 10;
        }
        if (c->len - at < hl + pl)
            break;
        if (op == 9)
            ws_send(c->fd, 10, (const char *)h + hl, (size_t)pl);
        else if (op == 1 || op == 0) {
            uint64_t r = on_message(h + hl, (size_t)pl, sample);
            k += r;
            frames += r > 0;
            if (r && (h[0] & 0x80))
                ws_send(c->fd, 1, "{\"type\":\"ack\"}", 14);
        }
        at += hl + (size_t)pl;
    }
    memmove(c->buf, c->buf + at, c->len - at);
    c->len -= at;
    if (c->len + 65536 > c->cap) {
        c->cap *= 2;
        c->buf = realloc(c->buf, c->cap);
    }
    return k;
}

/* Serves every socket for 'ms' ms (or until target records were seen); returns records seen. */
static uint64_t pump(int ep, struct conn *cs, int ms, uint64_t target, bool sample)
{
    struct epoll_event ev[256];
    uint64_t seen = 0;
    int64_t end = now_ns() + (int64_t)ms * 1000000;
    while (now_ns() < end && (!target || seen < target)) {
        int n = epoll_wait(ep, ev, 256, 10);
        for (int i = 0; i < n; i++) {
            struct conn *c = &cs[ev[i].data.u32];
            ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
            if (r > 0) {
                c->len += (size_t)r;
                seen += parse(c, sample);
            }
        }
    }
    return seen;
}

static struct conn *open_all(int ep, int n, const char *query)
{
    struct conn *cs = calloc((size_t)n, sizeof *cs);
    char path[400];
    snprintf(path, sizeof path, "/ws/v1/topics/%s?%s", topic, query);
    for (int i = 0; i < n; i++) {
        ws_open(&cs[i], path);
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &e);
    }
    for (int up = 0, tries = 0; up < n && tries < 1000; tries++) { /* handshakes */
        seen_during_open += pump(ep, cs, 10, 0, false);
        up = 0;
        for (int i = 0; i < n; i++)
            up += cs[i].up;
    }
    return cs;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static long rss_kb(const char *pid)
{
    char path[64], line[256];
    long kb = -1;
    snprintf(path, sizeof path, "/proc/%s/status", pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

/* CPU shares over a measured window. */
struct cpu_mark {
    int64_t wall, server, reader, producer, box, self;
};

static void cpu_mark(struct cpu_mark *m)
{
    m->wall = now_ns();
    m->server = proc_cpu_ns(server_pid);
    m->reader = thread_cpu_ns();
    m->producer = atomic_load(&producer_cpu_ns);
    m->box = box_busy_ns();
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    m->self = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Appends " cpu%:server=.. reader=.. producer=.. other=.." (% of one core) to stdout; 'other' is what the
 * rest of the machine used meanwhile (another benchmark running makes the figure suspect). */
static void cpu_print(const struct cpu_mark *a, const struct cpu_mark *b)
{
    double dt = (double)(b->wall - a->wall) / 100.0;
    if (a->server >= 0 && b->server >= 0)
        printf(" cpu%%:server=%.0f", (double)(b->server - a->server) / dt);
    else
        printf(" cpu%%:server=?");
    printf(" reader=%.0f producer=%.0f", (double)(b->reader - a->reader) / dt, (double)(b->producer - a->producer) / dt);
    if (a->box >= 0 && b->box >= 0 && a->server >= 0 && b->server >= 0) {
        double other = (double)((b->box - a->box) - (b->server - a->server) - (b->self - a->self)) / dt;
        printf(" other=%.0f", other < 0 ? 0 : other);
    }
}

static void run_push(int ep, int subs, int secs, bool sample)
{
    struct conn *cs = open_all(ep, subs, "from=latest&max_in_flight=100000");
    sample_every = subs > 100 ? (uint64_t)subs / 100 : 1;
    pthread_t th;
    atomic_store(&producing, true);
    pthread_create(&th, NULL, producer, NULL);
    pump(ep, cs, 1000, 0, false); /* warm up */
    uint64_t p0 = atomic_load(&produced), l0 = atomic_load(&late);
    nlat = 0;
    frames = 0;
    struct cpu_mark m0, m1;
    cpu_mark(&m0);
    atomic_store(&ack_sampling, true);
    uint64_t seen = pump(ep, cs, secs * 1000, 0, sample);
    atomic_store(&ack_sampling, false);
    cpu_mark(&m1);
    double dt = (double)(m1.wall - m0.wall) / 1e9;
    uint64_t p1 = atomic_load(&produced), l1 = atomic_load(&late);
    atomic_store(&producing, false);
    pthread_join(th, NULL);
    if (!sample) {
        printf("fanout subscribers=%d produced/s=%.0f deliveries/s=%.0f records/frame=%.1f", subs,
               (double)(p1 - p0) / dt, (double)seen / dt, frames ? (double)seen / (double)frames : 0);
    } else {
        qsort(lat, nlat, sizeof *lat, cmp_u64);
        printf("latency subscribers=%d rate=%.0f/s produced/s=%.0f late=%llu samples=%zu records/frame=%.1f "
               "p50=%.3fms p99=%.3fms p99.9=%.3fms max=%.2fms", subs, rate, (double)(p1 - p0) / dt,
               (unsigned long long)(l1 - l0), nlat, frames ? (double)seen / (double)frames : 0,
               nlat ? lat[nlat / 2] / 1e6 : 0, nlat ? lat[nlat * 99 / 100] / 1e6 : 0,
               nlat ? lat[nlat * 999 / 1000] / 1e6 : 0, nlat ? lat[nlat - 1] / 1e6 : 0);
        size_t na = nack; /* the producer has stopped */
        qsort(ack_lat, na, sizeof *ack_lat, cmp_u64);
        printf(" produce-ack:p50=%.3fms/p99=%.3fms", na ? ack_lat[na / 2] / 1e6 : 0, na ? ack_lat[na * 99 / 100] / 1e6 : 0);
    }
    cpu_print(&m0, &m1);
    printf("\n");
    for (int i = 0; i < subs; i++) {
        close(cs[i].fd);
        free(cs[i].buf);
    }
    free(cs);
}

/* Fills the topic with 'records' records (1000 per request), then reads them all from the start with one
 * socket, 'passes' times (a fresh socket each pass). */
static void run_catchup(int ep, long records, int passes)
{
    pthread_t th;
    fill_batch = 1000;
    atomic_store(&producing, true);
    pthread_create(&th, NULL, producer, NULL);
    while (atomic_load(&produced) < (uint64_t)records)
        usleep(10000);
    atomic_store(&producing, false);
    pthread_join(th, NULL);
    uint64_t total = atomic_load(&produced);
    fprintf(stderr, "filled %llu records\n", (unsigned long long)total); /* for profilers waiting on it */
    for (int i = 0; i < passes; i++) {
        seen_during_open = 0;
        frames = 0;
        struct cpu_mark m0, m1;
        cpu_mark(&m0);
        struct conn *cs = open_all(ep, 1, "from=earliest&max_in_flight=1000000000");
        uint64_t seen = seen_during_open + pump(ep, cs, 120000, total - seen_during_open, false);
        cpu_mark(&m1);
        double dt = (double)(m1.wall - m0.wall) / 1e9;
        printf("catchup records=%llu seconds=%.2f records/s=%.0f records/frame=%.1f", (unsigned long long)seen, dt,
               (double)seen / dt, frames ? (double)seen / (double)frames : 0);
        cpu_print(&m0, &m1);
        printf("\n");
        fflush(stdout);
        epoll_ctl(ep, EPOLL_CTL_DEL, cs[0].fd, NULL);
        close(cs[0].fd);
        free(cs[0].buf);
        free(cs);
    }
}

static void run_idle(int ep, int n, const char *pid)
{
    long before = rss_kb(pid);
    struct conn *cs = open_all(ep, n, "from=latest");
    pump(ep, cs, 1000, 0, false);
    long after = rss_kb(pid);
    printf("idle connections=%d rss_before=%ldkB rss_after=%ldkB per_connection=%.2fKB\n", n, before, after,
           (double)(after - before) / n);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: see the file header\n");
        return 2;
    }
    server_pid = getenv("WS_SERVER_PID");
    rest_port = (uint16_t)atoi(argv[2]);
    ws_port = (uint16_t)atoi(argv[3]);
    topic = argv[4];
    int ep = epoll_create1(0);
    caplat = 20000000;
    lat = malloc(caplat * sizeof *lat);
    capack = 1000000;
    ack_lat = malloc(capack * sizeof *ack_lat);
    if (strcmp(argv[1], "fanout") == 0 && argc >= 7)
        run_push(ep, atoi(argv[5]), atoi(argv[6]), false);
    else if (strcmp(argv[1], "latency") == 0 && argc >= 8) {
        rate = atof(argv[7]);
        run_push(ep, atoi(argv[5]), atoi(argv[6]), true);
    } else if (strcmp(argv[1], "catchup") == 0 && argc >= 6)
        run_catchup(ep, atol(argv[5]), argc >= 7 ? atoi(argv[6]) : 1);
    else if (strcmp(argv[1], "idle") == 0 && argc >= 7)
        run_idle(ep, atoi(argv[5]), argv[6]);
    else
        return 2;
    return 0;
}
