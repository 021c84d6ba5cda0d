/* Unit tests for api/codec/jsonbody.c: the first unknown member is found and named; known ones pass. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/codec/jsonbody.h"

START_TEST(unknown_members_are_found_and_named)
{
    static const char *const names[] = {"a", "b", NULL};
    json_t *ok = json_loads("{\"a\":1,\"b\":null}", 0, NULL), *bad = json_loads("{\"a\":1,\"bb\":2}", 0, NULL);
    json_t *empty = json_object(), *arr = json_array();
    char msg[64];
    ck_assert_ptr_null(sl_json_unknown(ok, names));
    ck_assert_ptr_null(sl_json_unknown(empty, names));
    ck_assert_ptr_null(sl_json_unknown(arr, names)); /* not an object: nothing to name */
    ck_assert_str_eq(sl_json_unknown(bad, names), "bb");
    ck_assert_int_eq(sl_json_check_members(ok, names, "x", msg, sizeof msg), 0);
    ck_assert_int_eq(sl_json_check_members(bad, names, "", msg, sizeof msg), -EINVAL);
    ck_assert_str_eq(msg, "Unrecognized field: bb");
    ck_assert_int_eq(sl_json_check_members(bad, names, "records[2]", msg, sizeof msg), -EINVAL);
    ck_assert_str_eq(msg, "Unrecognized field: records[2].bb");
    static const char *const none[] = {NULL};
    ck_assert_str_eq(sl_json_unknown(ok, none), "a");
    json_decref(ok);
    json_decref(bad);
    json_decref(empty);
    json_decref(arr);
}
END_TEST

START_TEST(a_long_name_is_cut_in_the_message)
{
    static const char *const names[] = {NULL};
    char key[300], text[400], msg[200];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    json_t *o = json_object();
    json_object_set_new(o, key, json_true());
    ck_assert_int_eq(sl_json_check_members(o, names, "", msg, sizeof msg), -EINVAL);
    ck_assert_uint_eq(strlen(msg), strlen("Unrecognized field: ") + 64);
    snprintf(text, sizeof text, "%s", msg);
    ck_assert(strncmp(text, "Unrecognized field: kkkk", 24) == 0);
    json_decref(o);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jsonbody");
    TCase *tc = tcase_create("jsonbody");
    tcase_add_test(tc, unknown_members_are_found_and_named);
    tcase_add_test(tc, a_long_name_is_cut_in_the_message);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
