/* api/http/refuse.c: the verdicts on a first head and the answers' bytes (a parseable HTTP/1.1 response with a
 * JSON error body and Connection: close), for every refusal. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http/refuse.h"

static enum sl_head_check check(const char *s, bool full, enum sl_refusal *why)
{
    struct sl_http1_head h;
    return sl_refuse_check_head(s, strlen(s), full, &h, why);
}

START_TEST(first_head_verdicts)
{
    enum sl_refusal why = SL_REFUSE_BUSY;
    ck_assert_int_eq(check("GET / HTTP/1.1\r\nHost: x\r\n\r\n", false, &why), SL_HEAD_OK);
    ck_assert_int_eq(check("GET / HTTP/1.1\r\nHost: x\r\n", false, &why), SL_HEAD_MORE);
    ck_assert_int_eq(check("GET / HTTP/1.1\r\nHost: x\r\n", true, &why), SL_HEAD_REFUSED);
    ck_assert_int_eq(why, SL_REFUSE_TOO_LARGE);
    ck_assert_int_eq(check("GET / HTTP/3.0\r\n\r\n", false, &why), SL_HEAD_REFUSED);
    ck_assert_int_eq(why, SL_REFUSE_VERSION);
    ck_assert_int_eq(check("GET /\r\n\r\n", false, &why), SL_HEAD_REFUSED);
    ck_assert_int_eq(why, SL_REFUSE_MALFORMED);
    ck_assert_int_eq(check("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", false, &why),
                     SL_HEAD_REFUSED);
    ck_assert_int_eq(why, SL_REFUSE_FRAMING);
    /* a malformed line is refused at once, even before the head ends */
    ck_assert_int_eq(check("GET / HTTP/1.1\r\nBad Name: v\r\n", false, &why), SL_HEAD_REFUSED);
    ck_assert_int_eq(why, SL_REFUSE_MALFORMED);
}
END_TEST

START_TEST(answers_are_http_with_a_json_error_body)
{
    static const enum sl_refusal all[] = {SL_REFUSE_MALFORMED, SL_REFUSE_FRAMING, SL_REFUSE_TOO_LARGE,
                                          SL_REFUSE_VERSION,   SL_REFUSE_TIMEOUT, SL_REFUSE_BUSY};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        const struct sl_refuse_answer *a = sl_refuse_get(all[i]);
        char buf[1024];
        size_t n = sl_refuse_format(all[i], buf, sizeof buf);
        ck_assert_uint_lt(n, sizeof buf - 1);
        unsigned status = 0;
        ck_assert_int_eq(sscanf(buf, "HTTP/1.1 %u ", &status), 1);
        ck_assert_uint_eq(status, a->status);
        ck_assert_ptr_nonnull(strstr(buf, "\r\nConnection: close\r\n"));
        ck_assert_ptr_nonnull(strstr(buf, "\r\nContent-Type: application/json\r\n"));
        const char *body = strstr(buf, "\r\n\r\n") + 4;
        long cl = strtol(strstr(buf, "Content-Length: ") + 16, NULL, 10);
        ck_assert_int_eq(cl, (long)strlen(body));
        json_t *j = json_loads(body, 0, NULL);
        ck_assert_ptr_nonnull(j);
        ck_assert_int_eq(json_integer_value(json_object_get(j, "error_code")), a->error_code);
        ck_assert_str_eq(json_string_value(json_object_get(j, "message")), a->message);
        json_decref(j);
    }
    ck_assert_int_eq(sl_refuse_get(SL_REFUSE_TOO_LARGE)->error_code, 43101);
    ck_assert_uint_eq(sl_refuse_get(SL_REFUSE_TIMEOUT)->status, 408);
    ck_assert_uint_eq(sl_refuse_get(SL_REFUSE_BUSY)->status, 503);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("refuse");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, first_head_verdicts);
    tcase_add_test(tc, answers_are_http_with_a_json_error_body);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
