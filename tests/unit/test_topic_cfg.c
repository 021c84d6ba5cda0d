/* Topic configs: parsing, limits, reset to defaults, formatting. */
#include <check.h>
#include <string.h>

#include "server/broker.h"
#include "storage/err.h"

static const struct sl_topic_cfg dflt = {604800000, -1, 1073741824, 604800000, 1048588, "delete"};
static char err[256];

START_TEST(topic_cfg_sets_and_formats_every_honoured_key)
{
    struct sl_topic_cfg c = dflt;
    const char *vals[] = {"delete", "2048", "100", "1000", "4096", "60000"};
    for (int i = 0; sl_topic_config_names[i]; i++) {
        char buf[32];
        ck_assert_int_eq(sl_topic_cfg_set(&c, &dflt, sl_topic_config_names[i], vals[i], err, sizeof err), 0);
        ck_assert_int_eq(sl_topic_cfg_get(&c, sl_topic_config_names[i], buf, sizeof buf), 0);
        ck_assert_str_eq(buf, vals[i]);
    }
    ck_assert_int_eq(c.retention_ms, 1000);
    ck_assert_int_eq(c.max_message_bytes, 2048);
}
END_TEST

START_TEST(topic_cfg_rejects_bad_values_with_a_message)
{
    struct sl_topic_cfg c = dflt;
    ck_assert_int_eq(sl_topic_cfg_set(&c, &dflt, "retention.ms", "abc", err, sizeof err), SL_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err, "retention.ms"));
    ck_assert_int_eq(sl_topic_cfg_set(&c, &dflt, "retention.ms", "-2", err, sizeof err), SL_ECONFIG);
    ck_assert_int_eq(sl_topic_cfg_set(&c, &dflt, "segment.bytes", "0", err, sizeof err), SL_ECONFIG);
    ck_assert_int_eq(sl_topic_cfg_set(&c, &dflt, "segment.bytes", "12x", err, sizeof err), SL_ECONFIG);
    ck_assert_int_eq(sl_topic_cfg_set(&c, &dflt, "cleanup.policy", "compact", err, sizeof err), SL_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err, "compaction"));
    ck_assert_int_eq(sl_topic_cfg_set(&c, &dflt, "cleanup.policy", "bogus", err, sizeof err), SL_ECONFIG);
    ck_assert_int_eq(sl_topic_cfg_set(&c, &dflt, "compression.type", "gzip", err, sizeof err), SL_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err, "compression.type"));
    /* nothing changed (field by field: struct padding is not copied reliably) */
    ck_assert_int_eq(c.retention_ms, dflt.retention_ms);
    ck_assert_int_eq(c.retention_bytes, dflt.retention_bytes);
    ck_assert_int_eq(c.segment_bytes, dflt.segment_bytes);
    ck_assert_int_eq(c.segment_ms, dflt.segment_ms);
    ck_assert_int_eq(c.max_message_bytes, dflt.max_message_bytes);
    ck_assert_str_eq(c.cleanup_policy, dflt.cleanup_policy);
}
END_TEST

START_TEST(topic_cfg_null_value_resets_to_default)
{
    struct sl_topic_cfg c = dflt;
    ck_assert_int_eq(sl_topic_cfg_set(&c, &dflt, "retention.bytes", "5", err, sizeof err), 0);
    ck_assert_int_eq(c.retention_bytes, 5);
    ck_assert_int_eq(sl_topic_cfg_set(&c, &dflt, "retention.bytes", NULL, err, sizeof err), 0);
    ck_assert_int_eq(c.retention_bytes, -1);
}
END_TEST

/* The listing table: sorted by name, each honoured entry pointing at its own name in sl_topic_config_names,
 * every honoured name in it. */
START_TEST(topic_config_defs_are_sorted_and_match_the_honoured_names)
{
    int honoured = 0;
    for (const struct sl_topic_config_def *d = sl_topic_config_defs; d->name; d++) {
        if (d != sl_topic_config_defs)
            ck_assert_msg(strcmp(d[-1].name, d->name) < 0, "%s after %s", d->name, d[-1].name);
        ck_assert_ptr_eq(sl_topic_config_def(d->name), d);
        if (d->honoured >= 0) {
            ck_assert_str_eq(sl_topic_config_names[d->honoured], d->name);
            honoured++;
        }
    }
    int n = 0;
    while (sl_topic_config_names[n])
        n++;
    ck_assert_int_eq(honoured, n);
    ck_assert_ptr_null(sl_topic_config_def("foobar"));
}
END_TEST

/* A standard config sluice does not honour is refused by name, set or reset, and nothing changes. */
START_TEST(topic_cfg_refuses_read_only_configs_by_name)
{
    struct sl_topic_cfg c = dflt;
    ck_assert_int_eq(sl_topic_cfg_set(&c, &dflt, "min.insync.replicas", "2", err, sizeof err), SL_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err, "'min.insync.replicas' is read-only"));
    ck_assert_int_eq(sl_topic_cfg_set(&c, &dflt, "flush.ms", NULL, err, sizeof err), SL_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err, "'flush.ms' is read-only"));
    ck_assert_int_eq(c.retention_ms, dflt.retention_ms);
    ck_assert_int_eq(c.segment_bytes, dflt.segment_bytes);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("topic_cfg");
    TCase *tc = tcase_create("topic_cfg");
    tcase_add_test(tc, topic_cfg_sets_and_formats_every_honoured_key);
    tcase_add_test(tc, topic_cfg_rejects_bad_values_with_a_message);
    tcase_add_test(tc, topic_cfg_null_value_resets_to_default);
    tcase_add_test(tc, topic_config_defs_are_sorted_and_match_the_honoured_names);
    tcase_add_test(tc, topic_cfg_refuses_read_only_configs_by_name);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
