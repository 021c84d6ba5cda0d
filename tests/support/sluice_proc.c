/* Running the sluice binary in integration tests, and libcurl helpers (see sluice_proc.h). */
#include "tests/support/sluice_proc.h"

#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/testutil.h"

static bool owns_dir(struct sl_proc *p)
{
    return p->stderr_path && strstr(p->stderr_path, ".owned.stderr") != NULL;
}

char *sl_proc_stderr(struct sl_proc *p)
{
    FILE *f = fopen(p->stderr_path, "r");
    if (!f)
        return strdup("");
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    size_t k;
    while ((k = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (cap - n - 1 == 0)
            s = realloc(s, cap *= 2);
    }
    s[n] = '\0';
    fclose(f);
    return s;
}

static void spawn(struct sl_proc *p)
{
    const char *bin = getenv("SLUICE_BIN");
    ck_assert_msg(bin && *bin, "SLUICE_BIN is not set (run the test through ctest)");
    const char *argv[48] = {bin, "--data-dir", p->data_dir, "--rest-port", "0", "--ws-port", "0",
                            "--rest-bind", "127.0.0.1"};
    int argc = 9;
    for (int i = 0; p->extra[i] && argc < 46; i++)
        argv[argc++] = p->extra[i];
    argv[argc] = NULL;
    int fd = open(p->stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_msg(fd >= 0, "cannot create %s", p->stderr_path);
    pid_t pid = fork();
    ck_assert_msg(pid >= 0, "fork failed");
    if (pid == 0) {
        dup2(fd, 2);
        int dn = open("/dev/null", O_RDWR);
        dup2(dn, 0);
        dup2(dn, 1);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(fd);
    p->pid = pid;
}

static void wait_listening(struct sl_proc *p)
{
    int64_t deadline = sl_test_mono_ms() + 20000;
    for (;;) {
        char *s = sl_proc_stderr(p);
        const char *l = strstr(s, "sluice listening rest_port=");
        unsigned rp = 0, wp = 0;
        if (l && strchr(l, '\n') && sscanf(l, "sluice listening rest_port=%u ws_port=%u", &rp, &wp) == 2) {
            free(s);
            p->rest_port = (uint16_t)rp;
            p->ws_port = (uint16_t)wp;
            snprintf(p->base, sizeof p->base, "http://127.0.0.1:%u", rp);
            return;
        }
        int st;
        if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
            p->pid = 0;
            ck_abort_msg("sluice exited before listening (status %d); stderr:\n%s", st, s);
        }
        if (sl_test_mono_ms() > deadline)
            ck_abort_msg("sluice did not print its listening line within 20 s; stderr:\n%s", s);
        free(s);
        usleep(10000);
    }
}

void sl_proc_start(struct sl_proc *p, const char *data_dir, const char *const *extra)
{
    memset(p, 0, sizeof *p);
    if (data_dir) {
        p->data_dir = strdup(data_dir);
        ck_assert_int_ne(asprintf(&p->stderr_path, "%s.stderr", data_dir), -1);
    } else {
        p->data_dir = sl_test_tmpdir();
        ck_assert_int_ne(asprintf(&p->stderr_path, "%s.owned.stderr", p->data_dir), -1);
    }
    for (int i = 0; extra && extra[i] && i < 31; i++)
        p->extra[i] = strdup(extra[i]);
    spawn(p);
    wait_listening(p);
}

bool sl_proc_alive(struct sl_proc *p)
{
    if (!p->pid)
        return false;
    int st;
    if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
        p->pid = 0;
        return false;
    }
    return true;
}

void sl_proc_stop(struct sl_proc *p)
{
    ck_assert_msg(p->pid > 0, "sluice is not running");
    kill(p->pid, SIGTERM);
    int64_t deadline = sl_test_mono_ms() + 20000;
    int st = 0;
    for (;;) {
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid)
            break;
        if (sl_test_mono_ms() > deadline) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &st, 0);
            p->pid = 0;
            char *s = sl_proc_stderr(p);
            ck_abort_msg("sluice did not stop within 20 s of SIGTERM; stderr:\n%s", s);
        }
        usleep(5000);
    }
    p->pid = 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char *s = sl_proc_stderr(p);
        ck_abort_msg("sluice did not exit cleanly (status 0x%x); stderr:\n%s", st, s);
    }
}

void sl_proc_kill(struct sl_proc *p)
{
    if (p->pid <= 0)
        return;
    kill(p->pid, SIGKILL);
    int st;
    waitpid(p->pid, &st, 0);
    p->pid = 0;
}

void sl_proc_restart(struct sl_proc *p, bool hard)
{
    if (hard)
        sl_proc_kill(p);
    else
        sl_proc_stop(p);
    spawn(p);
    wait_listening(p);
}

void sl_proc_start_again(struct sl_proc *p)
{
    ck_assert_msg(p->pid == 0, "sluice is still running");
    spawn(p);
    wait_listening(p);
}

