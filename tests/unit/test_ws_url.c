/* api/ws/ws_url.c: WebSocket targets (/ws/v1/topics/{topic}[/produce] and their
 * query arguments) and the `from` values shared with SSE: defaults, every
 * argument, each refusal with its code and message. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/ws/ws.h"
#include "storage/err.h"
#include "tests/support/testutil.h"

static struct sl_ws_target t;
static char err[256];

static int parse(const char *path, const char *const *args, size_t n)
{
    err[0] = '\0';
    return sl_ws_target_parse(path, args, n, &t, err, sizeof err);
}

START_TEST(a_bare_consume_path_gets_the_defaults)
{
    ck_assert_int_eq(parse("/ws/v1/topics/orders", NULL, 0), 0);
    ck_assert_int_eq(t.kind, SL_WS_CONSUME);
    ck_assert_str_eq(t.topic, "orders");
    ck_assert_int_eq(t.from.kind, SL_FROM_LATEST);
    ck_assert(!t.from_set);
    ck_assert_int_eq(t.partition, -1);
    ck_assert_str_eq(t.group, "");
    ck_assert_int_eq(t.fmt, SL_FMT_JSON);
    ck_assert_int_eq(t.max_in_flight, 0);
    ck_assert(!t.pull);
}
END_TEST

START_TEST(every_argument_is_applied)
{
    const char *a[] = {"from=earliest",    "partition=3", "group=g1",       "format=binary",
                       "max_in_flight=64", "mode=pull",   "cachebuster=123"};
    ck_assert_int_eq(parse("/ws/v1/topics/a.b-c_d", a, 7), 0);
    ck_assert_str_eq(t.topic, "a.b-c_d");
    ck_assert_int_eq(t.from.kind, SL_FROM_EARLIEST);
    ck_assert(t.from_set);
    ck_assert_int_eq(t.partition, 3);
    ck_assert_str_eq(t.group, "g1");
    ck_assert_int_eq(t.fmt, SL_FMT_BINARY);
    ck_assert_int_eq(t.max_in_flight, 64);
    ck_assert(t.pull);
    const char *b[] = {"mode=push", "format=text", "from=time:1700000000000"};
    ck_assert_int_eq(parse("/ws/v1/topics/x/produce", b, 3), 0);
    ck_assert_int_eq(t.kind, SL_WS_PRODUCE);
    ck_assert(!t.pull);
    ck_assert_int_eq(t.fmt, SL_FMT_TEXT);
    ck_assert_int_eq(t.from.kind, SL_FROM_TIME);
    ck_assert_int_eq(t.from.value, 1700000000000);
}
END_TEST

START_TEST(unknown_paths_are_enoent)
{
    const char *paths[] = {"/", "/ws/v1/topic/x", "/ws/v2/topics/x", "/ws/v1/topics/x/consume",
                           "/ws/v1/topics/x/produce/more"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        ck_assert_int_eq(parse(paths[i], NULL, 0), -ENOENT);
        ck_assert_msg(strncmp(err, "No such endpoint: ", 18) == 0, "%s: %s", paths[i], err);
    }
}
END_TEST

START_TEST(bad_topic_names_are_ebadname)
{
    ck_assert_int_eq(parse("/ws/v1/topics/", NULL, 0), SL_EBADNAME);
    ck_assert_str_eq(err, "Invalid topic name.");
    ck_assert_int_eq(parse("/ws/v1/topics/a b", NULL, 0), SL_EBADNAME);
    ck_assert_str_eq(err, "Invalid topic name 'a b'.");
    char p[400] = "/ws/v1/topics/";
    memset(p + strlen(p), 'a', SL_TOPIC_NAME_MAX + 1);
    ck_assert_int_eq(parse(p, NULL, 0), SL_EBADNAME);
    p[strlen("/ws/v1/topics/") + SL_TOPIC_NAME_MAX] = '\0'; /* exactly the longest name */
    ck_assert_int_eq(parse(p, NULL, 0), 0);
}
END_TEST

START_TEST(bad_values_are_einval_and_named)
{
    static const char *bad[] = {
        "from=soon", "from=-1",     "from=time:",      "from=12x",  "partition=-1", "partition=2147483648",
        "group=",    "format=avro", "max_in_flight=0", "mode=poll", "partition"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *a[] = {bad[i]};
        ck_assert_msg(parse("/ws/v1/topics/t", a, 1) == -EINVAL, "%s accepted", bad[i]);
        ck_assert_msg(strstr(err, "Invalid value for query parameter '") == err, "%s: %s", bad[i], err);
    }
    const char *a[] = {"partition=x"};
    parse("/ws/v1/topics/t", a, 1);
    ck_assert_str_eq(err, "Invalid value for query parameter 'partition': 'x'.");
    char g[SL_GROUP_NAME_MAX + 16] = "group=";
    memset(g + 6, 'g', SL_GROUP_NAME_MAX + 1);
    const char *b[] = {g};
    ck_assert_int_eq(parse("/ws/v1/topics/t", b, 1), -EINVAL);
}
END_TEST

START_TEST(from_values)
{
    struct sl_from f;
    ck_assert_int_eq(sl_from_parse("latest", &f), 0);
    ck_assert_int_eq(f.kind, SL_FROM_LATEST);
    ck_assert_int_eq(sl_from_parse("0", &f), 0);
    ck_assert_int_eq(f.kind, SL_FROM_OFFSET);
    ck_assert_int_eq(f.value, 0);
    ck_assert_int_eq(sl_from_parse("9223372036854775807", &f), 0);
    ck_assert_int_eq(f.value, INT64_MAX);
    ck_assert_int_eq(sl_from_parse("9223372036854775808", &f), -EINVAL);
    ck_assert_int_eq(sl_from_parse("", &f), -EINVAL);
    ck_assert_int_eq(sl_from_parse("+5", &f), -EINVAL);
    ck_assert_int_eq(sl_from_parse(" 5", &f), -EINVAL);
    ck_assert_int_eq(sl_from_parse("time:-5", &f), -EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ws_url");
    TCase *tc = tcase_create("ws_url");
    tcase_add_test(tc, a_bare_consume_path_gets_the_defaults);
    tcase_add_test(tc, every_argument_is_applied);
    tcase_add_test(tc, unknown_paths_are_enoent);
    tcase_add_test(tc, bad_topic_names_are_ebadname);
    tcase_add_test(tc, bad_values_are_einval_and_named);
    tcase_add_test(tc, from_values);
    suite_add_tcase(s, tc);
    return sl_test_run_suite(s);
}
