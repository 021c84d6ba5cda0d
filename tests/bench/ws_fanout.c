/* WebSocket fan-out load generator: many sockets from one process (raw sockets + epoll, a minimal client:
 * handshake, unmasked server frames, masked acks and pongs).
 *
 *   ws_fanout fanout  <rest_port> <ws_port> <topic> <subscribers> <seconds>   deliveries/s
 *   ws_fanout latency <rest_port> <ws_port> <topic> <subscribers> <seconds> <records/s>  p50/p99/p99.9
 *   ws_fanout catchup <rest_port> <ws_port> <topic> <records>                 fills, then one socket reads
 *   ws_fanout idle    <rest_port> <ws_port> <topic> <connections> <server pid> KB per idle connection
 *
 * Records are produced over REST (v2 json, 100 per request) by a second thread; each value carries the
 * produce time (CLOCK_MONOTONIC ns) so the subscribers measure produce -> push latency. Every socket acks
 * each frame ({"type":"ack"}). Prints one line per run. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
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
static double rate; /* records/s, 0 = as fast as possible */
static uint64_t *lat;
static size_t nlat, caplat;
static uint64_t seen_during_open; /* records that arrived while handshakes were pumped */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
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

static void *producer(void *arg)
{
    int fd = dial(rest_port);
    char path[300], *body = malloc(100 * 128 + 64);
    snprintf(path, sizeof path, "/topics/%s", topic);
    int64_t start = now_ns();
    uint64_t sent = 0;
    while (atomic_load(&producing)) {
        int per = rate > 0 && rate < 1000 ? 1 : 100;
        if (rate > 0) {
            int64_t due = start + (int64_t)(sent / rate * 1e9);
            while (now_ns() < due)
                ;
        }
        size_t len = (size_t)sprintf(body, "{\"records\":[");
        int64_t t = now_ns();
        for (int i = 0; i < per; i++)
            len += (size_t)sprintf(body + len, "%s{\"value\":{\"t\":%lld,\"pad\":\"%064d\"}}", i ? "," : "", (long long)t, 0);
        sprintf(body + len, "]}");
        if (http(fd, "POST", path, body) != 200) {
            fprintf(stderr, "produce failed\n");
            exit(1);
        }
        sent += (uint64_t)per;
        atomic_fetch_add(&produced, (uint64_t)per);
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
        if (sample && nlat < caplat)
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

static void run_push(int ep, int subs, int secs, bool sample)
{
    struct conn *cs = open_all(ep, subs, "from=latest&max_in_flight=100000");
    pthread_t th;
    atomic_store(&producing, true);
    pthread_create(&th, NULL, producer, NULL);
    pump(ep, cs, 500, 0, false); /* warm up */
    uint64_t p0 = atomic_load(&produced);
    nlat = 0;
    int64_t t0 = now_ns();
    uint64_t seen = pump(ep, cs, secs * 1000, 0, sample);
    double dt = (double)(now_ns() - t0) / 1e9;
    uint64_t p1 = atomic_load(&produced);
    atomic_store(&producing, false);
    pthread_join(th, NULL);
    if (!sample) {
        printf("fanout subscribers=%d produced/s=%.0f deliveries/s=%.0f\n", subs, (double)(p1 - p0) / dt,
               (double)seen / dt);
    } else {
        qsort(lat, nlat, sizeof *lat, cmp_u64);
        printf("latency subscribers=%d rate=%.0f/s samples=%zu p50=%.2fms p99=%.2fms p99.9=%.2fms\n", subs, rate, nlat,
               nlat ? lat[nlat / 2] / 1e6 : 0, nlat ? lat[nlat * 99 / 100] / 1e6 : 0,
               nlat ? lat[nlat * 999 / 1000] / 1e6 : 0);
    }
    for (int i = 0; i < subs; i++) {
        close(cs[i].fd);
        free(cs[i].buf);
    }
    free(cs);
}

static void run_catchup(int ep, long records)
{
    char path[300];
    snprintf(path, sizeof path, "/topics/%s", topic);
    pthread_t th;
    atomic_store(&producing, true);
    pthread_create(&th, NULL, producer, NULL);
    while (atomic_load(&produced) < (uint64_t)records)
        usleep(10000);
    atomic_store(&producing, false);
    pthread_join(th, NULL);
    uint64_t total = atomic_load(&produced);
    struct conn *cs = open_all(ep, 1, "from=earliest&max_in_flight=1000000000");
    int64_t t0 = now_ns();
    uint64_t seen = seen_during_open + pump(ep, cs, 120000, total - seen_during_open, false);
    double dt = (double)(now_ns() - t0) / 1e9;
    printf("catchup records=%llu seconds=%.2f records/s=%.0f\n", (unsigned long long)seen, dt, (double)seen / dt);
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
    rest_port = (uint16_t)atoi(argv[2]);
    ws_port = (uint16_t)atoi(argv[3]);
    topic = argv[4];
    int ep = epoll_create1(0);
    caplat = 20000000;
    lat = malloc(caplat * sizeof *lat);
    if (strcmp(argv[1], "fanout") == 0 && argc >= 7)
        run_push(ep, atoi(argv[5]), atoi(argv[6]), false);
    else if (strcmp(argv[1], "latency") == 0 && argc >= 8) {
        rate = atof(argv[7]);
        run_push(ep, atoi(argv[5]), atoi(argv[6]), true);
    } else if (strcmp(argv[1], "catchup") == 0 && argc >= 6)
        run_catchup(ep, atol(argv[5]));
    else if (strcmp(argv[1], "idle") == 0 && argc >= 7)
        run_idle(ep, atoi(argv[5]), argv[6]);
    else
        return 2;
    return 0;
}