void sl_proc_launch(struct sl_proc *p)
{
    ck_assert_msg(p->pid == 0, "sluice is still running");
    spawn(p);
}

void sl_proc_free(struct sl_proc *p)
{
    if (p->pid > 0)
        sl_proc_kill(p);
    if (owns_dir(p)) {
        sl_test_rmrf(p->data_dir);
        unlink(p->stderr_path);
    }
    for (int i = 0; p->extra[i]; i++)
        free(p->extra[i]);
    free(p->data_dir);
    free(p->stderr_path);
    memset(p, 0, sizeof *p);
}

/* ---- libcurl ---- */

struct grow {
    char *s;
    size_t n;
};

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct grow *g = ud;
    size_t k = size * nmemb;
    g->s = realloc(g->s, g->n + k + 1);
    memcpy(g->s + g->n, ptr, k);
    g->n += k;
    g->s[g->n] = '\0';
    return k;
}

void sl_resp_fini(struct sl_resp *r)
{
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof *r);
}

const char *sl_resp_header(const struct sl_resp *r, const char *name, char *buf, size_t buflen)
{
    size_t nl = strlen(name);
    for (const char *l = r->headers; l && *l;) {
        const char *e = strstr(l, "\r\n");
        if (!e)
            break;
        if ((size_t)(e - l) > nl && !strncasecmp(l, name, nl) && l[nl] == ':') {
            const char *v = l + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(buf, buflen, "%.*s", (int)(e - v), v);
            return buf;
        }
        l = e + 2;
    }
    return NULL;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
}

json_t *sl_resp_json(const struct sl_resp *r)
{
    return r->body ? json_loadb(r->body, r->len, JSON_DECODE_ANY, NULL) : NULL;
}

long sl_http_req(const char *method, const char *url, const char *content_type, const char *body, size_t len,
                 const char *const *headers, struct sl_resp *out)
{
    pthread_once(&curl_once, curl_init); /* tests call this from several threads */
    CURL *c = curl_easy_init();
    struct grow b = {0}, h = {0};
    struct curl_slist *hl = NULL;
    char ct[256];
    if (content_type) {
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        hl = curl_slist_append(hl, ct);
    } else if (body) {
        hl = curl_slist_append(hl, "Content-Type:"); /* none: curl would send a form type */
    }
    hl = curl_slist_append(hl, "Expect:");
    for (int i = 0; headers && headers[i]; i++)
        hl = curl_slist_append(hl, headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(len == (size_t)-1 ? strlen(body) : len));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    ck_assert_msg(rc == CURLE_OK, "%s %s: %s", method, url, curl_easy_strerror(rc));
    memset(out, 0, sizeof *out);
    out->status = status;
    out->body = b.s ? b.s : strdup("");
    out->len = b.n;
    out->headers = h.s ? h.s : strdup("");
    return status;
}

void sl_http(const char *method, const char *url, const char *content_type, const char *body, long *status,
             char **resp_body)
{
    struct sl_resp r;
    sl_http_req(method, url, content_type, body, (size_t)-1, NULL, &r);
    if (status)
        *status = r.status;
    if (resp_body) {
        *resp_body = r.body;
        r.body = NULL;
    }
    sl_resp_fini(&r);
}

long sl_http_json(struct sl_proc *p, const char *method, const char *path, const char *body, json_t **out)
{
    char url[2048];
    snprintf(url, sizeof url, "%s%s", p->base, path);
    struct sl_resp r;
    long st = sl_http_req(method, url, body ? "application/json" : NULL, body, (size_t)-1, NULL, &r);
    if (out)
        *out = sl_resp_json(&r);
    sl_resp_fini(&r);
    return st;
}

char *sl_proc_cluster_id(struct sl_proc *p)
{
    json_t *j = NULL;
    ck_assert_int_eq(sl_http_json(p, "GET", "/v1/info", NULL, &j), 200);
    const char *c = json_string_value(json_object_get(j, "cluster_id"));
    ck_assert_ptr_nonnull(c);
    char *s = strdup(c);
    json_decref(j);
    return s;
}

long sl_proc_status(pid_t pid, const char *name)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    long v = -1;
    size_t n = strlen(name);
    while (v < 0 && fgets(line, sizeof line, f))
        if (!strncmp(line, name, n) && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    fclose(f);
    ck_assert_msg(v >= 0, "%s has no %s", path, name);
    return v;
}

int sl_proc_run(const char *const *args, char **out)
{
    char *dir = sl_test_tmpdir();
    char *path = sl_test_path(dir, "out");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        const char *argv[32] = {getenv("SLUICE_BIN")};
        for (int i = 0; args[i] && i < 30; i++)
            argv[i + 1] = args[i];
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 65536);
    size_t n = f ? fread(buf, 1, 65535, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    *out = buf;
    sl_test_rmrf(dir);
    free(dir);
    free(path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
}
