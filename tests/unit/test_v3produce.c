/* api/rest/v3produce.c without a broker: the paths that produce nothing (an empty body, a framing error). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "api/rest/v3produce.h"

static void nop(void *arg) { (void)arg; }

static struct sl_v3p *new_state(void)
{
    struct sl_v3hooks hooks = {nop, nop, nop, NULL};
    struct sl_v3p *p = sl_v3p_new(NULL, &hooks); /* no api: nothing here may produce */
    ck_assert_ptr_nonnull(p);
    p->max_bytes = 1024;
    return p;
}

/* An empty body ends with nothing buffered: the buffer was never allocated (clang UBSan caught NULL + 0). */
START_TEST(end_of_an_empty_body_adds_no_report)
{
    struct sl_v3p *p = new_state();
    sl_v3p_end(p);
    ck_assert_uint_eq(p->total, 0);
    ck_assert(sl_v3p_done(p));
    sl_v3p_free(p);
}
END_TEST

START_TEST(separators_only_then_end_adds_no_report)
{
    struct sl_v3p *p = new_state();
    ck_assert(!sl_v3p_feed(p, " ,\r\n\t", 5));
    sl_v3p_end(p);
    ck_assert_uint_eq(p->total, 0);
    sl_v3p_free(p);
}
END_TEST

START_TEST(text_that_cannot_start_an_object_fails_once_and_stops)
{
    struct sl_v3p *p = new_state();
    ck_assert(sl_v3p_feed(p, "[1]", 3));
    ck_assert(sl_v3p_feed(p, "{}", 2)); /* ignored: parsing stopped */
    sl_v3p_end(p);
    ck_assert_uint_eq(p->total, 1);
    ck_assert_uint_eq(sl_v3p_status(p, 0), 400);
    struct sl_buf out = {0};
    ck_assert_uint_eq(sl_v3p_format(p, &out, 4096, false), 1);
    ck_assert(memmem(out.base, out.len, "expected a JSON object", 22) != NULL);
    sl_buf_fini(&out);
    sl_v3p_free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("v3produce");
    TCase *tc = tcase_create("v3produce");
    tcase_add_test(tc, end_of_an_empty_body_adds_no_report);
    tcase_add_test(tc, separators_only_then_end_adds_no_report);
    tcase_add_test(tc, text_that_cannot_start_an_object_fails_once_and_stops);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
