/* WebSocket connection limit (ws.max.connections): a socket over the limit is refused cleanly (error message,
 * close 4503) while the server and the sockets within the limit go on. */
#include <check.h>
#include <jansson.h>
#include <string.h>

#include "tests/support/sluice_proc.h"
#include "tests/support/ws_client.h"
#include "tests/support/ws_testutil.h"

static struct sl_proc proc;

static void setup(void)
{
    static const char *const extra[] = {"--set", "ws.max.connections=2", NULL};
    sl_proc_start(&proc, NULL, extra);
    sl_wt_create_topic(&proc, "t", 1);
}

static void teardown(void)
{
    sl_proc_free(&proc);
}

START_TEST(a_socket_over_the_limit_is_refused_cleanly)
{
    struct sl_wscl *a = sl_wt_connect(&proc, "/ws/v1/topics/t?from=earliest");
    struct sl_wscl *b = sl_wt_connect(&proc, "/ws/v1/topics/t?from=earliest");
    sl_wscl_service(a, 100);
    sl_wscl_service(b, 100);
    struct sl_wscl *c = sl_wscl_connect(proc.ws_port, "/ws/v1/topics/t?from=earliest", NULL, 5000);
    ck_assert_ptr_nonnull(c); /* accepted (a browser sees no HTTP status), then told why and closed */
    json_t *err = sl_wt_expect(c, "error", 5000);
    ck_assert_ptr_nonnull(err);
    ck_assert(json_is_string(json_object_get(err, "message")));
    json_decref(err);
    ck_assert(sl_wscl_wait_closed(c, 5000));
    ck_assert_int_eq(sl_wscl_close_code(c), 4503);
    sl_wscl_free(c);
    /* the sockets within the limit still get records */
    sl_wt_produce(&proc, "t", "[{\"value\":\"x\"}]");
    json_t *ra = sl_wt_records(a, 1, 5000, NULL), *rb = sl_wt_records(b, 1, 5000, NULL);
    ck_assert_uint_eq(json_array_size(ra), 1);
    ck_assert_uint_eq(json_array_size(rb), 1);
    json_decref(ra);
    json_decref(rb);
    /* a slot freed is a slot usable again */
    sl_wscl_free(a);
    struct sl_wscl *d = NULL;
    for (int i = 0; i < 50 && !d; i++) {
        d = sl_wscl_connect(proc.ws_port, "/ws/v1/topics/t?from=earliest", NULL, 5000);
        if (d && sl_wscl_wait_closed(d, 300)) {
            sl_wscl_free(d);
            d = NULL;
        }
    }
    ck_assert_ptr_nonnull(d);
    json_t *rd = sl_wt_records(d, 1, 5000, NULL);
    ck_assert_uint_eq(json_array_size(rd), 1);
    json_decref(rd);
    sl_wscl_free(d);
    sl_wscl_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ws_limits");
    TCase *tc = tcase_create("ws_limits");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, a_socket_over_the_limit_is_refused_cleanly);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
