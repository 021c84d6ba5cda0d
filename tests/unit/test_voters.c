/* server/voters.c: controller.quorum.voters lists that parse, and each kind of bad one with its message. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "server/err.h"
#include "server/voters.h"

static char err[512];

/* Parses text, expecting SL_ECONFIG with a message containing want; the list comes back empty. */
static void assert_refused(const char *text, const char *want)
{
    struct sl_voters vs;
    err[0] = '\0';
    ck_assert_msg(sl_voters_parse(text, &vs, err, sizeof err) == SL_ECONFIG, "'%s' was accepted", text);
    ck_assert_msg(strstr(err, want) != NULL, "'%s': error '%s' lacks '%s'", text, err, want);
    ck_assert_msg(strchr(err, '\n') == NULL, "'%s': error '%s' is not one line", text, err);
    ck_assert_uint_eq(vs.n, 0);
}

START_TEST(voters_parse_names_ipv4_and_bracketed_ipv6)
{
    struct sl_voters vs;
    ck_assert_int_eq(sl_voters_parse("1@127.0.0.1:9093,2@[::1]:9093,3@host:9093", &vs, err, sizeof err), 0);
    ck_assert_uint_eq(vs.n, 3);
    ck_assert_int_eq(vs.v[0].id, 1);
    ck_assert_str_eq(vs.v[0].host, "127.0.0.1");
    ck_assert_uint_eq(vs.v[0].port, 9093);
    ck_assert_int_eq(vs.v[1].id, 2);
    ck_assert_str_eq(vs.v[1].host, "::1"); /* without the brackets, as getaddrinfo takes it */
    ck_assert_int_eq(vs.v[2].id, 3);
    ck_assert_str_eq(vs.v[2].host, "host");
    ck_assert_ptr_eq(sl_voters_find(&vs, 2), &vs.v[1]);
    ck_assert_ptr_null(sl_voters_find(&vs, 4));
}
END_TEST

START_TEST(voters_empty_text_is_no_voters)
{
    struct sl_voters vs = {.n = 7};
    ck_assert_int_eq(sl_voters_parse("", &vs, err, sizeof err), 0);
    ck_assert_uint_eq(vs.n, 0);
    ck_assert_ptr_null(sl_voters_find(&vs, 1));
}
END_TEST

START_TEST(voters_accept_spaces_around_entries_and_the_range_edges)
{
    struct sl_voters vs;
    ck_assert_int_eq(sl_voters_parse(" 0@a:1 , 2147483647@b.example-1:65535", &vs, err, sizeof err), 0);
    ck_assert_uint_eq(vs.n, 2);
    ck_assert_int_eq(vs.v[0].id, 0);
    ck_assert_uint_eq(vs.v[0].port, 1);
    ck_assert_int_eq(vs.v[1].id, INT32_MAX);
    ck_assert_str_eq(vs.v[1].host, "b.example-1");
    ck_assert_uint_eq(vs.v[1].port, 65535);
    /* a one-voter quorum, and the largest one */
    ck_assert_int_eq(sl_voters_parse("5@h:9093", &vs, err, sizeof err), 0);
    ck_assert_uint_eq(vs.n, 1);
    ck_assert_int_eq(sl_voters_parse("1@h:1,2@h:2,3@h:3,4@h:4,5@h:5", &vs, err, sizeof err), 0);
    ck_assert_uint_eq(vs.n, SL_VOTERS_MAX);
}
END_TEST

START_TEST(voters_refuse_empty_entries)
{
    assert_refused("1@a:1,,2@b:1", "entry 2 is empty");
    assert_refused("1@a:1,", "entry 2 is empty");
    assert_refused(",1@a:1", "entry 1 is empty");
    assert_refused("  ", "entry 1 is empty");
}
END_TEST

START_TEST(voters_refuse_bad_ids)
{
    assert_refused("x@a:1", "id is not a number in 0..2147483647");
    assert_refused("-1@a:1", "id is not a number");
    assert_refused("+1@a:1", "id is not a number");
    assert_refused("2147483648@a:1", "id is not a number");
    assert_refused("99999999999@a:1", "id is not a number");
    assert_refused("@a:1", "id is not a number");
    assert_refused("1a:1", "no '@'");
    assert_refused("1@a:1,2@b:1,bad@c:1", "entry 3 'bad@c:1'");
}
END_TEST

START_TEST(voters_refuse_missing_or_bad_ports_and_hosts)
{
    assert_refused("1@a", "no port");
    assert_refused("1@a:", "port is not a number in 1..65535");
    assert_refused("1@a:0", "port is not a number in 1..65535");
    assert_refused("1@a:65536", "port is not a number");
    assert_refused("1@a:9x", "port is not a number");
    assert_refused("1@:9093", "no host");
    assert_refused("1@a b:9093", "not a host name or IP address");
    assert_refused("1@::1:9093", "must be written in brackets");
    assert_refused("1@[::1]", "no port");
    assert_refused("1@[::1:9093", "'[' without ']'");
    assert_refused("1@[]:9093", "not an IPv6 address");
    assert_refused("1@[host]:9093", "not an IPv6 address");
}
END_TEST

START_TEST(voters_refuse_duplicate_ids_and_addresses)
{
    assert_refused("1@a:1,2@b:1,2@c:1", "id 2 appears twice");
    assert_refused("1@a:9093,2@A:9093", "voters 1 and 2 have the same address A:9093");
    assert_refused("1@[::1]:9093,2@[::1]:9093", "the same address ::1:9093");
}
END_TEST

START_TEST(voters_refuse_more_than_the_bound)
{
    char text[256] = "";
    for (int i = 1; i <= SL_VOTERS_MAX + 1; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s%d@h:%d", i > 1 ? "," : "", i, 9000 + i);
    assert_refused(text, "more than 5 voters");
}
END_TEST

START_TEST(voters_refuse_an_overlong_entry)
{
    char text[700] = "1@";
    memset(text + 2, 'a', 600);
    strcpy(text + 602, ":9093");
    assert_refused(text, "entry 1 is too long");
    memset(text, 0, sizeof text);
    strcpy(text, "1@");
    memset(text + 2, 'a', 254);
    strcpy(text + 256, ":9093");
    assert_refused(text, "not a host name"); /* 254 bytes: one past a DNS name's 253 */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("voters");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, voters_parse_names_ipv4_and_bracketed_ipv6);
    tcase_add_test(tc, voters_empty_text_is_no_voters);
    tcase_add_test(tc, voters_accept_spaces_around_entries_and_the_range_edges);
    tcase_add_test(tc, voters_refuse_empty_entries);
    tcase_add_test(tc, voters_refuse_bad_ids);
    tcase_add_test(tc, voters_refuse_missing_or_bad_ports_and_hosts);
    tcase_add_test(tc, voters_refuse_duplicate_ids_and_addresses);
    tcase_add_test(tc, voters_refuse_more_than_the_bound);
    tcase_add_test(tc, voters_refuse_an_overlong_entry);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
