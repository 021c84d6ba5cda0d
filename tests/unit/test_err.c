/* Unit tests for storage/err.c and server/err.c: every code has a name and a message, storage's and the
 * server's ranges are apart from each other and from -errno, each layer names what it owns and defers the
 * rest, and the failure context is per thread, carries the code's message, and is forgotten on request. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "server/err.h"
#include "tests/support/testutil.h"

static const int storage_codes[] = {
#define CODE(name, value, msg) name,
    SL_ERRORS(CODE)
#undef CODE
};
static const int server_codes[] = {
#define CODE(name, value, msg) name,
    SL_SERVER_ERRORS(CODE)
#undef CODE
};
#define N(a) (sizeof a / sizeof a[0])

START_TEST(err_codes_live_in_their_layers_ranges)
{
    for (size_t i = 0; i < N(storage_codes); i++) {
        ck_assert_int_le(storage_codes[i], -1000);
        ck_assert_int_ge(storage_codes[i], -1099);
        for (size_t j = 0; j < N(server_codes); j++)
            ck_assert_int_ne(storage_codes[i], server_codes[j]);
    }
    for (size_t j = 0; j < N(server_codes); j++) {
        ck_assert_int_le(server_codes[j], -1100);
        ck_assert_int_ge(server_codes[j], -1199);
    }
}
END_TEST

START_TEST(err_storage_names_its_own_codes_and_errno_only)
{
    ck_assert_str_eq(sl_strerror(0), "success");
    ck_assert_str_eq(sl_strerror(SL_ECORRUPT), "corrupt data");
    ck_assert_str_eq(sl_errname(SL_ECORRUPT), "SL_ECORRUPT");
    ck_assert_str_eq(sl_errname(-ENOENT), "ENOENT");
    ck_assert_str_eq(sl_strerror(-ENOSPC), strerror(ENOSPC));
    ck_assert_str_eq(sl_strerror(SL_ENOGROUP), "unknown error"); /* not storage's */
    ck_assert_str_eq(sl_errname(SL_ENOGROUP), "E?");
}
END_TEST

START_TEST(err_server_names_every_code)
{
    for (size_t i = 0; i < N(server_codes); i++) {
        ck_assert_str_ne(sl_error_message(server_codes[i]), "unknown error");
        ck_assert_str_ne(sl_error_name(server_codes[i]), "E?");
    }
    for (size_t i = 0; i < N(storage_codes); i++)
        ck_assert_str_eq(sl_error_message(storage_codes[i]), sl_strerror(storage_codes[i]));
    ck_assert_str_eq(sl_error_name(SL_EREBALANCE), "SL_EREBALANCE");
    ck_assert_str_eq(sl_error_message(SL_ENOGROUP), "unknown consumer group");
    ck_assert_str_eq(sl_error_name(-EIO), "EIO");
    ck_assert_str_eq(sl_error_message(0), "success");
    ck_assert_str_eq(sl_error_message(-1099), "unknown error");
}
END_TEST

START_TEST(err_context_carries_the_site_and_the_message)
{
    sl_errctx_clear();
    ck_assert_str_eq(sl_errctx(), "");
    ck_assert_int_eq(sl_errctx_set(-EIO, "fdatasync %s", "/d/t-0/0.log"), -EIO);
    ck_assert_str_eq(sl_errctx(), "fdatasync /d/t-0/0.log: Input/output error");
    sl_errctx_set(SL_ECORRUPT, "read %s", "x");
    ck_assert_str_eq(sl_errctx(), "read x: corrupt data"); /* the later one replaces it */
    char long_path[400];
    memset(long_path, 'a', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = '\0';
    sl_errctx_set(-ENOSPC, "open %s", long_path); /* truncated, still terminated */
    ck_assert_uint_lt(strlen(sl_errctx()), 256);
    sl_errctx_clear();
    ck_assert_str_eq(sl_errctx(), "");
}
END_TEST

static void *other_thread(void *arg)
{
    (void)arg;
    int fresh = sl_errctx()[0] == '\0';
    sl_errctx_set(-EACCES, "mkdir %s", "/elsewhere");
    return (void *)(intptr_t)fresh;
}

START_TEST(err_context_is_per_thread)
{
    sl_errctx_set(-EIO, "pwrite %s", "mine");
    pthread_t t;
    void *fresh;
    ck_assert_int_eq(pthread_create(&t, NULL, other_thread, NULL), 0);
    pthread_join(t, &fresh);
    ck_assert_int_eq((int)(intptr_t)fresh, 1); /* a new thread starts with none */
    ck_assert_str_eq(sl_errctx(), "pwrite mine: Input/output error");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("err");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, err_codes_live_in_their_layers_ranges);
    tcase_add_test(tc, err_storage_names_its_own_codes_and_errno_only);
    tcase_add_test(tc, err_server_names_every_code);
    tcase_add_test(tc, err_context_carries_the_site_and_the_message);
    tcase_add_test(tc, err_context_is_per_thread);
    suite_add_tcase(s, tc);
    return sl_test_run_suite(s);
}
