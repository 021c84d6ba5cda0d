/* Unit tests for server/rpc_frame.c: frames round-trip (requests, responses with negative statuses, empty
 * and large payloads); every prefix of a frame asks for more; frames back to back parse one by one; a
 * length below the header or over the limit, another version or unknown flag bits are SL_ECORRUPT, as soon
 * as they can be seen; an encode over the limit appends nothing. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/err.h"
#include "server/rpc_frame.h"
#include "tests/support/testutil.h"

START_TEST(rpc_frames_round_trip_and_parse_back_to_back)
{
    struct sl_buf b = {0};
    struct sl_rpc_hdr req = {.api = SL_RPC_PROPOSE, .request_id = 0xdeadbeef};
    struct sl_rpc_hdr resp = {.response = true, .api = SL_RPC_PROPOSE, .request_id = 7, .status = SL_ENOTLEADER};
    ck_assert_int_eq(sl_rpc_frame_encode(&req, "abc", 3, &b), 0);
    ck_assert_int_eq(sl_rpc_frame_encode(&resp, NULL, 0, &b), 0);
    ck_assert_uint_eq(b.len, 2 * SL_RPC_HDR_SIZE + 3);
    struct sl_rpc_hdr h;
    const uint8_t *pl;
    size_t plen, used;
    ck_assert_int_eq(sl_rpc_frame_parse(b.base, b.len, &h, &pl, &plen, &used), 1);
    ck_assert(!h.response);
    ck_assert_uint_eq(h.api, SL_RPC_PROPOSE);
    ck_assert_uint_eq(h.request_id, 0xdeadbeef);
    ck_assert_int_eq(h.status, 0);
    ck_assert_uint_eq(plen, 3);
    ck_assert_mem_eq(pl, "abc", 3);
    ck_assert_uint_eq(used, SL_RPC_HDR_SIZE + 3);
    ck_assert_int_eq(sl_rpc_frame_parse(b.base + used, b.len - used, &h, &pl, &plen, &used), 1);
    ck_assert(h.response);
    ck_assert_int_eq(h.status, SL_ENOTLEADER); /* a negative code survives */
    ck_assert_uint_eq(h.request_id, 7);
    ck_assert_uint_eq(plen, 0);
    sl_buf_fini(&b);
}
END_TEST

START_TEST(rpc_every_prefix_asks_for_more)
{
    struct sl_buf b = {0};
    struct sl_rpc_hdr req = {.api = SL_RPC_PING, .request_id = 1};
    char big[5000];
    memset(big, 'x', sizeof big);
    ck_assert_int_eq(sl_rpc_frame_encode(&req, big, sizeof big, &b), 0);
    struct sl_rpc_hdr h;
    const uint8_t *pl;
    size_t plen, used;
    for (size_t n = 0; n < b.len; n++)
        ck_assert_msg(sl_rpc_frame_parse(b.base, n, &h, &pl, &plen, &used) == 0, "prefix %zu", n);
    ck_assert_int_eq(sl_rpc_frame_parse(b.base, b.len, &h, &pl, &plen, &used), 1);
    ck_assert_uint_eq(plen, sizeof big);
    sl_buf_fini(&b);
}
END_TEST

START_TEST(rpc_bad_frames_are_corrupt_as_soon_as_seen)
{
    struct sl_rpc_hdr h;
    const uint8_t *pl;
    size_t plen, used;
    const uint8_t short_len[] = {0, 0, 0, 11};              /* below the header */
    const uint8_t huge_len[] = {0x04, 0, 0, 1};             /* 64 MiB + 1 */
    const uint8_t bad_version[] = {0, 0, 0, 12, 2, 0};      /* the version is seen before the frame is whole */
    const uint8_t bad_flags[] = {0, 0, 0, 12, 1, 2};
    const uint8_t http[] = "GET / HTTP/1.1\r\n";           /* not this protocol */
    ck_assert_int_eq(sl_rpc_frame_parse(short_len, sizeof short_len, &h, &pl, &plen, &used), SL_ECORRUPT);
    ck_assert_int_eq(sl_rpc_frame_parse(huge_len, sizeof huge_len, &h, &pl, &plen, &used), SL_ECORRUPT);
    ck_assert_int_eq(sl_rpc_frame_parse(bad_version, sizeof bad_version, &h, &pl, &plen, &used), SL_ECORRUPT);
    ck_assert_int_eq(sl_rpc_frame_parse(bad_flags, sizeof bad_flags, &h, &pl, &plen, &used), SL_ECORRUPT);
    ck_assert_int_eq(sl_rpc_frame_parse(http, sizeof http - 1, &h, &pl, &plen, &used), SL_ECORRUPT);
    struct sl_buf b = {0};
    sl_buf_append(&b, "keep", 4);
    struct sl_rpc_hdr req = {.api = SL_RPC_PING};
    ck_assert_int_eq(sl_rpc_frame_encode(&req, "", SL_RPC_MAX_FRAME, &b), -EINVAL);
    ck_assert_uint_eq(b.len, 4);
    sl_buf_fini(&b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rpc_frame");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, rpc_frames_round_trip_and_parse_back_to_back);
    tcase_add_test(tc, rpc_every_prefix_asks_for_more);
    tcase_add_test(tc, rpc_bad_frames_are_corrupt_as_soon_as_seen);
    suite_add_tcase(s, tc);
    return sl_test_run_suite(s);
}
