/* Unit tests for server/logging.c: level parsing, the line format and the threshold. Each test captures
 * stderr through a pipe dup2'ed over fd 2 (Check's fork mode keeps that inside the test's process). */
#include <check.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/logging.h"
#include "storage/err.h"

struct capture {
    int pipe_rd;
    int saved_stderr;
};

static void capture_start(struct capture *c)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    c->saved_stderr = dup(STDERR_FILENO);
    ck_assert_int_ge(c->saved_stderr, 0);
    ck_assert_int_ge(dup2(fds[1], STDERR_FILENO), 0);
    close(fds[1]);
    c->pipe_rd = fds[0];
}

/* Restores stderr and returns everything written meanwhile (malloc'd, NUL-terminated). The pipe must hold it
 * all (64 KiB by default on Linux), which the tests keep well under. */
static char *capture_end(struct capture *c)
{
    dup2(c->saved_stderr, STDERR_FILENO);
    close(c->saved_stderr);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    ck_assert_ptr_nonnull(buf);
    ssize_t r;
    while ((r = read(c->pipe_rd, buf + len, cap - len)) > 0)
        len += (size_t)r;
    close(c->pipe_rd);
    buf[len] = '\0';
    return buf;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

START_TEST(parse_level_accepts_the_four_names)
{
    enum sl_level lvl = SL_LEVEL_ERROR;
    ck_assert_int_eq(sl_logging_parse_level("debug", &lvl), 0);
    ck_assert_int_eq(lvl, SL_LEVEL_DEBUG);
    ck_assert_int_eq(sl_logging_parse_level("info", &lvl), 0);
    ck_assert_int_eq(lvl, SL_LEVEL_INFO);
    ck_assert_int_eq(sl_logging_parse_level("WARN", &lvl), 0);
    ck_assert_int_eq(lvl, SL_LEVEL_WARN);
    ck_assert_int_eq(sl_logging_parse_level("error", &lvl), 0);
    ck_assert_int_eq(lvl, SL_LEVEL_ERROR);
}
END_TEST

START_TEST(parse_level_rejects_others)
{
    enum sl_level lvl = SL_LEVEL_INFO;
    ck_assert_int_eq(sl_logging_parse_level("", &lvl), SL_ECONFIG);
    ck_assert_int_eq(sl_logging_parse_level("verbose", &lvl), SL_ECONFIG);
    ck_assert_int_eq(sl_logging_parse_level("info ", &lvl), SL_ECONFIG);
    ck_assert_int_eq(sl_logging_parse_level(NULL, &lvl), SL_ECONFIG);
    ck_assert_int_eq(lvl, SL_LEVEL_INFO);
}
END_TEST

START_TEST(write_formats_utc_timestamp_level_and_message)
{
    struct capture c;
    sl_logging_set_level(SL_LEVEL_DEBUG);
    time_t before = time(NULL);
    capture_start(&c);
    sl_info("hello %d", 42);
    sl_error("bad thing");
    char *out = capture_end(&c);
    time_t after = time(NULL);

    regex_t re;
    ck_assert_int_eq(regcomp(&re,
                             "^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\\.[0-9]{3}Z "
                             "INFO  hello 42\n"
                             "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z ERROR bad thing\n$",
                             REG_EXTENDED),
                     0);
    regmatch_t m[7];
    ck_assert_msg(regexec(&re, out, 7, m, 0) == 0, "unexpected output: '%s'", out);
    regfree(&re);
    struct tm tm = {0};
    ck_assert_ptr_nonnull(strptime(out, "%Y-%m-%dT%H:%M:%S", &tm));
    time_t logged = timegm(&tm);
    ck_assert_msg(logged >= before - 1 && logged <= after + 1, "timestamp not UTC now: '%s'", out);
    free(out);
}
END_TEST

START_TEST(write_drops_lines_below_threshold)
{
    struct capture c;
    sl_logging_set_level(SL_LEVEL_WARN);
    capture_start(&c);
    sl_debug("debug line");
    sl_info("info line");
    sl_warn("warn line");
    sl_error("error line");
    char *out = capture_end(&c);
    ck_assert_uint_eq(count_lines(out), 2);
    ck_assert_ptr_null(strstr(out, "debug line"));
    ck_assert_ptr_null(strstr(out, "info line"));
    ck_assert_ptr_nonnull(strstr(out, "WARN  warn line\n"));
    ck_assert_ptr_nonnull(strstr(out, "ERROR error line\n"));
    free(out);
}
END_TEST

START_TEST(write_truncates_long_lines_to_one_line)
{
    struct capture c;
    size_t n = 20000;
    char *big = malloc(n + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, 'x', n);
    big[n] = '\0';
    sl_logging_set_level(SL_LEVEL_INFO);
    capture_start(&c);
    sl_info("%s", big);
    char *out = capture_end(&c);
    size_t len = strlen(out);
    ck_assert_uint_eq(count_lines(out), 1);
    ck_assert_uint_le(len, 4096);
    ck_assert_str_eq(out + len - 4, "...\n");
    free(out);
    free(big);
}
END_TEST

START_TEST(write_keeps_one_newline_when_message_has_one)
{
    struct capture c;
    sl_logging_set_level(SL_LEVEL_INFO);
    capture_start(&c);
    sl_info("ends with newline\n");
    char *out = capture_end(&c);
    ck_assert_uint_eq(count_lines(out), 1);
    ck_assert_ptr_nonnull(strstr(out, "INFO  ends with newline\n"));
    free(out);
}
END_TEST

START_TEST(reporter_forwards_to_the_process_log)
{
    struct capture c;
    sl_logging_set_level(SL_LEVEL_INFO);
    struct sl_reporter lg = sl_logging_reporter();
    ck_assert_ptr_nonnull(lg.fn);
    capture_start(&c);
    lg.fn(lg.ctx, SL_LEVEL_WARN, "segment cut at 100%");
    lg.fn(lg.ctx, SL_LEVEL_DEBUG, "hidden");
    char *out = capture_end(&c);
    ck_assert_uint_eq(count_lines(out), 1);
    ck_assert_ptr_nonnull(strstr(out, "WARN  segment cut at 100%\n"));
    free(out);
}
END_TEST

static Suite *logging_suite(void)
{
    Suite *s = suite_create("logging");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, parse_level_accepts_the_four_names);
    tcase_add_test(tc, parse_level_rejects_others);
    tcase_add_test(tc, write_formats_utc_timestamp_level_and_message);
    tcase_add_test(tc, write_drops_lines_below_threshold);
    tcase_add_test(tc, write_truncates_long_lines_to_one_line);
    tcase_add_test(tc, write_keeps_one_newline_when_message_has_one);
    tcase_add_test(tc, reporter_forwards_to_the_process_log);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(logging_suite());
    srunner_run_all(sr, CK_ENV);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}
