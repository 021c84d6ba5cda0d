/* Raw HTTP/1.1 helpers (see http_raw.h). */
#include "tests/support/http_raw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sl_raw_send_fd(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads into buf[*len, cap) once, waiting until deadline. Returns bytes read, 0 at EOF, -1 on timeout. */
static ssize_t read_some(int fd, char *buf, size_t *len, size_t cap, long long deadline)
{
    for (;;) {
        long long left = deadline - mono_ms();
        if (left <= 0)
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        ssize_t r = recv(fd, buf + *len, cap - *len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 0; /* EOF or reset */
        *len += (size_t)r;
        return r;
    }
}

static long content_length(const char *head)
{
    for (const char *p = strchr(head, '\n'); p; p = strchr(p + 1, '\n'))
        if (!strncasecmp(p + 1, "Content-Length:", 15))
            return strtol(p + 16, NULL, 10);
    return -1;
}

int sl_raw_read(int fd, int ms, struct sl_raw_resp *out)
{
    memset(out, 0, sizeof *out);
    long long deadline = mono_ms() + ms;
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap + 1);
    char *end = NULL;
    bool eof = false;
    while (!end && !eof && len < cap) {
        eof = read_some(fd, buf, &len, cap, deadline) <= 0;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end || sscanf(buf, "HTTP/1.%*d %d", &out->status) != 1) {
        free(buf);
        out->status = 0;
        return -1;
    }
    size_t hl = (size_t)(end + 4 - buf);
    snprintf(out->head, sizeof out->head, "%.*s", (int)hl, buf);
    long want = content_length(out->head);
    while (!eof && (want < 0 || len - hl < (size_t)want) && len < cap)
        eof = read_some(fd, buf, &len, cap, deadline) <= 0;
    size_t bl = len - hl;
    if (want >= 0 && bl > (size_t)want)
        bl = (size_t)want;
    out->body = malloc(bl + 1);
    memcpy(out->body, buf + hl, bl);
    out->body[bl] = '\0';
    out->body_len = bl;
    free(buf);
    return want >= 0 && bl < (size_t)want ? -1 : 0;
}

void sl_raw_resp_fini(struct sl_raw_resp *r)
{
    free(r->body);
    r->body = NULL;
}

json_t *sl_raw_json(const struct sl_raw_resp *r)
{
    return r->body ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
}

int sl_raw_exchange(unsigned port, const char *req, struct sl_raw_resp *out)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) || sl_raw_send_fd(fd, req, strlen(req)) ||
        sl_raw_read(fd, 5000, out)) {
        sl_raw_resp_fini(out);
        memset(out, 0, sizeof *out);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}
