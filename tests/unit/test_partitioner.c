/* server/partitioner.c: Kafka's murmur2 vectors and the partition choice. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/partitioner.h"

static int32_t mm(const char *s) { return sl_murmur2(s, strlen(s)); }

START_TEST(murmur2_matches_kafka_utils_test_vectors)
{
    /* Kafka's UtilsTest.testMurmur2 */
    ck_assert_int_eq(mm("21"), -973932308);
    ck_assert_int_eq(mm("foobar"), -790332482);
    ck_assert_int_eq(mm("a-little-bit-long-string"), -985981536);
    ck_assert_int_eq(mm("a-little-bit-longer-string"), -1486304829);
    ck_assert_int_eq(mm("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
    ck_assert_int_eq(mm("abc"), 479470107);
}
END_TEST

START_TEST(murmur2_hashes_empty_key)
{
    /* the empty key is a key (only null is keyless); the value is stable */
    ck_assert_int_eq(sl_murmur2(NULL, 0), sl_murmur2("", 0));
}
END_TEST

START_TEST(keyed_partition_is_positive_hash_mod_n)
{
    const char *keys[] = {"21", "foobar", "abc", "a-little-bit-long-string", "x"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        for (int32_t n = 1; n <= 17; n++) {
            int32_t want = (int32_t)(((uint32_t)mm(keys[i]) & 0x7fffffffu) % (uint32_t)n);
            int32_t got = sl_partitioner_keyed(keys[i], strlen(keys[i]), n);
            ck_assert_int_eq(got, want);
            ck_assert(got >= 0 && got < n);
        }
    }
    /* "foobar": (-790332482 & 0x7fffffff) = 1357151166; % 3 = 0, % 4 = 2 */
    ck_assert_int_eq(sl_partitioner_keyed("foobar", 6, 3), 1357151166 % 3);
    ck_assert_int_eq(sl_partitioner_keyed("foobar", 6, 4), 1357151166 % 4);
}
END_TEST

START_TEST(sticky_rotates_over_every_partition)
{
    int seen[5] = {0};
    struct sl_partitioner pt = {0}, other = {0};
    for (int i = 0; i < 50; i++) {
        int32_t p = sl_partitioner_sticky(&pt, 5);
        ck_assert(p >= 0 && p < 5);
        seen[p]++;
    }
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(seen[i], 10);
    /* each partitioner has its own counter: two brokers in one process do not share it */
    ck_assert_int_eq(sl_partitioner_sticky(&other, 5), 0);
    ck_assert_int_eq(sl_partitioner_sticky(&pt, 5), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("partitioner");
    TCase *tc = tcase_create("partitioner");
    tcase_add_test(tc, murmur2_matches_kafka_utils_test_vectors);
    tcase_add_test(tc, murmur2_hashes_empty_key);
    tcase_add_test(tc, keyed_partition_is_positive_hash_mod_n);
    tcase_add_test(tc, sticky_rotates_over_every_partition);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
