/* api/http/http1.c: request heads (complete, incomplete, malformed) and the chunked decoder, fed in every split. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http/http1.h"

START_TEST(parses_a_complete_head)
{
    const char *s = "\r\nPOST /v3/clusters/c/topics/t/records?x=1 HTTP/1.1\r\nHost: a\r\n"
                    "Transfer-Encoding: gzip,  Chunked \r\nexpect:100-continue\nContent-Type: application/json\r\n\r\nBODY";
    struct sl_http1_head h;
    ck_assert_int_eq(sl_http1_parse_head(s, strlen(s), &h), 1);
    ck_assert_uint_eq(h.len, strlen(s) - 4);
    ck_assert_int_eq((int)h.method_len, 4);
    ck_assert(!memcmp(h.method, "POST", 4));
    ck_assert_int_eq((int)h.target_len, (int)strlen("/v3/clusters/c/topics/t/records?x=1"));
    ck_assert_int_eq(h.minor, 1);
    ck_assert_uint_eq(h.nfields, 4);
    ck_assert(sl_http1_has_token(&h, "transfer-encoding", "chunked"));
    ck_assert(sl_http1_has_token(&h, "Transfer-Encoding", "gzip"));
    ck_assert(!sl_http1_has_token(&h, "Transfer-Encoding", "chunk"));
    ck_assert(sl_http1_has_token(&h, "Expect", "100-continue"));
    const struct sl_http1_field *f = sl_http1_field(&h, "CONTENT-TYPE");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq((int)f->value_len, 16);
    ck_assert(!memcmp(f->value, "application/json", 16));
    ck_assert_ptr_null(sl_http1_field(&h, "Origin"));
}
END_TEST

START_TEST(incomplete_heads_ask_for_more)
{
    const char *s = "GET /healthy HTTP/1.1\r\nHost: a\r\n\r\n";
    struct sl_http1_head h;
    for (size_t n = 0; n < strlen(s); n++)
        ck_assert_int_eq(sl_http1_parse_head(s, n, &h), 0);
    ck_assert_int_eq(sl_http1_parse_head(s, strlen(s), &h), 1);
}
END_TEST

START_TEST(malformed_heads_are_rejected)
{
    static const char *const bad[] = {
        "GET\r\n\r\n", "GET /x\r\n\r\n", "GET  HTTP/1.1\r\n\r\n", "GET /x HTTP/2.0\r\n\r\n",
        "GET /x HTTP/1.1\r\nNoColon\r\n\r\n", "GET /x HTTP/1.1\r\n: empty\r\n\r\n",
        "GET /x HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", "GET /x HTTP/1.1\r\nBad Name: v\r\n\r\n",
    };
    struct sl_http1_head h;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(sl_http1_parse_head(bad[i], strlen(bad[i]), &h) == -EBADMSG, "accepted: %s", bad[i]);
    /* too many fields */
    char many[8192] = "GET / HTTP/1.1\r\n";
    for (int i = 0; i <= SL_HTTP1_MAX_HDRS; i++)
        strcat(many, "A: b\r\n");
    strcat(many, "\r\n");
    ck_assert_int_eq(sl_http1_parse_head(many, strlen(many), &h), -EBADMSG);
}
END_TEST

/* Decodes s fed in pieces of at most step bytes; returns the data, *used the input consumed. */
static char *decode_split(const char *s, size_t step, ssize_t *used, bool *done)
{
    struct sl_chunked c = {0};
    size_t n = strlen(s), at = 0, o = 0;
    char *out = calloc(1, n + 1), *tmp = malloc(n + 1);
    *used = 0;
    while (at < n && !c.done) {
        size_t k = n - at < step ? n - at : step, got;
        memcpy(tmp, s + at, k);
        ssize_t u = sl_chunked_decode(&c, tmp, k, tmp, &got); /* in place */
        memcpy(out + o, tmp, got);
        o += got;
        if (u < 0) {
            *used = u;
            break;
        }
        at += (size_t)u;
        *used = (ssize_t)at;
    }
    *done = c.done;
    free(tmp);
    return out;
}

static bool framing(const char *fields)
{
    char head[1024];
    snprintf(head, sizeof head, "POST /x HTTP/1.1\r\n%s\r\n", fields);
    struct sl_http1_head h;
    ck_assert_int_eq(sl_http1_parse_head(head, strlen(head), &h), 1);
    return sl_http1_head_framing_ok(&h);
}

