/* Unit tests for storage/crc32c.c: known CRC-32C vectors, incremental use, and agreement with a bitwise
 * reference (written here, independent of ISA-L) on large and unaligned buffers. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "storage/crc32c.h"

/* Bitwise CRC-32C: reflected polynomial 0x82F63B78, init and final xor ~0. */
static uint32_t ref_crc32c(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    return ~crc;
}

/* Deterministic pseudo-random bytes (xorshift64). */
static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
    uint64_t x = seed | 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)(x >> 24);
    }
}

START_TEST(crc32c_check_value_of_123456789_is_e3069283)
{
    ck_assert_uint_eq(sl_crc32c(0, "123456789", 9), 0xe3069283u);
    ck_assert_uint_eq(ref_crc32c(0, (const uint8_t *)"123456789", 9), 0xe3069283u);
}
END_TEST

/* RFC 3720 (iSCSI) appendix B.4 vectors. */
START_TEST(crc32c_matches_rfc3720_vectors)
{
    uint8_t buf[32];

    memset(buf, 0, sizeof(buf));
    ck_assert_uint_eq(sl_crc32c(0, buf, sizeof(buf)), 0x8a9136aau);
    memset(buf, 0xff, sizeof(buf));
    ck_assert_uint_eq(sl_crc32c(0, buf, sizeof(buf)), 0x62a8ab43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    ck_assert_uint_eq(sl_crc32c(0, buf, sizeof(buf)), 0x46dd794eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    ck_assert_uint_eq(sl_crc32c(0, buf, sizeof(buf)), 0x113fdb5cu);
}
END_TEST

START_TEST(crc32c_of_empty_input_returns_the_running_crc)
{
    ck_assert_uint_eq(sl_crc32c(0, "", 0), 0);
    ck_assert_uint_eq(sl_crc32c(0xe3069283u, NULL, 0), 0xe3069283u);
}
END_TEST

START_TEST(crc32c_incremental_equals_one_shot_at_every_split)
{
    enum { N = 1031 };
    uint8_t buf[N];
    fill_random(buf, N, 42);
    uint32_t whole = sl_crc32c(0, buf, N);

    ck_assert_uint_eq(whole, ref_crc32c(0, buf, N));
    for (size_t i = 0; i <= N; i++)
        ck_assert_uint_eq(sl_crc32c(sl_crc32c(0, buf, i), buf + i, N - i), whole);
    for (size_t i = 0; i + 7 <= N; i += 97) /* three pieces */
        ck_assert_uint_eq(sl_crc32c(sl_crc32c(sl_crc32c(0, buf, i), buf + i, 7), buf + i + 7, N - i - 7), whole);
}
END_TEST

START_TEST(crc32c_matches_bitwise_reference_on_large_unaligned_buffers)
{
    size_t n = (size_t)8 << 20;
    uint8_t *buf = malloc(n + 16);
    ck_assert_ptr_nonnull(buf);
    fill_random(buf, n + 16, 7);

    for (size_t off = 0; off < 8; off += 3) {
        size_t len = n + off; /* odd lengths and unaligned starts */
        ck_assert_uint_eq(sl_crc32c(0, buf + off, len), ref_crc32c(0, buf + off, len));
    }
    for (size_t len = 0; len < 300; len++) /* every short length, where the tail handling lives */
        ck_assert_uint_eq(sl_crc32c(0, buf + 1, len), ref_crc32c(0, buf + 1, len));
    free(buf);
}
END_TEST

/* ISA-L takes an int length: a buffer over 2 GiB must be fed in pieces, and the result must not depend on how
 * the caller splits it. Anonymous zero pages cost no memory; a few bytes at each end are made non-zero. */
START_TEST(crc32c_handles_buffers_over_2_gib)
{
    size_t n = ((size_t)1 << 31) + 4097;
    uint8_t *buf = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ck_assert_ptr_ne(buf, MAP_FAILED);
    fill_random(buf, 64, 1);
    fill_random(buf + n - 64, 64, 2);

    uint32_t whole = sl_crc32c(0, buf, n);
    uint32_t crc = 0;
    size_t piece = (size_t)300 << 20;
    for (size_t at = 0; at < n; at += piece)
        crc = sl_crc32c(crc, buf + at, n - at < piece ? n - at : piece);
    ck_assert_uint_eq(whole, crc);
    ck_assert_uint_ne(whole, sl_crc32c(0, buf, n - 1));
    munmap(buf, n);
}
END_TEST

static Suite *crc32c_suite(void)
{
    Suite *s = suite_create("crc32c");
    TCase *tc = tcase_create("crc32c");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, crc32c_check_value_of_123456789_is_e3069283);
    tcase_add_test(tc, crc32c_matches_rfc3720_vectors);
    tcase_add_test(tc, crc32c_of_empty_input_returns_the_running_crc);
    tcase_add_test(tc, crc32c_incremental_equals_one_shot_at_every_split);
    tcase_add_test(tc, crc32c_matches_bitwise_reference_on_large_unaligned_buffers);
    tcase_add_test(tc, crc32c_handles_buffers_over_2_gib);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(crc32c_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