START_TEST(framing_follows_rfc9112_section_6_3)
{
    ck_assert(framing(""));
    ck_assert(framing("Content-Length: 12\r\n"));
    ck_assert(framing("Content-Length: 12\r\ncontent-length: 12\r\n")); /* identical: accepted */
    ck_assert(framing("Transfer-Encoding: chunked\r\n"));
    ck_assert(framing("Transfer-Encoding:  Chunked \r\n"));
    ck_assert(!framing("Content-Length: 12\r\nContent-Length: 13\r\n"));
    ck_assert(!framing("Content-Length: 12, 12\r\n"));
    ck_assert(!framing("Content-Length: -1\r\n"));
    ck_assert(!framing("Content-Length:\r\n"));
    ck_assert(!framing("Content-Length: 1234567890123456789\r\n"));
    ck_assert(!framing("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n"));
    ck_assert(!framing("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n"));
    ck_assert(!framing("Transfer-Encoding: gzip\r\nContent-Length: 3\r\n"));
    ck_assert(!framing("Transfer-Encoding: gzip\r\n"));
    ck_assert(!framing("Transfer-Encoding: gzip, chunked\r\n"));
    ck_assert(!framing("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"));
    ck_assert(!framing("Transfer-Encoding:\r\n"));
    const char *v10 = "POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n";
    struct sl_http1_head h;
    ck_assert_int_eq(sl_http1_parse_head(v10, strlen(v10), &h), 1);
    ck_assert(!sl_http1_head_framing_ok(&h));
}
END_TEST

START_TEST(malformed_heads_say_why)
{
    struct sl_http1_head h;
    ck_assert_int_eq(sl_http1_parse_head("GET /x HTTP/2.0\r\n\r\n", 19, &h), -EBADMSG);
    ck_assert_int_eq(h.error, SL_HTTP1_VERSION);
    ck_assert_int_eq(sl_http1_parse_head("GET /x HTTX/1.1\r\n\r\n", 19, &h), -EBADMSG);
    ck_assert_int_eq(h.error, SL_HTTP1_MALFORMED);
    ck_assert_int_eq(sl_http1_parse_head("GET /x HTTP/1.1\r\nA b\r\n\r\n", 24, &h), -EBADMSG);
    ck_assert_int_eq(h.error, SL_HTTP1_MALFORMED);
}
END_TEST

START_TEST(chunked_decodes_in_every_split)
{
    const char *s = "5\r\nhello\r\n1;ext=1\r\n \r\nA\n0123456789\n0\r\nTrailer: x\r\n\r\nNEXT";
    for (size_t step = 1; step <= strlen(s); step++) {
        ssize_t used;
        bool done;
        char *out = decode_split(s, step, &used, &done);
        ck_assert_msg(done, "step %zu", step);
        ck_assert_str_eq(out, "hello 0123456789");
        ck_assert_int_eq(used, (ssize_t)(strlen(s) - 4)); /* NEXT belongs to the next request */
        free(out);
    }
}
END_TEST

START_TEST(chunked_rejects_bad_framing)
{
    static const char *const bad[] = {"zz\r\n", "\r\n", "5\r\nhelloX\r\n", "5x\r\nhello\r\n",
                                      "20000000000\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ssize_t used;
        bool done;
        free(decode_split(bad[i], 64, &used, &done));
        ck_assert_msg(used == -EBADMSG && !done, "accepted: %s", bad[i]);
    }
    /* incomplete is not an error: it waits */
    ssize_t used;
    bool done;
    char *out = decode_split("5\r\nhel", 64, &used, &done);
    ck_assert_str_eq(out, "hel");
    ck_assert(!done);
    ck_assert_int_eq(used, 6);
    free(out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http1");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, parses_a_complete_head);
    tcase_add_test(tc, incomplete_heads_ask_for_more);
    tcase_add_test(tc, malformed_heads_are_rejected);
    tcase_add_test(tc, framing_follows_rfc9112_section_6_3);
    tcase_add_test(tc, malformed_heads_say_why);
    tcase_add_test(tc, chunked_decodes_in_every_split);
    tcase_add_test(tc, chunked_rejects_bad_framing);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
